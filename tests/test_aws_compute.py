"""EKS cluster, GPU node pools and add-ons as rendered for the engine."""

import base64
import json

import pulumi
import pytest

from gpu_platform.aws import AwsConfig, build_aws, build_aws_addons
from gpu_platform.aws.addons import autoscaler_values, efa_plugin_values
from gpu_platform.aws.workload_identity import check_statements, irsa_trust_policy
from gpu_platform.config import validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.plan.model import helm_release_manifest

LT = "aws:ec2/launchTemplate:LaunchTemplate"
NG = "aws:eks/nodeGroup:NodeGroup"
POOLS = {  # the AL2023 NVIDIA image ships the driver
    "train": GpuPool.model_validate(
        {"role": "training", "gpu": {"model": "H100-80GB", "count": 8}, "minSize": 1, "maxSize": 4,
         "driver": "preinstalled"}),
    "dev": GpuPool.model_validate(
        {"role": "interactive", "gpu": {"model": "A10G", "count": 1}, "maxSize": 2,
         "driver": "preinstalled"}),
}
CONFIG = validate_model(AwsConfig, {
    "cluster": {"name": "gpu-prod", "vpc": {"availabilityZones": ["us-east-1a", "us-east-1b"]}},
    "nodePools": {
        "train": {"instanceType": "p5.48xlarge", "efa": {"enabled": True, "availabilityZone": "us-east-1b"}},
        "dev": {"instanceType": "g5.xlarge", "capacityType": "SPOT"},
    },
})
IMDS = {"httpEndpoint": "enabled", "httpPutResponseHopLimit": 1, "httpTokens": "required",
        "instanceMetadataTags": "disabled"}


@pytest.fixture(scope="module")
def plan():
    from gpu_platform.plan.runner import run_program

    def program():
        compute = build_aws("aws", CONFIG, POOLS, pulumi.ResourceOptions(), region="us-east-1")
        build_aws_addons("aws", CONFIG, POOLS, compute, pulumi.ResourceOptions())
        pulumi.export("kubeconfig", compute.kubeconfig)

    return run_program(program, project="gpu-platform", stack="test")


def test_training_pool_with_efa_on_p5(plan):
    lt = dict(plan.one(LT, "aws-pool-train-lt").inputs)
    interfaces = lt.pop("networkInterfaces")
    user_data = base64.b64decode(lt.pop("userData")).decode()
    assert lt == {
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {
            "deleteOnTermination": "true", "encrypted": "true", "volumeSize": 200, "volumeType": "gp3"}}],
        "metadataOptions": IMDS,
        "placement": {"groupName": "[unknown]"},  # the placement group's name is assigned by AWS
        "updateDefaultVersion": True,
    }
    sg = "aws-pool-train-efa-sg-id"
    # card 0 also carries the cluster security group (EKS computes it; the plan engine fakes it)
    assert interfaces[0] == {"deleteOnTermination": "true", "deviceIndex": 0, "interfaceType": "efa",
                             "networkCardIndex": 0, "securityGroups": ["sg-aws-eks-cluster", sg]}
    assert interfaces[1:] == [
        {"deleteOnTermination": "true", "deviceIndex": 1, "interfaceType": "efa",
         "networkCardIndex": card, "securityGroups": [sg]}
        for card in range(1, 32)
    ]
    assert "kind: NodeConfig\nspec:\n  instance:\n    localStorage:\n      strategy: RAID0\n" in user_data
    assert "Content-Type: application/node.eks.aws" in user_data

    pg = plan.one("aws:ec2/placementGroup:PlacementGroup", "aws-pool-train-pg")
    assert pg.inputs == {"strategy": "cluster"}
    rule = {"ipProtocol": "-1", "referencedSecurityGroupId": sg, "securityGroupId": sg}
    ingress = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    egress = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
    assert plan.one(ingress, "aws-pool-train-efa-in").inputs == rule
    assert plan.one(egress, "aws-pool-train-efa-out").inputs == rule
    ng = plan.one(NG, "aws-pool-train-ng").inputs
    assert ng["subnetIds"] == ["aws-eks-private-us-east-1b-id"]  # the EFA zone only
    assert (ng["instanceTypes"], ng["amiType"], ng["capacityType"]) == (
        ["p5.48xlarge"], "AL2023_x86_64_NVIDIA", "ON_DEMAND")


