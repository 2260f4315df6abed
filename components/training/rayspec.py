"""The typed spec of a RayCluster (``training.rayClusters.<name>``) and the checks of the names
it uses: GPU pools, networks, EFA and storage mounts (pure; rendered by ``raycluster``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field

from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue
from gpu_platform.core.names import DnsLabel, NonNegativeInt
from gpu_platform.core.pools import GpuPool
from gpu_platform.serving.sizing import ServedModel, sizing_issues
from gpu_platform.training.quantity import Quantity, parse_quantity
from gpu_platform.versions import RAY_VERSION
from gpu_platform.workloads import SHM_PATH, MountSpec, WorkloadContext, mount_issues

RAY_REPOSITORY = "rayproject/ray"
RAY_PYTHON = "py311"


class SecretKeyRef(ConfigModel):
    """A key of a Kubernetes Secret in the RayCluster's namespace (never an inline value)."""

    name: DnsLabel
    key: str = Field(min_length=1)


class GcsFaultTolerance(ConfigModel):
    """Ray GCS fault tolerance: the head's state in an external Redis survives a head restart."""

    enabled: bool = False
    redis_address: str | None = Field(default=None, min_length=1)  # "redis.ray:6379"
    redis_password_secret: SecretKeyRef | None = None
    external_storage_namespace: str | None = Field(default=None, min_length=1)

    def issues(self) -> Iterator[ConfigIssue]:
        if self.enabled and self.redis_address is None:
            yield issue("redisAddress", "is required when enabled is true (host:port of Redis)")


class ConfigMapMount(ConfigModel):
    """A ConfigMap of the cluster's namespace mounted read-only (code, configs)."""

    mount_path: str = Field(pattern=r"^/")


# env the network layer owns (network.nccl, networks, EFA): never set by hand on a group
NETWORK_ENV_PREFIXES = ("NCCL_", "FI_")


def group_extra_issues(
    env: Mapping[str, str], config_maps: Mapping[str, ConfigMapMount]
) -> Iterator[ConfigIssue]:
    """Env the network layer owns, ConfigMaps mounted over /dev/shm (paths relative to the group)."""
    for key, value in env.items():
        if key.startswith(NETWORK_ENV_PREFIXES):
            yield issue(f"env.{key}", "is set by the network layer (network.nccl, networks, EFA): remove it "
                        "here", value)
    for name, mount in config_maps.items():
        if mount.mount_path == SHM_PATH:
            yield issue(f"configMaps.{name}.mountPath", "is the memory-backed /dev/shm", mount.mount_path)


def render_group_extras(
    container: dict[str, Any], env: Mapping[str, str], config_maps: Mapping[str, ConfigMapMount]
) -> list[dict[str, Any]]:
    """Adds ``env`` and the ConfigMap mounts to ``container``; returns the pod volumes they need."""
    if env:
        container.setdefault("env", []).extend({"name": k, "value": v} for k, v in env.items())
    volumes = []
    for name, mount in config_maps.items():
        volumes.append({"name": f"cm-{name}", "configMap": {"name": name}})
        container.setdefault("volumeMounts", []).append(
            {"name": f"cm-{name}", "mountPath": mount.mount_path, "readOnly": True})
    return volumes


class RayHead(ConfigModel):
    cpu: Quantity = "2"
    memory: Quantity = "8Gi"
    shm_size: Quantity = "2Gi"
    # num-cpus=0 keeps tasks and actors off the head, which hosts the GCS and dashboard
    schedulable: bool = False
    # Ray Train's driver on the head reads and writes the run's storage_path (checkpoints)
    mounts: dict[DnsLabel, MountSpec] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
    config_maps: dict[DnsLabel, ConfigMapMount] = Field(default_factory=dict)  # e.g. the job's code

    def issues(self) -> Iterator[ConfigIssue]:
        yield from _shm_issues(self.shm_size, self.memory)
        yield from group_extra_issues(self.env, self.config_maps)


class WorkerGroup(ConfigModel):
    """A worker group: on a GPU pool when ``pool`` is set, on CPU nodes otherwise."""

    pool: DnsLabel | None = None
    gpus_per_worker: NonNegativeInt = 0
    min_replicas: NonNegativeInt = 0
    max_replicas: NonNegativeInt = 1
    replicas: NonNegativeInt | None = None  # default: minReplicas
    cpu: Quantity = "4"
    memory: Quantity = "16Gi"
    shm_size: Quantity = "4Gi"
    networks: list[DnsLabel] = Field(default_factory=list)  # names of network.networks (RDMA)
    mounts: dict[DnsLabel, MountSpec] = Field(default_factory=dict)
    efa: bool | None = None  # default: on for a GPU group whose AWS node pool has EFA enabled
    env: dict[str, str] = Field(default_factory=dict)
    config_maps: dict[DnsLabel, ConfigMapMount] = Field(default_factory=dict)
    # a model the group serves (Ray Serve LLM on vLLM): checked to fit gpusPerWorker GPUs
    model: ServedModel | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        if self.min_replicas > self.max_replicas:
            yield issue("minReplicas", f"must be <= maxReplicas ({self.max_replicas})", self.min_replicas)
        if self.replicas is not None and not self.min_replicas <= self.replicas <= self.max_replicas:
            yield issue(
                "replicas",
                f"must be between minReplicas ({self.min_replicas}) and maxReplicas ({self.max_replicas})",
                self.replicas,
            )
        if self.pool is None and self.gpus_per_worker > 0:
            yield issue("pool", "is required when gpusPerWorker > 0: name the GPU pool the workers run on")
        if self.pool is not None and self.gpus_per_worker == 0:
            yield issue("gpusPerWorker", "must be >= 1 for a group on a GPU pool", 0)
        if self.model is not None and self.pool is None:
            yield issue("model", "a served model needs GPUs: set pool and gpusPerWorker")
        if self.efa and self.pool is None:
            yield issue("efa", "needs a GPU pool: EFA devices come with the pool's AWS node pool", True)
        for index, network in enumerate(self.networks):
            if network in self.networks[:index]:
                yield issue(f"networks.{index}", "is listed twice", network)
        yield from _shm_issues(self.shm_size, self.memory)
        yield from group_extra_issues(self.env, self.config_maps)


