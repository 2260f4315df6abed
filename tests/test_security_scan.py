"""Trust: checkov finds nothing on the objects the library writes beyond the explained ALLOWLIST,
pod templates inside custom resources are scanned too, the scan can fail, and every namespace
enforces a Pod Security level (privileged only where node agents live)."""

import pytest

from gpu_platform.testing.fixtures import ENVIRONMENTS
from gpu_platform.testing.security import (
    ALLOWLIST,
    Finding,
    checkov_binary,
    pod_templates,
    scan,
    unexplained,
)

needs_checkov = pytest.mark.skipif(
    checkov_binary() is None, reason="checkov is not installed (pip install -e '.[test]')"
)

ENFORCE = "pod-security.kubernetes.io/enforce"
# Namespaces allowed to enforce Pod Security "privileged", and why. Every other namespace must
# enforce baseline or restricted.
PRIVILEGED_NAMESPACES = {
    "gpu-operator": "driver, container toolkit, device plugin and DCGM DaemonSets load kernel modules "
                    "and mount host paths on GPU nodes",
    "nvidia-network-operator": "OFED driver and RDMA device plugin DaemonSets load kernel modules and "
                               "use host networking on RDMA nodes",
    "fluid-system": "Fluid's CSI node plugin mounts FUSE file systems into the host's kubelet dirs",
    "monitoring": "kube-prometheus-stack's node-exporter DaemonSet uses the host's network, PID "
                  "namespace and root file system to read node metrics",
    "datasets": "Fluid runs each Dataset's runtime FUSE and cache worker Pods, privileged, in the "
                "Dataset's own namespace",
}

# One scan per environment per session (checkov takes a few seconds each).
_SCANS: dict[str, list[Finding]] = {}


@pytest.fixture
def findings_of(plan_env, tmp_path_factory):
    def findings(env: str) -> list[Finding]:
        if env not in _SCANS:
            workdir = tmp_path_factory.mktemp(f"scan-{env}")
            _SCANS[env] = scan(plan_env(env).kubernetes_objects(), workdir)
        return _SCANS[env]

    return findings


def _listing(findings: list[Finding]) -> str:
    return "\n".join(str(f) for f in findings)


@needs_checkov
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_unexplained_findings(env, findings_of):
    left = unexplained(findings_of(env), ALLOWLIST)
    assert left == [], f"{env}: checkov findings not in ALLOWLIST:\n{_listing(left)}"


@needs_checkov
def test_every_allowlist_entry_is_used(findings_of):
    every = [f for env in ENVIRONMENTS for f in findings_of(env)]
    stale = [a for a in ALLOWLIST if not any(a.covers(f) for f in every)]
    assert stale == [], "ALLOWLIST entries no finding needs:\n" + "\n".join(
        f"{a.check_id} {a.resource}" for a in stale)


def test_allowlist_entries_are_precise_and_explained():
    assert len(set(ALLOWLIST)) == len(ALLOWLIST)
    for entry in ALLOWLIST:
        assert entry.resource.startswith("Pod.") and entry.resource.count(".") >= 4, entry
        assert entry.check_id.startswith("CKV_K8S_") and len(entry.why) > 40, entry


PRIVILEGED_TEMPLATE = {
    "containers": [{
        "name": "ray-worker", "image": "rayproject/ray:2.52.0-py311",
        "securityContext": {"privileged": True, "allowPrivilegeEscalation": True},
    }],
}


