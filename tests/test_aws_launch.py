"""Launch-template user data and EFA interfaces as rendered (pure functions): memlock for
RDMA on EFA pools, instance-store RAID0, and p6-b300's ENA-only primary card."""

from __future__ import annotations

import base64

from gpu_platform.aws.launch import efa_network_interfaces, user_data
from gpu_platform.catalog.instances import INSTANCE_TYPES

MEMLOCK_SCRIPT = (
    "#!/bin/bash\n"
    "set -euo pipefail\n"
    "mkdir -p /etc/systemd/system/containerd.service.d\n"
    "cat > /etc/systemd/system/containerd.service.d/90-memlock.conf <<'EOF'\n"
    "[Service]\n"
    "LimitMEMLOCK=infinity\n"
    "EOF\n"
    "systemctl daemon-reload\n"
)
RAID0 = (
    "---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  instance:\n"
    "    localStorage:\n      strategy: RAID0\n"
)


def decoded(ami: str, instance: str, efa: bool) -> str | None:
    data = user_data(ami, INSTANCE_TYPES[instance], efa=efa)
    return None if data is None else base64.b64decode(data).decode()


def test_efa_pool_on_al2023_gets_raid0_and_containerd_memlock_infinity() -> None:
    assert decoded("AL2023_x86_64_NVIDIA", "p5.48xlarge", True) == (
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="GPUPLATFORM"\n\n'
        "--GPUPLATFORM\nContent-Type: application/node.eks.aws\n\n" + RAID0 + "\n"
        '--GPUPLATFORM\nContent-Type: text/x-shellscript; charset="us-ascii"\n\n'
        + MEMLOCK_SCRIPT + "\n--GPUPLATFORM--\n"
    )


def test_without_efa_only_the_local_storage_part_and_no_memlock() -> None:
    assert decoded("AL2023_x86_64_NVIDIA", "p5.48xlarge", False) == (
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="GPUPLATFORM"\n\n'
        "--GPUPLATFORM\nContent-Type: application/node.eks.aws\n\n" + RAID0 + "\n"
        "--GPUPLATFORM--\n"
    )


def test_bottlerocket_efa_pool_sets_the_oci_default_memlock_and_nothing_else_otherwise() -> None:
    assert decoded("BOTTLEROCKET_x86_64_NVIDIA", "g6e.48xlarge", True) == (
        "[settings.oci-defaults.resource-limits.max-locked-memory]\n"
        'soft-limit = "unlimited"\nhard-limit = "unlimited"\n'
    )
    assert decoded("BOTTLEROCKET_x86_64_NVIDIA", "g6e.48xlarge", False) is None


def test_p6_b300_keeps_card_zero_for_ena_and_puts_efa_on_the_other_sixteen() -> None:
    interfaces = efa_network_interfaces(INSTANCE_TYPES["p6-b300.48xlarge"], ["sg-c", "sg-e"], ["sg-e"])
    assert interfaces[0] == {"network_card_index": 0, "device_index": 0, "interface_type": "interface",
                             "delete_on_termination": "true", "security_groups": ["sg-c", "sg-e"]}
    assert interfaces[1:] == [
        {"network_card_index": card, "device_index": 1, "interface_type": "efa",
         "delete_on_termination": "true", "security_groups": ["sg-e"]}
        for card in range(1, 17)
    ]


def test_rdma_pools_export_the_memlock_node_requirement(plan_env) -> None:
    """On-prem the nodes are someone else's: the stack states the requirement per pool; on EKS
    the EFA pool's launch template sets it and the export says the same."""
    onprem = plan_env("onprem").outputs["gpuPools"]
    assert {name: pool.get("containerRuntime") for name, pool in onprem.items()} == {
        name: {"LimitMEMLOCK": "infinity"} for name in onprem}  # an RDMA network reaches every pool
    prod = plan_env("prod").outputs["gpuPools"]
    assert {name: pool.get("containerRuntime") for name, pool in prod.items()} == {
        "train": {"LimitMEMLOCK": "infinity"}, "infer": None, "notebooks": None}
    assert all("containerRuntime" not in pool for pool in plan_env("dev").outputs["gpuPools"].values())
