"""The four environments under the readiness rules: exactly the errors still listed in
tests/readiness_baseline.py (fixed ones must leave the list; new ones fail)."""

from __future__ import annotations

import pytest
from readiness_baseline import REMAINING

from gpu_platform.plan.runner import load_stack_config, stack_config_path
from gpu_platform.readiness import environment_facts, environment_from_config, platform_readiness
from gpu_platform.testing.fixtures import ENVIRONMENTS, PROJECT_DIR


def facts_of(env: str):
    config = load_stack_config(stack_config_path(PROJECT_DIR, env))
    return environment_facts(environment_from_config(config.values, "gpu-platform"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_errors_are_exactly_the_remaining_ones(env, plan_env):
    findings = platform_readiness(plan_env(env), facts_of(env))
    errors = {(f.rule, f.resource) for f in findings if f.severity == "error"}
    assert errors == REMAINING[env], "\n".join(
        f"{f.rule} {f.resource}: {f.message}" for f in findings)


def test_facts_pools_carry_labels_taints_and_allocatable():
    pools = {p.name: p for p in facts_of("prod").pools}
    assert sorted(pools) == ["infer", "notebooks", "system", "train"]
    train = pools["train"]
    assert train.gpu and train.labels["gpu-platform.io/pool"] == "train"
    assert list(train.taints) == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    # p5.48xlarge: 192 vCPUs, 2048 GiB, 8 H100; reserve 60+10+2*5+188*2.5 = 550m, 1565 MiB
    assert train.allocatable is not None
    assert (train.allocatable.cpu_millis, train.allocatable.gpus) == (191_450, 8)
    assert train.allocatable.memory_bytes == 2048 * 2**30 - 1565 * 2**20
    # infer: 8 whole A100 80GB (one per 70B replica: the model does not fit a 40 GB MIG slice)
    assert pools["infer"].allocatable.gpus == 8
    # notebooks: one L4 time-sliced twice
    assert pools["notebooks"].allocatable.gpus == 2
    system = pools["system"]  # m6i.4xlarge: 16 vCPUs, reserve 60+10+2*5+12*2.5 = 110m
    assert not system.gpu and system.taints == []
    assert system.allocatable.cpu_millis == 15_890


def test_existing_cluster_declares_storage_classes_and_policy_enforcement():
    facts = facts_of("onprem")
    assert [p.name for p in facts.pools] == ["a100", "general"]
    assert facts.pools[1].allocatable is None
    assert facts.storage_classes == () and facts.network_policy_enforced is False


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_eks_vpc_cni_enforces_network_policies(env, plan_env):
    from gpu_platform.readiness.network import plan_enforces_policies

    plan = plan_env(env)
    (cni,) = [a for a in plan.find("aws:eks/addon:Addon") if a.inputs["addonName"] == "vpc-cni"]
    assert cni.inputs["configurationValues"] == '{"enableNetworkPolicy": "true"}'
    assert plan_enforces_policies(platform_input(plan, env))


def platform_input(plan, env):
    from gpu_platform.plan.readiness import ReadinessInput

    return ReadinessInput.from_plan(plan, facts_of(env))


def test_a_pool_with_its_own_taint_is_served_by_every_gpu_node_daemonset(plan_env):
    """Issue 13: prod's train pool tainted team=llm:NoSchedule (seed 003's first failure mode)."""
    import yaml

    config = yaml.safe_load((PROJECT_DIR / "stacks" / "Pulumi.prod.yaml").read_text())["config"]
    pools = config["gpu-platform:gpuPools"]
    pools["train"]["taints"] = [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"},
                                {"key": "team", "value": "llm", "effect": "NoSchedule"}]
    overrides = {"gpu-platform:gpuPools": pools}
    plan = plan_env("prod", overrides=overrides)
    stack = load_stack_config(stack_config_path(PROJECT_DIR, "prod"), overrides=overrides)
    facts = environment_facts(environment_from_config(stack.values, "gpu-platform"))
    assert any(t["key"] == "team" for p in facts.pools for t in p.taints)
    findings = platform_readiness(plan, facts)
    # the GPU Operator's operands and NFD worker, the JuiceFS node plugin and the EFA device
    # plugin all tolerate the new taint; the other findings are prod's remaining ones
    assert [f for f in findings if f.rule == "scheduling"] == []
    assert {(f.rule, f.resource) for f in findings if f.severity == "error"} == REMAINING["prod"]
    (operator,) = [r for r in plan.helm_releases() if r.inputs["chart"] == "gpu-operator"]
    nfd = operator.inputs["values"]["node-feature-discovery"]["worker"]["tolerations"]
    assert {"key": "team", "operator": "Equal", "value": "llm", "effect": "NoSchedule"} in nfd
