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
