"""What an environment's node pools cost per hour, read from the plan itself.

Every ``aws:eks/nodeGroup:NodeGroup`` in a plan is a pool: its ``instanceTypes``,
``scalingConfig`` (minSize/maxSize) and ``capacityType`` are inputs, its name is the
``gpu-platform.io/pool`` label (the system pool carries ``gpu-platform.io/node-class``). Prices are
on-demand Linux us-east-1 list prices: GPU types from ``gpu_platform.catalog.instances`` (dated,
with sources), the general-purpose types system pools use from ``GENERAL_PURPOSE_PRICES`` below.
Spot pools show the on-demand price as an upper bound: the spot price varies by hour and zone.
A plan with no node groups (an existing cluster) has no cloud cost to report.
"""

from __future__ import annotations

from dataclasses import dataclass

from gpu_platform.catalog.instances import INSTANCE_TYPES
from gpu_platform.plan.capture import Registration
from gpu_platform.plan.model import Plan

NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup"
POOL_LABEL = "gpu-platform.io/pool"
NODE_CLASS_LABEL = "gpu-platform.io/node-class"

_M6I_SOURCE = (
    "https://aws.amazon.com/ec2/pricing/on-demand/ (Linux, us-east-1); m6i list price unchanged "
    "since launch (2021), not re-read on 2026-11-25"
)
# On-demand $/h of the non-GPU types system pools use (the GPU catalog holds only GPU types).
GENERAL_PURPOSE_PRICES: dict[str, tuple[float, str]] = {
    "m6i.large": (0.096, _M6I_SOURCE),
    "m6i.xlarge": (0.192, _M6I_SOURCE),
    "m6i.2xlarge": (0.384, _M6I_SOURCE),
    "m6i.4xlarge": (0.768, _M6I_SOURCE),
}


def instance_price(instance_type: str) -> float | None:
    """On-demand $/h, or None where there is no list price (p5e, or a type we do not know)."""
    if instance_type in INSTANCE_TYPES:
        return INSTANCE_TYPES[instance_type].price_usd_hour
    if instance_type in GENERAL_PURPOSE_PRICES:
        return GENERAL_PURPOSE_PRICES[instance_type][0]
    return None


@dataclass(frozen=True)
class PoolCost:
    pool: str
    node_group: str  # the NodeGroup resource's name in the plan
    instance_type: str
    capacity_type: str  # ON_DEMAND or SPOT
    min_size: int
    max_size: int
    price_usd_hour: float | None  # per node, on-demand

    @property
    def spot(self) -> bool:
        return self.capacity_type == "SPOT"

    @property
    def hourly_min(self) -> float | None:
        return None if self.price_usd_hour is None else self.price_usd_hour * self.min_size

    @property
    def hourly_max(self) -> float | None:
        return None if self.price_usd_hour is None else self.price_usd_hour * self.max_size


@dataclass(frozen=True)
class EnvironmentCost:
    pools: tuple[PoolCost, ...]

    @property
    def total_min(self) -> float:
        return sum(p.hourly_min or 0.0 for p in self.pools)

    @property
    def total_max(self) -> float:
        return sum(p.hourly_max or 0.0 for p in self.pools)

    @property
    def unpriced(self) -> tuple[str, ...]:
        """Pools left out of the totals because their instance type has no list price."""
        return tuple(p.pool for p in self.pools if p.price_usd_hour is None)


def pool_cost(node_group: Registration) -> PoolCost:
    inputs = node_group.inputs
    labels = inputs.get("labels") or {}
    pool = labels.get(POOL_LABEL) or labels.get(NODE_CLASS_LABEL) or node_group.name
    # a pool of several types is priced by its first (the one the platform asks for)
    types = inputs.get("instanceTypes") or ["unknown"]
    scaling = inputs.get("scalingConfig") or {}
    return PoolCost(
        pool=str(pool),
        node_group=node_group.name,
        instance_type=str(types[0]),
        capacity_type=str(inputs.get("capacityType") or "ON_DEMAND"),
        min_size=int(scaling.get("minSize", 0)),
        max_size=int(scaling.get("maxSize", 0)),
        price_usd_hour=instance_price(str(types[0])),
    )


def environment_cost(plan: Plan) -> EnvironmentCost:
    """Every node group in the plan, the system pool first, then pools by name."""
    pools = [pool_cost(r) for r in plan.find(NODE_GROUP_TYPE)]
    pools.sort(key=lambda p: (p.pool != "system", p.pool))
    return EnvironmentCost(tuple(pools))


def format_cost_table(cost: EnvironmentCost) -> str:
    if not cost.pools:
        return "Cloud cost: no AWS node groups in this plan (existing cluster): not estimated.\n"
    header = ("pool", "instance type", "nodes", "$/h at min", "$/h at max", "")
    rows = [
        (
            p.pool,
            p.instance_type,
            f"{p.min_size}..{p.max_size}",
            _usd(p.hourly_min),
            _usd(p.hourly_max),
            "spot: variable, on-demand shown as upper bound" if p.spot else "",
        )
        for p in cost.pools
    ]
    note = f"excludes {', '.join(cost.unpriced)}: no list price" if cost.unpriced else ""
    rows.append(("total", "", "", _usd(cost.total_min), _usd(cost.total_max), note))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(5)]
    right = (False, False, True, True, True)

    def line(row: tuple[str, ...]) -> str:
        cells = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=False)]
        return ("  " + "  ".join(cells) + ("  " + row[5] if row[5] else "")).rstrip() + "\n"

    return (
        "Node pool cost (on-demand, us-east-1):\n"
        + line(header)
        + "".join(line(row) for row in rows)
    )


def _usd(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"
