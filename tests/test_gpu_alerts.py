"""GPU alerts: exact PromQL of every rule, overrides, disabled rules, and the PrometheusRule."""

import pytest

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.gpu.alerts import GpuAlerts, GpuAlertsConfig, gpu_alert_rules

RULE_TYPE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def alerts_config(**data):
    return validate_model(GpuAlertsConfig, data)


def by_name(config):
    return {rule["alert"]: rule for rule in gpu_alert_rules(config)}


def test_default_rules_have_exact_expressions_durations_and_severities():
    rules = by_name(alerts_config())
    assert {name: (r["expr"], r["for"], r["labels"]) for name, r in rules.items()} == {
        "GpuUnavailable": (
            'kube_node_status_allocatable{resource="nvidia_com_gpu"}'
            ' < kube_node_status_capacity{resource="nvidia_com_gpu"}'
            ' or kube_node_status_capacity{resource="nvidia_com_gpu"} == 0',
            "5m", {"severity": "critical"},
        ),
        "GpuLowUtilization": (
            "avg by (Hostname, gpu) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[10m])) < 20",
            "30m", {"severity": "warning"},
        ),
        "GpuMemoryNearFull": (
            "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 0.95",
            "5m", {"severity": "warning"},
        ),
        "GpuXidErrors": ("DCGM_FI_DEV_XID_ERRORS > 0", "0m", {"severity": "critical"}),
        "GpuTemperatureHigh": ("DCGM_FI_DEV_GPU_TEMP > 85", "5m", {"severity": "warning"}),
        "TrainingStalled": ("rate(training_step_total[30m]) == 0", "30m", {"severity": "warning"}),
        "InferenceLatencyHigh": (
            "histogram_quantile(0.99, sum by (namespace, model_name, le)"
            " (rate(vllm:e2e_request_latency_seconds_bucket[5m]))) > 30",
            "5m", {"severity": "warning"},
        ),
        "InferenceQueueBacklog": (
            "sum by (namespace, model_name) (vllm:num_requests_waiting) > 100",
            "5m", {"severity": "warning"},
        ),
    }


def test_annotations_are_english_templates_with_label_placeholders():
    rules = by_name(alerts_config())
    assert rules["GpuLowUtilization"]["annotations"] == {
        "summary": "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} is mostly idle",
        "description": "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} averaged {{ $value }}% "
        "utilisation, below 20%: release it or scale the pool down.",
    }
    for rule in rules.values():
        assert set(rule["annotations"]) == {"summary", "description"}
        assert "{{ $labels." in rule["annotations"]["summary"] + rule["annotations"]["description"]


def test_overrides_change_thresholds_windows_metric_and_severity():
    rules = by_name(alerts_config(
        gpuLowUtilization={"threshold": 35, "window": "15m", "for": "1h"},
        gpuMemoryNearFull={"threshold": 0.9, "severity": "critical"},
        trainingStalled={"metric": "trainer:global_step_total", "window": "1h"},
        inferenceLatencyHigh={"threshold": 2.5},
        inferenceQueueBacklog={"threshold": 10},
    ))
    assert rules["GpuLowUtilization"]["expr"] == (
        "avg by (Hostname, gpu) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[15m])) < 35"
    )
    assert rules["GpuLowUtilization"]["for"] == "1h"
    assert rules["GpuMemoryNearFull"]["expr"].endswith(" > 0.9")
    assert rules["GpuMemoryNearFull"]["labels"] == {"severity": "critical"}
    assert rules["TrainingStalled"]["expr"] == "rate(trainer:global_step_total[1h]) == 0"
    assert rules["InferenceLatencyHigh"]["expr"].endswith("[5m]))) > 2.5")
    assert rules["InferenceQueueBacklog"]["expr"].endswith(" > 10")


def test_disabled_alerts_are_omitted():
    config = alerts_config(trainingStalled={"enabled": False}, gpuTemperatureHigh={"enabled": False})
    assert [r["alert"] for r in gpu_alert_rules(config)] == [
        "GpuUnavailable", "GpuLowUtilization", "GpuMemoryNearFull", "GpuXidErrors",
        "InferenceLatencyHigh", "InferenceQueueBacklog",
    ]


def test_bad_settings_name_the_path_value_and_fix():
    with pytest.raises(ConfigError) as err:
        alerts_config(
            gpuXidErrors={"for": "5 minutes"},
            gpuLowUtilization={"severity": "page", "threshold": -1},
            trainingStalled={"metric": "training-steps"},
        )
    assert str(err.value) == "\n".join([
        "invalid configuration (4 errors):",
        "  - gpuLowUtilization.severity: must be one of 'warning' or 'critical' (got \"page\")",
        "  - gpuLowUtilization.threshold: must be >= 0.0 (got -1)",
        "  - gpuXidErrors.for: must be a Prometheus duration such as 30s, 5m or 1h (got \"5 minutes\")",
        "  - trainingStalled.metric: must be a Prometheus metric name (letters, digits, '_' and ':') "
        "(got \"training-steps\")",
    ])


def test_component_renders_one_conformant_prometheus_rule(run_component, conformance):
    config = alerts_config(ruleSelectorLabels={"release": "kube-prometheus-stack"})
    plan = run_component(lambda: GpuAlerts("alerts", config))
    rule = plan.one(RULE_TYPE, "alerts-rules")
    assert rule.parent.endswith("gpu-platform:gpu:GpuAlerts::alerts")
    assert rule.inputs["metadata"] == {
        "name": "gpu-platform-alerts",
        "namespace": "gpu-operator",
        "labels": {
            "app.kubernetes.io/managed-by": "pulumi",
            "app.kubernetes.io/part-of": "gpu-platform",
            "app.kubernetes.io/component": "gpu-alerts",
            "release": "kube-prometheus-stack",
        },
    }
    assert rule.inputs["spec"] == {"groups": [{"name": "gpu-platform", "rules": gpu_alert_rules(config)}]}
    objects = [o for o in plan.kubernetes_objects() if o["kind"] == "PrometheusRule"]
    assert len(objects) == 1
    conformance.assert_conformant(conformance.validate_object(objects[0]))


def test_disabled_component_renders_nothing(run_component):
    plan = run_component(lambda: GpuAlerts("alerts", alerts_config(enabled=False)))
    assert plan.find(RULE_TYPE) == []


def test_partial_override_keeps_that_alerts_other_defaults():
    rules = by_name(alerts_config(gpuTemperatureHigh={"severity": "critical"}, gpuXidErrors={"for": "1m"}))
    assert rules["GpuTemperatureHigh"]["expr"] == "DCGM_FI_DEV_GPU_TEMP > 85"
    assert (rules["GpuTemperatureHigh"]["for"], rules["GpuTemperatureHigh"]["labels"]) == (
        "5m", {"severity": "critical"},
    )
    assert (rules["GpuXidErrors"]["for"], rules["GpuXidErrors"]["labels"]) == ("1m", {"severity": "critical"})
