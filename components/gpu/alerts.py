"""GPU platform alerts: one PrometheusRule for GPU health, GPU waste, training and vLLM serving.

The rules and the upstream facts behind each expression are in ``gpu.alert_rules``; the typed
settings of each alert in ``gpu.alert_settings``; the cost rules (priced per pool, so rendered
where the pools' instance types are known) in ``gpu.cost_rules``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ConfigIssue, ConfigModel, component_args
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.gpu.alert_rules import gpu_alert_rules
from gpu_platform.gpu.alert_settings import (
    DURATION_PATTERN,
    METRIC_NAME_PATTERN,
    AlertSettings,
    GpuContainerOomKilledAlert,
    GpuContainerRestartingAlert,
    GpuCostSpikeAlert,
    GpuIdlePaidAlert,
    GpuLowUtilizationAlert,
    GpuMemoryNearFullAlert,
    GpuTemperatureHighAlert,
    GpuUnavailableAlert,
    GpuXidErrorsAlert,
    InferenceErrorRateAlert,
    InferenceLatencyHighAlert,
    InferenceQueueBacklogAlert,
    Severity,
    TrainingJobFailedAlert,
    TrainingStalledAlert,
)
from gpu_platform.k8s.objects import custom_resource

GPU_ALERTS_TYPE = "gpu-platform:gpu:GpuAlerts"
RULE_NAME = "gpu-platform-alerts"
# Kubernetes label values (apimachinery validation.IsValidLabelValue): at most 63 characters
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


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
    gpu_container_oom_killed: GpuContainerOomKilledAlert = Field(
        default_factory=GpuContainerOomKilledAlert
    )
    gpu_container_restarting: GpuContainerRestartingAlert = Field(
        default_factory=GpuContainerRestartingAlert
    )
    training_job_failed: TrainingJobFailedAlert = Field(default_factory=TrainingJobFailedAlert)
    training_stalled: TrainingStalledAlert = Field(default_factory=TrainingStalledAlert)
    inference_error_rate: InferenceErrorRateAlert = Field(default_factory=InferenceErrorRateAlert)
    inference_latency_high: InferenceLatencyHighAlert = Field(default_factory=InferenceLatencyHighAlert)
    inference_queue_backlog: InferenceQueueBacklogAlert = Field(
        default_factory=InferenceQueueBacklogAlert
    )
    # priced per pool: rendered by gpu_platform.monitoring.Observability (gpu.cost_rules)
    gpu_cost_spike: GpuCostSpikeAlert = Field(default_factory=GpuCostSpikeAlert)
    gpu_idle_paid: GpuIdlePaidAlert = Field(default_factory=GpuIdlePaidAlert)

    def issues(self) -> Iterator[ConfigIssue]:
        for key, value in self.rule_selector_labels.items():
            if len(value) > 63 or not LABEL_VALUE.match(value):
                yield issue(f"ruleSelectorLabels.{key}", "must be a label value: at most 63 "
                            "letters, digits, '-', '_' or '.', starting and ending alphanumeric", value)


# The config model is exactly what the component needs.
GpuAlertsArgs = GpuAlertsConfig


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


# the settings models moved to gpu.alert_settings and the rules to gpu.alert_rules; still importable here
__all__ = [
    "DURATION_PATTERN", "GPU_ALERTS_TYPE", "METRIC_NAME_PATTERN", "RULE_NAME", "AlertSettings",
    "GpuAlerts", "GpuAlertsArgs", "GpuAlertsConfig", "Severity", "gpu_alert_rules",
    "prometheus_rule_manifest",
]
