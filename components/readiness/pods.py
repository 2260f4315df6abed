"""Every pod template in a set of Kubernetes objects, the platform's custom resources included.

Shapes (upstream API references): apps/v1 and batch/v1 workloads (``spec.template``, CronJob's
``spec.jobTemplate.spec.template``); KubeRay ``RayCluster`` (``headGroupSpec.template``,
``workerGroupSpecs[].template``, ray.io/v1); KServe ``InferenceService`` (``spec.predictor`` is a
PodSpec whose ``model`` is the main container, serving.kserve.io/v1beta1); Kubeflow Trainer
``TrainingRuntime``/``ClusterTrainingRuntime`` and JobSet (``replicatedJobs[].template.spec.template``,
trainer.kubeflow.org/v1alpha1, jobset.x-k8s.io/v1alpha2); Fluid runtimes (cache workers placed by
their ``Dataset``'s ``nodeAffinity`` and ``tolerations``, sized by ``spec.worker.resources``,
data.fluid.io/v1alpha1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gpu_platform.plan.readiness import object_id

FLUID_RUNTIMES = ("JuiceFSRuntime", "AlluxioRuntime", "JindoRuntime", "GooseFSRuntime",
                  "ThinRuntime", "EFCRuntime", "VineyardRuntime")
_TEMPLATED = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


@dataclass(frozen=True)
class PodTemplate:
    resource: str  # "Kind/namespace/name" plus "#role" for one group of a multi-pod object
    namespace: str | None
    kind: str
    spec: Mapping[str, Any]
    labels: Mapping[str, str]
    index: int  # the object's position in ReadinessInput.objects

    @property
    def is_daemonset(self) -> bool:
        return self.kind == "DaemonSet"


def _spec(template: Any) -> tuple[Mapping[str, Any], Mapping[str, str]] | None:
    if not isinstance(template, Mapping):
        return None
    spec = template.get("spec")
    if not isinstance(spec, Mapping):
        return None
    return spec, ((template.get("metadata") or {}).get("labels") or {})


def pod_templates(objects: Sequence[Mapping[str, Any]]) -> Iterator[PodTemplate]:
    datasets = {
        ((o.get("metadata") or {}).get("namespace"), (o.get("metadata") or {}).get("name")): o
        for o in objects if o.get("kind") == "Dataset"
    }
    for index, obj in enumerate(objects):
        kind = obj.get("kind", "")
        ns = (obj.get("metadata") or {}).get("namespace")
        rid = object_id(obj)
        spec = obj.get("spec") or {}
        found: list[tuple[str, Any]] = []
        if kind == "Pod":
            found = [("", {"spec": spec, "metadata": obj.get("metadata")})]
        elif kind in _TEMPLATED:
            found = [("", spec.get("template"))]
        elif kind == "CronJob":
            found = [("", ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template"))]
        elif kind == "RayCluster":
            found = [("head", (spec.get("headGroupSpec") or {}).get("template"))]
            found += [(g.get("groupName", "worker"), g.get("template"))
                      for g in spec.get("workerGroupSpecs") or []]
        elif kind == "InferenceService":
            predictor = dict(spec.get("predictor") or {})
            model = predictor.pop("model", None)
            if model:
                predictor["containers"] = [model, *(predictor.get("containers") or [])]
            found = [("predictor", {"spec": predictor})]
        elif kind in ("TrainingRuntime", "ClusterTrainingRuntime", "JobSet"):
            jobset = ((spec.get("template") or {}).get("spec") or {}) if kind != "JobSet" else spec
            found = [(job.get("name", "job"), ((job.get("template") or {}).get("spec") or {}).get("template"))
                     for job in jobset.get("replicatedJobs") or []]
        elif kind in FLUID_RUNTIMES:
            dataset = datasets.get((ns, (obj.get("metadata") or {}).get("name"))) or {}
            dspec = dataset.get("spec") or {}
            worker = spec.get("worker") or {}
            pod: dict[str, Any] = {
                "tolerations": dspec.get("tolerations") or [],
                "nodeSelector": worker.get("nodeSelector") or {},
                "containers": [{"resources": worker.get("resources") or {}}],
            }
            if dspec.get("nodeAffinity"):
                pod["affinity"] = {"nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution":
                        (dspec["nodeAffinity"].get("required") or {})}}
            found = [("worker", {"spec": pod})]
        for role, template in found:
            parsed = _spec(template)
            if parsed is None:
                continue
            pod_spec, labels = parsed
            if kind == "RayCluster":  # KubeRay's own pod labels (ray-operator utils/constant.go)
                labels = {**labels, "ray.io/cluster": (obj.get("metadata") or {}).get("name", ""),
                          "ray.io/node-type": "head" if role == "head" else "worker",
                          "ray.io/group": "headgroup" if role == "head" else role}
            yield PodTemplate(f"{rid}#{role}" if role else rid, ns, kind, pod_spec, labels, index)
