"""``NetworkConfig``: the environment's ``network`` key (re-exported by ``gpu_platform.network``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Literal

from pydantic import Field

from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue
from gpu_platform.core.names import DnsLabel
from gpu_platform.network.cidrs import cidr_format_issues, overlap_issues
from gpu_platform.network.networks import NetworkSpec
from gpu_platform.network.operator import NetworkOperatorConfig, RdmaResource, RdmaResourceName

# kubeadm's service CIDR default, and the pod CIDR most kubeadm CNIs (flannel, calico manifests)
# default to. EKS differs (pods share the VPC CIDR, services 10.100.0.0/16 or 172.20.0.0/16):
# set both to the cluster's real values.
# the environment's config key (gpu-platform:network); error messages name other paths with it
CONFIG_KEY = "network"
DEFAULT_POD_CIDR = "10.244.0.0/16"
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"


class ClusterCidrs(ConfigModel):
    """The cluster's own address ranges, which no secondary network may reuse."""

    pods: str = DEFAULT_POD_CIDR
    services: str = DEFAULT_SERVICE_CIDR

    def issues(self) -> Iterator[ConfigIssue]:
        yield from cidr_format_issues({"pods": self.pods, "services": self.services})


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
        ranges = {f"networks.{name}.range": spec.range for name, spec in self.networks.items()}
        reserved = {"clusterCidrs.pods": self.cluster_cidrs.pods,
                    "clusterCidrs.services": self.cluster_cidrs.services}
        yield from overlap_issues(ranges, reserved, message_prefix=f"{CONFIG_KEY}.")
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
