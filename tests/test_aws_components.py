"""The AWS components under the contract: ``X(name, args, opts=None)``, refused bad args with
nothing registered, typed outputs registered."""

import pulumi
import pytest
from component_outputs import run_program_plan

from gpu_platform.aws import (
    AwsAddons,
    AwsAddonsArgs,
    EksCluster,
    EksClusterArgs,
    GpuNodePool,
    GpuNodePoolArgs,
    NodePoolCluster,
)
from gpu_platform.core.pools import GpuPool

CLUSTER = {"name": "gpu-dev", "region": "us-east-1",
           "vpc": {"availabilityZones": ["us-east-1a", "us-east-1b"]}}
A10G_POOL = {"role": "interactive", "gpu": {"model": "A10G", "count": 1}, "maxSize": 2,
             "driver": "preinstalled"}
ATTACHMENT = {"name": "gpu-dev", "nodeRoleArn": "arn:aws:iam::1:role/nodes",
              "privateSubnetIds": {"us-east-1a": "subnet-a", "us-east-1b": "subnet-b"},
              "vpcId": "vpc-1", "securityGroupId": "sg-1"}
ADDONS = {"clusterName": "gpu-dev", "region": "us-east-1",
          "oidcProviderArn": "arn:aws:iam::1:oidc-provider/x", "oidcProviderUrl": "oidc.eks/id/X"}
TYPES = {"cluster": "gpu-platform:aws:EksCluster", "pool": "gpu-platform:aws:GpuNodePool",
         "addons": "gpu-platform:aws:Addons"}


def test_eks_cluster_refuses_bad_args(refused):
    err = refused(lambda: EksCluster("eks", {**CLUSTER, "region": "us-east"}))
    assert str(err) == (
        "invalid args of EksCluster 'eks' (1 error):\n"
        '  - region: must be an AWS region such as us-east-1 (got "us-east")'
    )
    one_zone = EksClusterArgs.model_validate({**CLUSTER, "vpc": {"availabilityZones": ["us-east-1a"]}})
    err = refused(lambda: EksCluster("eks", one_zone))
    assert [str(i) for i in err.issues] == [
        'vpc.availabilityZones: EKS needs subnets in at least 2 availability zones (got ["us-east-1a"])'
    ]


def test_eks_cluster_needs_a_region_from_args_or_the_stack(refused):
    err = refused(lambda: EksCluster("eks", {**CLUSTER, "region": None}))
    assert str(err) == (
        "invalid args of EksCluster 'eks' (1 error):\n"
        "  - region: is required: pass it, or set the stack's aws:region"
    )


def test_node_pool_refuses_min_above_max_and_mig_on_an_a10g(refused):
    """Issue 16: this pool was accepted when a node pool was built directly."""
    pool = GpuPool(role="inference", gpu={"model": "A10G", "count": 1}, min_size=5, max_size=1,
                   driver="preinstalled", sharing={"mig": {"profiles": {"1g.10gb": 7}}})
    args = GpuNodePoolArgs(pool_name="infer", pool=pool, node_pool={"instanceType": "g5.xlarge"},
                           cluster=ATTACHMENT)
    err = refused(lambda: GpuNodePool("infer", args))
    assert [str(i) for i in err.issues] == [
        "pool.minSize: must be <= maxSize (1) (got 5)",
        "pool.sharing.mig: A10G does not support MIG; MIG-capable GPUs: A30, A100-40GB, "
        "A100-80GB, H100-80GB, H200-141GB, B200, GB200, B300, "
        "RTX-PRO-6000",
    ]


def test_node_pool_refuses_an_instance_type_without_the_pools_gpus_a_wrong_driver_and_zone(refused):
    args = {"poolName": "train", "pool": {**A10G_POOL, "driver": "operator"},
            "nodePool": {"instanceType": "p5.48xlarge",
                         "efa": {"enabled": True, "availabilityZone": "us-east-1c"}},
            "cluster": ATTACHMENT}
    err = refused(lambda: GpuNodePool("train", args))
    assert [str(i) for i in err.issues] == [
        "nodePool.instanceType: p5.48xlarge has 8x H100-80GB but pool.gpu is 1x A10G; use "
        'g5.xlarge, g5.2xlarge, g5.4xlarge, g5.8xlarge, g5.16xlarge or change pool.gpu '
        '(got "p5.48xlarge")',
        "pool.driver: must be 'preinstalled': nodePool.amiType AL2023_x86_64_NVIDIA ships the "
        'NVIDIA driver (got "operator")',
        "nodePool.efa.availabilityZone: must be one of the cluster's zones (us-east-1a, us-east-1b) "
        '(got "us-east-1c")',
    ]


