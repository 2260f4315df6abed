"""The NVIDIA GPU Operator: driver, toolkit, device plugin, GFD/NFD, MIG manager, DCGM exporter.

One namespace (Pod Security ``privileged``: the operator's daemonsets load kernel modules and
mount host paths), the upstream chart at ``versions.GPU_OPERATOR``, and two ConfigMaps the
library renders from the pools' typed sharing settings: the device plugin's time-slicing configs
and mig-parted's MIG layouts. Nodes pick their config by label (``core.pools.node_labels``).

Driver ownership comes from the pools: where every pool's image ships the driver, the operator's
driver and toolkit are off; where some do, they stay on and those pools' nodes carry the
operator's per-node ``nvidia.com/gpu.deploy.*=false`` labels instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.core.pools import GPU_TAINT_KEY, PoolPlacement, all_pool_tolerations
from gpu_platform.core.sharing import (
    DEFAULT_DEVICE_PLUGIN_CONFIG,
    MIG_DISABLED_CONFIG,
    MigLayout,
    TimeSlicing,
    cluster_mig_strategy,
    render_device_plugin_configs,
    render_mig_parted_configmap_data,
    sharing_profile_name,
)
from gpu_platform.k8s.addon import helm_release, namespace
from gpu_platform.k8s.values import deep_merge
from gpu_platform.versions import GPU_OPERATOR

GPU_OPERATOR_TYPE = "gpu-platform:gpu:GpuOperator"
DEVICE_PLUGIN_CONFIGMAP = "device-plugin-configs"
MIG_PARTED_CONFIGMAP = "mig-parted-configs"
# The chart's default daemonset toleration; kept so nodes tainted the upstream way still work.
UPSTREAM_GPU_TOLERATION = {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}


class DriverSettings(ConfigModel):
    # Upstream chart default for v26.7.0 (values.yaml driver.version); bump with the chart.
    version: str = Field(default="595.91.07", min_length=1)
    kernel_module_type: Literal["auto", "open", "proprietary"] = "auto"


class DcgmExporterSettings(ConfigModel):
    enabled: bool = True
    # needs the Prometheus operator's CRDs (monitoring.coreos.com); off where there is none
    service_monitor: bool = True
    interval: str = Field(default="15s", pattern=r"^[0-9]+[smh]$")


class GpuOperatorSettings(ConfigModel):
    """Typed knobs of the GPU Operator; ``valuesOverrides`` is merged last, for anything else."""

    namespace: DnsLabel = "gpu-operator"
    # false: install into an existing namespace (one a platform team manages, Pod Security
    # ``privileged`` already set) instead of creating and owning it
    create_namespace: bool = True
    driver: DriverSettings = Field(default_factory=DriverSettings)
    # Node Feature Discovery labels nodes for the operator; off only where the cluster runs its own
    node_feature_discovery: bool = True
    gpu_feature_discovery: bool = True
    dcgm_exporter: DcgmExporterSettings = Field(default_factory=DcgmExporterSettings)
    values_overrides: dict[str, Any] = Field(default_factory=dict)


class GpuOperatorConfig(GpuOperatorSettings):
    """``gpuOperator``: the operator's settings, and whether the environment installs it."""

    enabled: bool = True


class GpuDirectRdma(ConfigModel):
    """GPUDirect RDMA, asked for by the network layer when an RDMA network exists."""

    use_host_mofed: bool = False


class GpuOperatorArgs(GpuOperatorSettings, ComponentArgs):
    """The operator's settings plus what it needs of the pools: their placement (taints to
    tolerate, driver ownership, GPU sharing), not the pools themselves; a ``GpuPool`` is a
    ``PoolPlacement``, so whole pools may be passed too."""

    pools: dict[DnsLabel, PoolPlacement] = Field(default_factory=dict)
    rdma: GpuDirectRdma | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        yield from mig_strategy_issues(self.pools, "pools")

    @classmethod
    def of(cls, config: GpuOperatorSettings, pools: Mapping[str, PoolPlacement],
           rdma: GpuDirectRdma | None = None) -> GpuOperatorArgs:
        """The args for an environment's ``gpuOperator`` and ``gpuPools``."""
        fields = {key: getattr(config, key) for key in GpuOperatorSettings.model_fields}
        return cls(**fields, pools=dict(pools), rdma=rdma)


@dataclass(frozen=True)
class DriverPlan:
    """Whether the operator installs the driver and toolkit (pure; see module docstring)."""

    operator_installs_driver: bool

    @classmethod
    def for_pools(cls, pools: Mapping[str, PoolPlacement]) -> DriverPlan:
        # No pools yet (existing cluster, unknown nodes): the operator owns the driver.
        return cls(any(pool.driver == "operator" for pool in pools.values()) or not pools)


def time_slicing_profiles(pools: Mapping[str, PoolPlacement]) -> dict[str, TimeSlicing]:
    """The device plugin's named time-slicing configs, by the name the pools' nodes select."""
    profiles: dict[str, TimeSlicing] = {}
    for name, pool in pools.items():
        slicing = pool.sharing.time_slicing
        if slicing is not None:
            profiles[_profile_name(name, slicing)] = slicing
    return profiles


def mig_layouts(pools: Mapping[str, PoolPlacement]) -> dict[str, MigLayout]:
    """mig-parted's named layouts, by the name the pools' nodes select."""
    layouts: dict[str, MigLayout] = {}
    for name, pool in pools.items():
        layout = pool.sharing.mig
        if layout is not None:
            layouts[_profile_name(name, layout)] = layout
    return layouts


