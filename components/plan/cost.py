"""What an environment's node pools cost per hour, read from the plan itself.

Every ``aws:eks/nodeGroup:NodeGroup`` in a plan is a pool: its ``instanceTypes``,
``scalingConfig`` (minSize/maxSize) and ``capacityType`` are inputs, its name is the first of the
policy's ``pool_labels`` it carries (else the resource's name). Prices are the policy's on-demand
list prices (this library's: ``gpu_platform.policy``, us-east-1, dated with sources). Spot pools
show the on-demand price as an upper bound: the spot price varies by hour and zone. A plan with no
node groups (an existing cluster) has no cloud cost to report.
"""

from __future__ import annotations

from dataclasses import dataclass

from gpu_platform.plan.capture import Registration
from gpu_platform.plan.model import Plan
from gpu_platform.plan.policy import PlanPolicy, resolve

NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup"


def instance_price(instance_type: str, policy: PlanPolicy | None = None) -> float | None:
    """On-demand $/h, or None where there is no list price (p5e, or a type we do not know)."""
    return resolve(policy).price(instance_type)


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


def pool_cost(node_group: Registration, policy: PlanPolicy | None = None) -> PoolCost:
    rules = resolve(policy)
    inputs = node_group.inputs
    labels = inputs.get("labels") or {}
    named = [labels[label] for label in rules.pool_labels if labels.get(label)]
    pool = named[0] if named else node_group.name
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
        price_usd_hour=rules.price(str(types[0])),
    )


def environment_cost(plan: Plan, policy: PlanPolicy | None = None) -> EnvironmentCost:
    """Every node group in the plan, the system pool first, then pools by name."""
    rules = resolve(policy)
    pools = [pool_cost(r, rules) for r in plan.find(NODE_GROUP_TYPE)]
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
