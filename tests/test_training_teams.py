"""Team tenancy: namespace, quota, limits, network isolation, priority classes, capacity checks."""

import pulumi
import pytest
from component_outputs import resolved_outputs

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.training import Teams, TeamsArgs
from gpu_platform.training.teams import (
    DEFAULT_PRIORITY_CLASSES,
    TeamConfig,
    gpu_capacity,
    render_network_policies,
    team_pool_issues,
)

POOLS = {
    "train": GpuPool.model_validate({"role": "training", "gpu": {"model": "H100-80GB", "count": 8},
                                     "maxSize": 4}),
    "infer": GpuPool.model_validate({"role": "inference", "gpu": {"model": "L4", "count": 1},
                                     "maxSize": 2}),
}


def team(**data):
    return validate_model(TeamConfig, data)


def _plan(run_component):
    teams = {"ml": team(gpuQuota=16, podSecurity="restricted", egressCidrs=["10.0.0.0/16"])}
    args = TeamsArgs(teams=teams, priority_classes=DEFAULT_PRIORITY_CLASSES,
                     extra_ingress_namespaces=["ray-system"])
    return run_component(lambda: Teams("teams", args, pulumi.ResourceOptions()))


def test_team_namespace_quota_and_limits(run_component):
    plan = _plan(run_component)
    ns = plan.one("kubernetes:core/v1:Namespace", "teams-ml-ns").inputs["metadata"]
    assert ns["name"] == "ml"
    assert ns["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert ns["labels"]["gpu-platform.io/team"] == "ml"
    quota = plan.one("kubernetes:core/v1:ResourceQuota", "teams-ml-quota").inputs
    assert quota["metadata"]["namespace"] == "ml"
    assert quota["spec"]["hard"] == {
        "requests.nvidia.com/gpu": "16", "limits.nvidia.com/gpu": "16",
        "requests.cpu": "64", "limits.cpu": "64", "requests.memory": "256Gi", "limits.memory": "256Gi",
    }
    limits = plan.one("kubernetes:core/v1:LimitRange", "teams-ml-limits").inputs["spec"]
    assert limits == {"limits": [{"type": "Container", "defaultRequest": {"cpu": "500m", "memory": "1Gi"},
                                  "default": {"cpu": "2", "memory": "4Gi"}}]}


def test_network_policies_deny_then_allow_namespace_dns_and_extras(run_component):
    plan = _plan(run_component)
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"]
                for r in plan.find("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert sorted(policies) == ["allow-dns-egress", "allow-egress-cidrs", "allow-ingress-namespaces",
                                "allow-same-namespace", "default-deny"]
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert policies["allow-same-namespace"] == {
        "podSelector": {}, "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"podSelector": {}}]}], "egress": [{"to": [{"podSelector": {}}]}]}
    assert policies["allow-dns-egress"]["egress"][0]["ports"] == [
        {"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    assert policies["allow-ingress-namespaces"]["ingress"] == [
        {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ray-system"}}}]}]
    assert policies["allow-egress-cidrs"]["egress"] == [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16"}}]}]
    assert [p["metadata"]["name"] for p in render_network_policies("x", team())] == [
        "default-deny", "allow-same-namespace", "allow-dns-egress"]


def test_priority_classes_are_shared_and_typed(run_component):
    plan = _plan(run_component)
    classes = {r.inputs["metadata"]["name"]: r.inputs
               for r in plan.find("kubernetes:scheduling.k8s.io/v1:PriorityClass")}
    assert {n: (c["value"], c["preemptionPolicy"], c["globalDefault"]) for n, c in classes.items()} == {
        "inference-critical": (1000000, "PreemptLowerPriority", False),
        "training-high": (100000, "PreemptLowerPriority", False),
        "batch-low": (1000, "Never", False),
    }


def test_every_team_object_conforms(run_component, conformance):
    conformance.assert_conformant(conformance.validate_all(_plan(run_component).kubernetes_objects()))


def test_quota_above_capacity_names_the_team_and_both_numbers():
    assert gpu_capacity(POOLS) == 34
    teams = {"ml": team(gpuQuota=40), "cv": team(gpuQuota=2, gpuPools={"trian": 1})}
    assert [str(i) for i in team_pool_issues(teams, POOLS)] == [
        "ml.gpuQuota: exceeds the environment's GPU capacity of 34 (sum over gpuPools of maxSize x "
        "gpu.count) (got 40)",
        "cv.gpuPools.trian: unknown GPU pool; known pools: infer, train (got 1)",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"gpuQuota": 4, "gpuPools": {"train": 4, "infer": 1}},
         'gpuPools: adds up to 5 GPUs, more than gpuQuota (4) (got {"infer": 1, "train": 4})'),
        ({"defaultRequest": {"cpu": "4", "memory": "1Gi"}},
         'defaultRequest.cpu: must be <= defaultLimit.cpu (2) (got "4")'),
        ({"podSecurity": "privileged"},
         "podSecurity: must be one of 'baseline' or 'restricted' (got \"privileged\")"),
    ],
)
def test_bad_teams_fail_with_exact_messages(data, message):
    with pytest.raises(ConfigError) as err:
        team(**data)
    assert str(err.value).splitlines()[1:] == [f"  - {message}"]


def test_outputs_name_the_team_namespaces_and_priority_classes(run_component):
    args = {"teams": {"ml": {"gpuQuota": 8}, "cv": {}}, "pools": POOLS}
    got = resolved_outputs(
        run_component, lambda: Teams("teams", args), "namespace_names", "priority_class_names"
    )
    assert got == {"namespace_names": {"ml": "ml", "cv": "cv"},
                   "priority_class_names": ["inference-critical", "training-high", "batch-low"]}


def test_team_objects_wait_for_opts_depends_on(run_component):
    def program():
        first = pulumi.ComponentResource("test:index:Before", "before")
        marker = pulumi.CustomResource("test:index:Marker", "marker", None,
                                       pulumi.ResourceOptions(parent=first))
        Teams("teams", {"teams": {"ml": {}}}, pulumi.ResourceOptions(depends_on=[marker]))

    plan = run_component(program)
    marker = plan.one("test:index:Marker", "marker").urn
    ns = plan.one("kubernetes:core/v1:Namespace", "teams-ml-ns")
    assert ns.dependencies == [marker]
    quota = plan.one("kubernetes:core/v1:ResourceQuota", "teams-ml-quota")
    assert set(quota.dependencies) == {marker, ns.urn}


def test_quota_beyond_the_given_pools_is_refused(refused):
    err = refused(lambda: Teams("teams", {"teams": {"ml": {"gpuQuota": 40}}, "pools": POOLS,
                                          "extraIngressNamespaces": ["Ray"]}))
    assert str(err) == (
        "invalid args of Teams 'teams' (1 error):\n"
        "  - extraIngressNamespaces.0: must be a DNS label: lowercase letters, digits and '-', starting and "
        'ending with a letter or digit (got "Ray")')
    err = refused(lambda: Teams("teams", TeamsArgs(teams={"ml": team(gpuQuota=40)}, pools=POOLS)))
    assert str(err) == (
        "invalid args of Teams 'teams' (1 error):\n"
        "  - teams.ml.gpuQuota: exceeds the environment's GPU capacity of 34 (sum over gpuPools of maxSize x "
        "gpu.count) (got 40)")
