"""AWS settings every environment must keep: IMDSv2 with hop limit 1, encryption at rest for
disks, buckets, metadata engines and Kubernetes secrets, control-plane logs, no public bucket."""

import pytest

from gpu_platform.testing.fixtures import ENVIRONMENTS

AWS_ENVS = [env for env in ENVIRONMENTS if env != "onprem"]
LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def of_type(plan, type_):
    return plan.find(type_)


@pytest.mark.parametrize("env", AWS_ENVS)
def test_every_launch_template_requires_imdsv2_hop_1_and_encrypts_its_disks(plan_env, env):
    templates = of_type(plan_env(env), "aws:ec2/launchTemplate:LaunchTemplate")
    assert templates
    for template in templates:
        metadata = template.inputs["metadataOptions"]
        assert (metadata["httpTokens"], metadata["httpPutResponseHopLimit"]) == ("required", 1), template.name
        for device in template.inputs["blockDeviceMappings"]:
            assert device["ebs"]["encrypted"] == "true", template.name


@pytest.mark.parametrize("env", AWS_ENVS)
def test_kubernetes_secrets_are_envelope_encrypted_and_control_plane_logs_on(plan_env, env):
    [cluster] = of_type(plan_env(env), "aws:eks/cluster:Cluster")
    assert cluster.inputs["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster.inputs["encryptionConfig"]["provider"]["keyArn"].startswith("arn:aws:")
    assert sorted(cluster.inputs["enabledClusterLogTypes"]) == sorted(LOGS)
    [key] = of_type(plan_env(env), "aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True


@pytest.mark.parametrize("env", AWS_ENVS)
def test_every_bucket_is_encrypted_versioned_and_private(plan_env, env):
    plan = plan_env(env)
    buckets = {b.name for b in of_type(plan, "aws:s3/bucket:Bucket")}
    assert buckets

    # gpu_platform.aws.s3.private_bucket names the settings after the bucket
    def setting(type_, bucket, suffix):
        return plan.one(type_, f"{bucket}-{suffix}").inputs

    sse = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    for bucket in buckets:
        rule = setting(sse, bucket, "encryption")["rules"][0]["applyServerSideEncryptionByDefault"]
        assert rule["sseAlgorithm"] in ("AES256", "aws:kms"), bucket
        public = setting("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket, "public-access")
        assert all(public[k] is True for k in (
            "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")), bucket
        versioning = setting("aws:s3/bucketVersioning:BucketVersioning", bucket, "versioning")
        assert versioning["versioningConfiguration"] == {"status": "Enabled"}, bucket
        assert plan.one("aws:s3/bucket:Bucket", bucket).inputs["forceDestroy"] is False


@pytest.mark.parametrize("env", AWS_ENVS)
def test_metadata_engines_encrypt_at_rest_and_in_transit(plan_env, env):
    plan = plan_env(env)
    engines = of_type(plan, "aws:elasticache/replicationGroup:ReplicationGroup")
    databases = of_type(plan, "aws:rds/instance:Instance")
    assert engines or databases
    for engine in engines:
        assert engine.inputs["atRestEncryptionEnabled"] is True
        assert engine.inputs["transitEncryptionEnabled"] is True
        assert "authToken" in engine.secret_paths
    for database in databases:
        assert database.inputs["storageEncrypted"] is True
        assert database.inputs["deletionProtection"] is True


def test_onprem_creates_no_aws_resources(plan_env):
    assert [r.type for r in plan_env("onprem") if r.type.startswith(("aws:", "pulumi:providers:aws"))] == []
