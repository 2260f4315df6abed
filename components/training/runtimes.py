"""Kubeflow Trainer v2 training runtimes derived from a GPU pool (``training.runtimes.<name>``).

A ``TrainingRuntime`` renders one runtime a TrainJob names in ``spec.runtimeRef``: a
``ClusterTrainingRuntime``, or a namespaced ``TrainingRuntime`` when ``namespace`` is set (a PVC
mount resolves in one namespace only). Two frameworks, each shaped like upstream's runtime of
kubeflow/trainer v2.3.0 (charts/kubeflow-trainer/files/runtimes/):

- ``torch``: ``torch-distributed`` (one ``node`` job; the torch plugin injects the PET_* env
  torchrun reads),
- ``deepspeed``: ``deepspeed-distributed`` (MPI: ``node`` jobs run sshd, the ``launcher`` runs
  ``mpirun``/``deepspeed``; OpenMPI, ``runLauncherAsNode`` so the launcher trains too).

Everything else comes from the layers that own it, never retyped: node selector and tolerations
from the pool (``pool_scheduling``), GPUs per node from the pool's nodes, NCCL over EFA
(``efa_networking``: ``FI_PROVIDER=efa``, the pool's EFA devices) or over RDMA networks
(``rdma_networking``: Multus annotation, RDMA device, ``NCCL_IB_*``, GPUDirect level), checkpoint
and dataset mounts from the storage layer (``volume_for``). ``/dev/shm`` is a memory-backed volume
sized per GPU (NCCL and data loader workers exchange tensors through it; the runtime's 64Mi default
stalls them). Under Volcano the runtime asks for a gang PodGroup (``podGroupPolicy.volcano``); the
queue itself is the TrainJob's (Kueue: label ``kueue.x-k8s.io/queue-name``; Volcano: annotation
``scheduling.volcano.sh/queue-name``, kubeflow/trainer KEP-2437).

No ``IPC_LOCK`` capability: team namespaces enforce Pod Security baseline or restricted, which
reject it; pinning RDMA/EFA memory relies on the node runtime's memlock limit (containerd's
``LimitMEMLOCK=infinity``), as for RayCluster workers. EFA needs an image with libfabric and the
aws-ofi-nccl plugin (AWS Deep Learning Containers); the default upstream images have neither.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, Literal

import pulumi
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.args import args_from_spec
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, PositiveInt, child_name
from gpu_platform.core.pools import GPU_RESOURCE, GpuPool, pool_scheduling
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.network.workload import WorkloadNetworking, efa_networking, rdma_networking
from gpu_platform.training.outputs import object_name
from gpu_platform.training.quantity import Quantity, parse_quantity
from gpu_platform.versions import DEEPSPEED_RUNTIME_IMAGE, TRAINER_TORCH_IMAGE
from gpu_platform.workloads import SHM_PATH, MountSpec, WorkloadContext, mount_issues, render_mounts

TRAINING_RUNTIME_TYPE = "gpu-platform:training:TrainingRuntime"
TRAINER_API = "trainer.kubeflow.org/v1alpha1"
ANCESTOR_LABEL = "trainer.kubeflow.org/trainjob-ancestor-step"
FRAMEWORK_LABEL = "trainer.kubeflow.org/framework"
SHM_PER_GPU = Decimal(16 * 2**30)  # the seed's 128Gi /dev/shm for 8 GPUs
MPI_UID = 1000  # the deepspeed-runtime image's mpiuser
# env the network layer owns (network.nccl, networks, EFA): never set by hand on a runtime
OWNED_ENV_PREFIXES = ("NCCL_", "FI_")
MLFLOW_ENV = "MLFLOW_TRACKING_URI"

Framework = Literal["torch", "deepspeed"]
QueueSystem = Literal["kueue", "volcano"]


class TrainingRuntimeSpec(ConfigModel):
    """One runtime: the pool its nodes run on and what each node gets."""

    framework: Framework = "torch"
    pool: DnsLabel
    gpus_per_node: PositiveInt | None = None  # default: every GPU of the pool's node
    num_nodes: PositiveInt = 1  # the default a TrainJob's spec.trainer.numNodes overrides
    cpu: Quantity
    memory: Quantity
    shm_size: Quantity | None = None  # default 16Gi per GPU, at most half of memory
    image: str | None = None  # default: upstream's image for the framework (versions.py)
    # a namespaced TrainingRuntime in this (team) namespace; needed for mounts (PVCs are namespaced)
    namespace: DnsLabel | None = None
    networks: list[DnsLabel] = Field(default_factory=list)  # names of network.networks (RDMA)
    efa: bool | None = None  # default: on when the pool's AWS node pool has EFA
    mounts: dict[DnsLabel, MountSpec] = Field(default_factory=dict)  # checkpoints, datasets
    env: dict[str, str] = Field(default_factory=dict)  # e.g. CUDA_DEVICE_MAX_CONNECTIONS

    def issues(self) -> Iterator[ConfigIssue]:
        if self.mounts and self.namespace is None:
            yield issue("namespace", "is required with mounts: a PVC mounts only in its own namespace "
                        "(the runtime becomes a namespaced TrainingRuntime there)")
        for key in self.env:
            if key.startswith(OWNED_ENV_PREFIXES):
                yield issue(f"env.{key}", "is set by the network layer (network.nccl, networks, EFA): "
                            "remove it here", self.env[key])
            elif key == MLFLOW_ENV:
                yield issue(f"env.{key}", "comes from training.mlflow: remove it here", self.env[key])
        for index, network in enumerate(self.networks):
            if network in self.networks[:index]:
                yield issue(f"networks.{index}", "is listed twice", network)
        if self.shm_size is not None and parse_quantity(self.shm_size) > parse_quantity(self.memory):
            yield issue("shmSize", f"must be <= memory ({self.memory}): a memory-backed /dev/shm counts "
                        "against the memory limit", self.shm_size)

    def gpus(self, pool: GpuPool) -> int:
        return self.gpus_per_node or pool.gpu.count

    def shm(self, pool: GpuPool) -> str:
        """``shmSize``, else 16Gi per GPU capped at half the memory (in Mi)."""
        if self.shm_size is not None:
            return self.shm_size
        size = min(SHM_PER_GPU * self.gpus(pool), parse_quantity(self.memory) / 2)
        return f"{int(size // 2**20)}Mi"

    def runtime_image(self) -> str:
        return self.image or (TRAINER_TORCH_IMAGE if self.framework == "torch" else DEEPSPEED_RUNTIME_IMAGE)


def runtime_pool_issues(spec: TrainingRuntimeSpec, pools: Mapping[str, GpuPool]) -> Iterator[ConfigIssue]:
    """The pool must exist and have ``gpusPerNode`` GPUs per node (paths relative to the runtime)."""
    pool = pools.get(spec.pool)
    if pool is None:
        yield issue("pool", f"unknown GPU pool; known pools: {', '.join(sorted(pools)) or 'none'}", spec.pool)
    elif spec.gpus_per_node is not None and spec.gpus_per_node > pool.gpu.count:
        yield issue("gpusPerNode", f"must be <= {pool.gpu.count}, the GPUs per node of pool '{spec.pool}'",
                    spec.gpus_per_node)


def runtime_workload_issues(spec: TrainingRuntimeSpec, workload: WorkloadContext) -> Iterator[ConfigIssue]:
    """Networks, EFA and mounts that do not resolve (paths relative to the runtime)."""
    network = workload.network
    for index, name in enumerate(spec.networks):
        if not network.enabled:
            yield issue(f"networks.{index}", "the network layer is off (network.enabled is false): turn it "
                        "on or remove the network", name)
        elif name not in network.networks:
            known = ", ".join(sorted(network.networks)) or "none"
            yield issue(f"networks.{index}", f"unknown network; networks: {known}", name)
    if spec.efa and spec.pool not in workload.efa_interfaces:
        yield issue("efa", f"pool '{spec.pool}' has no EFA devices: set aws.nodePools.{spec.pool}.efa."
                    "enabled: true, or remove efa", True)
    if spec.namespace is not None:
        yield from mount_issues(spec.mounts, workload.storage, spec.namespace)


def runtime_networking(spec: TrainingRuntimeSpec, workload: WorkloadContext) -> list[WorkloadNetworking]:
    """RDMA for the named networks, EFA on EFA pools unless ``efa: false`` (no IPC_LOCK: see above)."""
    found = []
    if spec.networks:
        found.append(rdma_networking(workload.network, *spec.networks))
    interfaces = workload.efa_interfaces.get(spec.pool)
    if interfaces and spec.efa is not False:
        found.append(efa_networking(interfaces, workload.network.nccl))
    return [replace(settings, capabilities=()) for settings in found]


def node_pod_template(
    spec: TrainingRuntimeSpec, pool: GpuPool, workload: WorkloadContext, mlflow_tracking_uri: str | None,
    *, command: list[str] | None = None, args: list[str] | None = None,
) -> dict[str, Any]:
    """The pod template of a node: GPUs, placement, /dev/shm, mounts, env, networking."""
    resources = {"cpu": spec.cpu, "memory": spec.memory, GPU_RESOURCE: str(spec.gpus(pool))}
    env = dict(spec.env)
    if mlflow_tracking_uri is not None:
        env[MLFLOW_ENV] = mlflow_tracking_uri
    container: dict[str, Any] = {
        "name": "node",
        "image": spec.runtime_image(),
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "env": [{"name": key, "value": value} for key, value in env.items()],
        "securityContext": {"allowPrivilegeEscalation": False},
        "volumeMounts": [{"name": "dshm", "mountPath": SHM_PATH}],
    }
    if command is not None:
        container["command"] = command
    if args is not None:
        container["args"] = args
    if spec.framework == "deepspeed":
        container["securityContext"]["runAsUser"] = MPI_UID
    volumes = render_mounts(container, spec.mounts, workload.storage, spec.namespace or "")
    placed = pool_scheduling(spec.pool, pool)
    pod: dict[str, Any] = {"spec": {
        "nodeSelector": placed.node_selector,
        "tolerations": placed.tolerations,
        "containers": [container],
        "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": spec.shm(pool)}},
                    *volumes],
    }}
    if spec.framework == "deepspeed":
        pod["spec"]["securityContext"] = {"fsGroup": MPI_UID}
    for settings in runtime_networking(spec, workload):
        pod = settings.apply(pod, "node")
    if pod.get("metadata") == {"annotations": {}}:  # EFA alone adds no annotation
        del pod["metadata"]
    return pod


def render_training_runtime(
    runtime_name: str, spec: TrainingRuntimeSpec, pools: Mapping[str, GpuPool], *,
    workload: WorkloadContext | None = None, queue_system: QueueSystem = "kueue",
    mlflow_tracking_uri: str | None = None,
) -> dict[str, Any]:
    """The (Cluster)TrainingRuntime manifest; the pool, networks and mounts must resolve."""
    workload = workload or WorkloadContext()
    pool = pools[spec.pool]
    sshd_command: dict[str, Any] = {}
    if spec.framework == "deepspeed":  # upstream's node: sshd for the launcher's mpirun
        sshd_command = {"command": ["/usr/sbin/sshd"], "args": ["-De", "-f", "/home/mpiuser/.sshd_config"]}
    node: dict[str, Any] = {"name": "node", "template": {"spec": {"template": node_pod_template(
        spec, pool, workload, mlflow_tracking_uri, **sshd_command)}}}
    body: dict[str, Any]
    if spec.framework == "torch":
        node["template"]["metadata"] = {"labels": {ANCESTOR_LABEL: "trainer"}}
        body = {"mlPolicy": {"numNodes": spec.num_nodes, "torch": {}},
                "template": {"spec": {"replicatedJobs": [node]}}}
    else:
        sshd = node["template"]["spec"]["template"]["spec"]["containers"][0]
        sshd["readinessProbe"] = {"tcpSocket": {"port": 2222}, "initialDelaySeconds": 5}
        launcher = {
            "name": "launcher",
            "dependsOn": [{"name": "node", "status": "Ready"}],
            "template": {"metadata": {"labels": {ANCESTOR_LABEL: "trainer"}},
                         "spec": {"template": node_pod_template(spec, pool, workload, mlflow_tracking_uri)}},
        }
        body = {
            "mlPolicy": {"numNodes": spec.num_nodes, "mpi": {
                "numProcPerNode": spec.gpus(pool), "mpiImplementation": "OpenMPI",
                "sshAuthMountPath": "/home/mpiuser/.ssh", "runLauncherAsNode": True}},
            "template": {"spec": {
                "network": {"publishNotReadyAddresses": True},
                "successPolicy": {"operator": "All", "targetReplicatedJobs": ["launcher"]},
                "replicatedJobs": [node, launcher],
            }},
        }
    if queue_system == "volcano":
        body["podGroupPolicy"] = {"volcano": {}}  # one gang PodGroup per TrainJob
    metadata: dict[str, Any] = {"name": runtime_name,
                                "labels": {**MANAGED_BY_LABELS, FRAMEWORK_LABEL: spec.framework}}
    kind = "ClusterTrainingRuntime"
    if spec.namespace is not None:
        kind, metadata["namespace"] = "TrainingRuntime", spec.namespace
    return {"apiVersion": TRAINER_API, "kind": kind, "metadata": metadata, "spec": body}


class TrainingRuntimeArgs(TrainingRuntimeSpec, ComponentArgs):
    """A runtime's spec, its object name and what its names resolve against."""

    runtime_name: DnsLabel
    pools: dict[DnsLabel, GpuPool] = Field(default_factory=dict)
    workload: WorkloadContext = Field(default_factory=WorkloadContext)
    queue_system: QueueSystem = "kueue"
    mlflow_tracking_uri: str | None = None  # MLFLOW_TRACKING_URI of every node

    def issues(self) -> Iterator[ConfigIssue]:
        yield from super().issues()
        yield from runtime_pool_issues(self, self.pools)
        yield from runtime_workload_issues(self, self.workload)

    @classmethod
    def of(cls, spec: TrainingRuntimeSpec, runtime_name: str, pools: Mapping[str, GpuPool], *,
           workload: WorkloadContext | None = None, queue_system: QueueSystem = "kueue",
           mlflow_tracking_uri: str | None = None) -> TrainingRuntimeArgs:
        return args_from_spec(cls, spec, runtime_name=runtime_name, pools=dict(pools),
                              workload=workload or WorkloadContext(), queue_system=queue_system,
                              mlflow_tracking_uri=mlflow_tracking_uri)


