"""Readiness rule "alerts are not blind": every metric a rule uses has a scrape path in the plan.

A pure function of a captured plan (``gpu_platform.plan.model.Plan``): for every PrometheusRule
rule in the plan, each metric its expression reads must be

1. produced: by an exporter the plan installs (``exporters`` lists what each exports), by a
   recording rule of the plan, or, for a workload's own metric, declared on a PodMonitor
   (``gpu-platform.io/application-metrics``);
2. selected: the exporter's monitor exists (a PodMonitor of the plan whose namespaces, selector
   and port match the exporter's pods, or the ServiceMonitor a chart creates when its values say
   so) and Prometheus selects it;
3. reachable: no NetworkPolicy of the pods' namespace isolates them from Prometheus (pods
   ``app.kubernetes.io/name: prometheus`` in the monitoring namespace) on the metrics port.

A rule matching on a kube-state-metrics object label (``kube_node_labels{label_...}``) also needs
the label in ``kube-state-metrics.metricLabelsAllowlist``. Each failure is an error naming the
rule, the metric and what is missing. Where the plan installs
no Prometheus (kube-prometheus-stack), nothing can be checked and every metric is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from gpu_platform.monitoring.exporters import DCGM_EXPORTER, KUBE_STATE_METRICS, RAY, VLLM, exporter_of
from gpu_platform.monitoring.scrape import APPLICATION_METRICS_ANNOTATION, PROMETHEUS_POD_LABELS
from gpu_platform.plan.model import Plan, helm_release_manifest

NAME_LABEL = "kubernetes.io/metadata.name"
_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
             "offset", "bool", "inf", "nan", "atan2"}


@dataclass(frozen=True)
class Finding:
    rule: str  # the alert or recording rule
    metric: str
    message: str
    severity: str = "error"


@dataclass
class Source:
    """Pods of one exporter in one namespace, and whether a monitor selects them."""

    exporter: str
    namespace: str
    pod_labels: dict[str, str]
    port: str
    port_number: int | None
    monitored: bool = False
    why_not: str = ""
    monitors: list[str] = field(default_factory=list)


def metrics_of(expr: str) -> set[str]:
    """Metric names an expression reads (strings, label matchers, ranges and label lists removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    found = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        name, rest = match.group(0), text[match.end():].lstrip()
        if name in _KEYWORDS or rest.startswith("(") or text[max(0, match.start() - 1)].isdigit():
            continue
        found.add(name)
    return found


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Kubernetes label selector semantics (matchLabels and matchExpressions)."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, op, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if (op == "Exists" and not present) or (op == "DoesNotExist" and present):
            return False
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
    return True


def _example_labels(selector: Mapping[str, Any]) -> dict[str, str]:
    """Labels of a pod the selector picks (for workloads the plan does not create itself)."""
    labels = dict(selector.get("matchLabels") or {})
    for expression in selector.get("matchExpressions") or []:
        if expression["operator"] in ("Exists", "In"):
            labels[expression["key"]] = (expression.get("values") or ["any"])[0]
    return labels


def _get(values: Mapping[str, Any], path: str, default: Any) -> Any:
    node: Any = values
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node


class ScrapeModel:
    """The plan's exporters, monitors, NetworkPolicies and Prometheus, as the check sees them."""

    def __init__(self, plan: Plan):
        objects = plan.kubernetes_objects()
        self.releases = {m["chart"]: m for m in map(helm_release_manifest, plan.helm_releases())}
        self.objects = objects
        self.pod_monitors = [o for o in objects if o["kind"] == "PodMonitor"]
        self.policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
        self.records = {r["record"] for o in objects if o["kind"] == "PrometheusRule"
                        for g in o["spec"]["groups"] for r in g["rules"] if "record" in r}
        stack = self.releases.get("kube-prometheus-stack")
        self.monitoring_namespace = stack["namespace"] if stack else None
        spec = _get(stack["values"], "prometheus.prometheusSpec", {}) if stack else {}
        self.selects_all_pod_monitors = spec.get("podMonitorSelectorNilUsesHelmValues") is False
        self.release_label = {"release": stack["release"]} if stack else {}
        self.sources = self._sources()

    def _sources(self) -> dict[str, list[Source]]:
        found: dict[str, list[Source]] = {}
        operator = self.releases.get("gpu-operator")
        if operator and _get(operator["values"], "dcgmExporter.enabled", True):
            on = bool(_get(operator["values"], "dcgmExporter.serviceMonitor.enabled", False))
            found[DCGM_EXPORTER.name] = [Source(
                DCGM_EXPORTER.name, operator["namespace"], {"app": "nvidia-dcgm-exporter"}, "metrics",
                9400, on, "" if on else "the GPU Operator's dcgmExporter.serviceMonitor is off")]
        stack = self.releases.get("kube-prometheus-stack")
        if stack and _get(stack["values"], "kubeStateMetrics.enabled", True):
            on = bool(_get(stack["values"], "kube-state-metrics.prometheus.monitor.enabled", True))
            found[KUBE_STATE_METRICS.name] = [Source(
                KUBE_STATE_METRICS.name, stack["namespace"],
                {"app.kubernetes.io/name": "kube-state-metrics"}, "http", 8080, on,
                "" if on else "kube-state-metrics.prometheus.monitor is off")]
        runtimes = {o["metadata"]["name"]: o for o in self.objects
                    if o["kind"] in ("ClusterServingRuntime", "ServingRuntime")}
        for isvc in (o for o in self.objects if o["kind"] == "InferenceService"):
            runtime = runtimes.get(_get(isvc, "spec.predictor.model.runtime", ""))
            container = ((runtime or {}).get("spec", {}).get("containers") or [{}])[0]
            if "vllm" not in str(container.get("image", "")):
                continue
            port = (container.get("ports") or [{}])[0]
            meta = isvc["metadata"]
            found.setdefault(VLLM.name, []).append(Source(
                VLLM.name, meta["namespace"],
                {"serving.kserve.io/inferenceservice": meta["name"], "component": "predictor"},
                str(port.get("name", "")), port.get("containerPort")))
        for cluster in (o for o in self.objects if o["kind"] == "RayCluster"):
            meta = cluster["metadata"]
            for node_type in ("head", "worker"):
                found.setdefault(RAY.name, []).append(Source(
                    RAY.name, meta["namespace"],
                    {"ray.io/cluster": meta["name"], "ray.io/node-type": node_type}, "metrics", 8080))
        for monitor in self.pod_monitors:
            declared = (monitor["metadata"].get("annotations") or {}).get(APPLICATION_METRICS_ANNOTATION)
            endpoint = (monitor["spec"].get("podMetricsEndpoints") or [{}])[0]
            for metric in filter(None, (declared or "").split(",")):
                for ns in self._monitor_namespaces(monitor) or []:
                    found.setdefault(metric, []).append(Source(
                        metric, ns, _example_labels(monitor["spec"].get("selector") or {}),
                        str(endpoint.get("port", "")), endpoint.get("portNumber")))
        for sources in found.values():
            for source in sources:
                if source.exporter not in (DCGM_EXPORTER.name, KUBE_STATE_METRICS.name):
                    self._select(source)
        return found

    def _monitor_namespaces(self, monitor: Mapping[str, Any]) -> list[str] | None:
        """The namespaces a PodMonitor looks in (None: every namespace)."""
        selector = monitor["spec"].get("namespaceSelector") or {}
        if selector.get("any"):
            return None
        return list(selector.get("matchNames") or [monitor["metadata"]["namespace"]])

    def _select(self, source: Source) -> None:
        for monitor in self.pod_monitors:
            namespaces = self._monitor_namespaces(monitor)
            if namespaces is not None and source.namespace not in namespaces:
                continue
            if not selector_matches(monitor["spec"].get("selector"), source.pod_labels):
                continue
            for endpoint in monitor["spec"].get("podMetricsEndpoints") or []:
                number = endpoint.get("portNumber")
                same_number = number is not None and number == source.port_number
                if endpoint.get("port") == source.port or same_number:
                    labels = monitor["metadata"].get("labels") or {}
                    if self.selects_all_pod_monitors or selector_matches(
                        {"matchLabels": self.release_label}, labels
                    ):
                        source.monitors.append(monitor["metadata"]["name"])
        source.monitored = bool(source.monitors)
        if not source.monitored:
            source.why_not = (f"no PodMonitor Prometheus selects picks its pods in namespace "
                              f"{source.namespace} on port {source.port or source.port_number}")

    def blocked(self, source: Source) -> str | None:
        """Why Prometheus cannot reach ``source``'s port, or None where it can."""
        isolating = [
            p for p in self.policies
            if p["metadata"].get("namespace") == source.namespace
            and "Ingress" in (p["spec"].get("policyTypes") or ["Ingress"])
            and selector_matches(p["spec"].get("podSelector"), source.pod_labels)
        ]
        if not isolating or any(self._admits(p, source) for p in isolating):
            return None
        return (f"the NetworkPolicies of namespace {source.namespace} do not admit Prometheus from "
                f"{self.monitoring_namespace} on port {source.port or source.port_number}")

    def _admits(self, policy: Mapping[str, Any], source: Source) -> bool:
        for rule in policy["spec"].get("ingress") or []:
            peers = rule.get("from") or []
            ports = rule.get("ports") or []
            if ports and not any(p.get("port") in (source.port, source.port_number) for p in ports):
                continue
            if not peers or any(self._is_prometheus(peer) for peer in peers):
                return True
        return False

    def _is_prometheus(self, peer: Mapping[str, Any]) -> bool:
        if "namespaceSelector" not in peer:
            return False  # a podSelector alone means the policy's own namespace
        namespace_labels = {NAME_LABEL: self.monitoring_namespace or ""}
        return selector_matches(peer["namespaceSelector"], namespace_labels) and (
            "podSelector" not in peer or selector_matches(peer["podSelector"], PROMETHEUS_POD_LABELS)
        )


def _rules(plan_objects: Iterable[Mapping[str, Any]]) -> Iterator[tuple[str, str]]:
    for obj in plan_objects:
        if obj["kind"] != "PrometheusRule":
            continue
        for group in obj["spec"]["groups"]:
            for rule in group["rules"]:
                yield rule.get("alert") or rule["record"], rule["expr"]


def object_labels_read(expr: str) -> set[tuple[str, str]]:
    """``(metric, label)`` pairs where an expression matches on a kube-state-metrics object label
    (``kube_node_labels{label_gpu_platform_io_pool!=""}``), which it exports only if allow-listed."""
    found = set()
    for match in re.finditer(r"\b(kube_[a-z]+_labels)\s*\{([^}]*)\}", expr):
        for label in re.findall(r"\b(label_[a-zA-Z0-9_]+)\s*!?[=~]", match.group(2)):
            found.add((match.group(1), label))
    return found


def _allow_listed(model: ScrapeModel, metric: str, label: str) -> bool:
    stack = model.releases.get("kube-prometheus-stack")
    kind = metric[len("kube_"):-len("_labels")] + "s"  # kube_node_labels -> nodes
    for entry in _get(stack["values"], "kube-state-metrics.metricLabelsAllowlist", []) if stack else []:
        resource, _, names = str(entry).partition("=")
        allowed = {"label_" + re.sub(r"[^a-zA-Z0-9_]", "_", n.strip()) for n in names.strip("[]").split(",")}
        if resource.strip() == kind and (label in allowed or "label_*" in allowed):
            return True
    return False


def blind_alerts(plan: Plan) -> list[Finding]:
    """One error per rule and metric that has no complete scrape path in ``plan``."""
    model = ScrapeModel(plan)
    findings: list[Finding] = []
    for rule, expr in _rules(model.objects):
        for metric in sorted(metrics_of(expr)):
            problem = _problem(model, metric)
            if problem:
                findings.append(Finding(rule, metric, f"{rule} uses {metric}, {problem}"))
        for metric, label in sorted(object_labels_read(expr)):
            if model.monitoring_namespace is not None and not _allow_listed(model, metric, label):
                findings.append(Finding(rule, metric, (
                    f"{rule} uses {metric} label {label}, which kube-state-metrics exports only when "
                    "allow-listed in kube-state-metrics.metricLabelsAllowlist")))
    return findings


def _problem(model: ScrapeModel, metric: str) -> str | None:
    if model.monitoring_namespace is None:
        return "but the plan installs no Prometheus (kube-prometheus-stack) to scrape it"
    if metric in model.records:
        return None
    exporter = exporter_of(metric)
    key = exporter.name if exporter is not None else metric
    sources = model.sources.get(key)
    if not sources:
        producer = f"{exporter.name}, which the plan does not run" if exporter else "nothing the plan runs"
        return f"which is exported by {producer}"
    for source in sources:
        if not source.monitored:
            return f"but {source.why_not}"
        blocked = model.blocked(source)
        if blocked:
            return f"but {blocked}"
    return None


__all__ = ["Finding", "ScrapeModel", "blind_alerts", "metrics_of", "object_labels_read", "selector_matches"]
