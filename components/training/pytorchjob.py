"""An elastic PyTorchJob (``kubeflow.org/v1``, training operator v1): ``training.pytorchJobs``.

Kubeflow Trainer v2 at the pinned 2.3.0 has no elastic training (a TrainJob runs a fixed
``numNodes``; its torch policy holds only ``envInjection``, kubeflow/trainer#3654 proposes it); where a job
asks for elasticity (seed 000's llama-70b finetune: 4 to 8 nodes, c10d rendezvous, 100 restarts)
it runs on the v1 operator (``training.kubeflow.trainingOperator``). The nodes are rendered exactly
as a training runtime's (``gpu_platform.training.runtimes``: pool placement and GPUs, /dev/shm,
NCCL over EFA or RDMA from the network layer, mounts, ``MLFLOW_TRACKING_URI``), in the operator's
``pytorch`` container. ``deepspeedConfig`` becomes a ConfigMap mounted at ``/config/ds_config.json``
(the seed's ZeRO-3 config, passed as ``--deepspeed=/config/ds_config.json``).

Not carried over from the seed: ``elasticPolicy.metrics`` (an HPA on ``nvidia.com/gpu``
utilisation: the HPA scales on cpu/memory resource metrics only, so it would never act) and a
Master replica (elastic jobs are Worker-only; torchrun's c10d rendezvous replaces the master).
Queues: Kueue admits the job by its ``kueue.x-k8s.io/queue-name`` label; Volcano gangs need the
operator started with ``--gang-scheduler-name=volcano``, which the upstream standalone overlay
does not set, so under Volcano use a Trainer v2 runtime instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.args import args_from_spec
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, NonNegativeInt, PositiveInt, child_name
from gpu_platform.core.pools import GpuPool
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.training.outputs import object_name, object_namespace
from gpu_platform.training.raycluster import QUEUE_LABEL
from gpu_platform.training.runtimes import (
    QueueSystem,
    TrainingRuntimeSpec,
    node_pod_template,
    runtime_pool_issues,
    runtime_workload_issues,
)
from gpu_platform.workloads import WorkloadContext

PYTORCHJOB_TYPE = "gpu-platform:training:PyTorchJob"
CONTAINER = "pytorch"  # the v1 operator's default container name
DEEPSPEED_MOUNT = "/config"
DEEPSPEED_FILE = "ds_config.json"


class ElasticPolicy(ConfigModel):
    min_nodes: PositiveInt
    max_nodes: PositiveInt
    max_restarts: NonNegativeInt = 100
    rdzv_backend: Literal["c10d"] = "c10d"

    def issues(self) -> Iterator[ConfigIssue]:
        if self.min_nodes > self.max_nodes:
            yield issue("minNodes", f"must be <= maxNodes ({self.max_nodes})", self.min_nodes)


class PyTorchJobSpec(TrainingRuntimeSpec):
    """The nodes (a runtime's fields), the command, elasticity and the job's run policy."""

    namespace: DnsLabel  # a job runs in its team's namespace
    queue: DnsLabel | None = None
    command: list[str] = Field(min_length=1)  # ["torchrun", "train.py", ...]
    elastic: ElasticPolicy
    deepspeed_config: dict[str, Any] | None = None  # ds_config.json, mounted at /config
    clean_pod_policy: Literal["None", "Running", "All"] = "None"
    backoff_limit: NonNegativeInt = 3
    active_deadline_seconds: PositiveInt | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        yield from super().issues()
        if self.framework != "torch":
            yield issue("framework", "must be torch: a PyTorchJob runs torchrun (DeepSpeed runs inside it "
                        "with deepspeedConfig)", self.framework)
        if "num_nodes" in self.model_fields_set:
            yield issue("numNodes", "is set by elastic (minNodes..maxNodes) in a PyTorchJob", self.num_nodes)
        if self.deepspeed_config is not None and any(
                m.mount_path == DEEPSPEED_MOUNT for m in self.mounts.values()):
            yield issue("deepspeedConfig", f"is mounted at {DEEPSPEED_MOUNT}, which a mount already uses")


def render_pytorchjob(
    job_name: str, spec: PyTorchJobSpec, pools: Mapping[str, GpuPool], *,
    workload: WorkloadContext | None = None, mlflow_tracking_uri: str | None = None,
) -> dict[str, Any]:
    """The PyTorchJob manifest (Worker-only, elastic)."""
    workload = workload or WorkloadContext()
    pool = pools[spec.pool]
    pod = node_pod_template(spec, pool, workload, mlflow_tracking_uri, command=list(spec.command))
    container = pod["spec"]["containers"][0]
    container["name"] = CONTAINER
    if spec.deepspeed_config is not None:
        pod["spec"]["volumes"].append(
            {"name": "deepspeed-config", "configMap": {"name": deepspeed_name(job_name)}})
        container["volumeMounts"].append({"name": "deepspeed-config", "mountPath": DEEPSPEED_MOUNT,
                                          "readOnly": True})
    run_policy: dict[str, Any] = {"cleanPodPolicy": spec.clean_pod_policy, "backoffLimit": spec.backoff_limit}
    if spec.active_deadline_seconds is not None:
        run_policy["activeDeadlineSeconds"] = spec.active_deadline_seconds
    labels = dict(MANAGED_BY_LABELS)
    if spec.queue is not None:
        labels[QUEUE_LABEL] = spec.queue
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": job_name, "namespace": spec.namespace, "labels": labels},
        "spec": {
            "elasticPolicy": {"rdzvBackend": spec.elastic.rdzv_backend,
                              "minReplicas": spec.elastic.min_nodes, "maxReplicas": spec.elastic.max_nodes,
                              "maxRestarts": spec.elastic.max_restarts},
            "nprocPerNode": str(spec.gpus(pool)),
            "runPolicy": run_policy,
            "pytorchReplicaSpecs": {"Worker": {"replicas": spec.elastic.max_nodes,
                                               "restartPolicy": "OnFailure", "template": pod}},
        },
    }


def deepspeed_name(job_name: str) -> str:
    return f"{job_name}-deepspeed"


class PyTorchJobArgs(PyTorchJobSpec, ComponentArgs):
    job_name: DnsLabel
    pools: dict[DnsLabel, GpuPool] = Field(default_factory=dict)
    workload: WorkloadContext = Field(default_factory=WorkloadContext)
    queue_system: QueueSystem = "kueue"
    mlflow_tracking_uri: str | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        yield from super().issues()
        if self.queue is not None and self.queue_system == "volcano":
            yield issue("queue", "Volcano gangs a PyTorchJob only when the training operator runs with "
                        "--gang-scheduler-name=volcano (the standalone overlay does not): use a Trainer v2 "
                        "runtime (training.runtimes)", self.queue)
        yield from runtime_pool_issues(self, self.pools)
        pool = self.pools.get(self.pool)
        if pool is not None and self.elastic.max_nodes > pool.max_size:
            yield issue("elastic.maxNodes", f"must be <= {pool.max_size}, the maxSize of pool '{self.pool}'",
                        self.elastic.max_nodes)
        yield from runtime_workload_issues(self, self.workload)

    @classmethod
    def of(cls, spec: PyTorchJobSpec, job_name: str, pools: Mapping[str, GpuPool], *,
           workload: WorkloadContext | None = None, queue_system: QueueSystem = "kueue",
           mlflow_tracking_uri: str | None = None) -> PyTorchJobArgs:
        # only the fields the config set: numNodes is refused when set, so never copy its default
        return args_from_spec(cls, spec, only_set=True, job_name=job_name, pools=dict(pools),
                              workload=workload or WorkloadContext(), queue_system=queue_system,
                              mlflow_tracking_uri=mlflow_tracking_uri)


class PyTorchJob(pulumi.ComponentResource):
    """One elastic PyTorchJob and its DeepSpeed ConfigMap (after the training operator)."""

    job_name: pulumi.Output[str]
    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: PyTorchJobArgs | Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None):
        args = component_args(PyTorchJobArgs, args, component="PyTorchJob", name=name)
        super().__init__(PYTORCHJOB_TYPE, name, None, opts)
        after: list[pulumi.Resource] = []
        if args.deepspeed_config is not None:
            self.deepspeed = k8s.core.v1.ConfigMap(
                child_name(name, "deepspeed"),
                metadata={"name": deepspeed_name(args.job_name), "namespace": args.namespace,
                          "labels": dict(MANAGED_BY_LABELS)},
                data={DEEPSPEED_FILE: json.dumps(args.deepspeed_config, indent=2)},
                opts=child_options(self, opts))
            after.append(self.deepspeed)
        manifest = render_pytorchjob(args.job_name, args, args.pools, workload=args.workload,
                                     mlflow_tracking_uri=args.mlflow_tracking_uri)
        self.job = custom_resource(child_name(name, "pytorchjob"), manifest,
                                   child_options(self, opts, depends_on=after))
        self.job_name = object_name(self.job)
        self.namespace = object_namespace(self.job)
        self.register_outputs({"jobName": self.job_name, "namespace": self.namespace})


__all__ = ["ElasticPolicy", "PyTorchJob", "PyTorchJobArgs", "PyTorchJobSpec", "render_pytorchjob"]
