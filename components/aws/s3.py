"""The one way the library makes an S3 bucket that holds data: private, encrypted, versioned,
protected from replacement and retained on delete (pulumi-aws v7 split resources)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from gpu_platform.core.names import child_name

if TYPE_CHECKING:  # imported where an AWS resource is made: environments without AWS never
    import pulumi_aws as aws  # load pulumi_aws (~30 ms)


@dataclass
class PrivateBucket:
    bucket: aws.s3.Bucket
    settings: list[pulumi.Resource]  # encryption, versioning, public access block

    @property
    def resources(self) -> list[pulumi.Resource]:
        return [self.bucket, *self.settings]


def encryption_rule(kms_key_arn: str | None) -> aws.s3.BucketServerSideEncryptionConfigurationRuleArgsDict:
    """SSE-KMS with a bucket key when a key is given (fewer KMS calls), else SSE-S3 (AES256)."""
    if kms_key_arn is None:
        return {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                "bucket_key_enabled": True}
    return {
        "apply_server_side_encryption_by_default": {
            "sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn,
        },
        "bucket_key_enabled": True,
    }


def private_bucket(
    name: str,
    parent: pulumi.Resource,
    *,
    bucket_name: str | None = None,
    tags: dict[str, str] | None = None,
    region: str | None = None,
    kms_key_arn: str | None = None,
) -> PrivateBucket:
    """Children ``<name>-bucket`` and ``<name>-bucket-{encryption,versioning,public-access}``."""
    import pulumi_aws as aws
    bucket = aws.s3.Bucket(
        child_name(name, "bucket"),
        bucket=bucket_name,
        force_destroy=False,
        tags=tags,
        region=region,
        opts=pulumi.ResourceOptions(parent=parent, protect=True, retain_on_delete=True),
    )
    child = pulumi.ResourceOptions(parent=parent, depends_on=[bucket])
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        child_name(name, "bucket-encryption"), bucket=bucket.id, region=region,
        rules=[encryption_rule(kms_key_arn)], opts=child,
    )
    versioning = aws.s3.BucketVersioning(
        child_name(name, "bucket-versioning"), bucket=bucket.id, region=region,
        versioning_configuration={"status": "Enabled"}, opts=child,
    )
    public = aws.s3.BucketPublicAccessBlock(
        child_name(name, "bucket-public-access"), bucket=bucket.id, region=region,
        block_public_acls=True, block_public_policy=True, ignore_public_acls=True,
        restrict_public_buckets=True, opts=child,
    )
    return PrivateBucket(bucket, [encryption, versioning, public])
