"""scheduling: every pod template is placeable on some pool, and every DaemonSet that must serve
GPU nodes tolerates every GPU pool's taints.

A pool fits a pod when its repelling taints are tolerated, its labels satisfy the pod's
``nodeSelector`` and required node affinity, and the pod's CPU, memory and ``nvidia.com/gpu``
requests fit one node's allocatable (``gpu_platform.readiness.facts``). Other extended resources
(EFA, RDMA, MIG profiles) are the device plugins' business and are not counted.

DaemonSets that must serve GPU nodes: those of the charts below (rendered with ``--charts``), and
any DaemonSet that already tolerates some GPU pool taint. Without ``--charts`` the same question
is asked of the charts' values, with the chart's own defaults where the values set nothing
(defaults read from the pinned charts' values.yaml, upstream/charts-src, 2026-11-26).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from gpu_platform.plan.readiness import Finding, NodePool, ReadinessInput
from gpu_platform.plan.readiness.k8s import pod_requests, selector_mismatch, untolerated
from gpu_platform.readiness.pods import PodTemplate, pod_templates

RULE = "scheduling"
GPU_RESOURCE = "nvidia.com/gpu"
_GPU = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
_CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "operator": "Equal", "value": "",
                  "effect": "NoSchedule"}
_CRITICAL = {"key": "CriticalAddonsOnly", "operator": "Exists"}
# chart -> {values path of a GPU-node DaemonSet's tolerations: (chart default, always added)}
GPU_NODE_DAEMONSET_VALUES: dict[str, dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]] = {
    "gpu-operator": {  # every operand DaemonSet, and NFD's worker (the subchart)
        "daemonsets.tolerations": ([_GPU], []),
        "node-feature-discovery.worker.tolerations": ([_CONTROL_PLANE, _GPU], []),
    },
    "juicefs-csi-driver": {"node.tolerations": ([_CRITICAL], [])},
    "aws-efa-k8s-device-plugin": {"tolerations": ([], [_CRITICAL])},
    "fluid": {"csi.tolerations": ([{"operator": "Exists"}], [])},
}
GPU_NODE_CHARTS = frozenset(GPU_NODE_DAEMONSET_VALUES) | {"network-operator"}


def _fits(pod: PodTemplate, pool: NodePool, requests: Mapping[str, Decimal]) -> str | None:
    """None when the pool fits, else the first reason it does not."""
    taints = untolerated(pod.spec.get("tolerations") or [], pool.taints)
    if taints:
        return f"taint {taints[0]} not tolerated"
    mismatch = selector_mismatch(pod.spec, pool.labels)
    if mismatch:
        return f"{mismatch} not matched"
    gpus = requests.get(GPU_RESOURCE, Decimal(0))
    have_gpus = pool.allocatable.gpus if pool.allocatable else 0
    if gpus > have_gpus:
        return f"{gpus} GPUs requested, a node offers {have_gpus}"
    alloc = pool.allocatable
    if alloc is not None and alloc.cpu_millis is not None:
        cpu = requests.get("cpu", Decimal(0)) * 1000
        if cpu > alloc.cpu_millis:
            return f"cpu {cpu.normalize():f}m requested, a node offers {alloc.cpu_millis}m"
    if alloc is not None and alloc.memory_bytes is not None:
        memory = requests.get("memory", Decimal(0))
        if memory > alloc.memory_bytes:
            return (f"memory {memory / 2**30:.1f}Gi requested, a node offers "
                    f"{alloc.memory_bytes / 2**30:.1f}Gi")
    return None


def _must_serve_gpu_nodes(pod: PodTemplate, subject: ReadinessInput, gpu_pools: Sequence[NodePool]) -> bool:
    release = subject.origin(pod.index)
    if release is not None:
        chart = next((r["chart"] for r in subject.helm_releases
                      if f"{r['namespace']}/{r['release']}" == release), None)
        if chart in GPU_NODE_CHARTS:
            return True
    tolerations = pod.spec.get("tolerations") or []
    return any(len(untolerated(tolerations, [t])) == 0 for p in gpu_pools for t in p.taints
               if t.get("effect") in ("NoSchedule", "NoExecute"))


def _dig(values: Mapping[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def scheduling_rule(subject: ReadinessInput) -> Iterator[Finding]:
    pools = list(subject.facts.pools)
    gpu_pools = [p for p in pools if p.gpu]
    for pod in pod_templates(subject.objects):
        if pod.is_daemonset:
            if _must_serve_gpu_nodes(pod, subject, gpu_pools):
                for pool in gpu_pools:
                    for taint in untolerated(pod.spec.get("tolerations") or [], pool.taints):
                        yield Finding(RULE, "error", pod.resource,
                                      f"must run on GPU nodes but does not tolerate pool "
                                      f"{pool.name}'s taint {taint}")
            continue
        requests = pod_requests(pod.spec)
        reasons = {pool.name: _fits(pod, pool, requests) for pool in pools}
        if pools and all(reasons.values()):
            detail = "; ".join(f"{name}: {why}" for name, why in reasons.items())
            yield Finding(RULE, "error", pod.resource, f"fits no pool ({detail})")
    rendered = set(subject.rendered_from.values())
    for release in subject.helm_releases:
        key = f"{release['namespace']}/{release['release']}"
        if key in rendered:
            continue
        for path, (default, fixed) in GPU_NODE_DAEMONSET_VALUES.get(str(release["chart"]), {}).items():
            set_value = _dig(release.get("values") or {}, path)
            tolerations = [*(set_value if isinstance(set_value, list) else default), *fixed]
            for pool in gpu_pools:
                for taint in untolerated(tolerations, pool.taints):
                    yield Finding(RULE, "error", f"helm/{key} values.{path}",
                                  f"a GPU-node DaemonSet does not tolerate pool {pool.name}'s taint {taint}")
