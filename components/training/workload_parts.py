"""What the training area runs on its operators: MLflow, the Spark operator, training runtimes,
RayJobs and elastic PyTorchJobs (``build_training`` calls ``build_workloads`` last, so each waits
for the operator, team namespace and queue it needs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi

from gpu_platform.config import ConfigIssue
from gpu_platform.config.errors import issue
from gpu_platform.core.names import child_name
from gpu_platform.core.pools import GpuPool
from gpu_platform.training.mlflow import Mlflow, MlflowArgs, MlflowConfig
from gpu_platform.training.pytorchjob import PyTorchJob, PyTorchJobArgs
from gpu_platform.training.rayjob import RayJob, RayJobArgs
from gpu_platform.training.rayspec import RayClusterSpec
from gpu_platform.training.runtimes import TrainingRuntime, TrainingRuntimeArgs
from gpu_platform.training.spark import SparkOperator, SparkOperatorArgs
from gpu_platform.workloads import WorkloadContext

if TYPE_CHECKING:
    from gpu_platform.training import TrainingConfig, TrainingPlatform


def mlflow_placement_issues(config: MlflowConfig, aws: Mapping[str, Any] | None,
                            prefix: str = "training.mlflow") -> list[ConfigIssue]:
    """``backend: aws`` needs the EKS cluster's subnets, security group and OIDC provider."""
    if config.backend == "aws" and not aws:
        return [issue("backend", "aws needs the EKS cluster this platform creates (cluster.kind: eks); "
                      "on an existing cluster use backend: external", "aws").prefixed(prefix)]
    return []


def build_workloads(
    name: str, config: TrainingConfig, pools: Mapping[str, GpuPool], opts: pulumi.ResourceOptions,
    platform: TrainingPlatform, workload: WorkloadContext, aws: Mapping[str, Any] | None,
) -> None:
    """Registers the enabled services and jobs into ``platform`` (config already checked)."""
    tracking_uri = None
    if config.mlflow.enabled:
        platform.mlflow = Mlflow(child_name(name, "mlflow"),
                                 MlflowArgs.of(config.mlflow, **dict(aws or {})), opts)
        tracking_uri = config.mlflow.tracking_uri()
    if config.spark_operator.enabled:
        team_ns = platform.teams.namespaces if platform.teams else {}
        platform.spark_operator = SparkOperator(
            child_name(name, "spark-operator"),
            SparkOperatorArgs.of(config.spark_operator, pools, existing_namespaces=list(team_ns),
                                 volcano=config.queue_system == "volcano"),
            opts_after(opts, [team_ns[ns] for ns in config.spark_operator.job_namespaces if ns in team_ns]))
    trainer = [platform.kubeflow.trainer] if platform.kubeflow and platform.kubeflow.trainer else []
    for runtime_name, runtime in config.runtimes.items():
        team_ns = platform.teams.namespaces if platform.teams else {}
        after_ns = [team_ns[runtime.namespace]] if runtime.namespace in team_ns else []
        platform.runtimes[runtime_name] = TrainingRuntime(
            child_name(name, f"runtime-{runtime_name}"),
            TrainingRuntimeArgs.of(runtime, runtime_name, pools, workload=workload,
                                   queue_system=config.queue_system, mlflow_tracking_uri=tracking_uri),
            opts_after(opts, [*trainer, *after_ns]))
    for job_name, job in config.ray_jobs.items():
        platform.ray_jobs[job_name] = RayJob(
            child_name(name, f"rayjob-{job_name}"),
            RayJobArgs.of(job, job_name, pools, workload=workload, queue_system=config.queue_system,
                          mlflow_tracking_uri=tracking_uri),
            opts_after(opts, ray_dependencies(platform, job)))
    operator = platform.kubeflow.installs.get("training-operator") if platform.kubeflow else None
    for job_name, pytorch_job in config.pytorch_jobs.items():
        team_ns = platform.teams.namespaces if platform.teams else {}
        after = [*([operator] if operator else []),
                 *([team_ns[pytorch_job.namespace]] if pytorch_job.namespace in team_ns else [])]
        if platform.kueue is not None and pytorch_job.queue in platform.kueue.local_queues:
            after.append(platform.kueue.local_queues[pytorch_job.queue])
        platform.pytorch_jobs[job_name] = PyTorchJob(
            child_name(name, f"pytorchjob-{job_name}"),
            PyTorchJobArgs.of(pytorch_job, job_name, pools, workload=workload,
                              queue_system=config.queue_system, mlflow_tracking_uri=tracking_uri),
            opts_after(opts, after))


def ray_dependencies(platform: TrainingPlatform, spec: RayClusterSpec) -> list[pulumi.Resource]:
    """What a RayCluster or RayJob waits for: the operator, its team namespace and its queue."""
    after: list[pulumi.Resource] = []
    if platform.kuberay is not None:
        after.append(platform.kuberay.release)
    if platform.teams is not None and spec.namespace in platform.teams.namespaces:
        after.append(platform.teams.namespaces[spec.namespace])
    if platform.kueue is not None and spec.queue in platform.kueue.local_queues:
        after.append(platform.kueue.local_queues[spec.queue])
    if platform.volcano is not None and spec.queue in platform.volcano.queues:
        after.append(platform.volcano.queues[spec.queue])
    return after


def opts_after(
    opts: pulumi.ResourceOptions | None, resources: list[pulumi.Resource]
) -> pulumi.ResourceOptions:
    """``opts`` plus ``resources`` to wait for."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=resources))


__all__ = ["build_workloads", "mlflow_placement_issues"]
