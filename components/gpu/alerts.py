"""GPU platform alerts: one PrometheusRule for GPU health, GPU waste, training and vLLM serving.

The expressions use only metrics that exist by default, checked upstream:

- dcgm-exporter's ``etc/default-counters.csv`` (what the GPU Operator's exporter emits):
  ``DCGM_FI_DEV_GPU_UTIL``, ``DCGM_FI_DEV_GPU_TEMP``, ``DCGM_FI_DEV_FB_USED``/``_FREE`` and
  ``DCGM_FI_DEV_XID_ERRORS`` are gauges; there is no ``DCGM_FI_DEV_FB_TOTAL``, so the total is
  used + free. Series carry ``Hostname`` and ``gpu`` (set by the exporter itself).
- kube-state-metrics: ``kube_node_status_capacity`` / ``kube_node_status_allocatable`` with the
  resource name sanitised to ``nvidia_com_gpu``.
- vLLM: ``vllm:e2e_request_latency_seconds`` (histogram) and ``vllm:num_requests_waiting``
  (gauge), both labelled ``model_name``.

Fixed from the seeds: ``rate()`` of the utilisation gauge (rate is for counters), the missing
``FB_TOTAL``, and application metrics (``inference_queue_depth``...) that no server exports.
No inference error-rate alert: vLLM's ``vllm:request_success_total`` counts finished requests by
``finished_reason`` (stop/length/abort), where ``abort`` is mostly client cancellation and
requests rejected by the API server are not counted at all, so no sound error ratio exists there.

GPU-level alerts aggregate by ``Hostname, gpu`` rather than by pod: the GPU Operator's
ServiceMonitor does not honour labels, so the exporter's pod labels arrive renamed
(``exported_pod``), and an idle GPU wastes money whether or not a pod holds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ConfigIssue, ConfigModel, component_args
from gpu_platform.config.errors import PATTERN_HINTS, issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.k8s.objects import custom_resource

GPU_ALERTS_TYPE = "gpu-platform:gpu:GpuAlerts"
RULE_NAME = "gpu-platform-alerts"
DURATION_PATTERN = r"^[0-9]+[smh]$"
METRIC_NAME_PATTERN = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
PATTERN_HINTS[DURATION_PATTERN] = "must be a Prometheus duration such as 30s, 5m or 1h"
PATTERN_HINTS[METRIC_NAME_PATTERN] = "must be a Prometheus metric name (letters, digits, '_' and ':')"

Severity = Literal["warning", "critical"]
# Kubernetes label values (apimachinery validation.IsValidLabelValue): at most 63 characters
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

# Defaults, named so the README and tests can refer to them.
GPU_LOW_UTILIZATION_PERCENT = 20.0
GPU_MEMORY_NEAR_FULL_RATIO = 0.95  # vLLM pre-allocates 90% by default; 0.9 would always fire
GPU_TEMPERATURE_HIGH_CELSIUS = 85.0
INFERENCE_P99_LATENCY_SECONDS = 30.0  # end-to-end, including generation of the whole answer
INFERENCE_QUEUE_BACKLOG_REQUESTS = 100.0
TRAINING_STEP_METRIC = "training_step_total"


class AlertSettings(ConfigModel):
    """An alert without a tunable threshold (the condition itself is the problem)."""

    enabled: bool = True
    for_: str = Field(default="5m", alias="for", pattern=DURATION_PATTERN)
    severity: Severity = "warning"


# One model per alert so that a partial override (e.g. only ``severity``) keeps that alert's own
# defaults for every other key.
class GpuUnavailableAlert(AlertSettings):
    severity: Severity = "critical"


class GpuLowUtilizationAlert(AlertSettings):
    for_: str = Field(default="30m", alias="for", pattern=DURATION_PATTERN)
    threshold: float = Field(default=GPU_LOW_UTILIZATION_PERCENT, ge=0, le=100)
    # averaged first so that one busy or idle sample does not reset ``for``
    window: str = Field(default="10m", pattern=DURATION_PATTERN)


class GpuMemoryNearFullAlert(AlertSettings):
    threshold: float = Field(default=GPU_MEMORY_NEAR_FULL_RATIO, ge=0, le=1)


class GpuXidErrorsAlert(AlertSettings):
    for_: str = Field(default="0m", alias="for", pattern=DURATION_PATTERN)
    severity: Severity = "critical"


class GpuTemperatureHighAlert(AlertSettings):
    threshold: float = Field(default=GPU_TEMPERATURE_HIGH_CELSIUS, ge=0)


class TrainingStalledAlert(AlertSettings):
    for_: str = Field(default="30m", alias="for", pattern=DURATION_PATTERN)
    # The training job's own step counter (the seed's application metric); must be a counter.
    metric: str = Field(default=TRAINING_STEP_METRIC, pattern=METRIC_NAME_PATTERN)
    window: str = Field(default="30m", pattern=DURATION_PATTERN)


class InferenceLatencyHighAlert(AlertSettings):
    threshold: float = Field(default=INFERENCE_P99_LATENCY_SECONDS, ge=0)
    window: str = Field(default="5m", pattern=DURATION_PATTERN)


class InferenceQueueBacklogAlert(AlertSettings):
    threshold: float = Field(default=INFERENCE_QUEUE_BACKLOG_REQUESTS, ge=0)


class GpuAlertsConfig(ConfigModel):
    """Typed alert rules; ``ruleSelectorLabels`` must match Prometheus's ``ruleSelector``
    (kube-prometheus-stack selects ``release: <its release name>`` by default)."""

    enabled: bool = True
    namespace: DnsLabel = "gpu-operator"
    rule_selector_labels: dict[str, str] = Field(default_factory=dict)
    gpu_unavailable: GpuUnavailableAlert = Field(default_factory=GpuUnavailableAlert)
    gpu_low_utilization: GpuLowUtilizationAlert = Field(default_factory=GpuLowUtilizationAlert)
    gpu_memory_near_full: GpuMemoryNearFullAlert = Field(default_factory=GpuMemoryNearFullAlert)
    gpu_xid_errors: GpuXidErrorsAlert = Field(default_factory=GpuXidErrorsAlert)
    gpu_temperature_high: GpuTemperatureHighAlert = Field(default_factory=GpuTemperatureHighAlert)
    training_stalled: TrainingStalledAlert = Field(default_factory=TrainingStalledAlert)
    inference_latency_high: InferenceLatencyHighAlert = Field(default_factory=InferenceLatencyHighAlert)
    inference_queue_backlog: InferenceQueueBacklogAlert = Field(
        default_factory=InferenceQueueBacklogAlert
    )

    def issues(self) -> Iterator[ConfigIssue]:
        for key, value in self.rule_selector_labels.items():
            if len(value) > 63 or not LABEL_VALUE.match(value):
                yield issue(f"ruleSelectorLabels.{key}", "must be a label value: at most 63 "
                            "letters, digits, '-', '_' or '.', starting and ending alphanumeric", value)


# The config model is exactly what the component needs.
GpuAlertsArgs = GpuAlertsConfig


def _num(value: float) -> str:
    """PromQL literal: 20.0 -> "20", 0.95 -> "0.95"."""
    return f"{value:g}"


def _rule(name: str, s: AlertSettings, expr: str, summary: str, description: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": s.for_,
        "labels": {"severity": s.severity},
        "annotations": {"summary": summary, "description": description},
    }


def gpu_alert_rules(config: GpuAlertsConfig) -> list[dict[str, Any]]:
    """The enabled alerting rules, in a fixed order."""
    c = config
    gpu = "GPU {{ $labels.gpu }} on {{ $labels.Hostname }}"
    model = "Model {{ $labels.model_name }} in {{ $labels.namespace }}"
    candidates: list[tuple[AlertSettings, dict[str, Any]]] = [
        (c.gpu_unavailable, _rule(
            "GpuUnavailable", c.gpu_unavailable,
            # allocatable < capacity: the device plugin marked GPUs unhealthy; capacity 0: the
            # node registered GPUs once and now reports none.
            'kube_node_status_allocatable{resource="nvidia_com_gpu"}'
            ' < kube_node_status_capacity{resource="nvidia_com_gpu"}'
            ' or kube_node_status_capacity{resource="nvidia_com_gpu"} == 0',
            "GPUs unavailable on node {{ $labels.node }}",
            "Node {{ $labels.node }} offers only {{ $value }} schedulable GPUs, fewer than it has: "
            "the device plugin marked GPUs unhealthy or lost them (check the driver and XID errors).",
        )),
        (c.gpu_low_utilization, _rule(
            "GpuLowUtilization", c.gpu_low_utilization,
            f"avg by (Hostname, gpu) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[{c.gpu_low_utilization.window}]))"
            f" < {_num(c.gpu_low_utilization.threshold)}",
            f"{gpu} is mostly idle",
            f"{gpu} averaged {{{{ $value }}}}% utilisation, below "
            f"{_num(c.gpu_low_utilization.threshold)}%: release it or scale the pool down.",
        )),
        (c.gpu_memory_near_full, _rule(
            "GpuMemoryNearFull", c.gpu_memory_near_full,
            "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)"
            f" > {_num(c.gpu_memory_near_full.threshold)}",
            f"{gpu} memory is nearly full",
            f"{gpu} uses {{{{ $value | humanizePercentage }}}} of its framebuffer memory; "
            "workloads on it risk CUDA out-of-memory errors.",
        )),
        (c.gpu_xid_errors, _rule(
            "GpuXidErrors", c.gpu_xid_errors,
            "DCGM_FI_DEV_XID_ERRORS > 0",
            f"{gpu} reported XID error {{{{ $value }}}}",
            f"{gpu} reported XID {{{{ $value }}}} (see NVIDIA's XID catalogue); the GPU may need "
            "a reset or the node a drain.",
        )),
        (c.gpu_temperature_high, _rule(
            "GpuTemperatureHigh", c.gpu_temperature_high,
            f"DCGM_FI_DEV_GPU_TEMP > {_num(c.gpu_temperature_high.threshold)}",
            f"{gpu} is hot",
            f"{gpu} is at {{{{ $value }}}} C, above {_num(c.gpu_temperature_high.threshold)} C; "
            "it will throttle. Check cooling.",
        )),
        (c.training_stalled, _rule(
            "TrainingStalled", c.training_stalled,
            f"rate({c.training_stalled.metric}[{c.training_stalled.window}]) == 0",
            "Training job {{ $labels.namespace }}/{{ $labels.pod }} makes no progress",
            f"{c.training_stalled.metric} of {{{{ $labels.namespace }}}}/{{{{ $labels.pod }}}} has "
            f"not increased for {c.training_stalled.window}: the job is hung (NCCL, data loader).",
        )),
        (c.inference_latency_high, _rule(
            "InferenceLatencyHigh", c.inference_latency_high,
            "histogram_quantile(0.99, sum by (namespace, model_name, le)"
            f" (rate(vllm:e2e_request_latency_seconds_bucket[{c.inference_latency_high.window}])))"
            f" > {_num(c.inference_latency_high.threshold)}",
            f"{model} is slow",
            f"{model} has a p99 end-to-end latency of {{{{ $value }}}}s, above "
            f"{_num(c.inference_latency_high.threshold)}s.",
        )),
        (c.inference_queue_backlog, _rule(
            "InferenceQueueBacklog", c.inference_queue_backlog,
            "sum by (namespace, model_name) (vllm:num_requests_waiting)"
            f" > {_num(c.inference_queue_backlog.threshold)}",
            f"{model} has a request backlog",
            f"{model} has {{{{ $value }}}} requests waiting; add replicas.",
        )),
    ]
    return [rule for settings, rule in candidates if settings.enabled]


def prometheus_rule_manifest(name: str, config: GpuAlertsConfig) -> dict[str, Any]:
    """The PrometheusRule object (apiVersion/kind/metadata/spec)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            "namespace": config.namespace,
            "labels": {
                **MANAGED_BY_LABELS,
                "app.kubernetes.io/component": "gpu-alerts",
                **config.rule_selector_labels,
            },
        },
        "spec": {"groups": [{"name": "gpu-platform", "rules": gpu_alert_rules(config)}]},
    }


