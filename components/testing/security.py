"""Security scan of rendered manifests with checkov, including pod templates inside custom resources.

checkov's Kubernetes checks read Pods, Deployments, DaemonSets and the like, but not the pod
templates inside custom resources (RayCluster, InferenceService, training jobs). Those are lifted
out as synthetic Pods, named ``<Kind>.<name>.<role>``, so checkov's own rules apply to them too.
Findings are matched against an allowlist whose every entry says why.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gpu_platform.serving.runtimes import VLLM_RUNTIME_NAME


@dataclass(frozen=True)
class Finding:
    check_id: str
    resource: str  # checkov's "Kind.namespace.name"
    check_name: str

    def __str__(self) -> str:
        return f"{self.check_id} {self.resource}: {self.check_name}"


@dataclass(frozen=True)
class Allowed:
    resource: str  # fnmatch pattern over Finding.resource
    check_id: str
    why: str

    def covers(self, finding: Finding) -> bool:
        return finding.check_id == self.check_id and fnmatch.fnmatchcase(finding.resource, self.resource)


# Cluster-scoped kinds holding a pod template. Their synthetic Pod gets this placeholder namespace
# (not a real one: KServe runs the runtime's containers in each InferenceService's namespace), so
# checkov's "default namespace" check (CKV_K8S_21) does not fire on objects that have none. A
# namespaced object missing its namespace still lands in "default" and is reported.
CLUSTER_SCOPED_KINDS = frozenset({"ClusterServingRuntime"})
CLUSTER_SCOPED_NAMESPACE = "cluster-scoped"


def _allow(patterns: Iterable[str], check_ids: Iterable[str], why: str) -> tuple[Allowed, ...]:
    return tuple(Allowed(p, c, why) for c in check_ids for p in patterns)


# Synthetic Pods of the library's own custom resources (see pod_templates), one pattern per role.
RAY_HEAD = "Pod.*.RayCluster.*.head"
RAY_WORKERS = "Pod.*.RayCluster.*.worker-*"
PREDICTOR = "Pod.*.InferenceService.*.predictor"
VLLM_RUNTIME = f"Pod.{CLUSTER_SCOPED_NAMESPACE}.ClusterServingRuntime.{VLLM_RUNTIME_NAME}.runtime"

# Findings on objects the library writes that are accepted, each with why. Every entry must match
# a finding in some environment (tests/test_security_scan.py), so fixed ones cannot linger.
ALLOWLIST: tuple[Allowed, ...] = (
    *_allow((RAY_HEAD, RAY_WORKERS, PREDICTOR, VLLM_RUNTIME), ("CKV_K8S_15",),
            "imagePullPolicy IfNotPresent: images are pinned by tag in versions.py, and multi-GB GPU "
            "images (Ray, vLLM) must not be re-pulled from the registry on every Pod start"),
    *_allow((RAY_HEAD, RAY_WORKERS, PREDICTOR, VLLM_RUNTIME), ("CKV_K8S_43",),
            "known gap: images are pinned by tag, not digest; resolving digests needs registry access "
            "the offline plan does not have"),
    *_allow((RAY_HEAD, RAY_WORKERS), ("CKV_K8S_22",),
            "Ray writes its session dir (/tmp/ray: logs, sockets, spilled objects) and runtime_env "
            "caches under the root filesystem"),
    *_allow((PREDICTOR, VLLM_RUNTIME), ("CKV_K8S_22",),
            "vLLM writes model, torch.compile and Triton kernel caches under the root filesystem"),
    *_allow((RAY_HEAD, RAY_WORKERS), ("CKV_K8S_40",),
            "rayproject/ray images run as their 'ray' user, uid 1000 (non-root, runAsNonRoot is set); "
            "its home dir and conda env belong to that uid, so a uid >= 10000 breaks the image"),
    *_allow((PREDICTOR, VLLM_RUNTIME), ("CKV_K8S_23", "CKV_K8S_40"),
            "vLLM's official image runs as root and has no non-root user; the ml-serving namespace "
            "enforces Pod Security baseline and the container drops ALL capabilities"),
    *_allow((RAY_HEAD, RAY_WORKERS), ("CKV_K8S_8", "CKV_K8S_9"),
            "KubeRay (>= v1.1, ENABLE_PROBES_INJECTION defaults to true) injects liveness and readiness "
            "probes into the Ray container of every head and worker Pod"),
    *_allow((RAY_HEAD,), ("CKV_K8S_38",),
            "the in-tree autoscaler sidecar KubeRay adds to the head scales the cluster through the "
            "Kubernetes API with the head's service account token (heads without it set false)"),
    *_allow((PREDICTOR,), ("CKV_K8S_14",),
            "the predictor names no image: KServe takes it from the ClusterServingRuntime, whose image "
            "is pinned by tag (checked on the runtime)"),
    *_allow((VLLM_RUNTIME,), ("CKV_K8S_29", "CKV_K8S_38"),
            "a ServingRuntime has no pod securityContext or automountServiceAccountToken field; the "
            "Pod takes them from the InferenceService predictor (seccomp RuntimeDefault, no token), "
            "and the runtime's container sets its own securityContext"),
)


def _pod(kind: str, meta: Mapping[str, Any], role: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    fallback = CLUSTER_SCOPED_NAMESPACE if kind in CLUSTER_SCOPED_KINDS else "default"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{kind}.{meta.get('name', 'unnamed')}.{role}",
            "namespace": meta.get("namespace", fallback),
        },
        "spec": dict(spec),
    }


def pod_templates(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Synthetic Pods for every pod template inside a custom resource (none for other kinds)."""
    kind, meta, spec = obj.get("kind", ""), obj.get("metadata", {}), obj.get("spec") or {}
    pods: list[dict[str, Any]] = []
    if kind in ("RayCluster", "RayJob", "RayService"):
        cluster = spec.get("rayClusterSpec", spec) if kind != "RayService" else spec.get(
            "rayClusterConfig", {})
        head = cluster.get("headGroupSpec", {}).get("template", {}).get("spec")
        if head:
            pods.append(_pod(kind, meta, "head", head))
        for group in cluster.get("workerGroupSpecs", []):
            template = group.get("template", {}).get("spec")
            if template:
                pods.append(_pod(kind, meta, f"worker-{group.get('groupName')}", template))
    elif kind == "InferenceService":
        for component in ("predictor", "transformer", "explainer"):
            part = dict(spec.get(component) or {})
            if not part:
                continue
            model = part.pop("model", None)
            containers = list(part.pop("containers", []))
            if model:
                containers.insert(0, {"name": "kserve-container", **model})
            for key in ("minReplicas", "maxReplicas", "scaleMetric", "scaleTarget",
                        "canaryTrafficPercent", "deploymentStrategy", "autoScaling"):
                part.pop(key, None)
            pods.append(_pod(kind, meta, component, {**part, "containers": containers}))
    elif kind in ("ClusterServingRuntime", "ServingRuntime"):
        runtime = {k: v for k, v in spec.items() if k in ("containers", "volumes", "nodeSelector",
                                                           "tolerations", "affinity")}
        pods.append(_pod(kind, meta, "runtime", runtime))
    elif kind in ("PyTorchJob", "MPIJob"):
        replicas = spec.get("pytorchReplicaSpecs") or spec.get("mpiReplicaSpecs") or {}
        for role, replica in replicas.items():
            template = replica.get("template", {}).get("spec")
            if template:
                pods.append(_pod(kind, meta, role.lower(), template))
    return pods


