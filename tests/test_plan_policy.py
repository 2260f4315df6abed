"""The plan engine is told its domain through a PlanPolicy: merged, discovered, applied."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from gpu_platform.plan import policy as engine
from gpu_platform.plan.capture import Registration
from gpu_platform.plan.cost import NODE_GROUP_TYPE, environment_cost
from gpu_platform.plan.model import Plan
from gpu_platform.plan.policy import GENERIC, Duration, Guard, PlanPolicy, Price, combine
from gpu_platform.plan.safety import guard_problems
from gpu_platform.policy import POLICY


def reg(name: str, type_: str, inputs: dict | None = None) -> Registration:
    return Registration(
        urn=f"urn:pulumi:test::proj::{type_}::{name}", type=type_, name=name, custom=True,
        parent=None, provider=None, dependencies=[], property_dependencies={}, inputs=inputs or {},
        secret_paths=[], protect=False, retain_on_delete=False, delete_before_replace=False,
        ignore_changes=[], replace_on_changes=[], aliases=[], remote=False,
    )


TABLE = "acme:index:Table"
MINE = PlanPolicy(
    "mine",
    prices={"m6i.large": Price(1.0, "our contract"), "c7i.large": Price(0.5, "our contract")},
    pool_labels=("acme.io/pool",),
    durations=(Duration("acme:*", 7, "fixture"),),
    stateful={TABLE: Guard(True, False, "orders")},
)


def test_merged_policies_prefer_the_first_and_keep_both():
    both = MINE.merged(POLICY)
    assert both.name == "mine+gpu-platform"
    assert both.price("m6i.large") == 1.0  # ours wins
    assert both.price("c7i.large") == 0.5 and both.price("p4de.24xlarge") == 27.44705
    assert both.pool_labels == ("acme.io/pool", "gpu-platform.io/pool", "gpu-platform.io/node-class")
    assert both.classifies(TABLE) and both.classifies("aws:s3/bucket:Bucket")
    assert both.duration(reg("t", TABLE)).seconds == 7
    assert both.duration(reg("c", "aws:eks/cluster:Cluster")).seconds == 600
    assert combine([]) is GENERIC and combine([MINE]) is MINE


def test_cost_and_safety_apply_the_policy_they_are_given():
    plan = Plan("proj", "test", [
        reg("ng", NODE_GROUP_TYPE, {"instanceTypes": ["c7i.large"], "labels": {"acme.io/pool": "web"},
                                    "scalingConfig": {"minSize": 2, "maxSize": 4}}),
        reg("orders", TABLE),
    ], {}, [])
    [pool] = environment_cost(plan, MINE).pools
    assert (pool.pool, pool.hourly_min, pool.hourly_max) == ("web", 1.0, 2.0)
    assert environment_cost(plan, POLICY).pools[0].price_usd_hour is None  # not in our catalog
    assert guard_problems(plan, MINE) == [
        "aws:eks/nodeGroup:NodeGroup: not classified by the plan policy (mine)",
        "acme:index:Table orders: must be protected (orders)",
    ]


def test_installed_policies_are_read_from_entry_points(monkeypatch):
    points = [
        EntryPoint("b", "gpu_platform.policy:POLICY", engine.ENTRY_POINT_GROUP),
        EntryPoint("a", "gpu_platform.plan.policy:GENERIC", engine.ENTRY_POINT_GROUP),
        EntryPoint("b2", "gpu_platform.policy:POLICY", engine.ENTRY_POINT_GROUP),  # the same, twice
    ]
    monkeypatch.setattr(engine, "entry_points", lambda group: points if group == engine.ENTRY_POINT_GROUP
                        else [])
    assert engine.installed_policies() == [GENERIC, POLICY]


def test_an_entry_point_that_is_not_a_policy_is_an_error(monkeypatch):
    point = EntryPoint("bad", "gpu_platform.plan.policy:ENTRY_POINT_GROUP", engine.ENTRY_POINT_GROUP)
    monkeypatch.setattr(engine, "entry_points", lambda group: [point])
    with pytest.raises(TypeError, match=(
        r"^entry point bad = gpu_platform.plan.policy:ENTRY_POINT_GROUP in gpu_platform.plan_policy "
        r"is a str, not a PlanPolicy$"
    )):
        engine.installed_policies()
