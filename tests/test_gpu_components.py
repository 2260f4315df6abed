"""The GPU components under the contract: ``X(name, args, opts=None)``, refused bad args with
nothing registered, typed outputs registered, an existing namespace for operator installs."""

import pulumi
import pulumi_kubernetes as k8s
import pytest
from component_outputs import run_program_plan

from gpu_platform.gpu import (
    GpuAlerts,
    GpuOperator,
    GpuOperatorArgs,
    PrometheusStack,
    PrometheusStackArgs,
)
from gpu_platform.gpu.monitoring import prometheus_service_url

NAMESPACE = "kubernetes:core/v1:Namespace"
RELEASE = "kubernetes:helm.sh/v3:Release"
MIG_SINGLE = {"mig": {"profiles": {"1g.10gb": 7}, "strategy": "single"}}
MIG_MIXED = {"mig": {"profiles": {"3g.40gb": 1, "1g.10gb": 4}}}


def test_operator_refuses_pools_that_disagree_on_the_mig_strategy(refused):
    args = {"pools": {"small": {"sharing": MIG_SINGLE}, "mixed": {"sharing": MIG_MIXED}}}
    err = refused(lambda: GpuOperator("gpu", args))
    assert str(err) == (
        "invalid args of GpuOperator 'gpu' (1 error):\n"
        "  - pools: the MIG layouts of pools small declare strategy 'single' but mixed need 'mixed'; "
        "mig.strategy is one setting for the whole cluster"
    )


def test_operator_refuses_an_unknown_placement_key(refused):
    err = refused(lambda: GpuOperator("gpu", {"pools": {"a": {"driver": "image"}}}))
    assert [str(i) for i in err.issues] == [
        "pools.a.driver: must be one of 'preinstalled' or 'operator' (got \"image\")"
    ]


def test_prometheus_stack_refuses_bad_args(refused):
    err = refused(lambda: PrometheusStack("mon", {"retention": "two weeks"}))
    assert str(err) == (
        "invalid args of PrometheusStack 'mon' (1 error):\n"
        '  - retention: must match the pattern ^[0-9]+(h|d|w)$ (got "two weeks")'
    )


def test_alerts_refuse_a_rule_selector_label_kubernetes_would_reject(refused):
    err = refused(lambda: GpuAlerts("alerts", {"ruleSelectorLabels": {"release": "kube prometheus"}}))
    assert str(err) == (
        "invalid args of GpuAlerts 'alerts' (1 error):\n"
        "  - ruleSelectorLabels.release: must be a label value: at most 63 letters, digits, '-', "
        "'_' or '.', starting and ending alphanumeric (got \"kube prometheus\")"
    )


@pytest.fixture(scope="module")
def built():
    def program():
        before = k8s.core.v1.Namespace("before")
        PrometheusStack("mon", PrometheusStackArgs(managed_control_plane=True),
                        pulumi.ResourceOptions(depends_on=[before]))
        GpuOperator("gpu", GpuOperatorArgs(pools={"a10g": {"driver": "preinstalled"}}),
                    pulumi.ResourceOptions(depends_on=[before]))
        GpuOperator("byo", {"namespace": "platform-gpu", "createNamespace": False})
        GpuAlerts("alerts", {}, pulumi.ResourceOptions(depends_on=[before]))
        GpuAlerts("quiet", {"enabled": False})

    return run_program_plan(program)


def test_operator_registers_namespace_and_release_name(built):
    plan = built
    assert plan.one("gpu-platform:gpu:GpuOperator", "gpu").outputs == {
        "namespace": "gpu-operator", "releaseName": "gpu-operator", "chartVersion": "v26.7.0",
    }
    before = plan.one(NAMESPACE, "before").urn
    for child in plan.children(plan.one("gpu-platform:gpu:GpuOperator", "gpu")):
        assert before in child.dependencies, child.name


def test_operator_installs_into_an_existing_namespace(built):
    plan = built
    assert [r.name for r in plan.find(NAMESPACE) if r.name.startswith("byo")] == []
    release = plan.one(RELEASE, "byo-chart")
    assert release.inputs["namespace"] == "platform-gpu"
    configs = [plan.one("kubernetes:core/v1:ConfigMap", f"byo-{n}-config") for n in ("device-plugin", "mig")]
    assert {c.inputs["metadata"]["namespace"] for c in configs} == {"platform-gpu"}
    assert plan.one("gpu-platform:gpu:GpuOperator", "byo").outputs["namespace"] == "platform-gpu"


