"""AWS EC2 GPU instance types the platform can put in a node pool, as data.

Read 2026-11-25. Sources:

- GPU model and count, vCPUs, memory, instance store (count x size GB), EFA support, network
  cards and maximum EFA interfaces: "Amazon EC2 accelerated computing instance specifications"
  https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html and "Maximize network bandwidth on
  instances with multiple network cards" (P5/P5e: 32 network cards, one EFA per card)
  https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa-acc-inst-types.html
- EFA support cross-checked against the instance-type list in the AWS EFA device plugin chart's
  values.yaml (aws/eks-charts stable/aws-efa-k8s-device-plugin v0.5.30, ``supportedInstanceLabels``):
  every type marked ``efa`` below is in that list and no type marked without EFA is.
- On-demand Linux price per hour in us-east-1: see each entry's ``price_source``. Prices change
  (AWS cut P4/P5 prices in 2025); they are for sizing conversations, never for billing.

``max_efa_interfaces`` is EC2's ``NetworkInfo.EfaInfo.MaximumEfaInterfaces``; on the multi-card
types it equals the number of network cards, and the node pool attaches one EFA per card.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from gpu_platform.catalog.gpus import GPU_MODELS

AWS_PRICE_LIST = "https://aws.amazon.com/ec2/pricing/on-demand/ (Linux, us-east-1)"
PRICES_2026_11 = (
    "https://github.com/datareceipts/data-receipts/blob/main/109-gpu-pricing/hyperscalers.json "
    "(AWS list prices, retrieved 2026-11-09)"
)


@dataclass(frozen=True)
class InstanceType:
    """One EC2 GPU instance type: what a node of it brings to a pool."""

    name: str
    gpu_model: str  # key of gpu_platform.catalog.gpus.GPU_MODELS
    gpu_count: int
    vcpus: int
    memory_gib: int
    nvme_count: int  # local NVMe instance-store disks (0: none)
    nvme_size_gb: int  # size of each disk
    efa: bool
    network_cards: int
    max_efa_interfaces: int
    price_usd_hour: float | None
    price_date: str
    price_source: str

    @property
    def has_local_nvme(self) -> bool:
        return self.nvme_count > 0


def _t(name, gpu, count, vcpus, mem, nvme, efa, cards, max_efa, price, date, source):
    nvme_count, nvme_size = nvme
    return InstanceType(name, gpu, count, vcpus, mem, nvme_count, nvme_size, efa, cards, max_efa,
                        price, date, source)


_UNCHECKED = AWS_PRICE_LIST + "; last list price seen, not re-read on 2026-11-25"

INSTANCE_TYPES: dict[str, InstanceType] = {
    t.name: t
    for t in (
        # name            GPU         n  vCPU  GiB   NVMe          EFA  cards efa  $/h
        _t("g4dn.xlarge", "T4", 1, 4, 16, (1, 125), False, 1, 0, 0.526, "2024-01", _UNCHECKED),
        _t("g5.xlarge", "A10G", 1, 4, 16, (1, 250), False, 1, 0, 1.006, "2026-06-17",
           "https://www.factualminds.com/blog/amazon-ec2-on-demand-pricing-instance-families-2026/"),
        _t("g5.12xlarge", "A10G", 4, 48, 192, (1, 3800), True, 1, 1, 5.672, "2024-01", _UNCHECKED),
        _t("g5.48xlarge", "A10G", 8, 192, 768, (2, 3800), True, 1, 1, 16.288, "2024-01", _UNCHECKED),
        _t("g6.xlarge", "L4", 1, 4, 16, (1, 250), False, 1, 0, 0.8048, "2024-04", _UNCHECKED),
        _t("g6.12xlarge", "L4", 4, 48, 192, (4, 940), True, 1, 1, 4.6016, "2024-04", _UNCHECKED),
        _t("g6e.xlarge", "L40S", 1, 4, 32, (1, 250), False, 1, 0, 1.861, "2024-08", _UNCHECKED),
        _t("g6e.12xlarge", "L40S", 4, 48, 384, (2, 1900), True, 1, 1, 10.493, "2024-08", _UNCHECKED),
        _t("p4d.24xlarge", "A100-40GB", 8, 96, 1152, (8, 1000), True, 4, 4, 21.957642, "2026-11-09",
           PRICES_2026_11),
        _t("p4de.24xlarge", "A100-80GB", 8, 96, 1152, (8, 1000), True, 4, 4, 27.44705, "2026-11-09",
           PRICES_2026_11),
        _t("p5.48xlarge", "H100-80GB", 8, 192, 2048, (8, 3840), True, 32, 32, 55.04, "2026-11-09",
           PRICES_2026_11),
        # p5e is sold through capacity blocks and reservations; no on-demand list price
        _t("p5e.48xlarge", "H200-141GB", 8, 192, 2048, (8, 3840), True, 32, 32, None, "2026-11-25",
           "capacity blocks only: https://aws.amazon.com/ec2/capacityblocks/pricing/"),
        _t("p5en.48xlarge", "H200-141GB", 8, 192, 2048, (8, 3840), True, 16, 16, 63.296, "2026-08-06",
           "https://github.com/dstackai/dstack/pull/4110 (us-east-1 on-demand offer)"),
    )
}

# The catalog must only name GPU models the pools know.
assert all(t.gpu_model in GPU_MODELS for t in INSTANCE_TYPES.values())


def close_instance_types(name: str, n: int = 3) -> list[str]:
    """Catalog names close to ``name`` (for 'did you mean' errors)."""
    return difflib.get_close_matches(name, list(INSTANCE_TYPES), n=n, cutoff=0.5)


def instance_types_with(gpu_model: str, gpu_count: int) -> list[str]:
    """Catalog instance types whose nodes carry exactly ``gpu_count`` x ``gpu_model``."""
    return [
        t.name
        for t in INSTANCE_TYPES.values()
        if t.gpu_model == gpu_model and t.gpu_count == gpu_count
    ]
