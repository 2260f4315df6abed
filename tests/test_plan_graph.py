"""The deploy graph and critical-path estimate, on hand-built plans and the real environments."""

from __future__ import annotations

import io

import pytest

from gpu_platform.plan.capture import Registration
from gpu_platform.plan.graph import (
    DeployGraph,
    Duration,
    critical_path,
    format_critical_path,
    resource_duration,
)
from gpu_platform.plan.model import HELM_RELEASE_TYPE, Plan
from gpu_platform.plan.policy import GENERIC, PlanPolicy
from gpu_platform.plan.render import print_summary
from gpu_platform.policy import CHART_DURATIONS, DURATIONS, POLICY

SLOW, MID, FAST, COMPONENT = "test:index:Slow", "test:index:Mid", "test:index:Fast", "test:index:Group"
TABLE = PlanPolicy("fixture", durations=(
    Duration(SLOW, 20, "fixture"), Duration(MID, 10, "fixture"), Duration(FAST, 1, "fixture")))


def urn(name: str, type_: str = FAST) -> str:
    return f"urn:pulumi:test::proj::{type_}::{name}"


def reg(
    name: str,
    type_: str = FAST,
    *,
    custom: bool = True,
    parent: str | None = None,
    deps: tuple[str, ...] = (),
    prop_deps: dict[str, list[str]] | None = None,
    provider: str | None = None,
    inputs: dict | None = None,
) -> Registration:
    return Registration(
        urn=urn(name, type_), type=type_, name=name, custom=custom, parent=parent, provider=provider,
        dependencies=list(deps), property_dependencies=prop_deps or {}, inputs=inputs or {},
        secret_paths=[], protect=False, retain_on_delete=False, delete_before_replace=False,
        ignore_changes=[], replace_on_changes=[], aliases=[], remote=False,
    )


def plan_of(*resources: Registration) -> Plan:
    return Plan("proj", "test", list(resources), {}, [])


def names(path) -> list[str]:
    return [step.name for step in path.chain]


def test_diamond_takes_the_longer_branch():
    plan = plan_of(
        reg("a", MID),
        reg("b", FAST, deps=(urn("a", MID),)),
        reg("c", SLOW, prop_deps={"x": [urn("a", MID)]}),  # an output read is a wait too
        reg("d", FAST, deps=(urn("b"),), prop_deps={"y": [urn("c", SLOW)]}),
    )
    path = critical_path(plan, TABLE)
    assert (path.seconds, path.serial_seconds, names(path)) == (31, 32, ["a", "c", "d"])
    assert [step.finish for step in path.chain] == [10, 30, 31]


def test_component_completes_with_its_children_and_dependents_wait_for_all_of_them():
    group = reg("group", COMPONENT, custom=False)
    plan = plan_of(
        group,
        reg("x", SLOW, parent=group.urn),
        reg("y", FAST, parent=group.urn),
        reg("after", MID, deps=(group.urn,)),  # depends_on a ComponentResource
    )
    path = critical_path(plan, TABLE)
    assert (path.seconds, path.serial_seconds, names(path)) == (30, 31, ["x", "group", "after"])
    graph = DeployGraph(plan)
    assert graph.ancestors(urn("after", MID)) == {group.urn, urn("x", SLOW), urn("y")}


def test_children_of_a_component_wait_for_its_depends_on():
    group = reg("group", COMPONENT, custom=False, deps=(urn("first", SLOW),))
    inner = reg("inner", COMPONENT, custom=False, parent=group.urn)
    plan = plan_of(reg("first", SLOW), group, inner, reg("leaf", MID, parent=inner.urn))
    path = critical_path(plan, TABLE)
    assert (path.seconds, names(path)) == (30, ["first", "leaf", "inner", "group"])


def test_a_resource_waits_for_its_provider_and_a_custom_parent():
    cluster = reg("cluster", "aws:eks/cluster:Cluster")
    provider = reg("k8s", "pulumi:providers:kubernetes", prop_deps={"kubeconfig": [cluster.urn]})
    namespace = reg("ns", "kubernetes:core/v1:Namespace", provider=provider.urn)
    child = reg("child", "kubernetes:core/v1:ConfigMap", parent=namespace.urn, provider=provider.urn)
    path = critical_path(plan_of(cluster, provider, namespace, child))  # the default table
    assert (path.seconds, path.serial_seconds, names(path)) == (602, 602, ["cluster", "k8s", "ns", "child"])


def test_dependencies_outside_the_plan_are_ignored():
    plan = plan_of(reg("a", MID, deps=("urn:pulumi:test::proj::pulumi:pulumi:Stack::proj-test",)))
    assert critical_path(plan, TABLE).seconds == 10


def test_a_cycle_is_an_error_naming_a_resource_on_it():
    plan = plan_of(reg("a", deps=(urn("b"),)), reg("b", deps=(urn("a"),)))
    message = r"^dependency cycle through urn:pulumi:test::proj::test:index:Fast::[ab]$"
    with pytest.raises(ValueError, match=message):
        critical_path(plan, TABLE)


