"""``AwsAddons``: the cluster-autoscaler (when a pool idles at zero), the EFA device plugin
(when a pool uses EFA) and the encrypted gp3 default StorageClass (on the EBS CSI driver the
``EksCluster`` installs as a managed add-on), installed with the Kubernetes provider the caller
passes in ``opts``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.aws.config import AwsConfig, StorageClassConfig, needs_cluster_autoscaler
from gpu_platform.aws.eks_cluster import AWS_REGION_PATTERN, SYSTEM_LABEL
from gpu_platform.aws.workload_identity import ROLE_ARN_ANNOTATION, workload_role
from gpu_platform.catalog.addon_versions import cluster_autoscaler_image
from gpu_platform.catalog.eks_versions import EKS_KUBERNETES_VERSION
from gpu_platform.config import ComponentArgs, ConfigIssue, component_args
from gpu_platform.config.args import InputStr
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import DnsLabel, child_name
from gpu_platform.core.pools import GpuPool, PoolPlacement, all_pool_tolerations
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


EBS_CSI_DRIVER = "ebs.csi.aws.com"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def default_storage_class(config: StorageClassConfig) -> dict[str, Any]:
    """The default StorageClass: gp3, encrypted with the account's EBS key, bound where the pod
    lands (a volume is zonal: WaitForFirstConsumer creates it in the pod's zone), expandable.
    EKS clusters from 1.30 on have no default class ("Create a storage class",
    https://docs.aws.amazon.com/eks/latest/userguide/create-storage-class.html; parameters:
    kubernetes-sigs/aws-ebs-csi-driver docs/parameters.md, read 2026-11-26)."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": config.name, "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
        "provisioner": EBS_CSI_DRIVER,
        "parameters": {"type": "gp3", "encrypted": "true"},
        "reclaimPolicy": config.reclaim_policy,
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }


def efa_plugin_values(tolerations: list[dict[str, Any]]) -> dict[str, Any]:
    # the chart already restricts itself to EFA-capable instance types by node affinity
    return {"tolerations": tolerations}


class AwsAddonsArgs(ComponentArgs):
    """What the add-ons need: the cluster (name, region, OIDC provider for the autoscaler's
    IRSA role), whether a pool idles at zero (the autoscaler), and the placement of EFA pools
    (the EFA device plugin tolerates their taints)."""

    cluster_name: DnsLabel
    region: str = Field(pattern=AWS_REGION_PATTERN)
    # the cluster's Kubernetes version: the autoscaler's minor must match it
    kubernetes_version: str = EKS_KUBERNETES_VERSION
    oidc_provider_arn: InputStr
    oidc_provider_url: InputStr
    cluster_autoscaler: bool = True
    efa_pools: dict[DnsLabel, PoolPlacement] = Field(default_factory=dict)
    # merged last into the autoscaler's chart values
    autoscaler_overrides: dict[str, Any] = Field(default_factory=dict)
    storage_class: StorageClassConfig = Field(default_factory=StorageClassConfig)

    def issues(self) -> Iterator[ConfigIssue]:
        if self.autoscaler_overrides and not self.cluster_autoscaler:
            yield issue("autoscalerOverrides", "only applies with clusterAutoscaler: true; remove it "
                        "or turn the autoscaler on", self.autoscaler_overrides)

    @classmethod
    def of(cls, config: AwsConfig, pools: Mapping[str, GpuPool], *, region: str,
           oidc_provider_arn: pulumi.Input[str], oidc_provider_url: pulumi.Input[str]) -> AwsAddonsArgs:
        """The args for an environment's ``aws`` config and ``gpuPools``."""
        return cls(
            cluster_name=config.cluster.name, region=region, kubernetes_version=config.cluster.version,
            oidc_provider_arn=oidc_provider_arn, oidc_provider_url=oidc_provider_url,
            cluster_autoscaler=needs_cluster_autoscaler(pools),
            efa_pools={n: p for n, p in pools.items()
                       if n in config.node_pools and config.node_pools[n].efa.enabled},
            storage_class=config.storage_class,
        )


class AwsAddons(pulumi.ComponentResource):
    """The cluster-autoscaler (with its IRSA role) and the EFA device plugin, in kube-system,
    and the default StorageClass."""

    namespace: pulumi.Output[str]
    autoscaler_role_arn: pulumi.Output[str] | None  # None: no autoscaler
    storage_class_name: pulumi.Output[str] | None  # None: storageClass.enabled is false

    def __init__(
        self,
        name: str,
        args: AwsAddonsArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(AwsAddonsArgs, args, component="AwsAddons", name=name)
        super().__init__(ADDONS_TYPE, name, None, opts)
        child = child_options(self, opts)
        cluster_name = args.cluster_name
        self.autoscaler: k8s.helm.v3.Release | None = None
        self.efa_plugin: k8s.helm.v3.Release | None = None
        self.autoscaler_role_arn = None
        if args.cluster_autoscaler:
            self.autoscaler_role = workload_role(
                child_name(name, "autoscaler-role"),
                oidc_provider_arn=args.oidc_provider_arn, oidc_provider_url=args.oidc_provider_url,
                namespace=NAMESPACE, service_account=AUTOSCALER_SA,
                statements=autoscaler_statements(cluster_name), opts=child)
            self.autoscaler_role_arn = self.autoscaler_role.arn
            values = autoscaler_values(cluster_name, args.region, self.autoscaler_role.arn,
                                       args.kubernetes_version)
            self.autoscaler = helm_release(
                child_name(name, "cluster-autoscaler"), CLUSTER_AUTOSCALER,
                release_name="cluster-autoscaler", namespace=NAMESPACE,
                values=deep_merge(values, args.autoscaler_overrides), opts=child)
        if args.efa_pools:
            self.efa_plugin = helm_release(
                child_name(name, "efa-device-plugin"), AWS_EFA_DEVICE_PLUGIN,
                release_name="aws-efa-k8s-device-plugin", namespace=NAMESPACE,
                values=efa_plugin_values(all_pool_tolerations(args.efa_pools)), opts=child)
        self.storage_class: k8s.storage.v1.StorageClass | None = None
        self.storage_class_name = None
        if args.storage_class.enabled:
            rendered = default_storage_class(args.storage_class)
            self.storage_class = k8s.storage.v1.StorageClass(
                child_name(name, "storage-class"),
                metadata=rendered["metadata"], provisioner=rendered["provisioner"],
                parameters=rendered["parameters"], reclaim_policy=rendered["reclaimPolicy"],
                volume_binding_mode=rendered["volumeBindingMode"],
                allow_volume_expansion=rendered["allowVolumeExpansion"], opts=child)
            self.storage_class_name = self.storage_class.metadata.apply(lambda m: str(m.name))
        self.namespace = pulumi.Output.from_input(NAMESPACE)
        self.register_outputs({"namespace": self.namespace, "autoscalerRoleArn": self.autoscaler_role_arn,
                               "storageClassName": self.storage_class_name})
