"""The compatibility promise: no URN disappears and no data guard is dropped without a decision.

Refresh the snapshot deliberately with `gpu-platform snapshot` (README: "Safety and upgrades").
"""

import pulumi
import pulumi_kubernetes as k8s
import pytest

from gpu_platform.plan.snapshot import SNAPSHOT_PATH, check_snapshot, read_snapshot, snapshot_of
from gpu_platform.testing.fixtures import project_dir, stacks

ENVIRONMENTS = stacks()
RECORDED = read_snapshot(project_dir() / SNAPSHOT_PATH)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_keeps_every_recorded_urn_and_guard(plan_env, env):
    assert check_snapshot(env, RECORDED[env], plan_env(env)) == []


def test_snapshot_covers_every_environment():
    assert sorted(RECORDED) == sorted(ENVIRONMENTS)


def _program(name="data", protect=True, alias=None, retain=True):
    def program():
        opts = pulumi.ResourceOptions(
            protect=protect, retain_on_delete=retain, aliases=[alias] if alias else None
        )
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


def test_dropping_retain_on_delete_fails(run_component, recorded):
    plan = run_component(_program(retain=False))
    assert check_snapshot("test", recorded, plan) == [
        "test: retain_on_delete was dropped from "
        "urn:pulumi:test::gpu-platform::kubernetes:core/v1:Namespace::data"
    ]


def test_dropping_a_guard_is_caught_through_an_alias_too(run_component, recorded):
    plan = run_component(_program(name="datasets", alias=pulumi.Alias(name="data"), retain=False))
    assert check_snapshot("test", recorded, plan) == [
        "test: retain_on_delete was dropped from "
        "urn:pulumi:test::gpu-platform::kubernetes:core/v1:Namespace::data"
    ]


# --- moving a resource to another parent ----------------------------------------------------------

class Shelf(pulumi.ComponentResource):
    def __init__(self, name, type_="test:index:Shelf"):
        super().__init__(type_, name, None, None)
        self.register_outputs({})


def _moved(under, alias=None):
    """A namespace under the Shelf ``old`` (as recorded) or the Crate ``new``, maybe aliased."""

    def program():
        shelves = {"old": Shelf("old"), "new": Shelf("new", "test:index:Crate")}
        aliases = [alias(shelves)] if alias else None
        k8s.core.v1.Namespace("data", metadata={"name": "data"}, opts=pulumi.ResourceOptions(
            parent=shelves[under], protect=True, aliases=aliases))

    return program


OLD_URN = "urn:pulumi:test::gpu-platform::test:index:Shelf$kubernetes:core/v1:Namespace::data"
NEW_URN = "urn:pulumi:test::gpu-platform::test:index:Crate$kubernetes:core/v1:Namespace::data"


@pytest.fixture
def recorded_under_old(run_component):
    return snapshot_of(run_component(_moved("old")))


def test_a_reparented_resource_with_an_alias_naming_its_old_parent_passes(run_component,
                                                                          recorded_under_old):
    plan = run_component(_moved("new", alias=lambda shelves: pulumi.Alias(parent=shelves["old"])))
    assert check_snapshot("test", recorded_under_old, plan) == []


def test_an_alias_without_the_old_parent_is_resolved_under_the_new_parent_and_fails(
        run_component, recorded_under_old):
    # Alias(name=...) keeps the resource's current parent: it names NEW_URN, not the recorded one
    plan = run_component(_moved("new", alias=lambda shelves: pulumi.Alias(name="data")))
    assert check_snapshot("test", recorded_under_old, plan) == [
        f"test: URN disappeared (pulumi up would delete and recreate it): {OLD_URN}; add an alias "
        "to the resource that replaces it, or refresh with gpu-platform snapshot",
        f"test: new URN not in the snapshot: {NEW_URN}; refresh with gpu-platform snapshot",
    ]


def test_an_alias_naming_the_wrong_parent_fails(run_component, recorded_under_old):
    plan = run_component(_moved("new", alias=lambda shelves: pulumi.Alias(parent=shelves["new"])))
    assert check_snapshot("test", recorded_under_old, plan)[0].startswith(
        f"test: URN disappeared (pulumi up would delete and recreate it): {OLD_URN}"
    )


def test_an_alias_to_no_parent_names_the_top_level_urn(run_component):
    top = snapshot_of(run_component(_program()))

    def program():
        crate = Shelf("new", "test:index:Crate")
        k8s.core.v1.Namespace("data", metadata={"name": "data"}, opts=pulumi.ResourceOptions(
            parent=crate, protect=True, retain_on_delete=True,
            aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]))

    assert check_snapshot("test", top, run_component(program)) == [
        "test: new URN not in the snapshot: urn:pulumi:test::gpu-platform::test:index:Crate::new; "
        "refresh with gpu-platform snapshot"
    ]
