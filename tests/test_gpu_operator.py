"""GPU Operator: pinned chart, driver ownership from the pools, sharing ConfigMaps, tolerations."""

import pytest
import yaml

from gpu_platform.config import validate_model
from gpu_platform.core.pools import GpuPool, node_labels
from gpu_platform.gpu.operator import (
    GpuDirectRdma,
    GpuOperator,
    GpuOperatorArgs,
    GpuOperatorConfig,
    gpu_operator_values,
)
from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.testing.fixtures import ENVIRONMENTS

RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"


def pool(**overrides):
    data = {"role": "training", "gpu": {"model": "A100-80GB", "count": 8}, "maxSize": 2}
    return validate_model(GpuPool, {**data, **overrides})


def operator_config(**data):
    return validate_model(GpuOperatorConfig, data)


def test_driver_is_off_where_every_pool_image_ships_it():
    values = gpu_operator_values(operator_config(), {"a": pool(driver="preinstalled")})
    assert values["driver"]["enabled"] is False
    assert values["toolkit"]["enabled"] is False


def test_driver_stays_on_with_mixed_ownership_and_preinstalled_nodes_opt_out_by_label():
    pools = {"a": pool(driver="preinstalled"), "b": pool()}
    values = gpu_operator_values(operator_config(), pools)
    assert (values["driver"]["enabled"], values["toolkit"]["enabled"]) == (True, True)
    assert node_labels("a", pools["a"])["nvidia.com/gpu.deploy.driver"] == "false"
    assert node_labels("a", pools["a"])["nvidia.com/gpu.deploy.container-toolkit"] == "false"
    assert "nvidia.com/gpu.deploy.driver" not in node_labels("b", pools["b"])


def test_driver_version_is_pinned_and_typed():
    values = gpu_operator_values(operator_config(driver={"version": "580.95.05"}), {"a": pool()})
    assert values["driver"]["version"] == "580.95.05"
    assert gpu_operator_values(operator_config(), {})["driver"]["version"] == "595.91.07"


def test_tolerations_cover_every_pool_taint_and_the_upstream_default():
    pools = {
        "a": pool(),
        "b": pool(taints=[{"key": "dedicated", "value": "inference", "effect": "NoSchedule"}]),
    }
    assert gpu_operator_values(operator_config(), pools)["daemonsets"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
        {"key": "dedicated", "operator": "Equal", "value": "inference", "effect": "NoSchedule"},
    ]


def test_gpudirect_rdma_follows_the_network_layer():
    pools = {"a": pool()}
    assert gpu_operator_values(operator_config(), pools)["driver"]["rdma"] == {
        "enabled": False, "useHostMofed": False,
    }
    rdma = gpu_operator_values(operator_config(), pools, GpuDirectRdma(use_host_mofed=True))
    assert rdma["driver"]["rdma"] == {"enabled": True, "useHostMofed": True}


def test_mig_manager_and_strategy_follow_the_pools_layouts():
    whole = gpu_operator_values(operator_config(), {"a": pool()})
    assert whole["migManager"]["enabled"] is False
    mixed = gpu_operator_values(operator_config(), {
        "infer": pool(sharing={"mig": {"devices": [{"3g.40gb": 1, "1g.10gb": 4}] * 8}}),
    })
    assert mixed["migManager"] == {
        "enabled": True, "config": {"name": "mig-parted-configs", "default": "all-disabled"},
    }
    assert mixed["mig"] == {"strategy": "mixed"}


def test_dcgm_service_monitor_can_be_switched_off():
    values = gpu_operator_values(operator_config(dcgmExporter={"serviceMonitor": False}), {})
    assert values["dcgmExporter"] == {
        "enabled": True, "serviceMonitor": {"enabled": False, "interval": "15s"},
    }


def test_values_overrides_are_merged_last():
    config = operator_config(valuesOverrides={"driver": {"enabled": True}, "cdi": {"enabled": False}})
    values = gpu_operator_values(config, {"a": pool(driver="preinstalled")})
    assert values["driver"]["enabled"] is True
    assert values["driver"]["version"] == "595.91.07"
    assert values["cdi"] == {"enabled": False}


def test_unknown_operator_key_is_an_error():
    from gpu_platform.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        operator_config(dcgmExporter={"servicemonitor": False})
    assert [str(i) for i in caught.value.issues] == [
        "dcgmExporter.servicemonitor: unknown key; did you mean 'serviceMonitor'? allowed keys: "
        "enabled, interval, serviceMonitor"
    ]


