"""``AwsAddons``: the cluster-autoscaler (when a pool idles at zero) and the EFA device plugin
(when a pool uses EFA), installed with the Kubernetes provider the caller passes in ``opts``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from gpu_platform.aws.config import AwsConfig, needs_cluster_autoscaler
from gpu_platform.aws.eks_cluster import SYSTEM_LABEL
from gpu_platform.aws.workload_identity import ROLE_ARN_ANNOTATION, workload_role
from gpu_platform.catalog.addon_versions import cluster_autoscaler_image
from gpu_platform.catalog.eks_versions import EKS_KUBERNETES_VERSION
from gpu_platform.core.names import child_name
from gpu_platform.core.pools import GpuPool, all_pool_tolerations
from gpu_platform.k8s.addon import helm_release
from gpu_platform.k8s.values import deep_merge
from gpu_platform.versions import AWS_EFA_DEVICE_PLUGIN, CLUSTER_AUTOSCALER

ADDONS_TYPE = "gpu-platform:aws:Addons"
NAMESPACE = "kube-system"
AUTOSCALER_SA = "cluster-autoscaler"


def autoscaler_statements(cluster_name: str) -> list[dict[str, Any]]:
    """The cluster-autoscaler's documented AWS permissions: read anywhere, scale only groups
    tagged as this cluster's (cluster-autoscaler/cloudprovider/aws/README.md, "Full Cluster
    Autoscaler Features Policy (Recommended)")."""
    return [
        {
            "Effect": "Allow",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
                "eks:DescribeNodegroup",
            ],
            "Resource": ["*"],
        },
        {
            "Effect": "Allow",
            "Action": [
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
            ],
            "Resource": ["*"],
            "Condition": {"StringEquals": {
                f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}},
        },
    ]


def autoscaler_values(cluster_name: str, region: str, role_arn: Any,
                      kubernetes_version: str = EKS_KUBERNETES_VERSION) -> dict[str, Any]:
    # the autoscaler's minor must equal the cluster's; the chart defaults to its newest image
    image = cluster_autoscaler_image(kubernetes_version)
    return {
        "image": {"repository": image.repository, "tag": image.tag},
        "cloudProvider": "aws",
        "awsRegion": region,  # pods cannot reach IMDS (hop limit 1) to discover it
        "autoDiscovery": {"clusterName": cluster_name},
        "rbac": {"serviceAccount": {
            "name": AUTOSCALER_SA, "annotations": {ROLE_ARN_ANNOTATION: role_arn}}},
        "extraArgs": {
            "balance-similar-node-groups": True,
            "skip-nodes-with-system-pods": False,
            "expander": "least-waste",
        },
        "nodeSelector": {SYSTEM_LABEL: "system"},
    }


def efa_plugin_values(tolerations: list[dict[str, Any]]) -> dict[str, Any]:
    # the chart already restricts itself to EFA-capable instance types by node affinity
    return {"tolerations": tolerations}


class AwsAddons(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        config: AwsConfig,
        pools: Mapping[str, GpuPool],
        *,
        region: str,
        oidc_provider_arn: pulumi.Input[str],
        oidc_provider_url: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        depends_on: list[pulumi.Resource] | None = None,
        autoscaler_overrides: Mapping[str, Any] | None = None,
    ):
        super().__init__(ADDONS_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster_name = config.cluster.name
        self.autoscaler = self.efa_plugin = None
        if needs_cluster_autoscaler(pools):
            self.autoscaler_role = workload_role(
                child_name(name, "autoscaler-role"),
                oidc_provider_arn=oidc_provider_arn, oidc_provider_url=oidc_provider_url,
                namespace=NAMESPACE, service_account=AUTOSCALER_SA,
                statements=autoscaler_statements(cluster_name), opts=child)
            values = autoscaler_values(cluster_name, region, self.autoscaler_role.arn,
                                       config.cluster.version)
            self.autoscaler = helm_release(
                child_name(name, "cluster-autoscaler"), CLUSTER_AUTOSCALER,
                release_name="cluster-autoscaler", namespace=NAMESPACE,
                values=deep_merge(values, autoscaler_overrides or {}),
                opts=child, depends_on=depends_on or [])
        efa_pools = {n: p for n, p in pools.items()
                     if n in config.node_pools and config.node_pools[n].efa.enabled}
        if efa_pools:
            self.efa_plugin = helm_release(
                child_name(name, "efa-device-plugin"), AWS_EFA_DEVICE_PLUGIN,
                release_name="aws-efa-k8s-device-plugin", namespace=NAMESPACE,
                values=efa_plugin_values(all_pool_tolerations(dict(efa_pools))),
                opts=child, depends_on=depends_on or [])
        self.register_outputs({})