def test_dev_spot_pool_idles_at_zero_and_the_autoscaler_owns_its_size(plan):
    resource = plan.one(NG, "aws-pool-dev-ng")
    assert resource.ignore_changes == ["scalingConfig.desiredSize"]
    inputs = dict(resource.inputs)
    assert inputs.pop("launchTemplate")["id"] == "aws-pool-dev-lt-id"
    assert inputs.pop("nodeRoleArn").endswith("aws-eks-node-role")
    assert inputs == {
        "amiType": "AL2023_x86_64_NVIDIA",
        "capacityType": "SPOT",
        "clusterName": "gpu-prod",
        "instanceTypes": ["g5.xlarge"],
        "labels": {"gpu-platform.io/pool": "dev", "gpu-platform.io/role": "interactive",
                   # the image ships the driver: the GPU Operator skips it on these nodes
                   "nvidia.com/gpu.deploy.container-toolkit": "false",
                   "nvidia.com/gpu.deploy.driver": "false",
                   "k8s.amazonaws.com/accelerator": "nvidia-a10g"},
        "nodeGroupNamePrefix": "dev-",
        "scalingConfig": {"desiredSize": 0, "maxSize": 2, "minSize": 0},
        "subnetIds": ["aws-eks-private-us-east-1a-id", "aws-eks-private-us-east-1b-id"],
        "tags": {
            "k8s.io/cluster-autoscaler/enabled": "true",
            "k8s.io/cluster-autoscaler/gpu-prod": "owned",
            "k8s.io/cluster-autoscaler/node-template/label/gpu-platform.io/pool": "dev",
            "k8s.io/cluster-autoscaler/node-template/label/gpu-platform.io/role": "interactive",
            "k8s.io/cluster-autoscaler/node-template/label/nvidia.com/gpu.deploy.container-toolkit": "false",
            "k8s.io/cluster-autoscaler/node-template/label/nvidia.com/gpu.deploy.driver": "false",
            "k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator": "nvidia-a10g",
            "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "1",
            "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
        },
        "taints": [{"effect": "NO_SCHEDULE", "key": "nvidia.com/gpu", "value": "true"}],
        "updateConfig": {"maxUnavailable": 1},
    }
    lt = plan.one(LT, "aws-pool-dev-lt").inputs
    assert lt["metadataOptions"] == IMDS
    assert lt["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"
    assert "networkInterfaces" not in lt and "placement" not in lt


def test_cluster_encrypts_secrets_with_a_protected_rotating_key_and_logs_everything(plan):
    key = plan.one("aws:kms/key:Key", "aws-eks-secrets-key")
    assert key.protect is True
    assert key.inputs["enableKeyRotation"] is True
    cluster = plan.one("aws:eks/cluster:Cluster", "aws-eks-cluster").inputs
    assert cluster["encryptionConfig"] == {
        "provider": {"keyArn": "arn:aws:key:us-east-1:123456789012:aws-eks-secrets-key"},
        "resources": ["secrets"]}
    assert cluster["enabledClusterLogTypes"] == [
        "api", "audit", "authenticator", "controllerManager", "scheduler"]
    assert cluster["vpcConfig"] == {
        "endpointPrivateAccess": True, "endpointPublicAccess": True,
        "subnetIds": ["aws-eks-private-us-east-1a-id", "aws-eks-private-us-east-1b-id"]}
    assert plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "aws-eks-oidc").inputs[
        "clientIdLists"] == ["sts.amazonaws.com"]
    addons = {r.inputs["addonName"]: r.inputs["addonVersion"] for r in plan.find("aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"}
    assert plan.outputs == {"kubeconfig": "[secret]"}


def test_addons_and_their_values_conform(plan, conformance):
    releases = {r.name: helm_release_manifest(r) for r in plan.helm_releases()}
    ca = releases["aws-addons-cluster-autoscaler"]
    assert (ca["chart"], ca["version"], ca["namespace"]) == ("cluster-autoscaler", "9.59.0", "kube-system")
    assert ca["values"]["autoDiscovery"] == {"clusterName": "gpu-prod"}
    efa = releases["aws-addons-efa-device-plugin"]
    assert efa["values"] == {"tolerations": [
        {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Equal", "value": "true"}]}
    conformance.assert_conformant(
        conformance.validate_helm_values(
            "cluster-autoscaler", autoscaler_values("gpu-prod", "us-east-1", "arn"),
            free_form=("extraArgs",))  # upstream lists the flags only in comments
        + conformance.validate_helm_values("aws-efa-k8s-device-plugin", efa_plugin_values([])))


def test_irsa_trust_is_bound_to_one_service_account():
    trust = irsa_trust_policy("arn:oidc", "oidc.eks/id/X", "kube-system", "cluster-autoscaler")
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {
            "oidc.eks/id/X:sub": "system:serviceaccount:kube-system:cluster-autoscaler",
            "oidc.eks/id/X:aud": "sts.amazonaws.com"}}
    with pytest.raises(ValueError, match="wildcards are not allowed"):
        check_statements([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])


def test_autoscaler_role_scales_only_this_clusters_groups(plan):
    role_policy = plan.one("aws:iam/rolePolicy:RolePolicy", "aws-addons-autoscaler-role-policy")
    policy = json.loads(role_policy.inputs["policy"])
    assert policy["Statement"][1]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/gpu-prod": "owned"}}


def test_build_aws_refuses_a_driver_the_image_contradicts_before_anything_registers(refused):
    pools = {**POOLS, "dev": POOLS["dev"].model_copy(update={"driver": "operator"})}
    err = refused(lambda: build_aws("aws", CONFIG, pools, pulumi.ResourceOptions(), region="us-east-1"))
    assert [str(i) for i in err.issues] == [
        "gpuPools.dev.driver: must be 'preinstalled': aws.nodePools.dev.amiType "
        'AL2023_x86_64_NVIDIA ships the NVIDIA driver (got "operator")'
    ]
