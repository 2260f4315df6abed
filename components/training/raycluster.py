"""A RayCluster (``ray.io/v1``) rendered from a typed spec: a head, CPU and GPU worker groups.

GPU worker groups name a GPU pool; their node selector and tolerations come from the pool
(``pool_scheduling``), never retyped. Every container sets requests == limits (Guaranteed QoS:
a training worker evicted under memory pressure loses the whole step), mounts a memory-backed
/dev/shm (Ray's object store and PyTorch data loaders live there; the container runtime's 64Mi
default stalls them) and runs as the image's non-root ``ray`` user (uid 1000) under the runtime's
default seccomp profile. Only a head running KubeRay's in-tree autoscaler sidecar mounts a service
account token (the autoscaler scales the cluster through the Kubernetes API); workers never do.

Workloads name the other layers instead of retyping them: ``networks`` (entries of the network
layer, rendered by ``rdma_networking``), ``mounts`` (storage volumes or datasets, by
``volume_for``), and EFA comes from the AWS node pool (``efa_networking``). ``WorkloadContext``
carries what those names resolve against. The spec and its checks live in ``rayspec``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, Literal

import pulumi
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, component_args
from gpu_platform.config.args import args_from_spec
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.core.pools import GPU_RESOURCE, GpuPool, pool_scheduling
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.network.workload import WorkloadNetworking, efa_networking, rdma_networking
from gpu_platform.training.outputs import object_name, object_namespace
from gpu_platform.training.rayspec import (
    RAY_PYTHON,
    RAY_REPOSITORY,
    GcsFaultTolerance,
    RayClusterSpec,
    RayHead,
    SecretKeyRef,
    WorkerGroup,
    image_ray_version,
    raycluster_pool_issues,
    raycluster_workload_issues,
    render_group_extras,
)
from gpu_platform.training.teams import TeamConfig, workload_priority_class
from gpu_platform.training.volcano import volcano_raycluster_labels
from gpu_platform.workloads import SHM_PATH, MountSpec, WorkloadContext, render_mounts

RAYCLUSTER_TYPE = "gpu-platform:training:RayCluster"
RAY_UID = 1000  # the rayproject images' "ray" user
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
# KubeRay's Volcano integration copies this RayCluster label to the PodGroup's priorityClassName
# (ray-operator/controllers/ray/utils/constant.go ``RayPriorityClassName``, volcano_scheduler.go)
RAY_PRIORITY_LABEL = "ray.io/priority-class-name"
RAY_DASHBOARD_PORT = 8265  # the head Service's "dashboard" port (KubeRay default)
QueueSystem = Literal["kueue", "volcano"]


# --- rendering (pure) -------------------------------------------------------------------------


def group_networking(group: WorkerGroup, workload: WorkloadContext) -> list[WorkloadNetworking]:
    """RDMA for the networks a group names; EFA for GPU groups of EFA pools unless ``efa: false``.

    Without ``IPC_LOCK``: Ray runs as uid 1000, and Kubernetes grants added capabilities to root
    only (no ambient capabilities), so it would not reach Ray's processes; it would, however, make
    Pod Security baseline/restricted (the team namespaces) reject the pod. Pinning RDMA memory
    relies on the node runtime's memlock limit (containerd's LimitMEMLOCK=infinity).
    """
    found = []
    if group.networks:
        found.append(rdma_networking(workload.network, *group.networks))
    interfaces = workload.efa_interfaces.get(group.pool) if group.pool and group.gpus_per_worker else None
    if interfaces and group.efa is not False:
        found.append(efa_networking(interfaces, workload.network.nccl))
    return [replace(settings, capabilities=()) for settings in found]


def _networked(
    template: dict[str, Any], networking: list[WorkloadNetworking], container: str
) -> dict[str, Any]:
    for settings in networking:
        template = settings.apply(template, container)
    if template.get("metadata") == {"annotations": {}}:  # EFA alone adds no annotation
        del template["metadata"]
    return template



def _container(name: str, image: str, cpu: str, memory: str, gpus: int) -> dict[str, Any]:
    resources: dict[str, str] = {"cpu": cpu, "memory": memory}
    if gpus:
        resources[GPU_RESOURCE] = str(gpus)
    return {
        "name": name,
        "image": image,
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "runAsUser": RAY_UID,
        },
        "volumeMounts": [{"name": "dshm", "mountPath": SHM_PATH}],
    }


def _pod_template(
    container: dict[str, Any],
    shm_size: str,
    scheduling: tuple[dict[str, str], list[dict[str, Any]]] | None,
    automount_token: bool = False,
    volumes: list[dict[str, Any]] | None = None,
    priority_class: str | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "automountServiceAccountToken": automount_token,
        "containers": [container],
        "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": shm_size}},
                    *(volumes or [])],
    }
    if scheduling is not None:
        spec["nodeSelector"], spec["tolerations"] = scheduling
    if priority_class is not None:
        spec["priorityClassName"] = priority_class
    return {"spec": spec}


def render_raycluster(
    cluster_name: str,
    spec: RayClusterSpec,
    pools: Mapping[str, GpuPool],
    labels: Mapping[str, str] | None = None,
    *,
    workload: WorkloadContext | None = None,
    queue_system: QueueSystem = "kueue",
) -> dict[str, Any]:
    """The RayCluster manifest; ``pools`` must hold every pool the worker groups name, and
    ``workload`` resolve every network and mount (``raycluster_workload_issues`` is empty).
    A queued cluster carries ``queue_system``'s labels (Volcano: one gang PodGroup via KubeRay).
    Every pod gets ``spec.priorityClass`` (default training-high, see ``training.teams``)."""
    workload = workload or WorkloadContext()
    priority = workload_priority_class("raycluster", explicit=spec.priority_class)
    cpu_image, gpu_image = spec.images()
    head_params = {"dashboard-host": "0.0.0.0"}
    if not spec.head.schedulable:
        head_params["num-cpus"] = "0"
    head = _container("ray-head", cpu_image, spec.head.cpu, spec.head.memory, 0)
    head_volumes = render_mounts(head, spec.head.mounts, workload.storage, spec.namespace)
    head_volumes += render_group_extras(head, spec.head.env, spec.head.config_maps)
    workers = []
    for group_name, group in spec.worker_groups.items():
        scheduling = None
        if group.pool is not None:
            placed = pool_scheduling(group.pool, pools[group.pool])
            scheduling = (placed.node_selector, placed.tolerations)
        image = gpu_image if group.gpus_per_worker else cpu_image
        container = _container("ray-worker", image, group.cpu, group.memory, group.gpus_per_worker)
        volumes = render_mounts(container, group.mounts, workload.storage, spec.namespace)
        volumes += render_group_extras(container, group.env, group.config_maps)
        template = _pod_template(container, group.shm_size, scheduling, volumes=volumes,
                                 priority_class=priority)
        workers.append({
            "groupName": group_name,
            "replicas": group.min_replicas if group.replicas is None else group.replicas,
            "minReplicas": group.min_replicas,
            "maxReplicas": group.max_replicas,
            "rayStartParams": {},
            "template": _networked(template, group_networking(group, workload), "ray-worker"),
        })
    body: dict[str, Any] = {
        "rayVersion": spec.ray_version,
        "enableInTreeAutoscaling": spec.enable_in_tree_autoscaling,
        "headGroupSpec": {
            "rayStartParams": head_params,
            # the autoscaler sidecar KubeRay injects into the head talks to the Kubernetes API
            "template": _pod_template(head, spec.head.shm_size, None, spec.enable_in_tree_autoscaling,
                                      volumes=head_volumes, priority_class=priority),
        },
        "workerGroupSpecs": workers,
    }
    if spec.enable_in_tree_autoscaling:
        body["autoscalerOptions"] = {
            "upscalingMode": "Default",
            "idleTimeoutSeconds": spec.idle_timeout_seconds,
            "resources": {"requests": {"cpu": "500m", "memory": "512Mi"},
                          "limits": {"cpu": "500m", "memory": "512Mi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                "runAsNonRoot": True, "runAsUser": RAY_UID},
        }
    ft = spec.gcs_fault_tolerance
    if ft.enabled:
        options: dict[str, Any] = {"redisAddress": ft.redis_address}
        if ft.redis_password_secret is not None:
            ref = ft.redis_password_secret
            options["redisPassword"] = {"valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}
        if ft.external_storage_namespace is not None:
            options["externalStorageNamespace"] = ft.external_storage_namespace
        body["gcsFaultToleranceOptions"] = options
    metadata_labels = {**MANAGED_BY_LABELS, **dict(labels or {})}
    if spec.queue is not None and queue_system == "volcano":
        metadata_labels.update(volcano_raycluster_labels(spec.queue))
        metadata_labels[RAY_PRIORITY_LABEL] = priority
    elif spec.queue is not None:
        metadata_labels[QUEUE_LABEL] = spec.queue
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
        "metadata": {"name": cluster_name, "namespace": spec.namespace, "labels": metadata_labels},
        "spec": body,
    }


class RayClusterArgs(RayClusterSpec, ComponentArgs):
    """A RayCluster's spec (the ``rayClusters.<name>`` keys), its object name, and what its
    names resolve against: the GPU pools worker groups name, and the network, EFA and storage
    layers (``workload``)."""

    cluster_name: DnsLabel  # metadata.name of the RayCluster object
    pools: dict[DnsLabel, GpuPool] = Field(default_factory=dict)
    workload: WorkloadContext = Field(default_factory=WorkloadContext)
    queue_system: QueueSystem = "kueue"

    def issues(self) -> Iterator[ConfigIssue]:
        yield from super().issues()
        yield from raycluster_pool_issues(self, self.pools)
        yield from raycluster_workload_issues(self, self.workload)

    @classmethod
    def of(
        cls,
        spec: RayClusterSpec,
        cluster_name: str,
        pools: Mapping[str, GpuPool],
        *,
        workload: WorkloadContext | None = None,
        queue_system: QueueSystem = "kueue",
        team: TeamConfig | None = None,
    ) -> RayClusterArgs:
        """Args for the cluster ``cluster_name`` of an environment's ``rayClusters``; ``team``:
        the team whose namespace it runs in (its ``priorityClasses.raycluster`` applies)."""
        return args_from_spec(
            cls, spec, cluster_name=cluster_name, pools=dict(pools), workload=workload or WorkloadContext(),
            queue_system=queue_system,
            priority_class=workload_priority_class("raycluster", explicit=spec.priority_class, team=team))


def head_service_name(cluster_name: str) -> str:
    """The head Service KubeRay creates for a RayCluster: ``<cluster>-head-svc``.

    KubeRay ``GenerateHeadServiceName`` (ray-operator/controllers/ray/utils/util.go) shortens
    names over 50 characters; a DnsLabel (at most 40) plus ``-head-svc`` never is.
    """
    return f"{cluster_name}-head-svc"


class RayCluster(pulumi.ComponentResource):
    """One RayCluster custom resource (the KubeRay operator must be installed first: order it
    with ``opts.depends_on``)."""

    cluster_name: pulumi.Output[str]
    namespace: pulumi.Output[str]
    head_service_name: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: RayClusterArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(RayClusterArgs, args, component="RayCluster", name=name)
        super().__init__(RAYCLUSTER_TYPE, name, None, opts)
        manifest = render_raycluster(args.cluster_name, args, args.pools, workload=args.workload,
                                     queue_system=args.queue_system)
        self.cluster = custom_resource(child_name(name, "raycluster"), manifest, child_options(self, opts))
        self.cluster_name = object_name(self.cluster)
        self.namespace = object_namespace(self.cluster)
        self.head_service_name = self.cluster_name.apply(head_service_name)
        self.dashboard_url = pulumi.Output.format(
            "http://{0}.{1}.svc:{2}", self.head_service_name, self.namespace, RAY_DASHBOARD_PORT)
        self.register_outputs({
            "clusterName": self.cluster_name,
            "namespace": self.namespace,
            "headServiceName": self.head_service_name,
            "dashboardUrl": self.dashboard_url,
        })


__all__ = [
    "RAYCLUSTER_TYPE",
    "RAY_PYTHON",
    "RAY_REPOSITORY",
    "GcsFaultTolerance",
    "MountSpec",
    "RayCluster",
    "RayClusterArgs",
    "RayClusterSpec",
    "RayHead",
    "SecretKeyRef",
    "WorkerGroup",
    "WorkloadContext",
    "head_service_name",
    "image_ray_version",
    "raycluster_pool_issues",
    "raycluster_workload_issues",
    "render_raycluster",
]
