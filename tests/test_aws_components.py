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
        "ebsCsiRoleArn": "arn:aws:role:us-east-1:123456789012:eks-ebs-csi-role",
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
        "storageClassName": "gp3",
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


def test_ebs_csi_driver_is_a_managed_addon_with_its_own_irsa_role(built):
    import json

    plan = built
    addon = plan.one("aws:eks/addon:Addon", "eks-addon-aws-ebs-csi-driver")
    assert addon.inputs["addonName"] == "aws-ebs-csi-driver"
    # the version follows the cluster through the add-on version lookup (catalog.addon_versions)
    from gpu_platform.catalog.addon_versions import addon_version
    from gpu_platform.catalog.eks_versions import EKS_KUBERNETES_VERSION

    assert addon.inputs["addonVersion"] == addon_version(EKS_KUBERNETES_VERSION, "aws-ebs-csi-driver")
    assert addon.inputs["serviceAccountRoleArn"] == "arn:aws:role:us-east-1:123456789012:eks-ebs-csi-role"
    # the controller needs a node to become ACTIVE on
    assert plan.one("aws:eks/nodeGroup:NodeGroup", "eks-system").urn in addon.dependencies
    role = plan.one("aws:iam/role:Role", "eks-ebs-csi-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Condition"]["StringEquals"] == {
        "oidc.eks.us-east-1.amazonaws.com/id/EKS-CLUSTER:sub":
            "system:serviceaccount:kube-system:ebs-csi-controller-sa",
        "oidc.eks.us-east-1.amazonaws.com/id/EKS-CLUSTER:aud": "sts.amazonaws.com",
    }
    (attachment,) = plan.find("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                              "eks-ebs-csi-role-AmazonEBSCSIDriverPolicy")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    # the AWS managed policy replaces an inline one: no empty inline policy is registered
    assert plan.find("aws:iam/rolePolicy:RolePolicy", "eks-ebs-csi-role-policy") == []
    # the other add-ons run as the node role (no service-account role)
    cni = plan.one("aws:eks/addon:Addon", "eks-addon-vpc-cni")
    assert not cni.inputs.get("serviceAccountRoleArn")


def test_default_storage_class_is_encrypted_gp3_on_the_ebs_csi_driver(built):
    storage_class = built.one("kubernetes:storage.k8s.io/v1:StorageClass", "addons-storage-class")
    assert storage_class.inputs == {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "gp3",
                     "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "ebs.csi.aws.com",
        "parameters": {"type": "gp3", "encrypted": "true"},
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }


def test_default_storage_class_follows_the_config():
    from gpu_platform.aws.addons import default_storage_class
    from gpu_platform.aws.config import StorageClassConfig

    rendered = default_storage_class(StorageClassConfig(name="ebs", reclaim_policy="Delete"))
    assert (rendered["metadata"]["name"], rendered["reclaimPolicy"]) == ("ebs", "Delete")


def test_addons_without_a_storage_class_register_none():
    plan = run_program_plan(lambda: AwsAddons("bare", {**ADDONS, "clusterAutoscaler": False,
                                                       "storageClass": {"enabled": False}}))
    assert plan.find("kubernetes:storage.k8s.io/v1:StorageClass") == []
    assert "storageClassName" not in plan.one(TYPES["addons"], "bare").outputs  # None: not registered


def test_workload_roles_attach_only_aws_managed_policies():
    from gpu_platform.aws.workload_identity import workload_role

    with pytest.raises(ValueError) as err:
        workload_role("r", oidc_provider_arn="arn", oidc_provider_url="url", namespace="ns",
                      service_account="sa", managed_policies=["arn:aws:iam::123:policy/mine"])
    assert str(err.value) == ("managed policy 'arn:aws:iam::123:policy/mine': only AWS managed "
                              "policies (arn:aws:iam::aws:policy/...) are attached by ARN")


@pytest.mark.parametrize(("env", "reclaim"), [("dev", "Delete"), ("staging", "Retain"), ("prod", "Retain")])
def test_environments_default_class_reclaim_policy(env, reclaim, plan_env):
    storage_class = plan_env(env).one("kubernetes:storage.k8s.io/v1:StorageClass",
                                      "platform-aws-addons-storage-class")
    assert storage_class.inputs["reclaimPolicy"] == reclaim
