"""The NVIDIA Network Operator and its NicClusterPolicy: RDMA devices and the CNI stack.

One namespace (Pod Security ``privileged``: the DOCA driver and device plugin daemonsets load
kernel modules and mount host paths), the upstream chart at ``versions.NETWORK_OPERATOR``, and
one ``NicClusterPolicy`` rendered from typed settings:

- ``ofedDriver`` (the DOCA-OFED driver container) only with ``mofed: operator``; with ``host``
  the node image ships MOFED and the GPU Operator is told so (``useHostMofed``);
- ``rdmaSharedDevicePlugin`` with one resource per ``rdmaResources`` entry (``rdma/<name>``);
- ``secondaryNetwork`` (Multus, the reference CNI plugins, IPoIB CNI when an ipoib network
  exists) unless the cluster already runs Multus.

The chart's own Node Feature Discovery is off by default: the GPU Operator runs NFD in this
platform, and its worker already labels network-class PCI devices by vendor
(``feature.node.kubernetes.io/pci-15b3.present``), which the operator's daemonsets select on.
Two NFD masters fight over the same labels. Whereabouts (IPAM) is its own pinned chart: the
operator no longer ships it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, StringConstraints

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.errors import PATTERN_HINTS, issue
from gpu_platform.core.component import child_options, depends_on_of
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.core.pools import GpuPool, Taint
from gpu_platform.k8s.addon import helm_release, operator_install
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.k8s.values import deep_merge
from gpu_platform.network.networks import object_metadata
from gpu_platform.versions import (
    DOCA_DRIVER_IMAGE,
    DOCA_DRIVER_VERSION,
    NETWORK_OPERATOR,
    NETWORK_OPERATOR_COMPONENT_TAG,
    NETWORK_OPERATOR_IMAGE_REPOSITORY,
    WHEREABOUTS,
    WHEREABOUTS_IMAGE,
)

NETWORK_OPERATOR_TYPE = "gpu-platform:network:NetworkOperator"
NIC_CLUSTER_POLICY_NAME = "nic-cluster-policy"  # the operator reconciles only this name
RDMA_RESOURCE_PREFIX = "rdma"  # the shared device plugin's default prefix: rdma/<resourceName>
MELLANOX_VENDOR = "15b3"
# The chart's default operator tolerations (values.yaml operator.tolerations), kept because
# setting the list replaces it.
UPSTREAM_OPERATOR_TOLERATIONS = [
    {"key": "node-role.kubernetes.io/master", "operator": "Equal", "value": "", "effect": "NoSchedule"},
    {"key": "node-role.kubernetes.io/control-plane", "operator": "Equal", "value": "",
     "effect": "NoSchedule"},
]
# resource names: the device plugin forbids special characters
RESOURCE_NAME_PATTERN = r"^[A-Za-z0-9_]{1,63}$"
PATTERN_HINTS[RESOURCE_NAME_PATTERN] = "must be letters, digits and '_' (e.g. rdma_shared_device_a)"
RdmaResourceName = Annotated[str, StringConstraints(pattern=RESOURCE_NAME_PATTERN)]

MofedOwner = Literal["operator", "host"]


class RdmaResource(ConfigModel):
    """One RDMA shared device resource: which NICs it takes, how many pods may share it.

    Selectors are ANDed together, the values inside one selector ORed (the device plugin's rule).
    """

    vendors: list[str] = Field(default_factory=list)
    device_ids: list[str] = Field(default_factory=list)
    if_names: list[str] = Field(default_factory=list)
    # pods that can hold the resource at once on one node (upstream's example uses 63)
    rdma_hca_max: int = Field(default=63, ge=1, le=1000)
    # NCCL_IB_HCA for pods using this resource; default: "mlx5" when vendors is only 15b3
    nccl_ib_hca: str | None = Field(default=None, min_length=1)

    def issues(self) -> Iterator[ConfigIssue]:
        if not (self.vendors or self.device_ids or self.if_names):
            yield issue("", "needs at least one selector: vendors, deviceIds or ifNames")
        for key, values in (("vendors", self.vendors), ("deviceIds", self.device_ids)):
            for index, value in enumerate(values):
                if not _is_hex_id(value):
                    yield issue(f"{key}.{index}", "must be a 4-digit lowercase hex PCI id such as 15b3",
                                value)


def _is_hex_id(value: str) -> bool:
    return len(value) == 4 and all(c in "0123456789abcdef" for c in value)


class NetworkOperatorSettings(ConfigModel):
    """Typed knobs of the Network Operator; ``valuesOverrides`` is merged last."""

    namespace: DnsLabel = "nvidia-network-operator"
    # false: install into an existing namespace (Pod Security privileged; nothing creates or
    # deletes it)
    create_namespace: bool = True
    # who installs MOFED (DOCA-OFED): the operator's driver container, or the node image
    mofed: MofedOwner = "host"
    ofed_version: str = Field(default=DOCA_DRIVER_VERSION, min_length=1)
    # the chart's NFD: off because the GPU Operator runs NFD here (two would fight over labels)
    node_feature_discovery: bool = False
    # skip Multus and the CNI plugins where the cluster already runs them
    cluster_has_multus: bool = False
    # whereabouts IPAM chart; off only where the cluster already runs whereabouts
    whereabouts: bool = True
    values_overrides: dict[str, Any] = Field(default_factory=dict)


class NetworkOperatorConfig(NetworkOperatorSettings):
    """``network.operator``: the settings, and whether the environment installs the operator."""

    enabled: bool = True


class NetworkOperatorArgs(NetworkOperatorSettings, ComponentArgs):
    """Args of ``NetworkOperator``: its settings, the RDMA device resources, the taints of the
    GPU nodes its daemonsets must run on, and whether an IPoIB network needs the IPoIB CNI."""

    rdma_resources: dict[RdmaResourceName, RdmaResource] = Field(default_factory=dict)
    node_taints: list[Taint] = Field(default_factory=list)
    ipoib: bool = False

    @classmethod
    def of(
        cls,
        config: NetworkOperatorSettings,
        rdma_resources: Mapping[str, RdmaResource],
        pools: Mapping[str, GpuPool],
        *,
        ipoib: bool = False,
    ) -> NetworkOperatorArgs:
        """Args from the environment's settings, tolerating every taint of ``pools``."""
        fields = {name: getattr(config, name) for name in NetworkOperatorSettings.model_fields}
        taints = [taint for pool in pools.values() for taint in pool.taints]
        return cls.model_validate({**fields, "rdma_resources": dict(rdma_resources), "node_taints": taints,
                                   "ipoib": ipoib})


def taint_tolerations(taints: Sequence[Taint]) -> list[dict[str, Any]]:
    """Tolerations of ``taints`` (deduplicated, first occurrence first), as
    ``all_pool_tolerations`` renders a pool's."""
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for taint in taints:
        seen.setdefault((taint.key, taint.value, taint.effect),
                        {"key": taint.key, "operator": "Equal", "value": taint.value, "effect": taint.effect})
    return list(seen.values())


def _image(name: str, version: str = NETWORK_OPERATOR_COMPONENT_TAG) -> dict[str, str]:
    return {"image": name, "repository": NETWORK_OPERATOR_IMAGE_REPOSITORY, "version": version}


def rdma_shared_device_plugin_config(resources: Mapping[str, RdmaResource]) -> dict[str, Any]:
    """The device plugin's config (``configList``), one entry per resource, as data."""
    entries = []
    for name, resource in resources.items():
        selectors: dict[str, list[str]] = {}
        if resource.vendors:
            selectors["vendors"] = list(resource.vendors)
        if resource.device_ids:
            selectors["deviceIDs"] = list(resource.device_ids)
        if resource.if_names:
            selectors["ifNames"] = list(resource.if_names)
        entries.append({"resourceName": name, "rdmaHcaMax": resource.rdma_hca_max, "selectors": selectors})
    return {"configList": entries}


def nic_cluster_policy_spec(
    config: NetworkOperatorSettings,
    resources: Mapping[str, RdmaResource],
    node_tolerations: Sequence[Mapping[str, Any]] = (),
    *,
    ipoib: bool = False,
) -> dict[str, Any]:
    """``spec`` of the NicClusterPolicy (pure); ``node_tolerations``: of the GPU nodes' taints
    (``taint_tolerations`` or ``all_pool_tolerations``)."""
    spec: dict[str, Any] = {}
    if node_tolerations:
        # the daemonsets must run on tainted GPU nodes
        spec["tolerations"] = [dict(toleration) for toleration in node_tolerations]
    if config.mofed == "operator":
        spec["ofedDriver"] = {
            **_image(DOCA_DRIVER_IMAGE, config.ofed_version),
            # probes are required by the CRD when given; these are upstream's example values
            "startupProbe": {"initialDelaySeconds": 10, "periodSeconds": 10},
            "livenessProbe": {"initialDelaySeconds": 30, "periodSeconds": 30},
            "readinessProbe": {"initialDelaySeconds": 10, "periodSeconds": 30},
        }
    if resources:
        spec["rdmaSharedDevicePlugin"] = {
            **_image("k8s-rdma-shared-dev-plugin"),
            "config": json.dumps(rdma_shared_device_plugin_config(resources), indent=2),
        }
    secondary: dict[str, Any] = {}
    if not config.cluster_has_multus:
        secondary["multus"] = _image("multus-cni")
        secondary["cniPlugins"] = _image("plugins")
    if ipoib:
        secondary["ipoib"] = _image("ipoib-cni")
    if secondary:
        spec["secondaryNetwork"] = secondary
    return spec


def nic_cluster_policy(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The NicClusterPolicy object (cluster-scoped)."""
    return {
        "apiVersion": "mellanox.com/v1alpha1",
        "kind": "NicClusterPolicy",
        "metadata": {"name": NIC_CLUSTER_POLICY_NAME, "labels": dict(MANAGED_BY_LABELS)},
        "spec": dict(spec),
    }


def network_operator_values(
    config: NetworkOperatorSettings, node_tolerations: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """Chart values (pure). Every key path exists in the chart's values.yaml."""
    values: dict[str, Any] = {
        "nfd": {"enabled": config.node_feature_discovery},
        "operator": {
            "tolerations": [*UPSTREAM_OPERATOR_TOLERATIONS, *(dict(t) for t in node_tolerations)],
        },
    }
    return deep_merge(values, config.values_overrides)


def whereabouts_values() -> dict[str, Any]:
    # The chart's defaults tolerate every NoSchedule taint (GPU pools included) and install into
    # kube-system (namespaceOverride). The image is stated: git's values.yaml says v0.8.0, only the
    # published chart carries the release's image.
    return {"image": {"repository": WHEREABOUTS_IMAGE.repository, "tag": WHEREABOUTS_IMAGE.tag}}


class NetworkOperator(pulumi.ComponentResource):
    """Namespace, pinned Network Operator release, NicClusterPolicy and the whereabouts chart."""

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str]
    nic_cluster_policy_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: NetworkOperatorArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(NetworkOperatorArgs, args, component="NetworkOperator", name=name)
        super().__init__(NETWORK_OPERATOR_TYPE, name, None, opts)
        tolerations = taint_tolerations(args.node_taints)
        self.values = network_operator_values(args, tolerations)
        install = operator_install(
            name, NETWORK_OPERATOR, parent=self, release_name="network-operator",
            namespace_name=args.namespace, pod_security="privileged", values=self.values,
            depends_on=depends_on_of(opts), create_namespace=args.create_namespace,
        )
        self.namespace_resource, self.release = install.namespace, install.release
        self.namespace, self.release_name = install.namespace_name, install.release_name
        self.whereabouts: k8s.helm.v3.Release | None = None
        if args.whereabouts:
            self.whereabouts = helm_release(
                child_name(name, "whereabouts"),
                WHEREABOUTS,
                release_name="whereabouts",
                namespace=args.namespace,
                values=whereabouts_values(),
                opts=pulumi.ResourceOptions(parent=self),
                depends_on=[*([install.namespace] if install.namespace else []), *depends_on_of(opts)],
            )
        policy = nic_cluster_policy(nic_cluster_policy_spec(args, args.rdma_resources, tolerations,
                                                            ipoib=args.ipoib))
        # the CRD comes with the chart: the policy waits for the release
        self.policy = custom_resource(
            child_name(name, "nic-cluster-policy"),
            policy,
            child_options(self, opts, depends_on=[self.release]),
        )
        self.nic_cluster_policy_name = object_metadata(self.policy).apply(
            lambda m: str(m["name"] if isinstance(m, Mapping) else m.name))
        self.register_outputs({
            "namespace": self.namespace,
            "releaseName": self.release_name,
            "nicClusterPolicyName": self.nic_cluster_policy_name,
            "chartVersion": NETWORK_OPERATOR.version,
        })
