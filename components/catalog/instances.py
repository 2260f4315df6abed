"""AWS EC2 NVIDIA GPU instance types the platform can put in a node pool, as data.

Every current NVIDIA GPU family and size on EC2 (read 2026-11-25/26): g4dn, g5, g6, g6e, gr6,
g7, g7e, p4d, p4de, p5 (4xlarge and 48xlarge), p5e, p5en, p6-b200, p6-b300. Sources:

- GPU model and count, vCPUs, memory, instance store (count x size GB), EFA support, network
  cards and maximum EFA interfaces: "Amazon EC2 accelerated computing instance specifications"
  https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html and "Maximize network bandwidth on
  instances with multiple network cards" (P5/P5e: 32 network cards, one EFA per card; G6e up to
  4 cards) https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa-acc-inst-types.html
- Sizes the entries before 2026-11-26 did not have (and every price dated 2025-11-30): the
  instances.vantage.sh export (built from the AWS pricing API) snapshotted in
  github.com/tsaol/aws-gpu ``data/all_gpu_instances.js`` ("Last updated: 2025-11-30", commit
  77fcd9fe1d06). Its storage strings read "T GB (k x m GB)" for k disks of T GB each, which is
  how ac.html lists g5.48xlarge (2 x 3800), g6.12xlarge (4 x 940) and g6e.12xlarge (2 x 1900).
- G7 (RTX PRO 4500 Blackwell Server Edition, 32 GB): AWS's G7 general-availability
  announcement of 2026-06-18 (aws.amazon.com/about-aws/whats-new/2026/06/amazon-ec2-g7-generally-available/)
  as summarised with its sizes table by github.com/takech9203/aws-news-summary; regions
  us-east-2 and us-west-2 only, so no us-east-1 price.
- Network cards per type: amazon-vpc-cni-k8s ``pkg/vpc/vpc_ip_resource_limit.go`` (generated
  from EC2 DescribeInstanceTypes; commit b52188387f2e, 2026-08-20): 1 card on every size
  except g6e.24xlarge/g7.48xlarge/g7e.24xlarge 2, g6e.48xlarge/g7e.48xlarge/p4d/p4de 4,
  p5en 16, p5/p5e 32, p6-b200 8, p6-b300 17. p6-b300's card 0 carries the primary ENA
  interface only and EFA runs on the other 16 (``primary_card_efa=False``).
- EFA support cross-checked against the instance-type list in the AWS EFA device plugin chart's
  values.yaml (aws/eks-charts stable/aws-efa-k8s-device-plugin, ``supportedInstanceLabels``):
  tests/test_catalog_instances.py asserts that a type is marked ``efa`` exactly when it is in
  that list.
- On-demand Linux price per hour in us-east-1: see each entry's ``price_source``. Prices change
  (AWS cut P4/P5 prices in 2025); they are for sizing conversations, never for billing. None
  with the reason in ``price_source`` where no us-east-1 on-demand list price was found.

Left out on purpose: g6f/gr6f (fractions of an L40S GPU through vGPU; the pools count whole
GPUs) and the p6e-gb200/p6e-gb300 UltraServer nodes (Grace arm64, sold only as UltraServer
capacity blocks, need arm64 NVIDIA AMIs the node pools do not offer, and no network-card data in
the sources above). The GB200 GPU model is in the GPU catalog for on-prem pools.

``max_efa_interfaces`` is EC2's ``NetworkInfo.EfaInfo.MaximumEfaInterfaces``; on the multi-card
types it equals the number of network cards that carry EFA, and the node pool attaches one EFA
per such card.
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
    # False: network card 0 carries only the primary ENA interface (p6-b300); EFA starts at card 1
    primary_card_efa: bool = True

    @property
    def gpu_memory_gib(self) -> int:
        """GPU memory of one node: the GPU count times the model's nominal memory."""
        return self.gpu_count * GPU_MODELS[self.gpu_model].memory_gib

    @property
    def has_local_nvme(self) -> bool:
        return self.nvme_count > 0


    @property
    def efa_cards(self) -> tuple[int, ...]:
        """The network card indexes that get one EFA interface each."""
        first = 0 if self.primary_card_efa else 1
        return tuple(range(first, first + self.max_efa_interfaces))


