"""JuiceFS: CSI driver values, AWS stores and their guards, Secrets, StorageClasses and PVCs."""

import json

import pulumi
import pytest

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.config.loader import read_namespace
from gpu_platform.core.pools import GpuPool
from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.plan.runner import StackConfig
from gpu_platform.storage import StorageConfig, build_storage
from gpu_platform.storage.juicefs import JuiceFsConfig, csi_values

REDIS_TOKEN = "fixture-redis-password-7f3a"
PG_PASSWORD = "fixture-pg-password-91c2"
ACCESS_KEY = "fixture-access-key-4d1e"
SECRET_KEY = "fixture-secret-key-b0a9"
METAURL = "redis://:fixture-metaurl-secret-22aa@redis.lab:6379/1"
BUCKET = "https://fixture-bucket-secret-5e5e.minio.lab/jfs"
FIXTURE_SECRETS = (REDIS_TOKEN, PG_PASSWORD, ACCESS_KEY, SECRET_KEY, "fixture-metaurl-secret-22aa",
                   "fixture-bucket-secret-5e5e")

POOLS = {"train": GpuPool.model_validate({"role": "training", "gpu": {"model": "A100-80GB", "count": 8}})}
SC = "kubernetes:storage.k8s.io/v1:StorageClass"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
SECRET = "kubernetes:core/v1:Secret"
RELEASE = "kubernetes:helm.sh/v3:Release"

# the EKS cluster's OIDC provider: AWS file systems without keys use workload identity
EKS = {
    "oidc_provider_arn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/T",
    "oidc_provider_url": "https://oidc.eks.us-east-1.amazonaws.com/id/T",
}


def aws_fs(metadata):
    return {"backend": "aws", "aws": {"region": "us-east-1", "metadata": metadata,
                                      "subnetIds": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg-1"]}}


REDIS = {"kind": "redis", "authToken": REDIS_TOKEN}
EXTERNAL = {"backend": "external", "external": {"metaurl": METAURL, "storage": "minio", "bucket": BUCKET},
            "accessKey": ACCESS_KEY, "secretKey": SECRET_KEY, "reclaimPolicy": "Delete"}


def storage(file_systems, volumes=None, **juicefs):
    return {"juicefs": {"fileSystems": file_systems, "volumes": volumes or {}, **juicefs}}


def run_from_config(run_component, data):
    """The real path: the storage key read from (secret) stack config, then validated."""
    config = StackConfig({"gpu-platform:storage": json.dumps(data)}, frozenset({"gpu-platform:storage"}))

    def program():
        raw, secret_keys = read_namespace("gpu-platform")
        assert secret_keys == {"storage"}
        cfg = validate_model(StorageConfig, raw["storage"])
        build_storage("storage", cfg, POOLS, pulumi.ResourceOptions(), **EKS)

    return run_component(program, config=config)


def assert_no_secret_anywhere(plan):
    dumped = str(plan.to_dict()) + json.dumps(plan.kubernetes_objects(), default=str)
    for value in FIXTURE_SECRETS:
        assert value not in dumped


def test_aws_bucket_is_protected_retained_encrypted_versioned_and_private(run_component):
    plan = run_from_config(run_component, storage({"shared": aws_fs(REDIS)}))
    bucket = plan.one("aws:s3/bucket:Bucket", "storage-juicefs-shared-bucket")
    assert (bucket.protect, bucket.retain_on_delete) == (True, True)
    assert bucket.inputs == {"forceDestroy": False, "region": "us-east-1",
                             "tags": {"gpu-platform.io/juicefs": "shared"}}
    sse = plan.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                   "storage-juicefs-shared-bucket-encryption")
    assert sse.inputs["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"},
                                    "bucketKeyEnabled": True}]
    versioning = plan.one("aws:s3/bucketVersioning:BucketVersioning",
                          "storage-juicefs-shared-bucket-versioning")
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    block = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                     "storage-juicefs-shared-bucket-public-access")
    assert {k: v for k, v in block.inputs.items() if k != "bucket"} == {
        "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
        "restrictPublicBuckets": True, "region": "us-east-1"}


def test_redis_engine_never_evicts_is_encrypted_protected_and_fails_over(run_component):
    plan = run_from_config(run_component, storage({"shared": aws_fs(REDIS)}))
    params = plan.one("aws:elasticache/parameterGroup:ParameterGroup", "storage-juicefs-shared-redis-params")
    assert params.inputs["parameters"] == [{"name": "maxmemory-policy", "value": "noeviction"}]
    assert params.inputs["family"] == "redis7"
    group = plan.one("aws:elasticache/replicationGroup:ReplicationGroup", "storage-juicefs-shared-redis")
    assert group.protect is True
    expected = {
        "transitEncryptionEnabled": True, "atRestEncryptionEnabled": True, "authToken": "[secret]",
        "automaticFailoverEnabled": True, "multiAzEnabled": True, "numCacheClusters": 2,
        "snapshotRetentionLimit": 7, "securityGroupIds": ["sg-1"], "engine": "redis", "port": 6379,
    }
    assert {k: group.inputs[k] for k in expected} == expected
    subnets = plan.one("aws:elasticache/subnetGroup:SubnetGroup", "storage-juicefs-shared-redis-subnets")
    assert subnets.inputs["subnetIds"] == ["subnet-a", "subnet-b"]
    assert_no_secret_anywhere(plan)


