"""On AWS: the S3 bucket models are served from, and read-only access to it for KServe's
storage-initializer through IRSA (IAM Roles for Service Accounts).

The storage-initializer is an init container of every predictor pod, so it runs as the pod's
service account: InferenceServices with an ``s3://`` storageUri name the ServiceAccount created
here, whose ``eks.amazonaws.com/role-arn`` annotation makes the EKS pod-identity webhook inject
web-identity credentials for the role. The role trusts only that one service account, through
the cluster's OIDC provider (built by the compute layer: its ARN and issuer URL are inputs).

``ModelStore(name, ModelStoreArgs, opts)``: the OIDC provider ARN and URL may be Outputs of the
EKS cluster; plain strings are checked. The ServiceAccount and role wait for ``opts.depends_on``
(the serving namespace). Outputs: ``bucket_name``, ``bucket_arn``, ``role_arn`` (the reader
role), ``service_account_name`` and ``namespace_name``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.aws.s3 import private_bucket
from gpu_platform.aws.workload_identity import ROLE_ARN_ANNOTATION, workload_role
from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.args import InputStr
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.serving.runtimes import metadata_name, metadata_namespace

MODEL_STORE_TYPE = "gpu-platform:serving:ModelStore"
S3_REGION_ANNOTATION = "serving.kserve.io/s3-region"  # read by KServe's S3 credential builder
OIDC_PROVIDER_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::"
OIDC_PROVIDER_URL_PATTERN = r"^https://"
MODEL_READER_SERVICE_ACCOUNT = "kserve-model-reader"


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
    oidc_provider_arn: str | None = Field(default=None, pattern=OIDC_PROVIDER_ARN_PATTERN)
    oidc_provider_url: str | None = Field(default=None, pattern=OIDC_PROVIDER_URL_PATTERN)
    service_account: DnsLabel = MODEL_READER_SERVICE_ACCOUNT


class ModelStoreArgs(ComponentArgs):
    """The bucket, the namespace and name of the reader's ServiceAccount, and the EKS cluster's
    OIDC provider its role trusts (plain strings or Outputs of the cluster)."""

    namespace: DnsLabel = "ml-serving"
    model_bucket: ModelBucketConfig = Field(default_factory=ModelBucketConfig)
    service_account: DnsLabel = MODEL_READER_SERVICE_ACCOUNT
    oidc_provider_arn: InputStr
    oidc_provider_url: InputStr

    def issues(self) -> Iterator[ConfigIssue]:
        for key, value, pattern, shape in (
            ("oidcProviderArn", self.oidc_provider_arn, OIDC_PROVIDER_ARN_PATTERN,
             "arn:aws:iam::<account>:oidc-provider/..."),
            ("oidcProviderUrl", self.oidc_provider_url, OIDC_PROVIDER_URL_PATTERN,
             "https://oidc.eks.<region>.amazonaws.com/id/<id>"),
        ):
            if isinstance(value, str) and re.match(pattern, value) is None:
                yield issue(key, f"must look like {shape}", value)


def read_only_statements(bucket_arn: str) -> list[dict[str, Any]]:
    """What the storage initializer needs: list the bucket, read its objects; nothing else."""
    return [
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn]},
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{bucket_arn}/*"]},
    ]


class ModelStore(pulumi.ComponentResource):
    """Encrypted, versioned, private, protected model bucket + IRSA role + ServiceAccount."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    service_account_name: pulumi.Output[str]
    namespace_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ModelStoreArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(ModelStoreArgs, args, component="ModelStore", name=name)
        super().__init__(MODEL_STORE_TYPE, name, None, opts)
        bucket_cfg = args.model_bucket
        store = private_bucket(
            name, self, bucket_name=bucket_cfg.name, kms_key_arn=bucket_cfg.kms_key_arn
        )
        self.bucket = store.bucket
        ns, sa = args.namespace, args.service_account
        self.role = workload_role(
            child_name(name, "reader-role"),
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_provider_url=args.oidc_provider_url,
            namespace=ns,
            service_account=sa,
            statements=self.bucket.arn.apply(read_only_statements),
            description=f"KServe storage-initializer ({ns}/{sa}): read-only model bucket",
            opts=child_options(self, opts),
        )
        annotations: dict[str, Any] = {ROLE_ARN_ANNOTATION: self.role.arn}
        if bucket_cfg.region is not None:
            annotations[S3_REGION_ANNOTATION] = bucket_cfg.region
        self.service_account = k8s.core.v1.ServiceAccount(
            child_name(name, "reader-sa"),
            metadata={
                "name": sa, "namespace": ns,
                "labels": dict(MANAGED_BY_LABELS), "annotations": annotations,
            },
            opts=child_options(self, opts),
        )
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn
        self.role_arn = self.role.arn
        self.service_account_name = self.service_account.metadata.apply(metadata_name)
        self.namespace_name = self.service_account.metadata.apply(metadata_namespace)
        self.register_outputs({
            "bucket": self.bucket.id, "bucketName": self.bucket_name, "bucketArn": self.bucket_arn,
            "roleArn": self.role_arn, "serviceAccountName": self.service_account_name,
            "namespace": self.namespace_name,
        })
