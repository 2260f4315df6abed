"""The gpu-platform stack program: one environment, composed from its stack config.

Every environment (dev, staging, prod, onprem) runs this same program; what differs is only
``stacks/Pulumi.<env>.yaml``. See README.md, "Environments".
"""

import pulumi

from gpu_platform.core.pools import node_labels, pool_scheduling
from gpu_platform.environment import load_environment
from gpu_platform.platform import GpuPlatform

env = load_environment()
platform = GpuPlatform("platform", env)

pulumi.export("environment", pulumi.get_stack())
if platform.cluster_name is not None:  # EKS: what kubectl and other stacks need (kubeconfig secret)
    pulumi.export("clusterName", platform.cluster_name)
    pulumi.export("kubeconfig", platform.kubeconfig)
if platform.prometheus_url is not None:
    pulumi.export("prometheusUrl", platform.prometheus_url)
# What each pool's nodes must carry: set by the compute layer on AWS; on an existing cluster,
# label and taint the nodes with these, and on RDMA pools give containers an unlimited memlock
# (containerd's systemd unit: LimitMEMLOCK=infinity; README "RDMA and memlock").
rdma = env.rdma_pools()
pulumi.export(
    "gpuPools",
    {
        name: {
            "nodeLabels": node_labels(name, pool),
            "tolerations": pool_scheduling(name, pool).tolerations,
            **({"containerRuntime": {"LimitMEMLOCK": "infinity"}} if name in rdma else {}),
        }
        for name, pool in env.gpu_pools.items()
    },
)