@needs_checkov
def test_a_privileged_pod_template_inside_a_custom_resource_is_found(tmp_path):
    cluster = {
        "apiVersion": "ray.io/v1", "kind": "RayCluster",
        "metadata": {"name": "bad", "namespace": "ml"},
        "spec": {"headGroupSpec": {"template": {"spec": PRIVILEGED_TEMPLATE}},
                 "workerGroupSpecs": [{"groupName": "gpu", "template": {"spec": PRIVILEGED_TEMPLATE}}]},
    }
    assert [p["metadata"]["name"] for p in pod_templates(cluster)] == [
        "RayCluster.bad.head", "RayCluster.bad.worker-gpu"]
    findings = scan([cluster], tmp_path)
    privileged = {(f.check_id, f.resource) for f in findings if f.check_id in ("CKV_K8S_16", "CKV_K8S_20")}
    assert privileged == {
        (check, f"Pod.ml.RayCluster.bad.{role}")
        for check in ("CKV_K8S_16", "CKV_K8S_20") for role in ("head", "worker-gpu")
    }
    assert unexplained(findings, ALLOWLIST) != []


def test_pod_templates_lifts_raycluster_head_and_workers():
    head = {"containers": [{"name": "ray-head", "image": "ray"}]}
    worker = {"containers": [{"name": "ray-worker", "image": "ray-gpu"}],
              "automountServiceAccountToken": False}
    cluster = {
        "apiVersion": "ray.io/v1", "kind": "RayCluster",
        "metadata": {"name": "train", "namespace": "ml"},
        "spec": {"headGroupSpec": {"rayStartParams": {}, "template": {"spec": head}},
                 "workerGroupSpecs": [{"groupName": "gpu", "replicas": 1, "template": {"spec": worker}}]},
    }
    assert pod_templates(cluster) == [
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "RayCluster.train.head", "namespace": "ml"}, "spec": head},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "RayCluster.train.worker-gpu", "namespace": "ml"}, "spec": worker},
    ]


def test_pod_templates_lifts_the_inference_service_predictor():
    model = {"modelFormat": {"name": "vllm"}, "runtime": "gpu-platform-vllm", "args": ["--x"]}
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": {"name": "llama", "namespace": "ml-serving"},
        "spec": {"predictor": {
            "minReplicas": 1, "maxReplicas": 2, "scaleMetric": "cpu", "scaleTarget": 80,
            "automountServiceAccountToken": False, "nodeSelector": {"pool": "infer"}, "model": model,
        }},
    }
    assert pod_templates(isvc) == [{
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "InferenceService.llama.predictor", "namespace": "ml-serving"},
        "spec": {"automountServiceAccountToken": False, "nodeSelector": {"pool": "infer"},
                 "containers": [{"name": "kserve-container", **model}]},
    }]


def test_cluster_scoped_runtime_gets_a_placeholder_namespace_not_default():
    container = {"name": "kserve-container", "image": "vllm/vllm-openai:v0.33.0"}
    runtime = {
        "apiVersion": "serving.kserve.io/v1alpha1", "kind": "ClusterServingRuntime",
        "metadata": {"name": "vllm"},
        "spec": {"supportedModelFormats": [{"name": "vllm"}], "containers": [container]},
    }
    assert pod_templates(runtime) == [{
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "ClusterServingRuntime.vllm.runtime", "namespace": "cluster-scoped"},
        "spec": {"containers": [container]},
    }]
    # a namespaced object missing its namespace still lands in "default", so CKV_K8S_21 reports it
    namespaced = {**runtime, "kind": "ServingRuntime"}
    assert pod_templates(namespaced)[0]["metadata"]["namespace"] == "default"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_namespace_enforces_pod_security(env, plan_env):
    levels = {
        o["metadata"]["name"]: o["metadata"].get("labels", {}).get(ENFORCE)
        for o in plan_env(env).kubernetes_objects() if o["kind"] == "Namespace"
    }
    assert levels, f"{env} renders no Namespace"
    missing = sorted(name for name, level in levels.items() if level is None)
    assert missing == [], f"{env}: namespaces without {ENFORCE}: {missing}"
    wrong = {
        name: level for name, level in levels.items()
        if level not in ("privileged", "baseline", "restricted")
        or (level == "privileged" and name not in PRIVILEGED_NAMESPACES)
    }
    assert wrong == {}, (
        f"{env}: privileged only in the node-agent namespaces {sorted(PRIVILEGED_NAMESPACES)}")
