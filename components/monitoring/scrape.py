"""Scrape paths for workload metrics: PodMonitors and the NetworkPolicies that let Prometheus in.

kube-prometheus-stack's Prometheus ignores ``prometheus.io/scrape`` annotations (KServe's
``serving.kserve.io/enable-prometheus-scraping`` only sets those), so workloads are scraped only
through a PodMonitor or ServiceMonitor (``monitoring.coreos.com/v1``, schema in
``/work/shared/upstream/crds/monitoring.coreos.com/PodMonitor_v1.json``). Each target here is one
PodMonitor in the monitoring namespace whose ``namespaceSelector.matchNames`` lists exactly the
namespaces that run the workload.

Team namespaces deny ingress by default (``training.teams``), so each target also gets, in each of
its namespaces that is isolated, a NetworkPolicy admitting Prometheus's pods
(``app.kubernetes.io/name: prometheus``, set by the Prometheus operator) from the monitoring
namespace on the metrics port only. A namespace that isolates nothing gets none: a policy there
would isolate the selected pods and cut off their other clients.

Ports: vLLM serves ``/metrics`` on its API port 8080, selected by number (the runtime names it
``http``, but in Serverless mode Knative renames the user container's port ``user-port``);
KubeRay gives every Ray head and worker container the port ``metrics`` (8080,
``--metrics-export-port``); training jobs opt in by declaring a container port named ``metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gpu_platform.core.names import MANAGED_BY_LABELS

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}
COMPONENT_LABEL = {"app.kubernetes.io/component": "scrape-paths"}
# Metrics the workload's own code exports (no exporter's catalog lists them), comma-separated on
# the PodMonitor, so the readiness check knows which monitor is meant to collect them.
APPLICATION_METRICS_ANNOTATION = "gpu-platform.io/application-metrics"


@dataclass(frozen=True)
class ScrapeTarget:
    """Pods that export metrics: where they run, how to select them, which port serves /metrics."""

    name: str  # PodMonitor name and NetworkPolicy suffix
    namespaces: tuple[str, ...]
    selector: Mapping[str, Any]  # a Kubernetes label selector
    port: str | None  # the container port's name; None: select it by ``port_number``
    port_number: int | None = None  # where the port has a fixed number (NetworkPolicy port)
    relabelings: tuple[Mapping[str, Any], ...] = ()
    isolated_namespaces: tuple[str, ...] = ()  # namespaces with a default-deny ingress policy
    path: str = "/metrics"
    application_metrics: tuple[str, ...] = ()  # e.g. a training job's step counter


def label_to_target(pod_label: str, target_label: str) -> dict[str, Any]:
    """A relabeling that copies a pod label onto every series of the target."""
    source = "__meta_kubernetes_pod_label_" + "".join(c if c.isalnum() else "_" for c in pod_label)
    return {"action": "replace", "sourceLabels": [source], "targetLabel": target_label}


def pod_monitor(target: ScrapeTarget, monitoring_namespace: str, interval: str) -> dict[str, Any]:
    """The PodMonitor selecting ``target`` in exactly its namespaces."""
    where: dict[str, Any] = {"port": target.port} if target.port else {"portNumber": target.port_number}
    endpoint: dict[str, Any] = {**where, "path": target.path, "interval": interval}
    if target.relabelings:
        endpoint["relabelings"] = [dict(r) for r in target.relabelings]
    metadata: dict[str, Any] = {
        "name": target.name,
        "namespace": monitoring_namespace,
        "labels": {**MANAGED_BY_LABELS, **COMPONENT_LABEL},
    }
    if target.application_metrics:
        metadata["annotations"] = {APPLICATION_METRICS_ANNOTATION: ",".join(target.application_metrics)}
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": metadata,
        "spec": {
            "namespaceSelector": {"matchNames": sorted(target.namespaces)},
            "selector": dict(target.selector),
            "podMetricsEndpoints": [endpoint],
        },
    }


def metrics_network_policy(
    target: ScrapeTarget, namespace: str, monitoring_namespace: str
) -> dict[str, Any]:
    """Admit Prometheus from ``monitoring_namespace`` to ``target``'s metrics port, nothing else."""
    port = target.port_number if target.port_number is not None else target.port
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": f"allow-prometheus-{target.name}",
            "namespace": namespace,
            "labels": {**MANAGED_BY_LABELS, **COMPONENT_LABEL},
        },
        "spec": {
            "podSelector": dict(target.selector),
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [{
                    "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: monitoring_namespace}},
                    "podSelector": {"matchLabels": dict(PROMETHEUS_POD_LABELS)},
                }],
                "ports": [{"protocol": "TCP", "port": port}],
            }],
        },
    }


def metrics_network_policies(
    targets: Sequence[ScrapeTarget], monitoring_namespace: str
) -> list[dict[str, Any]]:
    """One policy per target and isolated namespace, in a fixed order (pure)."""
    return [
        metrics_network_policy(target, ns, monitoring_namespace)
        for target in targets
        for ns in sorted(set(target.namespaces) & set(target.isolated_namespaces))
    ]


__all__ = [
    "ScrapeTarget",
    "label_to_target",
    "metrics_network_policies",
    "metrics_network_policy",
    "pod_monitor",
]
