"""On AWS: the S3 bucket models are served from, and read-only access to it for KServe's
storage-initializer through IRSA (IAM Roles for Service Accounts).

The storage-initializer is an init container of every predictor pod, so it runs as the pod's
service account: InferenceServices with an ``s3://`` storageUri name the ServiceAccount created
here, whose ``eks.amazonaws.com/role-arn`` annotation makes the EKS pod-identity webhook inject
web-identity credentials for the role. The role trusts only that one service account, through
the cluster's OIDC provider (built by the compute layer: its ARN and issuer URL are inputs).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pydantic import Field

from components.config import ConfigModel
from components.core.names import MANAGED_BY_LABELS, DnsLabel, child_name

MODEL_STORE_TYPE = "gpu-platform:serving:ModelStore"
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
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


def trust_policy(oidc_provider_arn: str, oidc_provider_url: str, namespace: str, sa: str) -> str:
    """IRSA trust policy: only ``namespace/sa`` may assume the role, only via STS."""
    issuer = oidc_provider_url.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": oidc_provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": f"system:serviceaccount:{namespace}:{sa}",
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        }
    )


def read_only_policy(bucket_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn]},
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{bucket_arn}/*"]},
            ],
        }
    )


def encryption_rule(kms_key_arn: str | None) -> dict[str, Any]:
    if kms_key_arn is None:
        return {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    return {
        "applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms",
            "kmsMasterKeyId": kms_key_arn,
        },
        "bucketKeyEnabled": True,  # fewer KMS calls for many-shard model downloads
    }


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
        self.bucket = aws.s3.Bucket(
            child_name(name, "bucket"),
            bucket=bucket_cfg.name,
            force_destroy=False,
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        bucket_opts = pulumi.ResourceOptions(parent=self, depends_on=[self.bucket])
        aws.s3.BucketServerSideEncryptionConfiguration(
            child_name(name, "bucket-encryption"), bucket=self.bucket.id,
            rules=[encryption_rule(bucket_cfg.kms_key_arn)], opts=bucket_opts,
        )
        aws.s3.BucketVersioning(
            child_name(name, "bucket-versioning"), bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"}, opts=bucket_opts,
        )
        aws.s3.BucketPublicAccessBlock(
            child_name(name, "bucket-public-access-block"), bucket=self.bucket.id,
            block_public_acls=True, block_public_policy=True, ignore_public_acls=True,
            restrict_public_buckets=True, opts=bucket_opts,
        )
        sa = config.service_account
        self.role = aws.iam.Role(
            child_name(name, "reader-role"),
            assume_role_policy=pulumi.Output.all(oidc_provider_arn, oidc_provider_url).apply(
                lambda v: trust_policy(v[0], v[1], namespace, sa)
            ),
            description=f"KServe storage-initializer ({namespace}/{sa}): read-only model bucket",
            opts=child,
        )
        aws.iam.RolePolicy(
            child_name(name, "reader-policy"), role=self.role.id,
            policy=self.bucket.arn.apply(read_only_policy), opts=child,
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