def mig_strategy_issues(pools: Mapping[str, PoolPlacement], path: str) -> Iterator[ConfigIssue]:
    """The pools' MIG layouts must agree on the operator's one cluster-wide ``mig.strategy``."""
    layouts = {name: pool.sharing.mig for name, pool in pools.items() if pool.sharing.mig is not None}
    try:
        cluster_mig_strategy(layouts)
    except ValueError as err:
        yield issue(path, str(err).replace("MIG layouts", "the MIG layouts of pools", 1))


def _profile_name(pool_name: str, sharing: TimeSlicing | MigLayout) -> str:
    name = sharing_profile_name(pool_name, sharing)
    assert name is not None  # a time-slicing config or a MIG layout always has a name
    return name


NFD_CONTROL_PLANE_TOLERATION = {"key": "node-role.kubernetes.io/control-plane", "operator": "Equal",
                                "value": "", "effect": "NoSchedule"}


def gpu_operator_values(
    config: GpuOperatorSettings,
    pools: Mapping[str, PoolPlacement],
    rdma: GpuDirectRdma | None = None,
) -> dict[str, Any]:
    """The chart values for these pools (pure). Every key path exists in the chart's values.yaml."""
    driver = DriverPlan.for_pools(pools)
    layouts = mig_layouts(pools)
    tolerations = [UPSTREAM_GPU_TOLERATION, *all_pool_tolerations(pools)]
    values: dict[str, Any] = {
        "daemonsets": {"tolerations": _unique(tolerations)},
        "nfd": {"enabled": config.node_feature_discovery},
        # NFD's worker (the node-feature-discovery subchart) has its own tolerations, by default
        # only control-plane and nvidia.com/gpu (values.yaml, v26.7.0): a pool with its own taint
        # would get no NFD labels, so the operator would never deploy there (seed 003)
        "node-feature-discovery": {"worker": {"tolerations": _unique(
            [NFD_CONTROL_PLANE_TOLERATION, *tolerations])}},
        "driver": {
            "enabled": driver.operator_installs_driver,
            "version": config.driver.version,
            "kernelModuleType": config.driver.kernel_module_type,
            "rdma": {
                "enabled": rdma is not None,
                "useHostMofed": bool(rdma and rdma.use_host_mofed),
            },
        },
        "toolkit": {"enabled": driver.operator_installs_driver},
        "devicePlugin": {
            "enabled": True,
            "config": {"name": DEVICE_PLUGIN_CONFIGMAP, "default": DEFAULT_DEVICE_PLUGIN_CONFIG},
        },
        "gfd": {"enabled": config.gpu_feature_discovery},
        "mig": {"strategy": cluster_mig_strategy(layouts) if layouts else "single"},
        "migManager": {
            "enabled": bool(layouts),
            "config": {"name": MIG_PARTED_CONFIGMAP, "default": MIG_DISABLED_CONFIG},
        },
        "dcgmExporter": {
            "enabled": config.dcgm_exporter.enabled,
            "serviceMonitor": {
                "enabled": config.dcgm_exporter.enabled and config.dcgm_exporter.service_monitor,
                "interval": config.dcgm_exporter.interval,
            },
        },
    }
    return deep_merge(values, config.values_overrides)


def _object_name(metadata: Any) -> str:
    return str(metadata["name"] if isinstance(metadata, dict) else metadata.name)


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


class GpuOperator(pulumi.ComponentResource):
    """Namespace (unless it exists), sharing ConfigMaps and the pinned GPU Operator release."""

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: GpuOperatorArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(GpuOperatorArgs, args, component="GpuOperator", name=name)
        super().__init__(GPU_OPERATOR_TYPE, name, None, opts)
        child = child_options(self, opts)
        ns = args.namespace
        self.namespace_resource: k8s.core.v1.Namespace | None = None
        if args.create_namespace:
            self.namespace_resource = namespace(child_name(name, "ns"), ns, "privileged", child)
        owned: list[pulumi.Resource] = [self.namespace_resource] if self.namespace_resource else []
        in_ns = child_options(self, opts, depends_on=owned)
        labels = {**MANAGED_BY_LABELS, "app.kubernetes.io/component": "gpu-sharing"}
        self.device_plugin_config = k8s.core.v1.ConfigMap(
            child_name(name, "device-plugin-config"),
            metadata={"name": DEVICE_PLUGIN_CONFIGMAP, "namespace": ns, "labels": labels},
            data=render_device_plugin_configs(time_slicing_profiles(args.pools)),
            opts=in_ns,
        )
        self.mig_config = k8s.core.v1.ConfigMap(
            child_name(name, "mig-config"),
            metadata={"name": MIG_PARTED_CONFIGMAP, "namespace": ns, "labels": labels},
            data=render_mig_parted_configmap_data(mig_layouts(args.pools)),
            opts=in_ns,
        )
        self.values = gpu_operator_values(args, args.pools, args.rdma)
        self.release = helm_release(
            child_name(name, "chart"),
            GPU_OPERATOR,
            release_name="gpu-operator",
            namespace=ns,
            values=self.values,
            opts=child,
            depends_on=[*owned, self.device_plugin_config, self.mig_config],
        )
        # from the namespace object where this component owns it, so users of the name wait for it
        self.namespace = (
            self.namespace_resource.metadata.apply(_object_name)
            if self.namespace_resource is not None else pulumi.Output.from_input(ns)
        )
        self.release_name = self.release.name  # type: ignore[assignment]
        self.register_outputs({
            "namespace": self.namespace,
            "releaseName": self.release_name,
            "chartVersion": GPU_OPERATOR.version,
        })
