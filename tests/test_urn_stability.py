"""The compatibility promise: no URN disappears and no data guard is dropped without a decision.

Refresh the snapshot deliberately with `gpu-platform snapshot` (README: "Safety and upgrades").
"""

import pulumi
import pulumi_kubernetes as k8s
import pytest

from gpu_platform.plan.snapshot import SNAPSHOT_PATH, check_snapshot, read_snapshot, snapshot_of
from gpu_platform.testing.fixtures import ENVIRONMENTS, PROJECT_DIR

RECORDED = read_snapshot(PROJECT_DIR / SNAPSHOT_PATH)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_keeps_every_recorded_urn_and_guard(plan_env, env):
    assert check_snapshot(env, RECORDED[env], plan_env(env)) == []


def test_snapshot_covers_every_environment():
    assert sorted(RECORDED) == sorted(ENVIRONMENTS)


def _program(name="data", protect=True, alias=None):
    def program():
        opts = pulumi.ResourceOptions(protect=protect, aliases=[alias] if alias else None)
        k8s.core.v1.Namespace(name, metadata={"name": "data"}, opts=opts)

    return program


@pytest.fixture
def recorded(run_component):
    return snapshot_of(run_component(_program()))


def test_a_renamed_resource_without_alias_fails(run_component, recorded):
    plan = run_component(_program(name="datasets"))
    assert check_snapshot("test", recorded, plan) == [
        "test: URN disappeared (pulumi up would delete and recreate it): "
        "urn:pulumi:test::gpu-platform::kubernetes:core/v1:Namespace::data; add an alias to the "
        "resource that replaces it, or refresh with gpu-platform snapshot",
        "test: new URN not in the snapshot: "
        "urn:pulumi:test::gpu-platform::kubernetes:core/v1:Namespace::datasets; "
        "refresh with gpu-platform snapshot",
    ]


def test_a_renamed_resource_with_an_alias_passes(run_component, recorded):
    plan = run_component(_program(name="datasets", alias=pulumi.Alias(name="data")))
    assert check_snapshot("test", recorded, plan) == []


def test_a_reparented_resource_with_an_alias_urn_passes(run_component, recorded):
    old = "urn:pulumi:test::gpu-platform::kubernetes:core/v1:Namespace::data"
    plan = run_component(_program(name="datasets", alias=old))
    assert check_snapshot("test", recorded, plan) == []


def test_dropping_protect_fails(run_component, recorded):
    plan = run_component(_program(protect=False))
    assert check_snapshot("test", recorded, plan) == [
        "test: protect was dropped from urn:pulumi:test::gpu-platform::kubernetes:core/v1:Namespace::data"
    ]


def test_a_new_urn_asks_for_a_deliberate_refresh(run_component):
    plan = run_component(_program())
    assert check_snapshot("test", [], plan) == [
        "test: new URN not in the snapshot: "
        "urn:pulumi:test::gpu-platform::kubernetes:core/v1:Namespace::data; "
        "refresh with gpu-platform snapshot"
    ]
