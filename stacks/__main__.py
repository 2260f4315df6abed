"""The gpu-platform stack program: one environment, composed from its stack config.

Every environment (dev, staging, prod, onprem) runs this same program; what differs is only
``stacks/Pulumi.<env>.yaml``. See README.md, "Environments".
"""

import pulumi

from components.environment import load_environment
from components.platform import GpuPlatform

env = load_environment()
platform = GpuPlatform("platform", env)

pulumi.export("environment", pulumi.get_stack())
pulumi.export("gpuPools", sorted(env.gpu_pools))