class RayClusterSpec(ConfigModel):
    namespace: DnsLabel
    ray_version: str = Field(default=RAY_VERSION, pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$")
    image: str | None = None  # default rayproject/ray:<rayVersion>-py311
    gpu_image: str | None = None  # default rayproject/ray:<rayVersion>-py311-gpu
    enable_in_tree_autoscaling: bool = True
    idle_timeout_seconds: NonNegativeInt = 60
    queue: DnsLabel | None = None  # a team's queue (Kueue LocalQueue in ``namespace``, or Volcano Queue)
    # the pods' PriorityClass; default: the team's priorityClasses.raycluster, else training-high
    priority_class: DnsLabel | None = None
    head: RayHead = Field(default_factory=RayHead)
    worker_groups: dict[DnsLabel, WorkerGroup] = Field(default_factory=dict)
    gcs_fault_tolerance: GcsFaultTolerance = Field(default_factory=GcsFaultTolerance)

    def images(self) -> tuple[str, str]:
        """(CPU image, GPU image) for this cluster."""
        base = f"{RAY_REPOSITORY}:{self.ray_version}-{RAY_PYTHON}"
        return self.image or base, self.gpu_image or f"{base}-gpu"

    def issues(self) -> Iterator[ConfigIssue]:
        for key, image in (("image", self.image), ("gpuImage", self.gpu_image)):
            if image is not None and image_ray_version(image) != self.ray_version:
                yield issue(
                    key,
                    f"image tag must start with rayVersion '{self.ray_version}-' "
                    "(the head and workers must run the Ray version KubeRay is told)",
                    image,
                )
        if self.queue is not None and self.enable_in_tree_autoscaling:
            yield issue(
                "enableInTreeAutoscaling",
                "must be false when queue is set: Kueue admits a RayCluster at a fixed size",
                True,
            )


def image_ray_version(image: str) -> str:
    """The Ray version an image tag starts with ("rayproject/ray:2.52.0-py311" -> "2.52.0")."""
    tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
    return tag.split("-", 1)[0]


def _shm_issues(shm_size: str, memory: str) -> Iterator[ConfigIssue]:
    if parse_quantity(shm_size) > parse_quantity(memory):
        yield issue(
            "shmSize",
            f"must be <= memory ({memory}): a memory-backed /dev/shm counts against the memory limit",
            shm_size,
        )


def raycluster_pool_issues(
    spec: RayClusterSpec, pools: Mapping[str, GpuPool]
) -> Iterator[ConfigIssue]:
    """Worker groups naming unknown pools, asking for more GPUs than a pool's node has, or
    serving a model that does not fit their GPUs (``serving.sizing``).

    Paths are relative to the cluster (``workerGroups.<group>.pool``)."""
    for group_name, group in spec.worker_groups.items():
        if group.pool is None:
            continue
        pool = pools.get(group.pool)
        if pool is None:
            known = ", ".join(sorted(pools)) or "none"
            yield issue(f"workerGroups.{group_name}.pool", f"unknown GPU pool; known pools: {known}",
                        group.pool)
        elif group.gpus_per_worker > pool.gpu.count:
            yield issue(
                f"workerGroups.{group_name}.gpusPerWorker",
                f"must be <= {pool.gpu.count}, the GPUs per node of pool '{group.pool}'",
                group.gpus_per_worker,
            )
        elif group.model is not None and group.gpus_per_worker > 0:
            model = group.model
            for found in sizing_issues(model, pool, group.gpus_per_worker, vllm=True,
                                       gpu_memory_utilization=model.gpu_memory_utilization,
                                       max_model_len=model.max_model_len, gpus_key="gpusPerWorker",
                                       utilization_key="model.gpuMemoryUtilization"):
                yield found.prefixed(f"workerGroups.{group_name}")


def raycluster_workload_issues(spec: RayClusterSpec, workload: WorkloadContext) -> Iterator[ConfigIssue]:
    """Network, EFA and storage names of a cluster that do not resolve (paths relative to it)."""
    network = workload.network
    known = ", ".join(sorted(network.networks)) or "none"
    for found in mount_issues(spec.head.mounts, workload.storage, spec.namespace):
        yield found.prefixed("head")
    for group_name, group in spec.worker_groups.items():
        base = f"workerGroups.{group_name}"
        for index, name in enumerate(group.networks):
            if not network.enabled:
                yield issue(f"{base}.networks.{index}", "the network layer is off (network.enabled is "
                            "false): turn it on or remove the network", name)
            elif name not in network.networks:
                yield issue(f"{base}.networks.{index}", f"unknown network; networks: {known}", name)
        if group.efa and group.pool is not None and group.pool not in workload.efa_interfaces:
            yield issue(f"{base}.efa", f"pool '{group.pool}' has no EFA devices: set aws.nodePools."
                        f"{group.pool}.efa.enabled: true, or remove efa", True)
        for found in mount_issues(group.mounts, workload.storage, spec.namespace):
            yield found.prefixed(base)
