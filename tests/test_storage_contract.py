"""The component contract in the storage area: JuiceFs and Fluid are ``X(name, args, opts=None)``,
refuse bad args (field and cross-field) with one ConfigError before registering anything, wait
for ``opts.depends_on`` and expose typed outputs; build_storage refuses the same, earlier."""

import pulumi
import pulumi_kubernetes as k8s
import pytest
from component_outputs import resolved_outputs

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.storage import Fluid, FluidArgs, JuiceFs, JuiceFsArgs, StorageConfig, build_storage

POOLS = {"train": GpuPool.model_validate({"role": "training", "gpu": {"model": "A100-80GB", "count": 8}})}
ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/T"
URL = "https://oidc.eks.us-east-1.amazonaws.com/id/T"
REDIS = {"kind": "redis", "authToken": "fixture-token-0c0c"}
AWS_FS = {"backend": "aws", "aws": {"region": "us-east-1", "metadata": REDIS}}
EXTERNAL = {"backend": "external", "external": {"metaurl": "redis://r:6379/1", "bucket": "https://b/j"}}
CACHE = [{"medium": "SSD", "path": "/mnt/nvme", "quota": "100Gi"}]
WEIGHTS = {"namespace": "ml", "source": "juicefs://lab/weights", "runtime": "juicefs", "pool": "train",
           "cache": CACHE}
NS = "kubernetes:core/v1:Namespace"
REL = "kubernetes:helm.sh/v3:Release"
SUBNETS = ("juicefs.fileSystems.shared.aws.subnetIds: is required: the metadata engine's private "
           "subnets (or pass the VPC's subnets to build_storage)")
GROUPS = ("juicefs.fileSystems.shared.aws.securityGroupIds: is required: security groups that let the "
          "cluster's nodes reach the metadata engine")
IDENTITY = ("juicefs.fileSystems.shared: on AWS without accessKey/secretKey the mount pods authenticate "
            "through workload identity (IRSA), which needs the EKS cluster this library creates "
            "(cluster.kind: eks); otherwise set accessKey and secretKey")



# --- refusals -----------------------------------------------------------------------------------

def test_juicefs_refuses_an_aws_file_system_without_vpc_or_identity(refused):
    err = refused(lambda: JuiceFs("j", {"juicefs": {"fileSystems": {"shared": AWS_FS}}, "pools": POOLS}))
    assert str(err) == "\n".join(["invalid args of JuiceFs 'j' (3 errors):",
                                  f"  - {SUBNETS}", f"  - {GROUPS}", f"  - {IDENTITY}"])


def test_juicefs_refuses_volumes_on_unknown_file_systems_and_half_an_oidc_provider(refused):
    config = {"fileSystems": {"lab": EXTERNAL},
              "volumes": {"ckpt": {"fileSystem": "nope", "namespace": "ml", "size": "1Ti"}}}
    err = refused(lambda: JuiceFs("j", {"juicefs": config, "oidcProviderArn": ARN}))
    assert [str(i) for i in err.issues] == [
        'juicefs.volumes.ckpt.fileSystem: unknown file system; known file systems: lab (got "nope")',
        "oidcProviderUrl: oidcProviderArn and oidcProviderUrl must be given together (the EKS "
        "cluster's IAM OIDC provider and its issuer URL)",
    ]


def test_juicefs_refuses_a_subnet_list_that_is_not_strings(refused):
    err = refused(lambda: JuiceFs("j", {"subnetIds": ["subnet-a", 7]}))
    assert str(err) == "invalid args of JuiceFs 'j' (1 error):\n  - subnetIds.1: must be a string (got 7)"


def test_fluid_refuses_unknown_pools_and_file_systems_it_has_no_secret_for(refused):
    err = refused(lambda: Fluid("f", {"fluid": {"datasets": {"w": {**WEIGHTS, "pool": "infer"}}},
                                      "pools": POOLS}))
    assert str(err) == (
        "invalid args of Fluid 'f' (2 errors):\n"
        '  - fluid.datasets.w.pool: unknown GPU pool; known pools: train (got "infer")\n'
        "  - fluid.datasets.w.source: unknown JuiceFS file system 'lab'; known file systems: none "
        '(got "juicefs://lab/weights")')


def test_build_storage_refuses_fluid_problems_before_juicefs_is_built(run_component):
    config = validate_model(StorageConfig, {"juicefs": {"fileSystems": {"lab": EXTERNAL}},
                                            "fluid": {"datasets": {"w": {**WEIGHTS, "pool": "infer"}}}})
    caught = []

    def program():
        with pytest.raises(ConfigError) as err:
            build_storage("storage", config, POOLS, pulumi.ResourceOptions())
        caught.append(err.value)

    plan = run_component(program)
    assert plan.resources == []
    assert [str(i) for i in caught[0].issues] == [
        'storage.fluid.datasets.w.pool: unknown GPU pool; known pools: train (got "infer")']


