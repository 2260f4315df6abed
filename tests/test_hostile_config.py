"""Property-based tests of the environment model: every invalid config is rejected, before any
resource is registered, with a message naming its dotted path; no input produces a traceback;
every valid generated config plans."""

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpu_platform.catalog.gpus import GPU_MODELS
from gpu_platform.config import ConfigError, validate_model
from gpu_platform.environment import EnvironmentConfig, load_environment
from gpu_platform.plan.capture import CapturingMonitor, PlanMocks
from gpu_platform.plan.runner import run_program
from gpu_platform.platform import GpuPlatform
from gpu_platform.testing.fixtures import component_config

names = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True)
gpu_models = st.sampled_from(sorted(GPU_MODELS))


@st.composite
def pools(draw):
    result = {}
    for name in draw(st.lists(names, min_size=1, max_size=4, unique=True)):
        minimum = draw(st.integers(0, 3))
        result[name] = {
            "role": draw(st.sampled_from(["training", "inference", "interactive"])),
            "gpu": {"model": draw(gpu_models), "count": draw(st.sampled_from([1, 2, 4, 8]))},
            "minSize": minimum,
            "maxSize": draw(st.integers(max(minimum, 1), minimum + 4)),
            "driver": draw(st.sampled_from(["operator", "preinstalled"])),
        }
    return result


@st.composite
def environments(draw):
    gpu_pools = draw(pools())
    capacity = sum(p["maxSize"] * p["gpu"]["count"] for p in gpu_pools.values())
    pool_names = sorted(gpu_pools)
    teams = {
        team: {"gpuQuota": draw(st.integers(0, capacity))}
        for team in draw(st.lists(names, max_size=3, unique=True))
    }
    services = {}
    for service in draw(st.lists(names, max_size=2, unique=True)):
        pool = draw(st.sampled_from(pool_names))
        services[service] = {
            "storageUri": f"pvc://models/{service}",
            "pool": pool,
            "model": {"catalog": "qwen2.5-1.5b-instruct"},
            "gpus": draw(st.integers(1, gpu_pools[pool]["gpu"]["count"])),
        }
    env = {"cluster": {"kind": "existing", "context": "ctx"}, "gpuPools": gpu_pools}
    if teams:
        env["training"] = {"enabled": True, "teams": teams}
    if services:
        env["serving"] = {"enabled": True, "inferenceServices": services}
    return env


def plan_config(env):
    return component_config(env)


def program():
    GpuPlatform("platform", load_environment())


# --- hostile mutations: (mutation, the dotted path its error must name) ------------------------

def first_pool(env):
    return sorted(env["gpuPools"])[0]


MUTATIONS = {
    "negative count": lambda e: (e["gpuPools"][first_pool(e)]["gpu"].__setitem__("count", -1),
                                 f"gpuPools.{first_pool(e)}.gpu.count"),
    "zero max size": lambda e: (e["gpuPools"][first_pool(e)].__setitem__("maxSize", 0),
                                f"gpuPools.{first_pool(e)}.maxSize"),
    "min above max": lambda e: (e["gpuPools"][first_pool(e)].update(minSize=9, maxSize=2),
                                f"gpuPools.{first_pool(e)}.minSize"),
    "unknown key": lambda e: (e["gpuPools"][first_pool(e)].__setitem__("maxSzie", 3),
                              f"gpuPools.{first_pool(e)}.maxSzie"),
    "wrong type": lambda e: (e["gpuPools"][first_pool(e)].__setitem__("minSize", "three"),
                             f"gpuPools.{first_pool(e)}.minSize"),
    "empty name": lambda e: (e["gpuPools"].__setitem__("", e["gpuPools"][first_pool(e)]),
                             "gpuPools."),
    "unknown pool": lambda e: (e.__setitem__("serving", {"enabled": True, "inferenceServices": {
        "svc": {"storageUri": "pvc://m/x", "pool": "nonexistent", "gpus": 1}}}),
        "serving.inferenceServices.svc.pool"),
    "bad cidr": lambda e: (e.__setitem__("network", {"enabled": True, "networks": {"n": {
        "type": "macvlan", "namespace": "default", "master": "eth1", "range": "10.0.0.300/24"}}}),
        "network.networks.n.range"),
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(environments())
def test_every_valid_generated_config_validates_and_plans(env):
    validate_model(EnvironmentConfig, env)
    plan = run_program(program, project="gpu-platform", stack="prop", config=plan_config(env))
    assert plan.one("gpu-platform:index:Platform", "platform")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(environments(), st.sampled_from(sorted(MUTATIONS)))
def test_every_invalid_config_is_rejected_naming_its_path_before_any_registration(env, mutation):
    env = copy.deepcopy(env)
    _, path = MUTATIONS[mutation](env)
    with pytest.raises(ConfigError) as caught:
        validate_model(EnvironmentConfig, env)
    paths = [issue.path for issue in caught.value.issues]
    assert any(p == path or p.startswith(path) for p in paths), (mutation, paths)

    monitor = CapturingMonitor(PlanMocks())
    with pytest.raises(ConfigError):
        run_program(program, project="gpu-platform", stack="prop", config=plan_config(env),
                    monitor=monitor)
    assert monitor.registrations == {}  # nothing registered: the error came first


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children,
                                                                         max_size=3),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(
    ["cluster", "gpuPools", "gpuOperator", "gpuAlerts", "training", "serving", "network", "storage",
     "aws", "typo"]), json_values, max_size=5))
def test_no_input_produces_anything_but_a_config_error(data):
    try:
        validate_model(EnvironmentConfig, data)
    except ConfigError as error:
        assert all(issue.path or issue.message for issue in error.issues)
