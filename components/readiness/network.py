"""network: rendered NetworkPolicies are enforced, and each workload's required traffic is allowed.

Enforcement: the cluster's CNI must enforce NetworkPolicies. On EKS the VPC CNI does so only with
``enableNetworkPolicy: "true"`` in the ``vpc-cni`` add-on's configuration values
(https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html); an existing
cluster declares it (``cluster.networkPolicyEnforced``).

Required traffic, judged against the policies of the workload's own namespace:
- every pod: DNS to CoreDNS (``k8s-app: kube-dns`` in kube-system), UDP and TCP 53;
- Ray (KubeRay, https://docs.ray.io/en/latest/cluster/kubernetes/): the head's GCS port 6379
  between head and workers; with in-tree autoscaling, the head's autoscaler calls the Kubernetes
  API (HTTPS 443, outside the pod network);
- KServe predictors with an object-store ``storageUri`` (s3://, gs://, https://): the
  storage initializer downloads the model over HTTPS 443;
- with kube-prometheus-stack installed: Prometheus scrapes from its namespace, on the Ray head's
  metrics port 8080 and on KServe predictors that enable Prometheus scraping (port 8080).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from gpu_platform.plan.readiness import Finding, ReadinessInput
from gpu_platform.plan.readiness.k8s import NAME_LABEL, Peer, allowed
from gpu_platform.readiness.pods import pod_templates

RULE = "network"
EKS_ADDON_TYPE = "aws:eks/addon:Addon"
DNS = Peer("kube-system", {"k8s-app": "kube-dns"})
EXTERNAL = Peer(external=True)
RAY_GCS_PORT = 6379
METRICS_PORT = 8080
SCRAPE_ANNOTATION = "serving.kserve.io/enable-prometheus-scraping"
OBJECT_STORE_SCHEMES = ("s3://", "gs://", "https://")


def plan_enforces_policies(subject: ReadinessInput) -> bool:
    for addon in subject.plan.find(EKS_ADDON_TYPE):
        if addon.inputs.get("addonName") != "vpc-cni":
            continue
        try:
            values = json.loads(str(addon.inputs.get("configurationValues") or "{}"))
        except ValueError:
            continue
        if str(values.get("enableNetworkPolicy", "")).lower() == "true":
            return True
    return False


def _monitoring_namespace(subject: ReadinessInput) -> str | None:
    for release in subject.helm_releases:
        if release["chart"] == "kube-prometheus-stack":
            return str(release["namespace"])
    return None


Need = tuple[str, Peer, int, str, str]


def _needs(obj: Mapping[str, Any], role: str, monitoring: str | None) -> list[Need]:
    """(direction, other end, port, protocol, why) a pod of ``obj`` needs."""
    ns = (obj.get("metadata") or {}).get("namespace")
    needs = [("Egress", DNS, 53, "UDP", "DNS"), ("Egress", DNS, 53, "TCP", "DNS")]
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "RayCluster":
        same = Peer(ns)
        needs += [("Egress", same, RAY_GCS_PORT, "TCP", "Ray GCS (head and workers)"),
                  ("Ingress", same, RAY_GCS_PORT, "TCP", "Ray GCS (head and workers)")]
        if role == "head" and spec.get("enableInTreeAutoscaling"):
            needs.append(("Egress", EXTERNAL, 443, "TCP", "the Kubernetes API for the Ray autoscaler"))
        if role == "head" and monitoring:
            needs.append(("Ingress", Peer(monitoring), METRICS_PORT, "TCP",
                          f"Prometheus scrapes from namespace {monitoring}"))
    if kind == "InferenceService":
        model = (spec.get("predictor") or {}).get("model") or {}
        if str(model.get("storageUri", "")).startswith(OBJECT_STORE_SCHEMES):
            needs.append(("Egress", EXTERNAL, 443, "TCP", "the model store"))
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if monitoring and str(annotations.get(SCRAPE_ANNOTATION)) == "true":
            needs.append(("Ingress", Peer(monitoring), METRICS_PORT, "TCP",
                          f"Prometheus scrapes from namespace {monitoring}"))
    return needs


def network_rule(subject: ReadinessInput) -> Iterator[Finding]:
    policies = [o for o in subject.objects if o.get("kind") == "NetworkPolicy"]
    if not policies:
        return
    namespaces = sorted({(p.get("metadata") or {}).get("namespace", "") for p in policies})
    if not (subject.facts.network_policy_enforced or plan_enforces_policies(subject)):
        for ns in namespaces:
            yield Finding(RULE, "error", f"Namespace/{ns}",
                          "has NetworkPolicies the cluster does not enforce (EKS: set "
                          "enableNetworkPolicy in the vpc-cni add-on; an existing cluster: "
                          "cluster.networkPolicyEnforced)")
    ns_labels = {
        (o.get("metadata") or {}).get("name"): (o.get("metadata") or {}).get("labels") or {}
        for o in subject.objects if o.get("kind") == "Namespace"
    }
    monitoring = _monitoring_namespace(subject)
    for pod in pod_templates(subject.objects):
        if pod.namespace is None or pod.namespace not in namespaces:
            continue
        obj = subject.objects[pod.index]
        role = pod.resource.rpartition("#")[2] if "#" in pod.resource else ""
        for direction, peer, port, protocol, why in _needs(obj, role, monitoring):
            if peer.namespace is not None and peer.namespace_labels is None:
                peer = Peer(peer.namespace, peer.labels, {NAME_LABEL: peer.namespace,
                                                          **ns_labels.get(peer.namespace, {})})
            if not allowed(policies, direction, pod.namespace, pod.labels, peer, port, protocol):
                where = "to" if direction == "Egress" else "from"
                yield Finding(RULE, "error", pod.resource,
                              f"{direction.lower()} {where} {why} ({protocol} {port}) is blocked by "
                              f"the NetworkPolicies of namespace {pod.namespace}")
