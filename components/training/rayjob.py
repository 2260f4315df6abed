"""A RayJob (``ray.io/v1``): a batch entrypoint run on its own RayCluster (``training.rayJobs``).

The cluster part is a ``RayClusterSpec`` rendered exactly as a RayCluster is
(``render_raycluster``: pools, /dev/shm, EFA/RDMA, mounts, env and ConfigMap volumes); the job adds
the entrypoint, its runtime environment (``runtimeEnvYAML``), how KubeRay submits it
(``submissionMode``: a submitter Job, the dashboard's HTTP API, or a sidecar) and what happens
after: ``shutdownAfterJobFinishes`` deletes the cluster ``ttlSecondsAfterFinished`` seconds after
the job ends. A queued RayJob carries the team's queue: Kueue's ``kueue.x-k8s.io/queue-name``
(Kueue admits the job and its cluster as one workload, and refuses a managed RayJob that keeps
its cluster: ``shutdownAfterJobFinishes`` must stay true) or Volcano's scheduler labels.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pulumi
import yaml
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, component_args
from gpu_platform.config.args import args_from_spec
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import DnsLabel, NonNegativeInt, PositiveInt, child_name
from gpu_platform.core.pools import GpuPool
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.training.outputs import object_name, object_namespace
from gpu_platform.training.raycluster import QueueSystem, render_raycluster
from gpu_platform.training.rayspec import RayClusterSpec, raycluster_pool_issues, raycluster_workload_issues
from gpu_platform.workloads import WorkloadContext

RAYJOB_TYPE = "gpu-platform:training:RayJob"
SubmissionMode = Literal["K8sJobMode", "HTTPMode", "SidecarMode"]
MLFLOW_ENV = "MLFLOW_TRACKING_URI"


class RayJobSpec(RayClusterSpec):
    """The job (entrypoint, runtime env, submission, lifetime) and the cluster it runs on."""

    entrypoint: str = Field(min_length=1)  # "python /app/data_pipeline.py"
    runtime_env: dict[str, Any] = Field(default_factory=dict)  # Ray runtime_env: pip, env_vars, ...
    submission_mode: SubmissionMode = "K8sJobMode"
    submitter_backoff_limit: NonNegativeInt = 2  # retries of the submitter Job (K8sJobMode)
    shutdown_after_job_finishes: bool = True
    ttl_seconds_after_finished: NonNegativeInt = 3600  # keep the cluster this long for logs
    active_deadline_seconds: PositiveInt | None = None
    enable_in_tree_autoscaling: bool = False  # a job's cluster is sized for it

    def issues(self) -> Iterator[ConfigIssue]:
        yield from super().issues()
        if self.queue is not None and not self.shutdown_after_job_finishes:
            yield issue("shutdownAfterJobFinishes", "must be true when queue is set: Kueue and Volcano admit "
                        "the job with its cluster and reclaim both when it ends", False)
        if not self.shutdown_after_job_finishes and "ttl_seconds_after_finished" in self.model_fields_set:
            yield issue("ttlSecondsAfterFinished", "only applies with shutdownAfterJobFinishes: true",
                        self.ttl_seconds_after_finished)
        if self.submission_mode != "K8sJobMode" and "submitter_backoff_limit" in self.model_fields_set:
            yield issue("submitterBackoffLimit", "only applies with submissionMode K8sJobMode",
                        self.submitter_backoff_limit)
        env_vars = self.runtime_env.get("env_vars")
        if env_vars is not None and not isinstance(env_vars, dict):
            yield issue("runtimeEnv.env_vars", "must be a mapping of names to values", env_vars)
        elif isinstance(env_vars, dict) and MLFLOW_ENV in env_vars:
            yield issue(f"runtimeEnv.env_vars.{MLFLOW_ENV}", "comes from training.mlflow: remove it here",
                        env_vars[MLFLOW_ENV])


def render_rayjob(
    job_name: str, spec: RayJobSpec, pools: Mapping[str, GpuPool], *,
    workload: WorkloadContext | None = None, queue_system: QueueSystem = "kueue",
    mlflow_tracking_uri: str | None = None,
) -> dict[str, Any]:
    """The RayJob manifest; its ``rayClusterSpec`` is ``render_raycluster``'s spec."""
    cluster = render_raycluster(job_name, spec, pools, workload=workload, queue_system=queue_system)
    runtime_env = dict(spec.runtime_env)
    if mlflow_tracking_uri is not None:
        runtime_env["env_vars"] = {**dict(runtime_env.get("env_vars") or {}), MLFLOW_ENV: mlflow_tracking_uri}
    body: dict[str, Any] = {
        "entrypoint": spec.entrypoint,
        "submissionMode": spec.submission_mode,
        "shutdownAfterJobFinishes": spec.shutdown_after_job_finishes,
        "rayClusterSpec": cluster["spec"],
    }
    if runtime_env:
        body["runtimeEnvYAML"] = yaml.safe_dump(runtime_env, sort_keys=False)
    if spec.submission_mode == "K8sJobMode":
        body["submitterConfig"] = {"backoffLimit": spec.submitter_backoff_limit}
    if spec.shutdown_after_job_finishes:
        body["ttlSecondsAfterFinished"] = spec.ttl_seconds_after_finished
    if spec.active_deadline_seconds is not None:
        body["activeDeadlineSeconds"] = spec.active_deadline_seconds
    return {"apiVersion": "ray.io/v1", "kind": "RayJob", "metadata": cluster["metadata"], "spec": body}


class RayJobArgs(RayJobSpec, ComponentArgs):
    """A RayJob's spec, its object name and what its names resolve against."""

    job_name: DnsLabel
    pools: dict[DnsLabel, GpuPool] = Field(default_factory=dict)
    workload: WorkloadContext = Field(default_factory=WorkloadContext)
    queue_system: QueueSystem = "kueue"
    mlflow_tracking_uri: str | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        yield from super().issues()
        yield from raycluster_pool_issues(self, self.pools)
        yield from raycluster_workload_issues(self, self.workload)

    @classmethod
    def of(cls, spec: RayJobSpec, job_name: str, pools: Mapping[str, GpuPool], *,
           workload: WorkloadContext | None = None, queue_system: QueueSystem = "kueue",
           mlflow_tracking_uri: str | None = None) -> RayJobArgs:
        return args_from_spec(cls, spec, job_name=job_name, pools=dict(pools),
                              workload=workload or WorkloadContext(), queue_system=queue_system,
                              mlflow_tracking_uri=mlflow_tracking_uri)


class RayJob(pulumi.ComponentResource):
    """One RayJob custom resource (after the KubeRay operator: ``opts.depends_on``)."""

    job_name: pulumi.Output[str]
    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: RayJobArgs | Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None):
        args = component_args(RayJobArgs, args, component="RayJob", name=name)
        super().__init__(RAYJOB_TYPE, name, None, opts)
        manifest = render_rayjob(args.job_name, args, args.pools, workload=args.workload,
                                 queue_system=args.queue_system, mlflow_tracking_uri=args.mlflow_tracking_uri)
        self.job = custom_resource(child_name(name, "rayjob"), manifest, child_options(self, opts))
        self.job_name = object_name(self.job)
        self.namespace = object_namespace(self.job)
        self.register_outputs({"jobName": self.job_name, "namespace": self.namespace})


__all__ = ["RAYJOB_TYPE", "RayJob", "RayJobArgs", "RayJobSpec", "render_rayjob"]
