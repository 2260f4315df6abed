"""GPU compute on AWS: an EKS cluster, one managed node group per GPU pool, EFA and IRSA.

Two steps, because the Kubernetes provider is built by the caller from the cluster's kubeconfig:

1. ``build_aws(name, config, pools, opts, region=...)`` -> ``AwsCompute`` (cluster, pools,
   ``kubeconfig`` secret Output, ``oidc_provider_arn``/``oidc_provider_url`` for workload roles);
2. ``build_aws_addons(name, config, pools, compute, opts)`` with ``opts`` carrying that provider.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gpu_platform.aws.config import (
    AwsConfig,
    AwsNodePool,
    EfaConfig,
    EksClusterConfig,
    SystemPoolConfig,
    VpcConfig,
    check_aws_pools,
    driver_preinstalled,
)

if TYPE_CHECKING:
    from gpu_platform.aws.addons import AwsAddons, AwsAddonsArgs
    from gpu_platform.aws.compute import AwsCompute, build_aws, build_aws_addons
    from gpu_platform.aws.eks_cluster import EksCluster, EksClusterArgs
    from gpu_platform.aws.node_pool import GpuNodePool, GpuNodePoolArgs, NodePoolCluster

# The components import pulumi_aws (~30 ms, and more per service module): loaded on first use
# (PEP 562), so an environment without AWS, or a program that only validates config, never pays
# for them. The config models above are plain pydantic and always loaded.
_LAZY = {
    "AwsAddons": "addons",
    "AwsAddonsArgs": "addons",
    "AwsCompute": "compute",
    "build_aws": "compute",
    "build_aws_addons": "compute",
    "EksCluster": "eks_cluster",
    "EksClusterArgs": "eks_cluster",
    "GpuNodePool": "node_pool",
    "GpuNodePoolArgs": "node_pool",
    "NodePoolCluster": "node_pool",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:  # the lazy names too (REPL and editor completion)
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AwsAddons",
    "AwsAddonsArgs",
    "AwsCompute",
    "AwsConfig",
    "AwsNodePool",
    "EfaConfig",
    "EksCluster",
    "EksClusterArgs",
    "EksClusterConfig",
    "GpuNodePool",
    "GpuNodePoolArgs",
    "NodePoolCluster",
    "SystemPoolConfig",
    "VpcConfig",
    "build_aws",
    "build_aws_addons",
    "check_aws_pools",
    "driver_preinstalled",
]