def test_prometheus_stack_registers_namespace_release_and_service_url(built):
    plan = built
    assert plan.one("gpu-platform:gpu:PrometheusStack", "mon").outputs == {
        "namespace": "monitoring",
        "releaseName": "kube-prometheus-stack",
        "prometheusUrl": "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
    }
    assert plan.one(NAMESPACE, "before").urn in plan.one(RELEASE, "mon-chart").dependencies


def test_prometheus_url_follows_the_charts_naming_helper():
    assert prometheus_service_url("m", {"fullnameOverride": "prom"}) == "http://prom-prometheus.m.svc:9090"
    # a name the release name contains: the release name alone
    assert prometheus_service_url("m", {"nameOverride": "prometheus"}) == (
        "http://kube-prometheus-stack-prometheus.m.svc:9090")
    assert prometheus_service_url("m", {"nameOverride": "kps", "prometheus": {"service": {"port": 80}}}) == (
        "http://kube-prometheus-stack-kps-prometheus.m.svc:80")
    # truncated to 26 characters
    assert prometheus_service_url("m", {"nameOverride": "prom-x"}) == (
        "http://kube-prometheus-stack-prom-prometheus.m.svc:9090")


def test_alerts_register_the_rule_name_or_none(built):
    plan = built
    assert plan.one("gpu-platform:gpu:GpuAlerts", "alerts").outputs == {
        "namespace": "gpu-operator", "ruleName": "gpu-platform-alerts", "enabled": True,
    }
    assert plan.one("gpu-platform:gpu:GpuAlerts", "quiet").outputs == {
        "namespace": "gpu-operator", "enabled": False,  # no rule: ruleName resolves to None
    }
    rule = plan.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "alerts-rules")
    assert plan.one(NAMESPACE, "before").urn in rule.dependencies


def test_a_placement_alone_renders_the_pools_sharing_config(run_component):
    """The README's standalone example: no GpuPool, only where the nodes are and how they share."""
    plan = run_component(lambda: GpuOperator("gpu", {"pools": {"a10g": {
        "driver": "preinstalled", "sharing": {"timeSlicing": {"replicas": 4}}}}}))
    data = plan.one("kubernetes:core/v1:ConfigMap", "gpu-device-plugin-config").inputs["data"]
    assert sorted(data) == ["a10g-ts-4-2ea64ca2", "default"]
    values = plan.one(RELEASE, "gpu-chart").inputs["values"]
    assert (values["driver"]["enabled"], values["toolkit"]["enabled"]) == (False, False)


@pytest.mark.parametrize("package", ["aws", "gpu", "core", "k8s"])
def test_area_packages_export_their_components_and_args(package):
    import importlib

    module = importlib.import_module(f"gpu_platform.{package}")
    assert module.__all__ == sorted(module.__all__, key=lambda n: (not n[0].isupper(), n))
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    expected = {
        "aws": {"EksCluster", "EksClusterArgs", "GpuNodePool", "GpuNodePoolArgs", "NodePoolCluster",
                "AwsAddons", "AwsAddonsArgs"},
        "gpu": {"GpuOperator", "GpuOperatorArgs", "PrometheusStack", "PrometheusStackArgs",
                "GpuAlerts", "GpuAlertsArgs"},
        "core": {"GpuPool", "PoolPlacement"},
        "k8s": {"operator_install", "OperatorInstall"},
    }[package]
    assert expected <= set(module.__all__)


def test_environments_can_use_existing_namespaces_for_the_operator_and_prometheus(plan_env):
    plan = plan_env("onprem", overrides={
        "gpu-platform:gpuOperator": {"createNamespace": False},
        "gpu-platform:monitoring": {"installPrometheusStack": True, "createNamespace": False},
    })
    names = {r.name for r in plan.find(NAMESPACE)}
    assert {"platform-gpu-operator-ns", "platform-prometheus-ns"}.isdisjoint(names)
    assert plan.one(RELEASE, "platform-gpu-operator-chart").inputs["namespace"] == "gpu-operator"
    assert plan.one(RELEASE, "platform-prometheus-chart").inputs["namespace"] == "monitoring"
