"""GPU cost signal: recording rules of GPUs held and GPU hours per namespace (team), priced per pool,
and alerts on a cost spike (seed 003) and on paid GPUs nobody holds.

Source of truth is kube-state-metrics: a running pod's container requests of ``nvidia.com/gpu``,
``nvidia.com/gpu.shared`` or ``nvidia.com/mig-*`` (sanitised ``nvidia_com_gpu``,
``nvidia_com_gpu_shared``, ``nvidia_com_mig_<profile>``) on its ``node``, and each node's capacity
of the same resources. A node's pool comes from its
``gpu-platform.io/pool`` label, which kube-state-metrics exports as ``label_gpu_platform_io_pool``
on ``kube_node_labels`` only when allow-listed (``monitoring.KSM_NODE_LABELS_ALLOWLIST`` does).

Price: the catalog's on-demand price of the pool's instance type divided by its GPU count
(``gpu_platform.catalog.instances``), recorded as a constant series per pool. One requested unit
is ``GPUs per node / units the node offers`` GPUs, so MIG slices and time-sliced replicas cost
their share of a GPU. Namespaces are teams (``training.teams`` creates one per team).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gpu_platform.catalog.instances import INSTANCE_TYPES
from gpu_platform.core.names import POOL_LABEL
from gpu_platform.gpu.alert_rules import KSM_GPU_RESOURCES, label, num, rule

if TYPE_CHECKING:
    from gpu_platform.gpu.alerts import GpuAlertsConfig

COST_GROUP = "gpu-platform-cost"
COST_INTERVAL_SECONDS = 60  # the group's evaluation interval; GPU hours count its samples
POOL_NODE_LABEL = "label_" + "".join(c if c.isalnum() else "_" for c in POOL_LABEL)

PRICE = "gpu_platform:pool_gpu_price_usd_per_hour"
POOL_GPUS = "gpu_platform:pool_node_gpus"
NODE_UNITS = "gpu_platform:node_gpu_units"
GPUS_PER_UNIT = "gpu_platform:node_gpus_per_unit"
ALLOCATED = "gpu_platform:namespace_pool_gpus:allocated"
COST = "gpu_platform:namespace_gpu_cost_usd_per_hour"
GPU_HOURS = "gpu_platform:namespace_gpu_hours:1d"
IDLE = "gpu_platform:pool_idle_gpus"


@dataclass(frozen=True)
class PoolPrice:
    """What one node of a pool costs per GPU, from the instance catalog."""

    instance_type: str
    gpu_usd_per_hour: float
    gpus_per_node: int


def pool_prices(instance_types: Mapping[str, str]) -> dict[str, PoolPrice]:
    """Priced pools, from pool name -> EC2 instance type; unknown or unpriced types are left out."""
    prices: dict[str, PoolPrice] = {}
    for pool, name in sorted(instance_types.items()):
        instance = INSTANCE_TYPES.get(name)
        if instance is None or instance.price_usd_hour is None or not instance.gpu_count:
            continue
        prices[pool] = PoolPrice(name, round(instance.price_usd_hour / instance.gpu_count, 4),
                                 instance.gpu_count)
    return prices


def _running_gpu_requests() -> str:
    return (
        f"sum by (namespace, node) (kube_pod_container_resource_requests{{{KSM_GPU_RESOURCES}}}"
        " * on (namespace, pod) group_left ()"
        ' (max by (namespace, pod) (kube_pod_status_phase{phase="Running"}) == 1))'
    )


def cost_recording_rules(prices: Mapping[str, PoolPrice]) -> list[dict[str, Any]]:
    """Per-pool constants, then per-node unit sizes, then per-namespace GPUs, cost and GPU hours."""
    constants: list[dict[str, Any]] = []
    for pool, price in sorted(prices.items()):
        constants.append({"record": PRICE, "expr": f"vector({num(price.gpu_usd_per_hour)})",
                          "labels": {"pool": pool}})
        constants.append({"record": POOL_GPUS, "expr": f"vector({price.gpus_per_node})",
                          "labels": {"pool": pool}})
    node_pool = (
        f'max by (node, pool) (label_replace(kube_node_labels{{{POOL_NODE_LABEL}!=""}},'
        f' "pool", "$1", "{POOL_NODE_LABEL}", "(.+)"))'
    )
    samples_per_hour = 3600 // COST_INTERVAL_SECONDS
    return [
        *constants,
        {"record": NODE_UNITS,
         "expr": f"sum by (node) (kube_node_status_capacity{{{KSM_GPU_RESOURCES}}}) > 0"},
        {"record": GPUS_PER_UNIT,
         "expr": f"{node_pool} * on (pool) group_left {POOL_GPUS} / on (node) group_left {NODE_UNITS}"},
        {"record": ALLOCATED,
         "expr": f"sum by (namespace, pool) ({_running_gpu_requests()}"
                 f" * on (node) group_left (pool) {GPUS_PER_UNIT})"},
        {"record": COST,
         "expr": f"sum by (namespace) ({ALLOCATED} * on (pool) group_left {PRICE})"},
        {"record": GPU_HOURS,
         "expr": f"sum by (namespace) (sum_over_time({ALLOCATED}[1d])) / {samples_per_hour}"},
        {"record": IDLE,
         "expr": f"sum by (pool) (({NODE_UNITS} - on (node) (sum by (node) ({_running_gpu_requests()})"
                 f" or {NODE_UNITS} * 0)) * on (node) group_left (pool) {GPUS_PER_UNIT})"},
    ]


def cost_alert_rules(config: GpuAlertsConfig) -> list[dict[str, Any]]:
    spike, idle = config.gpu_cost_spike, config.gpu_idle_paid
    ns = label("namespace")
    candidates = [
        (spike, rule(
            "GpuCostSpike", spike,
            f"{COST} > {num(spike.threshold)} * avg_over_time({COST}[{spike.baseline}])"
            f" and {COST} > {num(spike.min_usd_per_hour)}",
            f"GPU spend of namespace {ns} spiked",
            f"Namespace {ns} holds GPUs worth {{{{ $value | printf \"%.0f\" }}}} USD/h, more than "
            f"{num(spike.threshold)}x its {spike.baseline} average (and above "
            f"{num(spike.min_usd_per_hour)} USD/h).",
            f"GPU workloads of namespace (team) {ns}",
            f"kubectl -n {ns} get pods -o wide --field-selector=status.phase=Running",
        )),
        (idle, rule(
            "GpuIdlePaid", idle,
            f"sum by (pool) ({IDLE} * on (pool) group_left {PRICE}) > {num(idle.threshold)}",
            f"Paid GPUs of pool {label('pool')} sit idle",
            f"Pool {label('pool')} pays {{{{ $value | printf \"%.0f\" }}}} USD/h for GPUs no "
            f"running pod requests (above {num(idle.threshold)} USD/h): lower the pool's minSize "
            "or check why the cluster autoscaler keeps its nodes.",
            f"node pool {label('pool')} (cluster autoscaler)",
            f"kubectl get nodes -l {POOL_LABEL}={label('pool')} -o wide",
        )),
    ]
    return [r for settings, r in candidates if settings.enabled]


def cost_rule_group(config: GpuAlertsConfig, prices: Mapping[str, PoolPrice]) -> dict[str, Any] | None:
    """The cost group, or None where no pool is priced (on-premises) or both alerts are off."""
    alerts = cost_alert_rules(config)
    if not prices or not alerts:
        return None
    return {"name": COST_GROUP, "interval": f"{COST_INTERVAL_SECONDS}s",
            "rules": [*cost_recording_rules(prices), *alerts]}


__all__ = ["PoolPrice", "cost_alert_rules", "cost_recording_rules", "cost_rule_group", "pool_prices"]
