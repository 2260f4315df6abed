"""Node pool cost, read from the NodeGroups in a plan."""

from __future__ import annotations

from gpu_platform.plan.capture import Registration
from gpu_platform.plan.cost import (
    NODE_GROUP_TYPE,
    EnvironmentCost,
    PoolCost,
    environment_cost,
    format_cost_table,
    instance_price,
)
from gpu_platform.plan.model import Plan


def node_group(name: str, instance: str, low: int, high: int, *, pool: str | None = None,
               capacity: str = "ON_DEMAND") -> Registration:
    labels = {"gpu-platform.io/pool": pool} if pool else {"gpu-platform.io/node-class": "system"}
    return Registration(
        urn=f"urn:pulumi:test::proj::{NODE_GROUP_TYPE}::{name}", type=NODE_GROUP_TYPE, name=name,
        custom=True, parent=None, provider=None, dependencies=[], property_dependencies={},
        inputs={"instanceTypes": [instance], "capacityType": capacity, "labels": labels,
                "scalingConfig": {"minSize": low, "maxSize": high, "desiredSize": low}},
        secret_paths=[], protect=False, retain_on_delete=False, delete_before_replace=False,
        ignore_changes=[], replace_on_changes=[], aliases=[], remote=False,
    )


def plan_of(*resources: Registration) -> Plan:
    return Plan("proj", "test", list(resources), {}, [])


FIXTURE = plan_of(
    node_group("train-ng", "p5.48xlarge", 1, 4, pool="train"),
    node_group("system", "m6i.large", 2, 3),
    node_group("nb-ng", "g5.xlarge", 0, 2, pool="notebooks", capacity="SPOT"),
    node_group("big-ng", "p5e.48xlarge", 0, 2, pool="h200"),
)


def test_pools_are_read_from_node_group_inputs_and_priced_from_the_catalog():
    cost = environment_cost(FIXTURE)
    assert cost.pools == (
        PoolCost("system", "system", "m6i.large", "ON_DEMAND", 2, 3, 0.096),
        PoolCost("h200", "big-ng", "p5e.48xlarge", "ON_DEMAND", 0, 2, None),
        PoolCost("notebooks", "nb-ng", "g5.xlarge", "SPOT", 0, 2, 1.006),
        PoolCost("train", "train-ng", "p5.48xlarge", "ON_DEMAND", 1, 4, 55.04),
    )
    assert round(cost.total_min, 4) == 55.232  # 2 x 0.096 + 1 x 55.04
    assert round(cost.total_max, 4) == 222.46  # 3 x 0.096 + 2 x 1.006 + 4 x 55.04
    assert cost.unpriced == ("h200",)


def test_unknown_and_unpriced_types_have_no_price():
    assert instance_price("p5e.48xlarge") is None
    assert instance_price("x99.huge") is None
    assert instance_price("p4de.24xlarge") == 27.44705


def test_table_marks_spot_and_missing_prices():
    assert format_cost_table(environment_cost(FIXTURE)) == (
        "Node pool cost (on-demand, us-east-1):\n"
        "  pool       instance type  nodes  $/h at min  $/h at max\n"
        "  system     m6i.large       2..3       $0.19       $0.29\n"
        "  h200       p5e.48xlarge    0..2         n/a         n/a\n"
        "  notebooks  g5.xlarge       0..2       $0.00       $2.01"
        "  spot: variable, on-demand shown as upper bound\n"
        "  train      p5.48xlarge     1..4      $55.04     $220.16\n"
        "  total                                $55.23     $222.46  excludes h200: no list price\n"
    )


def test_no_node_groups_no_cloud_cost():
    assert format_cost_table(EnvironmentCost(())) == (
        "Cloud cost: no AWS node groups in this plan (existing cluster): not estimated.\n"
    )


def test_dev_gpu_pools_idle_at_zero(plan_env):
    cost = environment_cost(plan_env("dev"))
    gpu = [p for p in cost.pools if p.pool != "system"]
    assert [(p.pool, p.instance_type, p.min_size, p.hourly_min, p.spot) for p in gpu] == [
        ("a10g", "g5.xlarge", 0, 0.0, True), ("serve", "g5.xlarge", 0, 0.0, True),
    ]
    assert round(cost.total_min, 3) == 0.096  # only the one m6i.large system node


def test_prod_cost_covers_every_pool(plan_env):
    cost = environment_cost(plan_env("prod"))
    assert [(p.pool, p.instance_type, p.min_size, p.max_size) for p in cost.pools] == [
        ("system", "m6i.4xlarge", 2, 4),
        ("infer", "p4de.24xlarge", 1, 4),
        ("notebooks", "g6.xlarge", 0, 4),
        ("train", "p5.48xlarge", 0, 4),
    ]
    assert (round(cost.total_min, 2), round(cost.total_max, 2)) == (28.98, 336.24)


def test_onprem_has_no_cloud_cost(plan_env):
    assert environment_cost(plan_env("onprem")).pools == ()