class GpuAlerts(pulumi.ComponentResource):
    """One PrometheusRule; needs the Prometheus operator's CRDs and the namespace to exist
    (order it after them with ``opts.depends_on``)."""

    namespace: pulumi.Output[str]
    rule_name: pulumi.Output[str | None]  # None: no rule (disabled, or every alert switched off)

    def __init__(
        self,
        name: str,
        args: GpuAlertsArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(GpuAlertsArgs, args, component="GpuAlerts", name=name)
        super().__init__(GPU_ALERTS_TYPE, name, None, opts)
        self.rule: k8s.apiextensions.CustomResource | None = None
        manifest = prometheus_rule_manifest(RULE_NAME, args)
        if args.enabled and manifest["spec"]["groups"][0]["rules"]:
            self.rule = custom_resource(child_name(name, "rules"), manifest, child_options(self, opts))
        self.namespace = pulumi.Output.from_input(args.namespace)
        # the name, carried by the rule's URN so that users of it depend on the rule
        self.rule_name: pulumi.Output[str | None] = (
            self.rule.urn.apply(lambda _: RULE_NAME) if self.rule is not None
            else pulumi.Output.from_input(None)
        )
        self.register_outputs({
            "namespace": self.namespace,
            "ruleName": self.rule_name,
            "enabled": self.rule is not None,
        })
