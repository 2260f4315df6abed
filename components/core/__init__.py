"""Vocabulary shared by every component: names, GPU pools and how workloads land on them."""

from gpu_platform.core.cluster import ClusterConfig, kubernetes_provider
from gpu_platform.core.component import child_options, depends_on_of
from gpu_platform.core.names import DnsLabel, child_name
from gpu_platform.core.pools import (
    GpuPool,
    GpuSpec,
    PoolPlacement,
    Scheduling,
    Taint,
    node_labels,
    pool_scheduling,
)

__all__ = [
    "ClusterConfig",
    "DnsLabel",
    "GpuPool",
    "GpuSpec",
    "PoolPlacement",
    "Scheduling",
    "Taint",
    "child_name",
    "child_options",
    "depends_on_of",
    "kubernetes_provider",
    "node_labels",
    "pool_scheduling",
]