class TrainingRuntime(pulumi.ComponentResource):
    """One training runtime (Kubeflow Trainer must be installed first: ``opts.depends_on``)."""

    runtime_name: pulumi.Output[str]
    kind: pulumi.Output[str]

    def __init__(self, name: str, args: TrainingRuntimeArgs | Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None):
        args = component_args(TrainingRuntimeArgs, args, component="TrainingRuntime", name=name)
        super().__init__(TRAINING_RUNTIME_TYPE, name, None, opts)
        manifest = render_training_runtime(args.runtime_name, args, args.pools, workload=args.workload,
                                           queue_system=args.queue_system,
                                           mlflow_tracking_uri=args.mlflow_tracking_uri)
        self.runtime = custom_resource(child_name(name, "runtime"), manifest, child_options(self, opts))
        self.runtime_name = object_name(self.runtime)
        self.kind = pulumi.Output.from_input(manifest["kind"])
        self.register_outputs({"runtimeName": self.runtime_name, "kind": self.kind})


__all__ = [
    "TRAINING_RUNTIME_TYPE",
    "TrainingRuntime",
    "TrainingRuntimeArgs",
    "TrainingRuntimeSpec",
    "render_training_runtime",
    "runtime_networking",
    "runtime_pool_issues",
    "runtime_workload_issues",
]