def test_addons_refuse_autoscaler_overrides_without_the_autoscaler(refused):
    args = {**ADDONS, "clusterAutoscaler": False, "autoscalerOverrides": {"replicaCount": 2}}
    err = refused(lambda: AwsAddons("addons", args))
    assert str(err) == (
        "invalid args of AwsAddons 'addons' (1 error):\n"
        "  - autoscalerOverrides: only applies with clusterAutoscaler: true; remove it or turn the "
        'autoscaler on (got {"replicaCount": 2})'
    )


@pytest.fixture(scope="module")
def built():
    def program():
        cluster = EksCluster("eks", EksClusterArgs.model_validate(CLUSTER))
        GpuNodePool("dev", GpuNodePoolArgs(
            pool_name="dev", pool=GpuPool.model_validate(A10G_POOL),
            node_pool={"instanceType": "g5.xlarge"}, cluster=cluster.node_pool_cluster))
        AwsAddons("addons", AwsAddonsArgs.model_validate(
            {**ADDONS, "efaPools": {"dev": {}}, "autoscalerOverrides": {"replicaCount": 2}}),
            pulumi.ResourceOptions(depends_on=[cluster]))

    return run_program_plan(program)


def test_eks_cluster_registers_its_typed_outputs_and_the_kubeconfig_as_a_secret(built):
    plan = built
    assert plan.one(TYPES["cluster"], "eks").outputs == {
        "clusterName": "gpu-dev",
        "endpoint": "https://eks-cluster.gr7.us-east-1.eks.amazonaws.com",
        "oidcProviderArn": "arn:aws:openidconnectprovider:us-east-1:123456789012:eks-oidc",
        "oidcProviderUrl": "oidc.eks.us-east-1.amazonaws.com/id/EKS-CLUSTER",
        "kubeconfig": "[secret]",
        "clusterSecurityGroupId": "sg-eks-cluster",
    }
    assert plan.one(TYPES["cluster"], "eks").output_secret_paths == ["kubeconfig"]


def test_node_pool_joins_through_the_clusters_outputs_and_registers_its_own(built):
    plan = built
    assert plan.one(TYPES["pool"], "dev").outputs == {
        "nodeGroupName": "[unknown]",  # AWS generates it from the prefix
        "instanceType": "g5.xlarge",
    }
    node_group = plan.one("aws:eks/nodeGroup:NodeGroup", "dev-ng")
    # the cluster, the role and its policy attachments come first (nodes cannot join before)
    for name in ("eks-cluster", "eks-node-role", "eks-node-AmazonEKSWorkerNodePolicy"):
        assert plan.find(name=name)[0].urn in node_group.dependencies
    assert node_group.inputs["clusterName"] == "gpu-dev"


def test_addons_register_their_outputs_and_order_after_opts_depends_on(built):
    plan = built
    assert plan.one(TYPES["addons"], "addons").outputs == {
        "namespace": "kube-system",
        "autoscalerRoleArn": "arn:aws:role:us-east-1:123456789012:addons-autoscaler-role",
    }
    # depending on a component is depending on each of its children
    cluster_urn = plan.one("aws:eks/cluster:Cluster", "eks-cluster").urn
    release = plan.one("kubernetes:helm.sh/v3:Release", "addons-cluster-autoscaler")
    assert cluster_urn in release.dependencies
    assert release.inputs["values"]["replicaCount"] == 2
    efa = plan.one("kubernetes:helm.sh/v3:Release", "addons-efa-device-plugin")
    assert efa.inputs["values"]["tolerations"] == [
        {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Equal", "value": "true"}]


def test_node_pool_cluster_describes_an_existing_cluster():
    described = NodePoolCluster.model_validate(ATTACHMENT)
    assert described.private_subnet_ids == {"us-east-1a": "subnet-a", "us-east-1b": "subnet-b"}
