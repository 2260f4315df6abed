"""data: every Fluid dataset is mountable where workloads run, and every claim a pod mounts exists.

A pod mounts PersistentVolumeClaims of its own namespace only. Fluid binds a Dataset to a PVC of
the same name in the Dataset's namespace; another namespace reaches it through a *reference
dataset*, a Dataset there whose mount point is ``dataset://<namespace>/<name>`` (Fluid
"cross-namespace dataset sharing", https://github.com/fluid-cloudnative/fluid/blob/master/docs/en/samples/dataset_across_namespace_with_csi.md).
So a Dataset whose namespace, and every namespace referencing it, runs no workload is a cache
nobody can use.
"""

from __future__ import annotations

from collections.abc import Iterator

from gpu_platform.plan.readiness import Finding, ReadinessInput
from gpu_platform.readiness.pods import FLUID_RUNTIMES, pod_templates
from gpu_platform.readiness.storage import KUSTOMIZE_CLAIMS, KUSTOMIZE_TYPE

RULE = "data"
REFERENCE_SCHEME = "dataset://"


def data_rule(subject: ReadinessInput) -> Iterator[Finding]:
    pods = [p for p in pod_templates(subject.objects) if p.kind not in FLUID_RUNTIMES]
    workload_namespaces = {p.namespace for p in pods
                           if p.namespace and subject.origin(p.index) is None and not p.is_daemonset}
    claims: set[tuple[str | None, str]] = set()
    datasets: list[tuple[str, str]] = []
    references: dict[tuple[str, str], set[str]] = {}
    for obj in subject.objects:
        meta = obj.get("metadata") or {}
        ns, name = meta.get("namespace"), meta.get("name", "")
        if obj.get("kind") == "PersistentVolumeClaim":
            claims.add((ns, name))
        elif obj.get("kind") == "Dataset":
            claims.add((ns, name))  # Fluid creates the PVC when the runtime is bound
            mounts = (obj.get("spec") or {}).get("mounts") or []
            targets = [str(m.get("mountPoint", "")) for m in mounts]
            refs = [t[len(REFERENCE_SCHEME):] for t in targets if t.startswith(REFERENCE_SCHEME)]
            for ref in refs:
                ref_ns, _, ref_name = ref.partition("/")
                references.setdefault((ref_ns, ref_name), set()).add(str(ns))
            if not refs:
                datasets.append((str(ns), name))
    for directory in subject.plan.find(KUSTOMIZE_TYPE):
        for fragment, (namespace, names) in KUSTOMIZE_CLAIMS.items():
            if fragment in str(directory.inputs.get("directory", "")):
                claims.update((namespace, n) for n in names)
    for ns, name in datasets:
        reachable = {ns} | references.get((ns, name), set())
        if not reachable & workload_namespaces:
            users = ", ".join(sorted(workload_namespaces)) or "none"
            yield Finding(RULE, "error", f"Dataset/{ns}/{name}",
                          f"no workload can mount it: namespace(s) {', '.join(sorted(reachable))} "
                          f"run no workload, and no reference dataset (dataset://{ns}/{name}) "
                          f"exists in a workload namespace ({users})")
    for pod in pods:
        if pod.namespace is None:
            continue
        for volume in pod.spec.get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim and (pod.namespace, claim) not in claims:
                yield Finding(RULE, "error", pod.resource,
                              f"mounts PersistentVolumeClaim {claim!r}, which does not exist in "
                              f"namespace {pod.namespace}")



