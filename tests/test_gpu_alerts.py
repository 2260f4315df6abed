"""GPU alerts: exact PromQL of every rule, overrides, disabled rules, and the PrometheusRule."""

import pytest

from gpu_platform.config import ConfigError, validate_model
from gpu_platform.gpu.alerts import GpuAlerts, GpuAlertsConfig, gpu_alert_rules

RULE_TYPE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def alerts_config(**data):
    return validate_model(GpuAlertsConfig, data)


def by_name(config):
    return {rule["alert"]: rule for rule in gpu_alert_rules(config)}


GPU_RESOURCES = 'resource=~"nvidia_com_gpu|nvidia_com_gpu_shared|nvidia_com_mig_.+"'
GPU_REQUESTS = f"kube_pod_container_resource_requests{{{GPU_RESOURCES}}} > 0"
LOW_UTIL_BY = "avg by (Hostname, hostname, gpu, GPU_I_ID, exported_namespace, exported_pod)"


def low_utilization(window, threshold):
    return (
        f'({LOW_UTIL_BY} (avg_over_time(DCGM_FI_PROF_GR_ENGINE_ACTIVE{{exported_pod!=""}}[{window}])) * 100'
        f' or {LOW_UTIL_BY} (avg_over_time(DCGM_FI_DEV_GPU_UTIL{{exported_pod!=""}}[{window}])))'
        f" < {threshold}"
    )


def test_default_rules_have_exact_expressions_durations_and_severities():
    rules = by_name(alerts_config())
    isvc_ratio = (
        "sum by (namespace, inference_service) (rate({m}{{inference_service!=\"\"{scope}, {bad}}}[5m]))"
        " / sum by (namespace, inference_service) (rate({m}{{inference_service!=\"\"{scope}}}[5m]))"
    )
    http = isvc_ratio.format(m="http_requests_total", scope=', handler=~"/v1/.+"', bad='status=~"5.."')
    engine = isvc_ratio.format(m="vllm:request_success_total", scope="", bad='finished_reason="error"')
    assert {name: (r["expr"], r["for"], r["labels"]) for name, r in rules.items()} == {
        "GpuUnavailable": (
            f"sum by (node) (kube_node_status_allocatable{{{GPU_RESOURCES}}})"
            f" < sum by (node) (kube_node_status_capacity{{{GPU_RESOURCES}}})"
            f" or sum by (node) (kube_node_status_capacity{{{GPU_RESOURCES}}}) == 0",
            "5m", {"severity": "critical"},
        ),
        "GpuLowUtilization": (low_utilization("10m", 20), "30m", {"severity": "warning"}),
        "GpuMemoryNearFull": (
            "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 0.95",
            "5m", {"severity": "warning"},
        ),
        "GpuXidErrors": ("DCGM_FI_DEV_XID_ERRORS > 0", "0m", {"severity": "critical"}),
        "GpuTemperatureHigh": ("DCGM_FI_DEV_GPU_TEMP > 85", "5m", {"severity": "warning"}),
        "GpuContainerOomKilled": (
            'kube_pod_container_status_last_terminated_reason{reason="OOMKilled"} == 1'
            " and on (namespace, pod, container) increase(kube_pod_container_status_restarts_total[15m]) > 0"
            f" and on (namespace, pod, container) {GPU_REQUESTS}",
            "0m", {"severity": "warning"},
        ),
        "GpuContainerRestarting": (
            "increase(kube_pod_container_status_restarts_total[30m]) >= 3"
            f" and on (namespace, pod, container) {GPU_REQUESTS}",
            "0m", {"severity": "warning"},
        ),
        "TrainingJobFailed": (
            "max by (namespace, job_name, owner_kind, owner_name)"
            ' (kube_job_owner{owner_kind=~"JobSet|RayJob"})'
            " * on (namespace, job_name) group_left ()"
            ' (max by (namespace, job_name) (kube_job_failed{condition="true"}) == 1)',
            "0m", {"severity": "warning"},
        ),
        "TrainingStalled": ("rate(training_step_total[30m]) == 0", "30m", {"severity": "warning"}),
        "InferenceErrorRate": (f"({http}) > 0.05 or ({engine}) > 0.05", "10m", {"severity": "warning"}),
        "InferenceLatencyHigh": (
            "histogram_quantile(0.99, sum by (namespace, inference_service, model_name, le)"
            " (rate(vllm:e2e_request_latency_seconds_bucket[5m]))) > 30",
            "5m", {"severity": "warning"},
        ),
        "InferenceQueueBacklog": (
            "sum by (namespace, inference_service, model_name) (vllm:num_requests_waiting) > 100",
            "5m", {"severity": "warning"},
        ),
    }


