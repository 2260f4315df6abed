"""The AWS compute layer in two steps: ``build_aws`` (the EKS cluster and a node group per pool) and
``build_aws_addons`` (cluster-autoscaler, EFA device plugin) once the caller has the cluster's
Kubernetes provider. See ``gpu_platform.aws``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from gpu_platform.aws.addons import AwsAddons, AwsAddonsArgs
from gpu_platform.aws.config import AwsConfig, check_aws_pools
from gpu_platform.aws.eks_cluster import EksCluster, EksClusterArgs
from gpu_platform.aws.node_pool import GpuNodePool, GpuNodePoolArgs
from gpu_platform.config import ConfigError
from gpu_platform.config.errors import issue
from gpu_platform.core.names import child_name
from gpu_platform.core.pools import GpuPool


@dataclass
class AwsCompute:
    cluster: EksCluster
    pools: dict[str, GpuNodePool]
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_provider_url: pulumi.Output[str]
    region: str


def build_aws(
    name: str,
    config: AwsConfig,
    pools: Mapping[str, GpuPool],
    opts: pulumi.ResourceOptions,
    *,
    region: str | None = None,
) -> AwsCompute:
    """The EKS cluster and a node group per pool; region defaults to the stack's ``aws:region``.

    Every check (the config's, the pools', and both together) runs before anything registers."""
    region = region or pulumi.Config("aws").get("region")
    problems = check_aws_pools(pools, config)
    if not region:
        problems.append(issue("aws:region", "is required for the AWS compute layer"))
    if problems or not region:
        raise ConfigError(problems)
    cluster = EksCluster(child_name(name, "eks"), EksClusterArgs.of(config.cluster, region=region), opts)
    node_pools = {
        pool_name: GpuNodePool(
            child_name(name, f"pool-{pool_name}"),
            GpuNodePoolArgs(pool_name=pool_name, pool=pools[pool_name], node_pool=aws_pool,
                            cluster=cluster.node_pool_cluster),
            opts)
        for pool_name, aws_pool in config.node_pools.items()
    }
    return AwsCompute(cluster, node_pools, cluster.kubeconfig, cluster.oidc_provider_arn,
                      cluster.oidc_provider_url, region)


def build_aws_addons(
    name: str,
    config: AwsConfig,
    pools: Mapping[str, GpuPool],
    compute: AwsCompute,
    opts: pulumi.ResourceOptions,
) -> AwsAddons:
    """Cluster-autoscaler and EFA device plugin; ``opts`` carries the EKS Kubernetes provider.
    They wait for the system pool (their pods need a node)."""
    args = AwsAddonsArgs.of(
        config, pools, region=compute.region,
        oidc_provider_arn=compute.oidc_provider_arn, oidc_provider_url=compute.oidc_provider_url)
    return AwsAddons(
        child_name(name, "addons"), args,
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[compute.cluster.system_pool])))