def test_single_node_redis_has_no_automatic_failover(run_component):
    plan = run_from_config(run_component, storage({"shared": aws_fs({**REDIS, "nodes": 1})}))
    group = plan.one("aws:elasticache/replicationGroup:ReplicationGroup", "storage-juicefs-shared-redis")
    assert (group.inputs["automaticFailoverEnabled"], group.inputs["multiAzEnabled"]) == (False, False)


def test_postgres_engine_is_encrypted_deletion_protected_and_secret(run_component):
    postgres = {"kind": "postgres", "password": PG_PASSWORD}
    plan = run_from_config(run_component, storage({"meta": aws_fs(postgres)}))
    db = plan.one("aws:rds/instance:Instance", "storage-juicefs-meta-postgres")
    assert db.protect is True
    expected = {"storageEncrypted": True, "deletionProtection": True, "password": "[secret]",
                "publiclyAccessible": False, "skipFinalSnapshot": False, "multiAz": True,
                "vpcSecurityGroupIds": ["sg-1"], "engine": "postgres"}
    assert {k: db.inputs[k] for k in expected} == expected
    assert_no_secret_anywhere(plan)


def test_vpc_inputs_passed_to_the_builder_win_over_config(run_component):
    cfg = validate_model(StorageConfig, storage({"shared": aws_fs(REDIS)}))
    plan = run_component(lambda: build_storage(
        "storage", cfg, POOLS, pulumi.ResourceOptions(),
        subnet_ids=pulumi.Output.from_input(["subnet-vpc"]), security_group_ids=["sg-vpc"], **EKS))
    group = plan.one("aws:elasticache/replicationGroup:ReplicationGroup", "storage-juicefs-shared-redis")
    assert group.inputs["securityGroupIds"] == ["sg-vpc"]
    subnets = plan.one("aws:elasticache/subnetGroup:SubnetGroup", "storage-juicefs-shared-redis-subnets")
    assert subnets.inputs["subnetIds"] == ["subnet-vpc"]


def test_external_secret_storage_class_and_pvcs(run_component, conformance):
    volumes = {"checkpoints": {"fileSystem": "lab", "namespace": "ml", "size": "10Ti"},
               "models": {"fileSystem": "lab", "namespace": "serving", "size": "2Ti", "readOnly": True}}
    plan = run_from_config(run_component, storage({"lab": EXTERNAL}, volumes))
    assert_no_secret_anywhere(plan)
    assert plan.find("aws:s3/bucket:Bucket") == []
    secret = plan.one(SECRET, "storage-juicefs-lab-secret")
    assert secret.inputs["stringData"] == "[secret]"
    assert secret.inputs["metadata"]["name"] == "juicefs-lab-secret"
    assert secret.inputs["metadata"]["namespace"] == "kube-system"
    sc = plan.one(SC, "storage-juicefs-lab-sc")
    assert sc.inputs["reclaimPolicy"] == "Delete"
    assert sc.inputs["provisioner"] == "csi.juicefs.com"
    assert sc.inputs["allowVolumeExpansion"] is True
    assert sc.inputs["mountOptions"] == ["cache-dir=/var/jfsCache", "cache-size=102400", "buffer-size=300"]
    assert sc.inputs["parameters"]["csi.storage.k8s.io/node-publish-secret-name"] == "juicefs-lab-secret"
    assert sc.inputs["parameters"]["csi.storage.k8s.io/provisioner-secret-namespace"] == "kube-system"
    assert sc.inputs["parameters"]["pathPattern"] == "${.PVC.namespace}-${.PVC.name}"
    pvc = plan.one(PVC, "storage-juicefs-checkpoints-pvc")
    assert (pvc.protect, pvc.retain_on_delete) == (True, True)
    assert pvc.inputs["spec"] == {"accessModes": ["ReadWriteMany"], "storageClassName": "juicefs-lab",
                                  "resources": {"requests": {"storage": "10Ti"}}}
    assert pvc.inputs["metadata"]["namespace"] == "ml"
    models = plan.one(PVC, "storage-juicefs-models-pvc")
    assert models.inputs["spec"]["accessModes"] == ["ReadWriteMany"]  # readOnly: how pods mount it
    objects = plan.kubernetes_objects()
    for obj in objects:  # the plan hides a Secret's whole stringData; validate its real keys
        if obj["kind"] == "Secret":
            obj["stringData"] = dict.fromkeys(["name", "metaurl", "storage", "bucket", "access-key",
                                               "secret-key"], "x")
    conformance.assert_conformant(conformance.validate_all(objects))


