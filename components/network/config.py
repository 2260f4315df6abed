"""``NetworkConfig``: the environment's ``network`` key (re-exported by ``gpu_platform.network``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Literal

from pydantic import Field

from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue
from gpu_platform.core.names import DnsLabel
from gpu_platform.network.networks import (
    DEFAULT_POD_CIDR,
    DEFAULT_SERVICE_CIDR,
    ClusterCidrs,
    NetworkSpec,
    network_range_issues,
)
from gpu_platform.network.operator import NetworkOperatorConfig, RdmaResource, RdmaResourceName

# the environment's config key (gpu-platform:network); error messages name other paths with it
CONFIG_KEY = "network"


class NcclSettings(ConfigModel):
    """NCCL environment defaults for pods attached to an RDMA network or EFA."""

    # GPUDirect RDMA only where GPU and NIC share a PCIe root complex (PHB); across the CPU
    # interconnect (SYS, the seed's legacy "5") it is often slower than staging via host memory.
    net_gdr_level: Literal["LOC", "PIX", "PXB", "PHB", "SYS"] = "PHB"
    # NCCL's bootstrap and TCP fallback use the pod's primary interface, not the RDMA one
    socket_ifname: str = Field(default="eth0", min_length=1)
    debug: Literal["VERSION", "WARN", "INFO", "TRACE"] = "WARN"
    # RoCE v2 needs the GID index of the RoCEv2/IPv4 entry (commonly 3); unset on InfiniBand
    ib_gid_index: int | None = Field(default=None, ge=0, le=255)


class NetworkConfig(ConfigModel):
    """RDMA networking: the Network Operator, RDMA device resources and secondary networks."""

    enabled: bool = False
    operator: NetworkOperatorConfig = Field(default_factory=NetworkOperatorConfig)
    rdma_resources: dict[RdmaResourceName, RdmaResource] = Field(default_factory=dict)
    networks: dict[DnsLabel, NetworkSpec] = Field(default_factory=dict)
    cluster_cidrs: ClusterCidrs = Field(default_factory=ClusterCidrs)
    nccl: NcclSettings = Field(default_factory=NcclSettings)

    def issues(self) -> Iterator[ConfigIssue]:
        yield from rdma_reference_issues(self.networks, self.rdma_resources)
        yield from network_range_issues(self.networks, self.cluster_cidrs, message_prefix=f"{CONFIG_KEY}.")
        if self.enabled and not self.operator.enabled and self.rdma_resources:
            yield issue("operator.enabled", "must be true while rdmaResources are declared", False)


def rdma_reference_issues(
    networks: Mapping[str, NetworkSpec], resources: Mapping[str, RdmaResource]
) -> list[ConfigIssue]:
    """Networks whose ``rdmaResource`` names no entry of ``rdmaResources`` (paths relative)."""
    known = ", ".join(sorted(resources)) or "none"
    return [
        issue(f"networks.{name}.rdmaResource", f"unknown RDMA resource; rdmaResources: {known}",
              spec.rdma_resource)
        for name, spec in networks.items()
        if spec.rdma_resource is not None and spec.rdma_resource not in resources
    ]


__all__ = [
    "CONFIG_KEY",
    "DEFAULT_POD_CIDR",
    "DEFAULT_SERVICE_CIDR",
    "ClusterCidrs",
    "NcclSettings",
    "NetworkConfig",
    "rdma_reference_issues",
]