def checkov_binary() -> str | None:
    """checkov: ``$CHECKOV``, beside this Python, the project's ``.venv-checkov``, or on PATH.

    checkov cannot share a virtualenv with pulumi (their ``packaging`` pins conflict), so the
    README's test command installs it into ``.venv-checkov`` at the project root.
    """
    candidates = [
        os.environ.get("CHECKOV"),
        str(Path(sys.executable).with_name("checkov")),
        str(Path(__file__).resolve().parents[2] / ".venv-checkov" / "bin" / "checkov"),
        str(Path.cwd() / ".venv-checkov" / "bin" / "checkov"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("checkov")


def scan(objects: Iterable[Mapping[str, Any]], workdir: Path) -> list[Finding]:
    """Run checkov's Kubernetes checks offline over ``objects`` and their lifted pod templates."""
    binary = checkov_binary()
    if binary is None:
        raise RuntimeError("checkov is not installed: pip install -e '.[test]'")
    workdir.mkdir(parents=True, exist_ok=True)
    documents: list[Mapping[str, Any]] = []
    for obj in objects:
        documents.append(obj)
        documents.extend(pod_templates(obj))
    (workdir / "manifests.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))
    result = subprocess.run(
        [binary, "-d", str(workdir), "--framework", "kubernetes", "--skip-download", "--quiet",
         "--compact", "-o", "json"],
        capture_output=True, text=True, timeout=600,
    )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"checkov failed ({result.returncode}): {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    findings = []
    for item in reports:
        for failed in item.get("results", {}).get("failed_checks", []):
            findings.append(Finding(failed["check_id"], failed["resource"], failed["check_name"]))
    return sorted(set(findings), key=lambda f: (f.resource, f.check_id))


def unexplained(findings: Iterable[Finding], allowlist: Iterable[Allowed]) -> list[Finding]:
    allowed = list(allowlist)
    return [f for f in findings if not any(a.covers(f) for a in allowed)]


# --- upstream charts (gpu-platform plan --charts) ------------------------------------------------
# Findings on objects the pinned upstream charts render with the values the library sets
# (tests/test_chart_render.py scans them). These are the charts' own defaults; every entry says
# why the platform accepts them instead of overriding them. Entries must all be used.
def _entries(why: str, checks_by_pattern: Mapping[str, Iterable[str]]) -> tuple[Allowed, ...]:
    return tuple(Allowed(p, c, why) for p, checks in checks_by_pattern.items() for c in checks)


_PROBES_AND_SIZES = ("CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13")
_SIZES = ("CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13")
_PULL = ("CKV_K8S_15", "CKV_K8S_43")
_CONTEXT = ("CKV_K8S_22", "CKV_K8S_29", "CKV_K8S_30", "CKV_K8S_31", "CKV_K8S_40")
_CONTEXT_NO_CONTAINER = ("CKV_K8S_22", "CKV_K8S_29", "CKV_K8S_31", "CKV_K8S_40")
_PRIVILEGE_UNSET = ("CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_28", "CKV_K8S_37")
_RUNTIMES = "Pod.cluster-scoped.*"  # KServe's built-in ClusterServingRuntimes (kserve-runtime-configs)
CHART_ALLOWLIST: tuple[Allowed, ...] = (
    *_entries("upstream chart default: probes and resource sizes are the chart maintainers' "
              "choice; the platform overrides them only through values it documents (sizing is "
              "per cluster; Jobs are one-shot hooks without probes)",
              {"Deployment.*": _PROBES_AND_SIZES, "StatefulSet.*": _PROBES_AND_SIZES,
               "DaemonSet.*": _PROBES_AND_SIZES, "Job.*": _SIZES,
               _RUNTIMES: ("CKV_K8S_8", "CKV_K8S_9")}),
    *_entries("upstream chart default: images pinned by tag through the pinned chart version "
              "(IfNotPresent); digests need registry access the offline plan does not have",
              {"Deployment.*": _PULL, "StatefulSet.*": _PULL, "DaemonSet.*": _PULL, "Job.*": _PULL,
               _RUNTIMES: _PULL}),
    *_entries("KServe's built-in vLLM runtime takes its image tag from the chart's values at "
              "install; the platform serves with its own pinned gpu-platform-vllm runtime instead",
              {"Pod.cluster-scoped.ClusterServingRuntime.kserve-vllmserver.runtime": ("CKV_K8S_14",)}),
    *_entries("operators, controllers and node agents call the Kubernetes API with their service "
              "account token: that is their job",
              {p: ("CKV_K8S_38",) for p in ("Deployment.*", "StatefulSet.*", "DaemonSet.*", "Job.*",
                                            _RUNTIMES)}),
    *_entries("upstream chart default: no (or a partial) securityContext; the operator "
              "namespaces' Pod Security level admits them, and hardening upstream pods is the "
              "charts' business",
              {"Deployment.*": _CONTEXT, "StatefulSet.*": _CONTEXT_NO_CONTAINER,
               "DaemonSet.*": _CONTEXT, "Job.*": _CONTEXT, _RUNTIMES: _CONTEXT_NO_CONTAINER}),
    *_entries("upstream chart default: the containers set no securityContext, so checkov cannot "
              "see privilege escalation off, a non-root user or dropped capabilities",
              {**{p: _PRIVILEGE_UNSET for p in (
                  "Deployment.fluid-system.*", "Job.fluid-system.*", "Deployment.gpu-operator.*",
                  "Job.gpu-operator.*", "Deployment.kube-system.*", "DaemonSet.fluid-system.*",
                  "DaemonSet.kube-system.*", "StatefulSet.kube-system.*")},
               _RUNTIMES: ("CKV_K8S_23",)}),
    *_entries("node agents: CSI node plugins mount FUSE file systems with bidirectional mount "
              "propagation (privileged, SYS_ADMIN; JuiceFS's controller formats volumes with the "
              "same rights), the EFA device plugin and whereabouts' IPAM use the host network "
              "and device files",
              {"DaemonSet.fluid-system.csi-nodeplugin-fluid": ("CKV_K8S_16", "CKV_K8S_25", "CKV_K8S_39"),
               "DaemonSet.kube-system.juicefs-csi-node": ("CKV_K8S_16",),
               "DaemonSet.kube-system.aws-efa-k8s-device-plugin": ("CKV_K8S_16", "CKV_K8S_19"),
               "DaemonSet.kube-system.whereabouts-*": ("CKV_K8S_16", "CKV_K8S_19"),
               "StatefulSet.kube-system.juicefs-csi-controller": ("CKV_K8S_16", "CKV_K8S_25",
                                                                  "CKV_K8S_39")}),
    *_entries("Volcano's chart adds capabilities to its scheduler, controllers and admission pods "
              "(upstream default); the namespace is the operator's own",
              {"Deployment.volcano-system.*": ("CKV_K8S_25",),
               "Job.volcano-system.volcano-admission-init": ("CKV_K8S_25",)}),
    *_entries("the controllers rotate their own webhook serving certificates, stored as Secrets "
              "in their own namespace (RoleBindings, not cluster-wide)",
              {p: ("CKV2_K8S_5",) for p in (
                  "RoleBinding.kubeflow-system.jobset-manager-secrets-rolebinding",
                  "RoleBinding.kueue-system.kueue-manager-secrets-rolebinding",
                  "RoleBinding.volcano-system.volcano-admission-init-role")}),
    *_entries("controllers with admission webhooks (cert-manager's cainjector, KServe, Kueue, "
              "Trainer, JobSet, Fluid, Volcano, Network Operator) patch their webhook "
              "configurations' CA bundle",
              {"ClusterRole.default.*": ("CKV_K8S_155",),
               # the Spark operator's chart sets a namespace on its webhook ClusterRole
               "ClusterRole.spark-operator.spark-operator-webhook": ("CKV_K8S_155",)}),
    *_entries("the MLflow chart hands the backend store's credentials from an existing Secret to "
              "the server as environment variables (its only way to read them); the Secret is "
              "the platform's, in MLflow's own namespace",
              {"Deployment.mlflow.mlflow": ("CKV_K8S_35",)}),
    *_entries("the Prometheus operator manages every object of its monitoring.coreos.com CRDs "
              "(upstream rbac.md: verbs '*' on its own API group, its StatefulSets and Secrets); its "
              "admission-webhook job writes the webhook's TLS Secret in its own namespace",
              {"ClusterRole.default.kube-prometheus-stack-operator": ("CKV_K8S_49",),
               "RoleBinding.monitoring.kube-prometheus-stack-admission": ("CKV2_K8S_5",)}),
    *_entries("the Network Operator's Helm hook roles clean up its CRs on upgrade and uninstall",
              {"ClusterRole.default.network-operator-hooks-*": ("CKV_K8S_49",)}),
    # checkov names the pods of this graph check "Pod.<namespace>.<name>.<labels>"
    *_entries("known gap: operator namespaces have no NetworkPolicies (team namespaces do); "
              "controllers and webhooks must be reachable from the API server",
              {"Pod.*": ("CKV2_K8S_6",)}),
)
