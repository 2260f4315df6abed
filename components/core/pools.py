"""GPU node pools: the shared description of where GPU workloads run.

A pool is a named group of identical GPU nodes. On AWS the compute layer creates it; on an
existing cluster it describes nodes someone else created (identified by the pool's node label).
Every workload component derives its node selector and tolerations from the pool it names, so
nobody retypes labels or taints.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from gpu_platform.catalog.gpus import GPU_MODELS
from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue
from gpu_platform.core.names import POOL_LABEL, ROLE_LABEL, NonNegativeInt, PositiveInt
from gpu_platform.core.sharing import GpuSharing, sharing_node_labels

PoolRole = Literal["training", "inference", "interactive"]
# Who installs the NVIDIA driver and container toolkit on the pool's nodes: the node image
# (EKS AL2023/Bottlerocket NVIDIA AMIs, many on-prem images) or the GPU Operator. Installing
# it twice breaks the node, so every pool states it.
DriverOwner = Literal["preinstalled", "operator"]
TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]

GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "true"
GPU_TAINT_EFFECT: TaintEffect = "NoSchedule"
# GPU Operator node labels that switch off its driver and toolkit daemonsets on one node
# (https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/getting-started.html).
PREINSTALLED_DRIVER_NODE_LABELS = {
    "nvidia.com/gpu.deploy.driver": "false",
    "nvidia.com/gpu.deploy.container-toolkit": "false",
}


class Taint(ConfigModel):
    key: str = GPU_TAINT_KEY
    value: str = GPU_TAINT_VALUE
    effect: TaintEffect = GPU_TAINT_EFFECT


class GpuSpec(ConfigModel):
    """The GPUs in each node of a pool: a model key from the GPU catalog and the count per node."""

    model: str = Field(min_length=1)
    count: PositiveInt


class PoolPlacement(ConfigModel):
    """What node agents (the GPU Operator's daemonsets, device plugins) need to know of a pool:
    the taints to tolerate, who installs the driver, and how its GPUs are shared.

    ``GpuPool`` is a ``PoolPlacement`` (it adds the GPUs and sizes), so a whole pool can be
    passed wherever a placement is expected; a placement alone describes nodes someone else
    created.
    """

    taints: list[Taint] = Field(default_factory=lambda: [Taint()])
    # whole GPUs unless the pool asks for time-slicing or MIG (see gpu_platform.core.sharing)
    sharing: GpuSharing = Field(default_factory=GpuSharing)
    driver: DriverOwner = "operator"


class GpuPool(PoolPlacement):
    role: PoolRole
    gpu: GpuSpec
    min_size: NonNegativeInt = 0
    max_size: PositiveInt = 1
    labels: dict[str, str] = Field(default_factory=dict)

    def issues(self) -> Iterator[ConfigIssue]:
        if self.min_size > self.max_size:
            yield issue("minSize", f"must be <= maxSize ({self.max_size})", self.min_size)
        if self.gpu.model not in GPU_MODELS:
            known = ", ".join(GPU_MODELS)
            yield issue("gpu.model", f"unknown GPU model; known models: {known}", self.gpu.model)
            return
        for found in self.sharing.check_against(self.gpu.model, self.gpu.count):
            yield found.prefixed("sharing")


@dataclass(frozen=True)
class Scheduling:
    """Where a pod goes: the node selector and tolerations that target one pool."""

    node_selector: dict[str, str]
    tolerations: list[dict[str, Any]]


def node_labels(name: str, pool: GpuPool) -> dict[str, str]:
    """Labels every node of the pool carries (set by the compute layer, or by the cluster's owner).

    Besides the pool and role, the labels that select the pool's GPU sharing config and, where
    the image ships the driver, the GPU Operator's per-node switches that skip its driver and
    toolkit daemonsets there.
    """
    labels = {POOL_LABEL: name, ROLE_LABEL: pool.role, **pool.labels}
    labels.update(sharing_node_labels(name, pool.sharing))
    if pool.driver == "preinstalled":
        labels.update(PREINSTALLED_DRIVER_NODE_LABELS)
    return labels


def pool_scheduling(name: str, pool: PoolPlacement) -> Scheduling:
    """Node selector and tolerations for a pod that must run on ``pool``."""
    tolerations = [
        {"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect}
        for t in pool.taints
    ]
    return Scheduling(node_selector={POOL_LABEL: name}, tolerations=tolerations)


def all_pool_tolerations(pools: Mapping[str, PoolPlacement]) -> list[dict[str, Any]]:
    """Tolerations for node agents that must run on every GPU pool (deduplicated, ordered)."""
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for name, pool in pools.items():
        for toleration in pool_scheduling(name, pool).tolerations:
            seen.setdefault(
                (toleration["key"], toleration["value"], toleration["effect"]), toleration
            )
    return list(seen.values())