# --- outputs and options ------------------------------------------------------------------------

def test_juicefs_outputs_storage_classes_and_claims(run_component):
    args = {"juicefs": {"fileSystems": {"lab": EXTERNAL}, "namespace": "juicefs",
                        "volumes": {"ckpt": {"fileSystem": "lab", "namespace": "ml", "size": "1Ti"}}},
            "pools": POOLS}
    out = resolved_outputs(run_component, lambda: JuiceFs("j", args),
                           "namespace_name", "release_name", "storage_class_names", "claim_names")
    assert out == {"namespace_name": "juicefs", "release_name": "juicefs-csi-driver",
                   "storage_class_names": {"lab": "juicefs-lab"}, "claim_names": {"ckpt": "ckpt"}}


def test_juicefs_takes_vpc_and_oidc_outputs(run_component):
    def program():
        JuiceFs("j", JuiceFsArgs.model_validate({
            "juicefs": {"fileSystems": {"shared": AWS_FS}},
            "subnetIds": pulumi.Output.from_input(["subnet-vpc"]),
            "securityGroupIds": [pulumi.Output.from_input("sg-vpc")],
            "oidcProviderArn": pulumi.Output.from_input(ARN), "oidcProviderUrl": URL}))

    plan = run_component(program)
    group = plan.one("aws:elasticache/replicationGroup:ReplicationGroup", "j-shared-redis")
    assert group.inputs["securityGroupIds"] == ["sg-vpc"]
    subnets = plan.one("aws:elasticache/subnetGroup:SubnetGroup", "j-shared-redis-subnets")
    assert subnets.inputs["subnetIds"] == ["subnet-vpc"]
    assert ARN in plan.one("aws:iam/role:Role", "j-shared-mount-role").inputs["assumeRolePolicy"]


def test_juicefs_into_an_existing_namespace_creates_none(run_component):
    plan = run_component(lambda: JuiceFs("j", {"juicefs": {"namespace": "storage", "createNamespace": False,
                                                           "fileSystems": {"lab": EXTERNAL}}}))
    assert plan.find(NS) == []
    assert plan.one(REL, "j-csi").inputs["namespace"] == "storage"


def test_fluid_outputs_and_existing_namespace(run_component):
    def build():
        data = {"metaurl": pulumi.Output.secret("redis://r:6379/1")}
        return Fluid("f", FluidArgs.model_validate({
            "fluid": {"createNamespace": False, "datasets": {"weights": WEIGHTS}},
            "pools": POOLS, "juicefsSecrets": {"lab": data}}))

    out = resolved_outputs(run_component, build, "namespace_name", "release_name", "dataset_names")
    assert out == {"namespace_name": "fluid-system", "release_name": "fluid",
                   "dataset_names": {"weights": "weights"}}
    plan = run_component(lambda: Fluid("f", {"fluid": {"createNamespace": False}}))
    assert plan.find(NS) == [] and plan.one(REL, "f-chart").dependencies == []


@pytest.mark.parametrize("build", [
    lambda opts: JuiceFs("c", {"juicefs": {"namespace": "juicefs", "fileSystems": {"lab": EXTERNAL},
                                           "volumes": {"v": {"fileSystem": "lab", "namespace": "ml",
                                                             "size": "1Ti"}}}}, opts),
    lambda opts: Fluid("c", {"fluid": {"datasetNamespaces": ["data"], "datasets": {"w": {
        **WEIGHTS, "source": "s3://bucket/w", "runtime": "alluxio", "namespace": "data",
        "preload": {}}}}, "pools": POOLS}, opts),
])
def test_every_kubernetes_child_waits_for_opts_depends_on(run_component, build):
    def program():
        before = k8s.core.v1.Namespace("before")
        build(pulumi.ResourceOptions(depends_on=[before]))

    plan = run_component(program)
    before = plan.one(NS, "before").urn
    children = [r for r in plan.resources if r.custom and r.name != "before"
                and r.type.startswith("kubernetes:")]
    waiting = [r.name for r in children if before in r.dependencies]
    # operator_install's own namespace (k8s/addon.py) takes only the parent; everything else waits
    assert sorted(r.name for r in children if r.name not in waiting) in ([], ["c-ns"])
    assert len(waiting) >= 4



def test_the_area_exports_every_component_and_its_args():
    import gpu_platform.storage as storage

    for component in ("JuiceFs", "Fluid"):
        assert {component, f"{component}Args"} <= set(storage.__all__)
        assert issubclass(getattr(storage, component), pulumi.ComponentResource)
    assert all(hasattr(storage, name) for name in storage.__all__)