def test_annotations_name_the_component_and_the_first_command():
    rules = by_name(alerts_config())
    assert rules["GpuUnavailable"]["annotations"] == {
        "summary": "GPUs unavailable on node {{ $labels.node }}",
        "description": "Node {{ $labels.node }} offers only {{ $value }} schedulable GPUs, fewer than "
        "it has: the device plugin marked GPUs unhealthy or lost them (check XID errors).",
        # the device plugin runs in the GPU Operator's namespace, not kube-system
        "component": "NVIDIA device plugin (GPU Operator, namespace gpu-operator) on node {{ $labels.node }}",
        "runbook": "First run: kubectl -n gpu-operator get pods -l app=nvidia-device-plugin-daemonset "
        "-o wide --field-selector spec.nodeName={{ $labels.node }}",
    }
    assert rules["GpuLowUtilization"]["annotations"]["summary"] == (
        "GPU {{ $labels.gpu }} on {{ $labels.Hostname }}{{ $labels.hostname }} held by "
        "{{ $labels.exported_namespace }}/{{ $labels.exported_pod }} is mostly idle"
    )
    assert rules["InferenceErrorRate"]["annotations"]["runbook"] == (
        "First run: kubectl -n {{ $labels.namespace }} logs -l serving.kserve.io/inferenceservice="
        "{{ $labels.inference_service }} -c kserve-container --tail=200"
    )
    for rule in rules.values():
        annotations = rule["annotations"]
        assert set(annotations) == {"summary", "description", "component", "runbook"}
        assert annotations["runbook"].startswith("First run: kubectl ")
        assert "{{ $labels." in annotations["summary"] + annotations["description"]
        assert "kube-system" not in annotations["runbook"]


def test_a_gpu_operator_in_another_namespace_is_named_in_the_runbooks():
    rules = by_name(alerts_config(namespace="nvidia"))
    assert "kubectl -n nvidia get pods" in rules["GpuUnavailable"]["annotations"]["runbook"]
    assert "namespace nvidia" in rules["GpuXidErrors"]["annotations"]["component"]


def test_overrides_change_thresholds_windows_metric_and_severity():
    rules = by_name(alerts_config(
        gpuLowUtilization={"threshold": 35, "window": "15m", "for": "1h"},
        gpuMemoryNearFull={"threshold": 0.9, "severity": "critical"},
        gpuContainerRestarting={"threshold": 5, "window": "1h"},
        trainingStalled={"metric": "trainer:global_step_total", "window": "1h"},
        inferenceErrorRate={"threshold": 0.01, "window": "10m"},
        inferenceLatencyHigh={"threshold": 2.5},
        inferenceQueueBacklog={"threshold": 10},
    ))
    assert rules["GpuLowUtilization"]["expr"] == low_utilization("15m", 35)
    assert rules["GpuLowUtilization"]["for"] == "1h"
    assert rules["GpuMemoryNearFull"]["expr"].endswith(" > 0.9")
    assert rules["GpuMemoryNearFull"]["labels"] == {"severity": "critical"}
    assert rules["GpuContainerRestarting"]["expr"].startswith(
        "increase(kube_pod_container_status_restarts_total[1h]) >= 5 and ")
    assert rules["TrainingStalled"]["expr"] == "rate(trainer:global_step_total[1h]) == 0"
    assert rules["InferenceErrorRate"]["expr"].count("[10m]") == 4
    assert rules["InferenceErrorRate"]["expr"].count(" > 0.01") == 2
    assert rules["InferenceLatencyHigh"]["expr"].endswith("[5m]))) > 2.5")
    assert rules["InferenceQueueBacklog"]["expr"].endswith(" > 10")


def test_disabled_alerts_are_omitted():
    config = alerts_config(trainingStalled={"enabled": False}, gpuTemperatureHigh={"enabled": False},
                           inferenceErrorRate={"enabled": False})
    assert [r["alert"] for r in gpu_alert_rules(config)] == [
        "GpuUnavailable", "GpuLowUtilization", "GpuMemoryNearFull", "GpuXidErrors",
        "GpuContainerOomKilled", "GpuContainerRestarting", "TrainingJobFailed",
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
