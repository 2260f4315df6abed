"""The Prometheus operator stack, for clusters that have none.

The DCGM exporter's ServiceMonitor and the GPU alert rules are Prometheus operator objects; a new
EKS cluster has no Prometheus, so environments can install kube-prometheus-stack (pinned in
``versions.KUBE_PROMETHEUS_STACK``). Prometheus here selects every ServiceMonitor and
PrometheusRule in the cluster (``*SelectorNilUsesHelmValues: false``), so the GPU Operator's and
the library's objects are picked up without matching labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigModel, component_args
from gpu_platform.core.component import depends_on_of
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


class MonitoringSettings(ConfigModel):
    """kube-prometheus-stack's typed knobs; ``valuesOverrides`` is merged last."""

    namespace: DnsLabel = "monitoring"
    # false: install into an existing namespace (Pod Security ``privileged`` already set)
    create_namespace: bool = True
    retention: str = Field(default="15d", pattern=r"^[0-9]+(h|d|w)$")
    # Prometheus's volume; omitted: an emptyDir (metrics lost when the pod moves)
    storage_size: str | None = Field(default=None, pattern=r"^[0-9]+(Gi|Ti)$")
    grafana: bool = True
    alertmanager: bool = True
    values_overrides: dict[str, Any] = Field(default_factory=dict)


class MonitoringConfig(MonitoringSettings):
    """``monitoring``: install kube-prometheus-stack where the cluster runs no Prometheus operator."""

    install_prometheus_stack: bool = False


class PrometheusStackArgs(MonitoringSettings, ComponentArgs):
    """The stack's settings; ``managedControlPlane``: EKS-style clusters whose scheduler,
    controller manager and etcd cannot be scraped (their targets would alert forever)."""

    managed_control_plane: bool = False

    @classmethod
    def of(cls, config: MonitoringSettings, *, managed_control_plane: bool) -> PrometheusStackArgs:
        """The args for an environment's ``monitoring``."""
        fields = {key: getattr(config, key) for key in MonitoringSettings.model_fields}
        return cls(**fields, managed_control_plane=managed_control_plane)


def prometheus_service_url(namespace: str, values: Mapping[str, Any]) -> str:
    """The in-cluster URL of the Prometheus service the chart creates (pure).

    The service is ``<fullname>-prometheus`` (templates/prometheus/service.yaml) on
    ``prometheus.service.port`` (9090 by default); ``fullname`` follows the chart's
    ``kube-prometheus-stack.fullname`` helper: ``fullnameOverride``, else the release name if it
    contains the chart name (or ``nameOverride``), else ``<release>-<name>``; truncated to 26
    characters, trailing '-' trimmed (kube-prometheus-stack 88.5.3, templates/_helpers.tpl).
    """
    override = values.get("fullnameOverride")
    if override:
        fullname = str(override)
    else:
        chart = str(values.get("nameOverride") or "kube-prometheus-stack")
        fullname = RELEASE_NAME if chart in RELEASE_NAME else f"{RELEASE_NAME}-{chart}"
    fullname = fullname[:26].rstrip("-")
    port = ((values.get("prometheus") or {}).get("service") or {}).get("port", 9090)
    return f"http://{fullname}-prometheus.{namespace}.svc:{port}"


def prometheus_stack_values(config: MonitoringSettings, *, managed_control_plane: bool) -> dict[str, Any]:
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
    """Namespace (privileged: node-exporter reads the host; unless it exists) and the pinned chart."""

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str]
    prometheus_url: pulumi.Output[str]  # where PromQL clients (Grafana, KEDA, users) query

    def __init__(
        self,
        name: str,
        args: PrometheusStackArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(PrometheusStackArgs, args, component="PrometheusStack", name=name)
        super().__init__(PROMETHEUS_STACK_TYPE, name, None, opts)
        values = prometheus_stack_values(args, managed_control_plane=args.managed_control_plane)
        install = operator_install(
            name, KUBE_PROMETHEUS_STACK, parent=self, release_name=RELEASE_NAME,
            namespace_name=args.namespace, pod_security="privileged", values=values,
            depends_on=depends_on_of(opts), create_namespace=args.create_namespace,
        )
        self.namespace_resource, self.release = install.namespace, install.release
        self.namespace = install.namespace_name
        self.release_name = install.release_name
        self.prometheus_url = self.namespace.apply(lambda ns: prometheus_service_url(ns, values))
        self.register_outputs({
            "namespace": self.namespace,
            "releaseName": self.release_name,
            "prometheusUrl": self.prometheus_url,
        })
