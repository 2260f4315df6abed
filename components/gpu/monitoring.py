"""The Prometheus operator stack, for clusters that have none.

The DCGM exporter's ServiceMonitor and the GPU alert rules are Prometheus operator objects; a new
EKS cluster has no Prometheus, so environments can install kube-prometheus-stack (pinned in
``versions.KUBE_PROMETHEUS_STACK``). Prometheus here selects every ServiceMonitor and
PrometheusRule in the cluster (``*SelectorNilUsesHelmValues: false``), so the GPU Operator's and
the library's objects are picked up without matching labels.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import Field

from gpu_platform.config import ConfigModel
from gpu_platform.core.names import POOL_LABEL, DnsLabel
from gpu_platform.k8s.addon import operator_install
from gpu_platform.k8s.values import deep_merge
from gpu_platform.versions import KUBE_PROMETHEUS_STACK

PROMETHEUS_STACK_TYPE = "gpu-platform:gpu:PrometheusStack"
RELEASE_NAME = "kube-prometheus-stack"
# kube-prometheus-stack's own rules select on this label; GpuAlerts' ruleSelectorLabels may use it
RELEASE_LABEL = {"release": RELEASE_NAME}
# kube_node_labels carries only allow-listed labels; the GPU cost rules price nodes by their pool
KSM_NODE_LABELS_ALLOWLIST = f"nodes=[{POOL_LABEL}]"


class MonitoringConfig(ConfigModel):
    """``monitoring``: install kube-prometheus-stack where the cluster runs no Prometheus operator."""

    install_prometheus_stack: bool = False
    namespace: DnsLabel = "monitoring"
    retention: str = Field(default="15d", pattern=r"^[0-9]+(h|d|w)$")
    # Prometheus's volume; omitted: an emptyDir (metrics lost when the pod moves)
    storage_size: str | None = Field(default=None, pattern=r"^[0-9]+(Gi|Ti)$")
    grafana: bool = True
    alertmanager: bool = True
    values_overrides: dict[str, Any] = Field(default_factory=dict)


def prometheus_stack_values(config: MonitoringConfig, *, managed_control_plane: bool) -> dict[str, Any]:
    """Chart values (pure). ``managed_control_plane``: EKS-style clusters whose scheduler,
    controller manager and etcd cannot be scraped (their targets would alert forever)."""
    spec: dict[str, Any] = {
        "retention": config.retention,
        "ruleSelectorNilUsesHelmValues": False,
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
    }
    if config.storage_size is not None:
        spec["storageSpec"] = {
            "volumeClaimTemplate": {
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": config.storage_size}},
                }
            }
        }
    values: dict[str, Any] = {
        "grafana": {"enabled": config.grafana},
        "alertmanager": {"enabled": config.alertmanager},
        "prometheus": {"prometheusSpec": spec},
        "kube-state-metrics": {"metricLabelsAllowlist": [KSM_NODE_LABELS_ALLOWLIST]},
    }
    if managed_control_plane:
        for part in ("kubeControllerManager", "kubeScheduler", "kubeEtcd"):
            values[part] = {"enabled": False}
    return deep_merge(values, config.values_overrides)


class PrometheusStack(pulumi.ComponentResource):
    """Namespace (privileged: node-exporter reads the host) and the pinned chart."""

    def __init__(
        self,
        name: str,
        config: MonitoringConfig,
        *,
        managed_control_plane: bool,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(PROMETHEUS_STACK_TYPE, name, None, opts)
        install = operator_install(
            name, KUBE_PROMETHEUS_STACK, parent=self, release_name=RELEASE_NAME,
            namespace_name=config.namespace, pod_security="privileged",
            values=prometheus_stack_values(config, managed_control_plane=managed_control_plane),
        )
        self.namespace, self.release = install.namespace, install.release
        self.register_outputs({"namespace": config.namespace})