@pytest.fixture
def dev_like_plan(run_component):
    pools = {
        "a10g": validate_model(GpuPool, {
            "role": "interactive", "gpu": {"model": "A10G", "count": 1}, "driver": "preinstalled",
            "sharing": {"timeSlicing": {"replicas": 4}},
        }),
    }
    return run_component(lambda: GpuOperator("gpu", GpuOperatorArgs.of(operator_config(), pools)))


def test_component_renders_namespace_configmaps_and_pinned_release(dev_like_plan):
    plan = dev_like_plan
    ns = plan.one("kubernetes:core/v1:Namespace", "gpu-ns").inputs["metadata"]
    assert ns["name"] == "gpu-operator"
    assert ns["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    release = plan.one(RELEASE, "gpu-chart")
    chart = helm_release_manifest(release)
    assert (chart["repository"], chart["chart"], chart["version"], chart["namespace"]) == (
        "https://helm.ngc.nvidia.com/nvidia", "gpu-operator", "v26.7.0", "gpu-operator",
    )
    configs = plan.one(CONFIGMAP, "gpu-device-plugin-config")
    assert sorted(release.dependencies) == sorted([
        plan.one("kubernetes:core/v1:Namespace", "gpu-ns").urn,
        configs.urn,
        plan.one(CONFIGMAP, "gpu-mig-config").urn,
    ])
    assert yaml.safe_load(configs.inputs["data"]["a10g-ts-4-2ea64ca2"]) == {
        "version": "v1",
        "sharing": {"timeSlicing": {
            "renameByDefault": False, "failRequestsGreaterThanOne": True,
            "resources": [{"name": "nvidia.com/gpu", "replicas": 4}],
        }},
    }
    assert release.inputs["values"]["devicePlugin"]["config"] == {
        "name": "device-plugin-configs", "default": "default",
    }


def test_rendered_objects_and_values_conform_upstream(dev_like_plan, conformance):
    conformance.assert_conformant(conformance.validate_all(dev_like_plan.kubernetes_objects()))
    values = dev_like_plan.one(RELEASE, "gpu-chart").inputs["values"]
    conformance.assert_conformant(
        conformance.validate_helm_values("gpu-operator", values)
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_plans_the_operator_with_tolerations_for_its_pools(plan_env, env):
    plan = plan_env(env)
    release = plan.one(RELEASE, "platform-gpu-operator-chart")
    assert release.inputs["version"] == "v26.7.0"
    tolerations = release.inputs["values"]["daemonsets"]["tolerations"]
    for pool_outputs in plan.outputs["gpuPools"].values():
        for toleration in pool_outputs["tolerations"]:
            assert toleration in tolerations


def test_dev_time_slices_and_prod_serves_on_whole_inference_gpus(plan_env):
    dev_labels = plan_env("dev").outputs["gpuPools"]["a10g"]["nodeLabels"]
    assert dev_labels["nvidia.com/device-plugin.config"].startswith("a10g-ts-4-")
    # prod's 70B AWQ model does not fit a 3g.40gb slice (serving.sizing): whole A100s, no MIG
    # (the MIG rendering is covered by the pool-level tests above and in test_gpu_sharing)
    prod = plan_env("prod")
    infer_labels = prod.outputs["gpuPools"]["infer"]["nodeLabels"]
    assert "nvidia.com/mig.config" not in infer_labels
    values = prod.one(RELEASE, "platform-gpu-operator-chart").inputs["values"]
    assert values["migManager"]["enabled"] is False


def test_driver_ownership_per_environment(plan_env):
    driver = {
        env: plan_env(env).one(RELEASE, "platform-gpu-operator-chart").inputs["values"]["driver"]
        for env in ENVIRONMENTS
    }
    # EKS pools run the NVIDIA AMIs (driver shipped); onprem nodes get it from the operator
    assert {env: d["enabled"] for env, d in driver.items()} == {
        "dev": False, "staging": False, "prod": False, "onprem": True,
    }


def test_operator_can_be_switched_off(plan_env):
    plan = plan_env("dev", overrides={"gpu-platform:gpuOperator": {"enabled": False}})
    assert plan.find("gpu-platform:gpu:GpuOperator") == []




def test_platform_turns_on_gpudirect_rdma_where_an_rdma_network_exists(plan_env):
    rdma = {
        env: plan_env(env).one(RELEASE, "platform-gpu-operator-chart").inputs["values"]["driver"]["rdma"]
        for env in ENVIRONMENTS
    }
    # onprem has rdma-net on host MOFED; the EKS environments use EFA, not RDMA NICs
    assert rdma == {
        "dev": {"enabled": False, "useHostMofed": False},
        "staging": {"enabled": False, "useHostMofed": False},
        "prod": {"enabled": False, "useHostMofed": False},
        "onprem": {"enabled": True, "useHostMofed": True},
    }
