"""kube-prometheus-stack, where the cluster has no Prometheus operator: pinned, typed, ordered."""

import pytest

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.gpu.monitoring import (
    MonitoringConfig,
    PrometheusStack,
    PrometheusStackArgs,
    prometheus_stack_values,
)
from gpu_platform.plan.model import helm_release_manifest
from gpu_platform.testing.fixtures import ENVIRONMENTS

RELEASE = "kubernetes:helm.sh/v3:Release"


def config(**data):
    return validate_model(MonitoringConfig, data)


def test_prometheus_selects_every_rule_and_service_monitor():
    spec = prometheus_stack_values(config(), managed_control_plane=False)["prometheus"]["prometheusSpec"]
    assert spec == {
        "retention": "15d",
        "ruleSelectorNilUsesHelmValues": False,
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
    }


def test_storage_size_gives_prometheus_a_volume():
    spec = prometheus_stack_values(config(storageSize="500Gi"), managed_control_plane=False)
    claim = spec["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "500Gi"}}}


def test_managed_control_planes_are_not_scraped():
    values = prometheus_stack_values(config(), managed_control_plane=True)
    assert {k: values[k] for k in ("kubeControllerManager", "kubeScheduler", "kubeEtcd")} == {
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
    }
    assert "kubeEtcd" not in prometheus_stack_values(config(), managed_control_plane=False)


def test_bad_retention_names_the_path():
    with pytest.raises(ConfigError) as caught:
        config(retention="forever")
    assert [str(i) for i in caught.value.issues] == [
        "retention: must match the pattern ^[0-9]+(h|d|w)$ (got \"forever\")"
    ]


def test_values_conform_to_the_pinned_chart(conformance):
    values = prometheus_stack_values(
        config(storageSize="1Ti", grafana=False), managed_control_plane=True
    )
    conformance.assert_conformant(conformance.validate_helm_values("kube-prometheus-stack", values))


def test_component_installs_the_pinned_chart_in_a_privileged_namespace(run_component):
    plan = run_component(
        lambda: PrometheusStack("mon", PrometheusStackArgs.of(config(), managed_control_plane=False))
    )
    labels = plan.one("kubernetes:core/v1:Namespace", "mon-ns").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    chart = helm_release_manifest(plan.one(RELEASE, "mon-chart"))
    assert (chart["release"], chart["repository"], chart["chart"], chart["version"]) == (
        "kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts",
        "kube-prometheus-stack", "88.5.3",
    )
    # its CRDs are chart templates: the release is guarded (gpu_platform.k8s.crds)
    release = plan.one(RELEASE, "mon-chart")
    assert (release.protect, release.retain_on_delete) == (True, True)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_gpu_operator_and_alerts_wait_for_the_prometheus_crds(plan_env, env):
    plan = plan_env(env)
    stack = plan.one(RELEASE, "platform-prometheus-chart")
    operator = plan.one("gpu-platform:gpu:GpuOperator", "platform-gpu-operator")
    rules = plan.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "platform-gpu-alerts-rules")
    assert stack.urn in operator.dependencies
    assert stack.urn in rules.dependencies