def _t(name: str, gpu: str, count: int, vcpus: int, mem: int, nvme: tuple[int, int], efa: bool,
       cards: int, max_efa: int, price: float | None, date: str, source: str,
       primary_card_efa: bool = True) -> InstanceType:
    nvme_count, nvme_size = nvme
    return InstanceType(name, gpu, count, vcpus, mem, nvme_count, nvme_size, efa, cards, max_efa,
                        price, date, source, primary_card_efa)


def _v(name: str, gpu: str, count: int, vcpus: int, mem: int, nvme: tuple[int, int], efa: bool,
       price: float | None, cards: int = 1) -> InstanceType:
    """An entry whose price is the 2025-11-30 export's us-east-1 on-demand rate; EFA types get
    one EFA per network card."""
    return _t(name, gpu, count, vcpus, mem, nvme, efa, cards, cards if efa else 0, price,
              "2025-11-30", VANTAGE_2025_11)


VANTAGE_2025_11 = (
    "https://instances.vantage.sh us-east-1 Linux on-demand, as exported to "
    "github.com/tsaol/aws-gpu data/all_gpu_instances.js (last updated 2025-11-30)"
)
G7_NO_PRICE = (
    "G7 is offered in us-east-2 and us-west-2 only (AWS G7 GA announcement, 2026-06-18); "
    "no us-east-1 on-demand price"
)
P6_B300_NO_PRICE = (
    "no us-east-1 on-demand list price in the 2025-11-30 export; p6-b300 is sold through "
    "capacity blocks: https://aws.amazon.com/ec2/capacityblocks/pricing/"
)

