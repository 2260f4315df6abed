"""RDMA networks for distributed training: Network Operator, Multus networks, NCCL settings.

``NetworkConfig`` is the environment's ``network`` key; ``build_network`` composes the
operator and the networks. Workloads attach with ``workload.rdma_networking`` (or
``workload.efa_networking`` on AWS), and the GPU Operator learns about GPUDirect RDMA from
``workload.gpudirect_rdma``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from gpu_platform.config import ConfigError, ConfigIssue
from gpu_platform.config.errors import collect_issues
from gpu_platform.core.names import child_name
from gpu_platform.core.pools import GpuPool
from gpu_platform.network.config import (
    CONFIG_KEY,
    ClusterCidrs,
    NcclSettings,
    NetworkConfig,
    rdma_reference_issues,
)
from gpu_platform.network.networks import NetworkAttachments, NetworkAttachmentsArgs, NetworkSpec
from gpu_platform.network.operator import (
    NetworkOperator,
    NetworkOperatorArgs,
    NetworkOperatorConfig,
    RdmaResource,
)


@dataclass
class NetworkPlatform:
    """The network parts an environment switched on (None when off)."""

    operator: NetworkOperator | None = None
    networks: NetworkAttachments | None = None


def network_issues(config: NetworkConfig, prefix: str = CONFIG_KEY) -> list[ConfigIssue]:
    """Every semantic problem in ``config`` with full paths (``network.networks.x.range``)."""
    return [i.prefixed(prefix) for i in collect_issues(config)]


def build_network(
    name: str,
    config: NetworkConfig,
    pools: Mapping[str, GpuPool],
    opts: pulumi.ResourceOptions,
    *,
    networks_depend_on: Sequence[pulumi.Resource] = (),
) -> NetworkPlatform:
    """The network layer for ``config``; raises ConfigError before registering anything.

    ``networks_depend_on``: resources the NetworkAttachmentDefinitions wait for besides the
    operator, e.g. the namespaces they live in when another area creates them.
    """
    if not config.enabled:
        return NetworkPlatform()
    problems = network_issues(config)
    if problems:
        raise ConfigError(problems)
    platform = NetworkPlatform()
    after: list[pulumi.Resource] = list(networks_depend_on)
    if config.operator.enabled:
        ipoib = any(spec.type == "ipoib" for spec in config.networks.values())
        operator_args = NetworkOperatorArgs.of(config.operator, config.rdma_resources, pools, ipoib=ipoib)
        platform.operator = NetworkOperator(child_name(name, "network-operator"), operator_args, opts)
        after.append(platform.operator.policy)
        if platform.operator.whereabouts is not None:
            after.append(platform.operator.whereabouts)
    if config.networks:
        platform.networks = NetworkAttachments(
            child_name(name, "networks"),
            NetworkAttachmentsArgs(networks=config.networks, cluster_cidrs=config.cluster_cidrs),
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=after)),
        )
    return platform


__all__ = [
    "ClusterCidrs",
    "NcclSettings",
    "NetworkAttachments",
    "NetworkAttachmentsArgs",
    "NetworkConfig",
    "NetworkOperator",
    "NetworkOperatorArgs",
    "NetworkOperatorConfig",
    "NetworkPlatform",
    "NetworkSpec",
    "RdmaResource",
    "build_network",
    "network_issues",
    "rdma_reference_issues",
]
