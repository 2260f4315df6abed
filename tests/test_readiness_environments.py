"""The four environments under the readiness rules: zero errors, with and without the charts
rendered from ../shared/upstream/charts-src (issue 13's "done when")."""

from __future__ import annotations

import pytest

from gpu_platform.plan.runner import load_stack_config, stack_config_path
from gpu_platform.readiness import environment_facts, environment_from_config, platform_readiness
from gpu_platform.readiness.stack import stack_readiness
from gpu_platform.testing.conformance import upstream_root
from gpu_platform.testing.fixtures import ENVIRONMENTS, PROJECT_DIR

UPSTREAM = upstream_root()
CHARTS = UPSTREAM / "charts-src" if UPSTREAM else None


def facts_of(env: str):
    config = load_stack_config(stack_config_path(PROJECT_DIR, env))
    return environment_facts(environment_from_config(config.values, "gpu-platform"))


def errors_of(findings) -> list[str]:
    return [f"{f.rule} {f.resource}: {f.message}" for f in findings if f.severity == "error"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_has_no_readiness_error(env, plan_env):
    assert errors_of(platform_readiness(plan_env(env), facts_of(env))) == []


@pytest.mark.skipif(CHARTS is None or not CHARTS.is_dir(), reason="../shared/upstream/charts-src is absent")
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_has_no_readiness_error_with_charts_rendered(env, plan_env):
    ready = stack_readiness(plan_env(env), project_dir=PROJECT_DIR, stack=env, charts_dir=CHARTS,
                            cache_dir=PROJECT_DIR / "build" / ".chart-cache")
    assert ready.charts_rendered and ready.rendered
    assert all(r.error is None for r in ready.rendered)
    assert errors_of(ready.findings) == []


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
    from gpu_platform.plan.readiness import StorageClassFact

    facts = facts_of("onprem")
    assert [p.name for p in facts.pools] == ["a100", "general"]
    assert facts.pools[1].allocatable is None
    # stacks/Pulumi.onprem.yaml cluster: the lab's default class and its CNI's enforcement
    assert facts.storage_classes == (StorageClassFact("local-path", "rancher.io/local-path", True),)
    assert facts.csi_drivers == frozenset({"rancher.io/local-path"})
    assert facts.network_policy_enforced is True


def test_an_existing_cluster_without_its_facts_is_not_ready(plan_env):
    """Without the declared facts, onprem's claims have no default class and its NetworkPolicies
    are not known to be enforced: the facts are what makes it ready, not a silenced rule."""
    from dataclasses import replace

    facts = replace(facts_of("onprem"), storage_classes=(), csi_drivers=frozenset(),
                    network_policy_enforced=False)
    errors = {(f.rule, f.resource) for f in platform_readiness(plan_env("onprem"), facts)
              if f.severity == "error"}
    assert ("network", "Namespace/ml") in errors
    assert ("storage", "helm/monitoring/kube-prometheus-stack values.prometheus.prometheusSpec"
                       ".storageSpec.volumeClaimTemplate") in errors


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_eks_plans_create_the_default_class_and_install_its_driver(env, plan_env):
    from gpu_platform.readiness.storage import installed_drivers, storage_classes

    subject = platform_input(plan_env(env), env)
    assert storage_classes(subject)["gp3"] == ("ebs.csi.aws.com", True)
    assert "ebs.csi.aws.com" in installed_drivers(subject)
    assert facts_of(env).storage_classes == ()  # from the plan, not declared


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
    # plugin all tolerate the new taint
    assert [f for f in findings if f.rule == "scheduling"] == []
    assert errors_of(findings) == []
    (operator,) = [r for r in plan.helm_releases() if r.inputs["chart"] == "gpu-operator"]
    nfd = operator.inputs["values"]["node-feature-discovery"]["worker"]["tolerations"]
    assert {"key": "team", "operator": "Equal", "value": "llm", "effect": "NoSchedule"} in nfd


def test_a_mig_pool_advertises_its_slices_and_a_time_sliced_pool_its_replicas():
    # prod no longer uses MIG (the 70B model needs whole GPUs), so the MIG count is pinned here
    from gpu_platform.core.pools import GpuPool
    from gpu_platform.readiness.facts import advertised_gpus

    def pool(sharing):
        return GpuPool.model_validate({"role": "inference", "gpu": {"model": "A100-80GB", "count": 8},
                                       "sharing": sharing})

    assert advertised_gpus(pool({"mig": {"profiles": {"3g.40gb": 2}}})) == 16
    assert advertised_gpus(pool({"timeSlicing": {"replicas": 4}})) == 32
    assert advertised_gpus(pool({})) == 8
