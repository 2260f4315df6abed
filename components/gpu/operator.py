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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ConfigModel
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.core.pools import GPU_TAINT_KEY, GpuPool, all_pool_tolerations
from gpu_platform.gpu.sharing import (
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


class GpuOperatorConfig(ConfigModel):
    """Typed knobs of the GPU Operator; ``valuesOverrides`` is merged last, for anything else."""

    enabled: bool = True
    namespace: DnsLabel = "gpu-operator"
    driver: DriverSettings = Field(default_factory=DriverSettings)
    # Node Feature Discovery labels nodes for the operator; off only where the cluster runs its own
    node_feature_discovery: bool = True
    gpu_feature_discovery: bool = True
    dcgm_exporter: DcgmExporterSettings = Field(default_factory=DcgmExporterSettings)
    values_overrides: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class GpuDirectRdma:
    """GPUDirect RDMA, asked for by the network layer when an RDMA network exists."""

    use_host_mofed: bool = False


@dataclass(frozen=True)
class DriverPlan:
    """Whether the operator installs the driver and toolkit (pure; see module docstring)."""

    operator_installs_driver: bool

    @classmethod
    def for_pools(cls, pools: Mapping[str, GpuPool]) -> DriverPlan:
        # No pools yet (existing cluster, unknown nodes): the operator owns the driver.
        return cls(any(pool.driver == "operator" for pool in pools.values()) or not pools)


def time_slicing_profiles(pools: Mapping[str, GpuPool]) -> dict[str, TimeSlicing]:
    return {
        sharing_profile_name(name, pool.sharing.time_slicing): pool.sharing.time_slicing
        for name, pool in pools.items()
        if pool.sharing.time_slicing is not None
    }


def mig_layouts(pools: Mapping[str, GpuPool]) -> dict[str, MigLayout]:
    return {
        sharing_profile_name(name, pool.sharing.mig): pool.sharing.mig
        for name, pool in pools.items()
        if pool.sharing.mig is not None
    }


NFD_CONTROL_PLANE_TOLERATION = {"key": "node-role.kubernetes.io/control-plane", "operator": "Equal",
                                "value": "", "effect": "NoSchedule"}


def gpu_operator_values(
    config: GpuOperatorConfig,
    pools: Mapping[str, GpuPool],
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


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


class GpuOperator(pulumi.ComponentResource):
    """Namespace, sharing ConfigMaps and the pinned GPU Operator release."""

    def __init__(
        self,
        name: str,
        config: GpuOperatorConfig,
        pools: Mapping[str, GpuPool],
        *,
        rdma: GpuDirectRdma | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(GPU_OPERATOR_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = config.namespace
        self.namespace = namespace(child_name(name, "ns"), ns, "privileged", child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        labels = {**MANAGED_BY_LABELS, "app.kubernetes.io/component": "gpu-sharing"}
        self.device_plugin_config = k8s.core.v1.ConfigMap(
            child_name(name, "device-plugin-config"),
            metadata={"name": DEVICE_PLUGIN_CONFIGMAP, "namespace": ns, "labels": labels},
            data=render_device_plugin_configs(time_slicing_profiles(pools)),
            opts=in_ns,
        )
        self.mig_config = k8s.core.v1.ConfigMap(
            child_name(name, "mig-config"),
            metadata={"name": MIG_PARTED_CONFIGMAP, "namespace": ns, "labels": labels},
            data=render_mig_parted_configmap_data(mig_layouts(pools)),
            opts=in_ns,
        )
        self.values = gpu_operator_values(config, pools, rdma)
        self.release = helm_release(
            child_name(name, "chart"),
            GPU_OPERATOR,
            release_name="gpu-operator",
            namespace=ns,
            values=self.values,
            opts=child,
            depends_on=[self.namespace, self.device_plugin_config, self.mig_config],
        )
        self.register_outputs({"namespace": ns, "chartVersion": GPU_OPERATOR.version})
