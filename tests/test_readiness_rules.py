"""Each readiness rule fails on a small fixture that violates it and passes on the fix."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from gpu_platform.plan.capture import Registration
from gpu_platform.plan.model import Plan
from gpu_platform.plan.readiness import (
    Allocatable,
    ClusterFacts,
    Finding,
    NodePool,
    ReadinessInput,
    StorageClassFact,
    analyse,
    findings_json,
    format_findings,
    has_errors,
)
from gpu_platform.readiness import RULES
from gpu_platform.readiness.data import data_rule
from gpu_platform.readiness.network import network_rule
from gpu_platform.readiness.scheduling import scheduling_rule
from gpu_platform.readiness.storage import storage_rule

GIB = 2**30
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
TRAIN = NodePool("train", {"gpu-platform.io/pool": "train"}, [GPU_TAINT],
                 Allocatable(95_000, 1000 * GIB, 8), gpu=True)
SYSTEM = NodePool("system", {"gpu-platform.io/node-class": "system"}, [],
                  Allocatable(3_920, 14 * GIB, 0))
FACTS = ClusterFacts(pools=(TRAIN, SYSTEM))


def registration(type_: str, name: str, inputs: dict[str, Any]) -> Registration:
    return Registration(
        urn=f"urn:pulumi:s::p::{type_}::{name}", type=type_, name=name, custom=True, parent=None,
        provider=None, dependencies=[], property_dependencies={}, inputs=inputs, secret_paths=[],
        protect=False, retain_on_delete=False, delete_before_replace=False, ignore_changes=[],
        replace_on_changes=[], aliases=[], remote=False)


def k8s(kind: str, name: str, namespace: str | None = None, **body: Any) -> Registration:
    api = {"PersistentVolumeClaim": "v1", "Namespace": "v1", "StorageClass": "storage.k8s.io/v1",
           "NetworkPolicy": "networking.k8s.io/v1", "Deployment": "apps/v1",
           "DaemonSet": "apps/v1", "RayCluster": "ray.io/v1",
           "Dataset": "data.fluid.io/v1alpha1"}[kind]
    meta: dict[str, Any] = {"name": name, **({"namespace": namespace} if namespace else {})}
    if "labels" in body:
        meta["labels"] = body.pop("labels")
    if "annotations" in body:
        meta["annotations"] = body.pop("annotations")
    return registration(f"kubernetes:x/{api}:{kind}", f"{kind}-{namespace}-{name}",
                        {"apiVersion": api, "kind": kind, "metadata": meta, **body})


def helm(chart: str, namespace: str, values: dict[str, Any]) -> Registration:
    return registration("kubernetes:helm.sh/v3:Release", chart,
                        {"chart": chart, "name": chart, "namespace": namespace, "version": "1.0.0",
                         "values": values})


def run(rule, resources, facts=FACTS, rendered=None) -> list[Finding]:
    plan = Plan("p", "s", list(resources), {}, [])
    return sorted(rule(ReadinessInput.from_plan(plan, facts, rendered)))


def pod(**spec: Any) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": "c", "image": "i"}], **spec}}


def deployment(name: str, namespace: str, template: dict[str, Any]) -> Registration:
    return k8s("Deployment", name, namespace, spec={"template": template})


# --- storage -------------------------------------------------------------------------------------

PVC = k8s("PersistentVolumeClaim", "data", "ml", spec={"accessModes": ["ReadWriteOnce"],
                                                         "resources": {"requests": {"storage": "1Gi"}}})
GP3 = k8s("StorageClass", "gp3", provisioner="ebs.csi.aws.com",
          annotations={"storageclass.kubernetes.io/is-default-class": "true"})
EBS_ADDON = registration("aws:eks/addon:Addon", "ebs", {"addonName": "aws-ebs-csi-driver"})


def test_storage_claim_without_default_class_is_an_error():
    assert run(storage_rule, [PVC]) == [Finding(
        "storage", "error", "PersistentVolumeClaim/ml/data",
        "names no StorageClass and the cluster has no default one: it stays Pending (create a "
        "default class, or declare the cluster's in cluster.storageClasses)")]


def test_storage_class_whose_driver_is_not_installed_is_an_error():
    assert run(storage_rule, [PVC, GP3]) == [Finding(
        "storage", "error", "PersistentVolumeClaim/ml/data",
        "StorageClass 'gp3' provisions with ebs.csi.aws.com, a CSI driver the plan does not install")]


def test_storage_default_class_with_its_driver_passes():
    assert run(storage_rule, [PVC, GP3, EBS_ADDON]) == []


def test_storage_helm_values_volume_claim_template_needs_a_class():
    prom = helm("kube-prometheus-stack", "monitoring", {"prometheus": {"prometheusSpec": {
        "storageSpec": {"volumeClaimTemplate": {"spec": {"storageClassName": "fast"}}}}}})
    assert run(storage_rule, [prom, GP3, EBS_ADDON]) == [Finding(
        "storage", "error",
        "helm/monitoring/kube-prometheus-stack "
        "values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate",
        "StorageClass 'fast' is neither created by the plan nor declared in cluster.storageClasses "
        "(known: gp3)")]


def test_storage_class_the_environment_declares_counts():
    local = StorageClassFact("local", "rancher.io/local-path", True)
    facts = ClusterFacts(pools=FACTS.pools, storage_classes=(local,),
                         csi_drivers=frozenset({"rancher.io/local-path"}))
    assert run(storage_rule, [PVC], facts) == []


# --- scheduling ----------------------------------------------------------------------------------

def ray(head: dict[str, Any], worker: dict[str, Any], autoscaling: bool = False) -> Registration:
    return k8s("RayCluster", "r", "ml", spec={
        "enableInTreeAutoscaling": autoscaling,
        "headGroupSpec": {"template": head},
        "workerGroupSpecs": [{"groupName": "gpu", "template": worker}]})


def requests(cpu: str, memory: str, gpus: int = 0) -> dict[str, Any]:
    amounts: dict[str, Any] = {"cpu": cpu, "memory": memory}
    if gpus:
        amounts["nvidia.com/gpu"] = str(gpus)
    return {"containers": [{"name": "c", "image": "i", "resources": {"requests": amounts}}]}


GPU_WORKER = {"spec": {**requests("90", "900Gi", 8), "nodeSelector": {"gpu-platform.io/pool": "train"},
                       "tolerations": [GPU_TOLERATION]}}


def test_scheduling_head_larger_than_any_cpu_node_is_an_error():
    findings = run(scheduling_rule, [ray({"spec": requests("8", "32Gi")}, GPU_WORKER)])
    assert findings == [Finding(
        "scheduling", "error", "RayCluster/ml/r#head",
        "fits no pool (train: taint nvidia.com/gpu=true:NoSchedule not tolerated; system: cpu 8000m "
        "requested, a node offers 3920m)")]


def test_scheduling_worker_asking_more_gpus_than_a_node_has_is_an_error():
    worker = copy.deepcopy(GPU_WORKER)
    worker["spec"]["containers"][0]["resources"]["requests"]["nvidia.com/gpu"] = "16"
    findings = run(scheduling_rule, [ray({"spec": requests("2", "8Gi")}, worker)])
    assert [f.message for f in findings] == [
        "fits no pool (train: 16 GPUs requested, a node offers 8; system: nodeSelector "
        "gpu-platform.io/pool=train not matched)"]


def test_scheduling_placeable_pods_pass():
    assert run(scheduling_rule, [ray({"spec": requests("2", "8Gi")}, GPU_WORKER)]) == []


def test_scheduling_required_affinity_must_match_a_pool():
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "gpu-platform.io/pool", "operator": "In", "values": ["infer"]}]}]}}}
    bad = deployment("d", "ml", pod(affinity=affinity, tolerations=[GPU_TOLERATION]))
    assert [f.message for f in run(scheduling_rule, [bad])] == [
        "fits no pool (train: required node affinity not matched; system: required node affinity "
        "not matched)"]


CUSTOM = NodePool("llm", {"gpu-platform.io/pool": "llm"},
                  [GPU_TAINT, {"key": "team", "value": "llm", "effect": "NoSchedule"}],
                  Allocatable(95_000, 1000 * GIB, 8), gpu=True)


def test_scheduling_gpu_daemonset_must_tolerate_every_gpu_pool_taint():
    nfd = k8s("DaemonSet", "nfd-worker", "gpu-operator",
              spec={"template": pod(tolerations=[GPU_TOLERATION])})
    facts = ClusterFacts(pools=(TRAIN, CUSTOM, SYSTEM))
    assert run(scheduling_rule, [nfd], facts) == [Finding(
        "scheduling", "error", "DaemonSet/gpu-operator/nfd-worker",
        "must run on GPU nodes but does not tolerate pool llm's taint team=llm:NoSchedule")]
    fixed = k8s("DaemonSet", "nfd-worker", "gpu-operator", spec={"template": pod(tolerations=[
        GPU_TOLERATION, {"key": "team", "operator": "Equal", "value": "llm", "effect": "NoSchedule"}])})
    assert run(scheduling_rule, [fixed], facts) == []


def test_scheduling_gpu_operator_values_are_checked_when_the_chart_is_not_rendered():
    facts = ClusterFacts(pools=(TRAIN, CUSTOM, SYSTEM))
    values = {"daemonsets": {"tolerations": [{"operator": "Exists"}]}}
    findings = run(scheduling_rule, [helm("gpu-operator", "gpu-operator", values)], facts)
    # the NFD worker keeps the chart's default (control-plane and nvidia.com/gpu only)
    assert findings == [Finding(
        "scheduling", "error",
        "helm/gpu-operator/gpu-operator values.node-feature-discovery.worker.tolerations",
        "a GPU-node DaemonSet does not tolerate pool llm's taint team=llm:NoSchedule")]
    values["node-feature-discovery"] = {"worker": {"tolerations": [{"operator": "Exists"}]}}
    assert run(scheduling_rule, [helm("gpu-operator", "gpu-operator", values)], facts) == []


def test_scheduling_rendered_chart_daemonsets_must_serve_gpu_nodes():
    release = helm("aws-efa-k8s-device-plugin", "kube-system", {})
    daemonset = {"apiVersion": "apps/v1", "kind": "DaemonSet",
                 "metadata": {"name": "efa", "namespace": "kube-system"},
                 "spec": {"template": pod(tolerations=[{"key": "CriticalAddonsOnly", "operator": "Exists"}])}}
    rendered = {"kube-system/aws-efa-k8s-device-plugin": [daemonset]}
    findings = run(scheduling_rule, [release], rendered=rendered)
    assert findings == [Finding("scheduling", "error", "DaemonSet/kube-system/efa",
                                "must run on GPU nodes but does not tolerate pool train's taint "
                                "nvidia.com/gpu=true:NoSchedule")]


# --- network -------------------------------------------------------------------------------------

def team_policies(extra: list[dict[str, Any]] = ()) -> list[Registration]:
    def policy(name: str, spec: dict[str, Any]) -> Registration:
        return k8s("NetworkPolicy", name, "ml", spec={"podSelector": {}, **spec})
    dns = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                   "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
           "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    return [
        policy("default-deny", {"policyTypes": ["Ingress", "Egress"]}),
        policy("same-ns", {"policyTypes": ["Ingress", "Egress"], "ingress": [{"from": [{"podSelector": {}}]}],
                           "egress": [{"to": [{"podSelector": {}}]}]}),
        policy("dns", {"policyTypes": ["Egress"], "egress": [dns]}),
        *[policy(f"extra-{i}", spec) for i, spec in enumerate(extra)],
    ]


ENFORCING_CNI = registration("aws:eks/addon:Addon", "vpc-cni", {
    "addonName": "vpc-cni", "configurationValues": json.dumps({"enableNetworkPolicy": "true"})})
RAY = ray({"spec": requests("2", "8Gi")}, GPU_WORKER, autoscaling=True)


def test_network_policies_without_enforcement_are_an_error():
    findings = run(network_rule, team_policies())
    assert findings == [Finding(
        "network", "error", "Namespace/ml",
        "has NetworkPolicies the cluster does not enforce (EKS: set enableNetworkPolicy in the "
        "vpc-cni add-on; an existing cluster: cluster.networkPolicyEnforced)")]
    assert run(network_rule, [*team_policies(), ENFORCING_CNI]) == []


def test_network_ray_autoscaler_needs_the_kubernetes_api():
    findings = run(network_rule, [*team_policies(), ENFORCING_CNI, RAY])
    assert findings == [Finding(
        "network", "error", "RayCluster/ml/r#head",
        "egress to the Kubernetes API for the Ray autoscaler (TCP 443) is blocked by the "
        "NetworkPolicies of namespace ml")]
    api = {"policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16"}}],
                                                  "ports": [{"protocol": "TCP", "port": 443}]}]}
    assert run(network_rule, [*team_policies([api]), ENFORCING_CNI, RAY]) == []


def test_network_prometheus_scrapes_and_dns_must_be_allowed():
    prom = helm("kube-prometheus-stack", "monitoring", {})
    no_dns = [p for p in team_policies() if p.inputs["metadata"]["name"] != "dns"]
    ray_fixed = ray({"spec": requests("2", "8Gi")}, GPU_WORKER)
    findings = run(network_rule, [*no_dns, ENFORCING_CNI, ray_fixed, prom])
    assert {(f.resource, f.message) for f in findings} >= {
        ("RayCluster/ml/r#head", "egress to DNS (UDP 53) is blocked by the NetworkPolicies of namespace ml"),
        ("RayCluster/ml/r#head", "ingress from Prometheus scrapes from namespace monitoring (TCP 8080) is "
                                 "blocked by the NetworkPolicies of namespace ml"),
    }
    scrape = {"policyTypes": ["Ingress"], "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "monitoring"}}}], "ports": [{"protocol": "TCP", "port": 8080}]}]}
    assert run(network_rule, [*team_policies([scrape]), ENFORCING_CNI, ray_fixed, prom]) == []


# --- data ----------------------------------------------------------------------------------------

def dataset(name: str, namespace: str, mount: str) -> Registration:
    return k8s("Dataset", name, namespace, spec={"mounts": [{"mountPoint": mount, "name": name}]})


def mounting(claim: str) -> Registration:
    volume = {"name": "d", "persistentVolumeClaim": {"claimName": claim}}
    return deployment("trainer", "ml", pod(volumes=[volume]))


def test_data_dataset_in_a_namespace_without_workloads_is_unreachable():
    findings = run(data_rule, [dataset("imagenet", "datasets", "s3://b/imagenet"), mounting("imagenet")])
    assert findings == [
        Finding("data", "error", "Dataset/datasets/imagenet",
                "no workload can mount it: namespace(s) datasets run no workload, and no reference "
                "dataset (dataset://datasets/imagenet) exists in a workload namespace (ml)"),
        Finding("data", "error", "Deployment/ml/trainer",
                "mounts PersistentVolumeClaim 'imagenet', which does not exist in namespace ml"),
    ]


def test_data_reference_dataset_in_the_team_namespace_passes():
    resources = [dataset("imagenet", "datasets", "s3://b/imagenet"),
                 dataset("imagenet", "ml", "dataset://datasets/imagenet"), mounting("imagenet")]
    assert run(data_rule, resources) == []


# --- the engine ----------------------------------------------------------------------------------

def test_analyse_orders_errors_first_and_serialises():
    findings = analyse(ReadinessInput.from_plan(Plan("p", "s", [PVC], {}, []), FACTS), RULES)
    assert has_errors(findings)
    assert findings_json(findings) == [{
        "rule": "storage", "severity": "error", "resource": "PersistentVolumeClaim/ml/data",
        "message": findings[0].message}]
    text = format_findings(findings, charts_rendered=False)
    assert "Readiness: 1 error(s), 0 warning(s)" in text
    assert "chart contents were not analysed" in text
    assert "chart contents were not analysed" not in format_findings([], charts_rendered=True)


@pytest.mark.parametrize("rule", RULES)
def test_rules_pass_on_an_empty_plan(rule):
    assert run(rule, []) == []