def test_durations_by_type_chart_and_default():
    operator = reg("gpu", HELM_RELEASE_TYPE, inputs={"chart": "gpu-operator", "values": {}})
    no_driver = reg("gpu2", HELM_RELEASE_TYPE,
                    inputs={"chart": "gpu-operator", "values": {"driver": {"enabled": False}}})
    crds = reg("crd", HELM_RELEASE_TYPE, inputs={"chart": "oci://ghcr.io/kserve/charts/kserve-crd"})
    other = reg("other", HELM_RELEASE_TYPE, inputs={"chart": "kueue"})
    assert resource_duration(operator).seconds == 600  # the chart's default builds the driver
    assert resource_duration(no_driver) is CHART_DURATIONS["gpu-operator"]
    assert resource_duration(crds).seconds == 20
    assert resource_duration(other).seconds == 120
    assert resource_duration(reg("c", "aws:eks/cluster:Cluster")).seconds == 600
    assert resource_duration(reg("n", "aws:eks/nodeGroup:NodeGroup")).seconds == 240
    assert resource_duration(reg("nat", "aws:ec2/natGateway:NatGateway")).seconds == 120
    assert resource_duration(reg("k", "aws:kms/key:Key")).seconds == 5
    assert resource_duration(reg("cm", "kubernetes:core/v1:ConfigMap")).seconds == 1
    assert resource_duration(reg("g", COMPONENT, custom=False)).seconds == 0
    assert resource_duration(reg("u", "acme:index:Widget")).seconds == 30
    assert all(row.source for row in (*DURATIONS, *CHART_DURATIONS.values()))


def test_the_engine_knows_no_durations_of_its_own():
    # generic: components 0, everything else the 30 s guess; this library's table is a policy
    assert resource_duration(reg("c", "aws:eks/cluster:Cluster"), GENERIC).seconds == 30
    assert resource_duration(reg("g", COMPONENT, custom=False), GENERIC).seconds == 0
    assert resource_duration(reg("c", "aws:eks/cluster:Cluster"), POLICY).seconds == 600


def test_format_shows_the_estimate_and_the_longest_links_in_order():
    plan = plan_of(
        reg("a", MID),
        reg("b", FAST, deps=(urn("a", MID),)),
        reg("c", SLOW, deps=(urn("a", MID),)),
        reg("d", FAST, deps=(urn("b"), urn("c", SLOW))),
    )
    assert format_critical_path(critical_path(plan, TABLE), top=2) == (
        "Deploy time estimate: critical path 0m31s, serial sum 0m32s\n"
        f"      0m10s  +  10s  {MID}  a\n"
        f"      0m30s  +  20s  {SLOW}  c\n"
        "  (1 shorter links not shown)\n"
    )


OPERATORS = {
    "prod": (
        "platform-gpu-operator-chart",
        "platform-training-kuberay-chart",
        "platform-training-kueue-chart",
        "platform-serving-kserve-cert-manager",
        "platform-serving-kserve-kserve-crd",
        "platform-serving-kserve-kserve",
        "platform-aws-addons-cluster-autoscaler",
        "platform-aws-addons-efa-device-plugin",
    ),
    "onprem": (
        "platform-gpu-operator-chart",
        "platform-training-kuberay-chart",
        "platform-training-volcano-chart",  # onprem queues with Volcano
        "platform-serving-kserve-cert-manager",
        "platform-serving-kserve-kserve-crd",
        "platform-serving-kserve-kserve",
        "platform-network-network-operator-chart",
    ),
}
REAL_ORDER_BY_ENV = {
    # KubeRay's Volcano batch scheduler needs Volcano's PodGroup CRD
    "onprem": {("platform-training-kuberay-chart", "platform-training-volcano-chart")},
}
REAL_ORDER = {
    ("platform-serving-kserve-kserve", "platform-serving-kserve-cert-manager"),  # webhook certs
    ("platform-serving-kserve-kserve", "platform-serving-kserve-kserve-crd"),
}


@pytest.mark.parametrize("env", sorted(OPERATORS))
def test_independent_operators_share_no_dependency_chain(plan_env, env):
    plan = plan_env(env)
    graph = DeployGraph(plan)
    releases = {name: plan.one(HELM_RELEASE_TYPE, name).urn for name in OPERATORS[env]}
    waits = {
        (name, other)
        for name, release in releases.items()
        for other, other_urn in releases.items()
        if other_urn in graph.ancestors(release)
    }
    assert waits == REAL_ORDER | REAL_ORDER_BY_ENV.get(env, set())


def test_summary_prints_estimate_and_cost_after_the_type_counts(plan_env):
    out = io.StringIO()
    print_summary(plan_env("dev"), out)
    text = out.getvalue()
    assert text.index("\ntotal") < text.index("Deploy time estimate: critical path ")
    assert text.index("Deploy time estimate") < text.index("Node pool cost") < text.index("Helm charts:")
    assert "     10m05s  + 600s  aws:eks/cluster:Cluster  platform-aws-eks-cluster\n" in text