def test_storage_class_retains_by_default_and_writeback_is_opt_in(run_component):
    fs = {**EXTERNAL, "reclaimPolicy": "Retain",
          "cache": {"dir": "/mnt/nvme/jfs", "sizeMib": 512000, "bufferSizeMib": 1024, "writeback": True}}
    fs.pop("reclaimPolicy")
    plan = run_from_config(run_component, storage({"lab": fs}))
    sc = plan.one(SC, "storage-juicefs-lab-sc")
    assert sc.inputs["reclaimPolicy"] == "Retain"
    assert sc.inputs["mountOptions"] == ["cache-dir=/mnt/nvme/jfs", "cache-size=512000", "buffer-size=1024",
                                         "writeback"]


def test_unprotected_pvcs_when_protect_is_false(run_component):
    volumes = {"scratch": {"fileSystem": "lab", "namespace": "ml", "size": "100Gi"}}
    plan = run_from_config(run_component, storage({"lab": EXTERNAL}, volumes, protect=False))
    pvc = plan.one(PVC, "storage-juicefs-scratch-pvc")
    assert (pvc.protect, pvc.retain_on_delete) == (False, False)


def test_csi_driver_release_and_values_conform(run_component, conformance):
    plan = run_from_config(run_component, storage({"lab": EXTERNAL}))
    release = helm_release_manifest(plan.one(RELEASE, "storage-juicefs-csi"))
    assert (release["chart"], release["version"], release["namespace"]) == (
        "juicefs-csi-driver", "0.32.4", "kube-system")
    assert release["values"] == {
        "mountMode": "mountpod",
        "controller": {"replicas": 2, "provisioner": True},
        "node": {"tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                 {"key": "nvidia.com/gpu", "operator": "Exists"}]},
        "dashboard": {"enabled": True},
        "storageClasses": [],
    }
    assert plan.find("kubernetes:core/v1:Namespace") == []  # kube-system is never created
    conformance.assert_conformant(conformance.validate_helm_values("juicefs-csi-driver", release["values"]))


def test_secret_keys_are_the_ones_juicefs_reads(run_component):
    seen = {}

    def program():
        cfg = validate_model(StorageConfig, storage({"lab": EXTERNAL, "cloud": aws_fs(REDIS)}))
        seen["storage"] = build_storage("storage", cfg, POOLS, pulumi.ResourceOptions(), **EKS)

    run_component(program)
    data = seen["storage"].juicefs.secret_data
    assert list(data["lab"]) == ["name", "metaurl", "storage", "bucket", "access-key", "secret-key"]
    assert list(data["cloud"]) == ["name", "metaurl", "storage", "bucket"]  # IAM role: no keys


def test_own_namespace_is_privileged(run_component):
    plan = run_from_config(run_component, storage({"lab": EXTERNAL}, namespace="juicefs"))
    ns = plan.one("kubernetes:core/v1:Namespace", "storage-juicefs-ns")
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert plan.one(SECRET, "storage-juicefs-lab-secret").inputs["metadata"]["namespace"] == "juicefs"


def test_values_overrides_are_merged_last():
    cfg = JuiceFsConfig(values_overrides={"controller": {"replicas": 3}})
    assert csi_values(cfg, POOLS)["controller"] == {"replicas": 3, "provisioner": True}


@pytest.mark.parametrize(("data", "message"), [
    (storage({"lab": EXTERNAL}, {"ckpt": {"fileSystem": "nope", "namespace": "ml", "size": "1Ti"}}),
     "  - juicefs.volumes.ckpt.fileSystem: unknown file system; known file systems: lab (got \"nope\")"),
    (storage({"lab": {"backend": "aws"}}),
     "  - juicefs.fileSystems.lab.aws: is required when backend is 'aws'"),
    (storage({"lab": {**EXTERNAL, "secretKey": None}}),
     "  - juicefs.fileSystems.lab.secretKey: accessKey and secretKey must be given together "
     "(or neither, for IAM roles)"),
    (storage({"lab": EXTERNAL}, {"ckpt": {"fileSystem": "lab", "namespace": "ml", "size": "10TB"}}),
     "  - juicefs.volumes.ckpt.size: must be a size such as 500Gi or 10Ti (a whole number and Mi, Gi, "
     "Ti or Pi) (got \"10TB\")"),
])
def test_config_errors_name_the_path(data, message):
    with pytest.raises(ConfigError) as caught:
        validate_model(StorageConfig, data)
    assert str(caught.value).splitlines()[1:] == [message]


def test_bad_secret_values_are_not_echoed_in_errors():
    bad = {**EXTERNAL, "external": {**EXTERNAL["external"], "metaurl": 12345}}
    with pytest.raises(ConfigError) as caught:
        validate_model(StorageConfig, storage({"lab": bad}))
    assert "fixture" not in str(caught.value)


def test_node_plugin_tolerates_every_pool_taint_key_once():
    pools = {**POOLS,
             "infer": GpuPool.model_validate({"role": "inference", "gpu": {"model": "L4", "count": 1},
                                              "taints": [{"key": "pool", "value": "infer"},
                                                         {"key": "nvidia.com/gpu"}]})}
    assert csi_values(JuiceFsConfig(), pools)["node"]["tolerations"] == [
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
        {"key": "nvidia.com/gpu", "operator": "Exists"},
        {"key": "pool", "operator": "Exists"},
    ]


def test_aws_metadata_engine_without_subnets_is_an_error_before_registration(run_component):
    fs = aws_fs(REDIS)
    fs["aws"] = {k: v for k, v in fs["aws"].items() if k not in ("subnetIds", "securityGroupIds")}
    cfg = validate_model(StorageConfig, storage({"shared": fs}))
    with pytest.raises(ConfigError) as caught:
        build_storage("storage", cfg, POOLS, pulumi.ResourceOptions(), security_group_ids=["sg-1"], **EKS)
    assert str(caught.value).splitlines()[1:] == [
        "  - storage.juicefs.fileSystems.shared.aws.subnetIds: is required: the metadata engine's private "
        "subnets (or pass the VPC's subnets to build_storage)"]


def test_volume_namespaces_must_be_created_by_some_component():
    from gpu_platform.storage import storage_issues

    volumes = {"ckpt": {"fileSystem": "lab", "namespace": "mll", "size": "1Ti"}}
    cfg = validate_model(StorageConfig, storage({"lab": EXTERNAL}, volumes))
    assert [str(i) for i in storage_issues(cfg, POOLS, {"ml": "baseline", "ml-serving": "baseline"})] == [
        'juicefs.volumes.ckpt.namespace: no component creates this namespace; known namespaces: ml, '
        'ml-serving (got "mll")']
    assert storage_issues(cfg, POOLS) == []  # without namespace facts nothing is assumed


def test_aws_file_system_without_keys_mounts_through_workload_identity(run_component, conformance):
    cfg = validate_model(StorageConfig, storage({"shared": aws_fs(REDIS)}))
    plan = run_component(lambda: build_storage("storage", cfg, POOLS, pulumi.ResourceOptions(), **EKS))
    sa = plan.one("kubernetes:core/v1:ServiceAccount", "storage-juicefs-shared-mount-sa").inputs
    assert (sa["metadata"]["name"], sa["metadata"]["namespace"]) == ("juicefs-shared-mount", "kube-system")
    assert "eks.amazonaws.com/role-arn" in sa["metadata"]["annotations"]
    role = plan.one("aws:iam/role:Role", "storage-juicefs-shared-mount-role")
    condition = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert condition["oidc.eks.us-east-1.amazonaws.com/id/T:sub"] == (
        "system:serviceaccount:kube-system:juicefs-shared-mount"
    )
    policy = plan.one("aws:iam/rolePolicy:RolePolicy", "storage-juicefs-shared-mount-role-policy")
    bucket_arn = plan.one("aws:s3/bucket:Bucket", "storage-juicefs-shared-bucket").outputs["arn"]
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation",
                                       "s3:ListBucketMultipartUploads"], "Resource": [bucket_arn]},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                                       "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
         "Resource": [f"{bucket_arn}/*"]},
    ]
    params = plan.one(SC, "storage-juicefs-shared-sc").inputs["parameters"]
    assert params["juicefs/mount-service-account"] == "juicefs-shared-mount"
    conformance.assert_conformant(conformance.validate_all(plan.kubernetes_objects()))


def test_aws_file_system_without_keys_needs_the_eks_oidc_provider():
    cfg = validate_model(StorageConfig, storage({"shared": aws_fs(REDIS)}))
    with pytest.raises(ConfigError) as caught:
        build_storage("storage", cfg, POOLS, pulumi.ResourceOptions())
    assert [str(i) for i in caught.value.issues] == [
        "storage.juicefs.fileSystems.shared: on AWS without accessKey/secretKey the mount pods "
        "authenticate through workload identity (IRSA), which needs the EKS cluster this library "
        "creates (cluster.kind: eks); otherwise set accessKey and secretKey"
    ]