INSTANCE_TYPES: dict[str, InstanceType] = {
    t.name: t
    for t in (
        # name               GPU      n  vCPU  GiB   NVMe (k x GB)  EFA    $/h
        _v("g4dn.xlarge", "T4", 1, 4, 16, (1, 125), False, 0.526),
        _v("g4dn.2xlarge", "T4", 1, 8, 32, (1, 225), False, 0.752),
        _v("g4dn.4xlarge", "T4", 1, 16, 64, (1, 225), False, 1.204),
        _v("g4dn.8xlarge", "T4", 1, 32, 128, (1, 900), True, 2.176),
        _v("g4dn.12xlarge", "T4", 4, 48, 192, (1, 900), True, 3.912),
        _v("g4dn.16xlarge", "T4", 1, 64, 256, (1, 900), True, 4.352),
        _v("g4dn.metal", "T4", 8, 96, 384, (2, 900), True, 7.824),
        _t("g5.xlarge", "A10G", 1, 4, 16, (1, 250), False, 1, 0, 1.006, "2026-06-17",
           "https://www.factualminds.com/blog/amazon-ec2-on-demand-pricing-instance-families-2026/"),
        _v("g5.2xlarge", "A10G", 1, 8, 32, (1, 450), False, 1.212),
        _v("g5.4xlarge", "A10G", 1, 16, 64, (1, 600), False, 1.624),
        _v("g5.8xlarge", "A10G", 1, 32, 128, (1, 900), True, 2.448),
        _v("g5.12xlarge", "A10G", 4, 48, 192, (1, 3800), True, 5.672),
        _v("g5.16xlarge", "A10G", 1, 64, 256, (1, 1900), True, 4.096),
        _v("g5.24xlarge", "A10G", 4, 96, 384, (1, 3800), True, 8.144),
        _v("g5.48xlarge", "A10G", 8, 192, 768, (2, 3800), True, 16.288),
        _v("g6.xlarge", "L4", 1, 4, 16, (1, 250), False, 0.8048),
        _v("g6.2xlarge", "L4", 1, 8, 32, (1, 450), False, 0.9776),
        _v("g6.4xlarge", "L4", 1, 16, 64, (1, 600), False, 1.3232),
        _v("g6.8xlarge", "L4", 1, 32, 128, (2, 450), True, 2.0144),
        _v("g6.12xlarge", "L4", 4, 48, 192, (4, 940), True, 4.6016),
        _v("g6.16xlarge", "L4", 1, 64, 256, (2, 940), True, 3.3968),
        _v("g6.24xlarge", "L4", 4, 96, 384, (4, 940), True, 6.6752),
        _v("g6.48xlarge", "L4", 8, 192, 768, (8, 940), True, 13.3504),
        _v("gr6.4xlarge", "L4", 1, 16, 128, (1, 600), False, 1.5392),
        _v("gr6.8xlarge", "L4", 1, 32, 256, (2, 450), True, 2.4464),
        _v("g6e.xlarge", "L40S", 1, 4, 32, (1, 250), False, 1.861),
        _v("g6e.2xlarge", "L40S", 1, 8, 64, (1, 450), False, 2.24208),
        _v("g6e.4xlarge", "L40S", 1, 16, 128, (1, 600), False, 3.00424),
        _v("g6e.8xlarge", "L40S", 1, 32, 256, (2, 450), True, 4.52856),
        _v("g6e.12xlarge", "L40S", 4, 48, 384, (2, 1900), True, 10.49264),
        _v("g6e.16xlarge", "L40S", 1, 64, 512, (2, 950), True, 7.57719),
        _v("g6e.24xlarge", "L40S", 4, 96, 768, (2, 1900), True, 15.06559, cards=2),
        _v("g6e.48xlarge", "L40S", 8, 192, 1536, (4, 1900), True, 30.13118, cards=4),
        _v("g7e.2xlarge", "RTX-PRO-6000", 1, 8, 64, (1, 1900), False, 3.36312),
        _v("g7e.4xlarge", "RTX-PRO-6000", 1, 16, 128, (1, 1900), False, 3.99816),
        _v("g7e.8xlarge", "RTX-PRO-6000", 1, 32, 256, (1, 1900), True, 5.26824),
        _v("g7e.12xlarge", "RTX-PRO-6000", 2, 48, 512, (1, 3800), True, 8.28608),
        _v("g7e.24xlarge", "RTX-PRO-6000", 4, 96, 1024, (2, 3800), True, 16.57216, cards=2),
        _v("g7e.48xlarge", "RTX-PRO-6000", 8, 192, 2048, (4, 3800), True, 33.14432, cards=4),
        _t("g7.2xlarge", "RTX-PRO-4500", 1, 8, 32, (1, 600), False, 1, 0, None, "2026-06-18",
           G7_NO_PRICE),
        _t("g7.4xlarge", "RTX-PRO-4500", 1, 16, 64, (1, 600), False, 1, 0, None, "2026-06-18",
           G7_NO_PRICE),
        _t("g7.8xlarge", "RTX-PRO-4500", 1, 32, 128, (1, 950), True, 1, 1, None, "2026-06-18",
           G7_NO_PRICE),
        _t("g7.12xlarge", "RTX-PRO-4500", 2, 48, 192, (1, 1900), True, 1, 1, None, "2026-06-18",
           G7_NO_PRICE),
        _t("g7.24xlarge", "RTX-PRO-4500", 4, 96, 384, (1, 3800), True, 1, 1, None, "2026-06-18",
           G7_NO_PRICE),
        _t("g7.48xlarge", "RTX-PRO-4500", 8, 192, 768, (2, 3800), True, 2, 2, None, "2026-06-18",
           G7_NO_PRICE),
        _t("p4d.24xlarge", "A100-40GB", 8, 96, 1152, (8, 1000), True, 4, 4, 21.957642, "2026-11-09",
           PRICES_2026_11),
        _t("p4de.24xlarge", "A100-80GB", 8, 96, 1152, (8, 1000), True, 4, 4, 27.44705, "2026-11-09",
           PRICES_2026_11),
        _v("p5.4xlarge", "H100-80GB", 1, 16, 256, (1, 3800), True, 6.88),
        _t("p5.48xlarge", "H100-80GB", 8, 192, 2048, (8, 3840), True, 32, 32, 55.04, "2026-11-09",
           PRICES_2026_11),
        # p5e is sold through capacity blocks and reservations; no on-demand list price
        _t("p5e.48xlarge", "H200-141GB", 8, 192, 2048, (8, 3840), True, 32, 32, None, "2026-11-25",
           "capacity blocks only: https://aws.amazon.com/ec2/capacityblocks/pricing/"),
        _t("p5en.48xlarge", "H200-141GB", 8, 192, 2048, (8, 3840), True, 16, 16, 63.296, "2026-08-06",
           "https://github.com/dstackai/dstack/pull/4110 (us-east-1 on-demand offer)"),
        _v("p6-b200.48xlarge", "B200", 8, 192, 2048, (8, 3840), True, 113.9328, cards=8),
        _t("p6-b300.48xlarge", "B300", 8, 192, 4096, (8, 3800), True, 17, 16, None, "2025-11-30",
           P6_B300_NO_PRICE, primary_card_efa=False),
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
