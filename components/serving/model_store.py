"""On AWS: the S3 bucket models are served from, and read-only access to it for KServe's
storage-initializer through IRSA (IAM Roles for Service Accounts).

The storage-initializer is an init container of every predictor pod, so it runs as the pod's
service account: InferenceServices with an ``s3://`` storageUri name the ServiceAccount created
here, whose ``eks.amazonaws.com/role-arn`` annotation makes the EKS pod-identity webhook inject
web-identity credentials for the role. The role trusts only that one service account, through
the cluster's OIDC provider (built by the compute layer: its ARN and issuer URL are inputs).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.aws.s3 import private_bucket
from gpu_platform.aws.workload_identity import ROLE_ARN_ANNOTATION, workload_role
from gpu_platform.config import ConfigModel
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name

MODEL_STORE_TYPE = "gpu-platform:serving:ModelStore"
S3_REGION_ANNOTATION = "serving.kserve.io/s3-region"  # read by KServe's S3 credential builder


class ModelBucketConfig(ConfigModel):
    # S3 names are global: leave unset to let Pulumi add a random suffix to "<stack>-models".
    name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    # SSE-KMS with this key when set, otherwise SSE-S3 (AES256).
    kms_key_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:kms:")
    region: str | None = Field(default=None, min_length=1)


class AwsServingConfig(ConfigModel):
    """The model bucket and its IRSA reader; only for environments on AWS (EKS)."""

    enabled: bool = False
    model_bucket: ModelBucketConfig = Field(default_factory=ModelBucketConfig)
    # The EKS cluster's IAM OIDC provider (arn:aws:iam::<acct>:oidc-provider/oidc.eks...)
    # and issuer URL (https://oidc.eks.<region>.amazonaws.com/id/<id>).
    oidc_provider_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:iam::")
    oidc_provider_url: str | None = Field(default=None, pattern=r"^https://")
    service_account: DnsLabel = "kserve-model-reader"


def read_only_statements(bucket_arn: str) -> list[dict[str, Any]]:
    """What the storage initializer needs: list the bucket, read its objects; nothing else."""
    return [
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn]},
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{bucket_arn}/*"]},
    ]


class ModelStore(pulumi.ComponentResource):
    """Encrypted, versioned, private, protected model bucket + IRSA role + ServiceAccount."""

    def __init__(
        self,
        name: str,
        config: AwsServingConfig,
        *,
        namespace: str,
        oidc_provider_arn: pulumi.Input[str],
        oidc_provider_url: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        depends_on: list[pulumi.Resource] | None = None,
    ):
        super().__init__(MODEL_STORE_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket_cfg = config.model_bucket
        store = private_bucket(
            name, self, bucket_name=bucket_cfg.name, kms_key_arn=bucket_cfg.kms_key_arn
        )
        self.bucket = store.bucket
        sa = config.service_account
        self.role = workload_role(
            child_name(name, "reader-role"),
            oidc_provider_arn=oidc_provider_arn,
            oidc_provider_url=oidc_provider_url,
            namespace=namespace,
            service_account=sa,
            statements=self.bucket.arn.apply(read_only_statements),
            description=f"KServe storage-initializer ({namespace}/{sa}): read-only model bucket",
            opts=child,
        )
        annotations: dict[str, Any] = {ROLE_ARN_ANNOTATION: self.role.arn}
        if bucket_cfg.region is not None:
            annotations[S3_REGION_ANNOTATION] = bucket_cfg.region
        self.service_account = k8s.core.v1.ServiceAccount(
            child_name(name, "reader-sa"),
            metadata={
                "name": sa, "namespace": namespace,
                "labels": dict(MANAGED_BY_LABELS), "annotations": annotations,
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on or [])),
        )
        self.service_account_name = sa
        self.register_outputs({"bucket": self.bucket.id, "roleArn": self.role.arn})
