"""The training platform: KubeRay, RayClusters, Kueue or Volcano queues and team tenancy.

``TrainingConfig`` is the environment's ``training`` key; ``build_training`` composes the parts
it switches on. Cross-checks against the GPU pools live in ``training_pool_issues`` and against the
network and storage layers in ``training_workload_issues`` (pure); ``build_training`` runs both,
so nothing is registered from a config that names unknown pools, networks or volumes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
from pydantic import Field

from gpu_platform.config import ConfigError, ConfigIssue, ConfigModel
from gpu_platform.config.errors import collect_issues, issue
from gpu_platform.core.names import DnsLabel, child_name
from gpu_platform.core.pools import GpuPool
from gpu_platform.training.kubeflow import (
    Kubeflow,
    KubeflowArgs,
    KubeflowConfig,
    kubeflow_prerequisite_issues,
)
from gpu_platform.training.kuberay import KubeRayArgs, KubeRayConfig, KubeRayOperator
from gpu_platform.training.kueue import Kueue, KueueArgs, KueueConfig
from gpu_platform.training.mlflow import Mlflow, MlflowArgs, MlflowConfig
from gpu_platform.training.pytorchjob import PyTorchJob, PyTorchJobArgs, PyTorchJobSpec
from gpu_platform.training.ray_network import autoscaler_api_access
from gpu_platform.training.raycluster import (
    RayCluster,
    RayClusterArgs,
    RayClusterSpec,
    WorkerGroup,
    raycluster_pool_issues,
    raycluster_workload_issues,
)
from gpu_platform.training.rayjob import RayJob, RayJobArgs, RayJobSpec
from gpu_platform.training.runtimes import (
    TrainingRuntime,
    TrainingRuntimeArgs,
    TrainingRuntimeSpec,
    runtime_pool_issues,
    runtime_workload_issues,
)
from gpu_platform.training.spark import SparkOperator, SparkOperatorArgs, SparkOperatorConfig
from gpu_platform.training.teams import (
    DEFAULT_PRIORITY_CLASSES,
    PriorityClassConfig,
    TeamConfig,
    Teams,
    TeamsArgs,
    priority_class_issues,
    team_pool_issues,
    team_priority_issues,
)
from gpu_platform.training.volcano import Volcano, VolcanoArgs, VolcanoConfig, volcano_team_issues
from gpu_platform.training.workload_parts import (
    build_workloads,
    mlflow_placement_issues,
    opts_after,
    ray_dependencies,
)
from gpu_platform.workloads import MountSpec, WorkloadContext

QueueSystem = Literal["kueue", "volcano"]


class TrainingConfig(ConfigModel):
    enabled: bool = False
    kuberay: KubeRayConfig = Field(default_factory=KubeRayConfig)
    ray_clusters: dict[DnsLabel, RayClusterSpec] = Field(default_factory=dict)
    queue_system: QueueSystem = "kueue"
    kueue: KueueConfig = Field(default_factory=KueueConfig)
    volcano: VolcanoConfig = Field(default_factory=VolcanoConfig)
    teams: dict[DnsLabel, TeamConfig] = Field(default_factory=dict)
    priority_classes: dict[DnsLabel, PriorityClassConfig] = Field(
        default_factory=lambda: dict(DEFAULT_PRIORITY_CLASSES)
    )
    kubeflow: KubeflowConfig = Field(default_factory=KubeflowConfig)
    # Kubeflow Trainer v2 runtimes derived from pools (gpu_platform.training.runtimes)
    runtimes: dict[DnsLabel, TrainingRuntimeSpec] = Field(default_factory=dict)
    # batch work on its own RayCluster (gpu_platform.training.rayjob)
    ray_jobs: dict[DnsLabel, RayJobSpec] = Field(default_factory=dict)
    # elastic training on the v1 operator (gpu_platform.training.pytorchjob)
    pytorch_jobs: dict[DnsLabel, PyTorchJobSpec] = Field(default_factory=dict)
    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)
    spark_operator: SparkOperatorConfig = Field(default_factory=SparkOperatorConfig)

    def issues(self) -> Iterator[ConfigIssue]:
        yield from self._runtime_issues()
        # the other queue system's settings would silently do nothing: refuse them
        unused = "kueue" if self.queue_system == "volcano" else "volcano"
        if unused in self.model_fields_set:
            yield issue(unused, f"is only used with queueSystem {unused}; remove it or set "
                        f"queueSystem: {unused}")
        if self.queue_system == "volcano":
            yield from volcano_team_issues(self.volcano, self.teams)
        yield from (i.prefixed("teams") for i in team_priority_issues(self.teams, self.priority_classes))
        for name, cluster in self.ray_clusters.items():
            if cluster.priority_class is not None:
                for found in priority_class_issues(cluster.priority_class, self.priority_classes):
                    yield found.prefixed(f"rayClusters.{name}.priorityClass")
        if self.ray_clusters and not self.kuberay.enabled:
            yield issue("kuberay.enabled", "must be true while rayClusters are declared", False)
        if self.ray_jobs and not self.kuberay.enabled:
            yield issue("kuberay.enabled", "must be true while rayJobs are declared", False)
        ray: list[tuple[str, RayClusterSpec]] = [
            (f"rayClusters.{n}", c) for n, c in self.ray_clusters.items()]
        ray += [(f"rayJobs.{n}", c) for n, c in self.ray_jobs.items()]
        queued: list[tuple[str, RayClusterSpec | PyTorchJobSpec]] = [*ray]
        queued += [(f"pytorchJobs.{n}", j) for n, j in self.pytorch_jobs.items()]
        for name, spec in queued:
            if spec.queue is None:
                continue
            if spec.queue not in self.teams:
                known = ", ".join(sorted(self.teams)) or "none"
                yield issue(f"{name}.queue", f"unknown team queue; teams: {known}", spec.queue)
            elif spec.namespace != spec.queue and self.queue_system == "volcano":
                yield issue(
                    f"{name}.namespace",
                    f"must be '{spec.queue}': the Volcano queue '{spec.queue}' serves the team's "
                    "namespace only",
                    spec.namespace,
                )
            elif spec.namespace != spec.queue:
                yield issue(
                    f"{name}.namespace",
                    f"must be '{spec.queue}': the LocalQueue '{spec.queue}' lives in the team's "
                    "namespace",
                    spec.namespace,
                )


    def _runtime_issues(self) -> Iterator[ConfigIssue]:
        if self.runtimes and not self.kubeflow.trainer.enabled:
            yield issue("kubeflow.trainer.enabled", "must be true while runtimes are declared (Kubeflow "
                        "Trainer serves them)", False)
        if self.pytorch_jobs and not self.kubeflow.training_operator.enabled:
            yield issue("kubeflow.trainingOperator.enabled", "must be true while pytorchJobs are declared "
                        "(elastic PyTorchJobs run on the training operator v1)", False)
        if "torch-distributed" in self.runtimes and self.kubeflow.trainer.torch_runtime:
            yield issue("runtimes.torch-distributed", "is the name of kubeflow.trainer.torchRuntime's "
                        "runtime: rename it, or set kubeflow.trainer.torchRuntime: false")


def training_pool_issues(
    config: TrainingConfig, pools: Mapping[str, GpuPool], prefix: str = "training"
) -> list[ConfigIssue]:
    """Every reference from ``config`` to the GPU pools that does not hold, with full paths."""
    found = [i.prefixed(f"rayClusters.{name}") for name, spec in config.ray_clusters.items()
             for i in raycluster_pool_issues(spec, pools)]
    found += [i.prefixed(f"rayJobs.{name}") for name, spec in config.ray_jobs.items()
              for i in raycluster_pool_issues(spec, pools)]
    found += [i.prefixed("teams") for i in team_pool_issues(config.teams, pools)]
    found += [i.prefixed(f"runtimes.{name}") for name, spec in config.runtimes.items()
              for i in runtime_pool_issues(spec, pools)]
    found += [i.prefixed(f"pytorchJobs.{name}") for name, spec in config.pytorch_jobs.items()
              for i in runtime_pool_issues(spec, pools)]
    spark = config.spark_operator
    if spark.enabled and spark.pool is not None and spark.pool not in pools:
        known = ", ".join(sorted(pools)) or "none"
        found.append(issue("sparkOperator.pool", f"unknown GPU pool; known pools: {known}", spark.pool))
    return [i.prefixed(prefix) for i in found]


def training_workload_issues(
    config: TrainingConfig, workload: WorkloadContext, prefix: str = "training"
) -> list[ConfigIssue]:
    """Every network, EFA and mount name of the RayClusters and runtimes that does not resolve."""
    found = [i.prefixed(f"{prefix}.rayClusters.{name}") for name, spec in config.ray_clusters.items()
             for i in raycluster_workload_issues(spec, workload)]
    found += [i.prefixed(f"{prefix}.rayJobs.{name}") for name, spec in config.ray_jobs.items()
              for i in raycluster_workload_issues(spec, workload)]
    found += [i.prefixed(f"{prefix}.pytorchJobs.{name}") for name, spec in config.pytorch_jobs.items()
              for i in runtime_workload_issues(spec, workload)]
    return found + [i.prefixed(f"{prefix}.runtimes.{name}") for name, spec in config.runtimes.items()
                    for i in runtime_workload_issues(spec, workload)]


@dataclass
class TrainingPlatform:
    """The training parts an environment switched on (None or empty when off)."""

    kuberay: KubeRayOperator | None = None
    teams: Teams | None = None
    kueue: Kueue | None = None
    volcano: Volcano | None = None
    kubeflow: Kubeflow | None = None
    ray_clusters: dict[str, RayCluster] = field(default_factory=dict)
    runtimes: dict[str, TrainingRuntime] = field(default_factory=dict)
    ray_jobs: dict[str, RayJob] = field(default_factory=dict)
    pytorch_jobs: dict[str, PyTorchJob] = field(default_factory=dict)
    mlflow: Mlflow | None = None
    spark_operator: SparkOperator | None = None


def build_training(
    name: str,
    config: TrainingConfig,
    pools: Mapping[str, GpuPool],
    opts: pulumi.ResourceOptions,
    workload: WorkloadContext | None = None,
    *,
    cert_manager: bool = False,
    aws: Mapping[str, Any] | None = None,
) -> TrainingPlatform:
    """The training platform for ``config``; raises ConfigError before registering anything.

    ``workload``: the network layer, EFA pools and storage layer RayClusters name (default:
    none of them, so a cluster naming a network or mount is an error). ``aws``: where MLflow's
    RDS runs and the OIDC provider (``subnet_ids``, ``security_group_ids``, ``oidc_provider_arn``,
    ``oidc_provider_url``), for ``mlflow.backend: aws``."""
    if not config.enabled:
        return TrainingPlatform()
    workload = workload or WorkloadContext()
    # the components check the pools they are given too; report them once, here, by their path
    problems = [found.prefixed(f"gpuPools.{pool_name}") for pool_name, pool in pools.items()
                for found in collect_issues(pool)]
    problems += [i.prefixed("training") for i in config.issues()] + training_pool_issues(config, pools)
    problems += training_workload_issues(config, workload)
    problems += [i.prefixed("training.kubeflow") for i in config.kubeflow.issues()]
    problems += kubeflow_prerequisite_issues(config.kubeflow, cert_manager=cert_manager, istio=False)
    if config.mlflow.enabled:
        problems += mlflow_placement_issues(config.mlflow, aws)
    if problems:
        raise ConfigError(problems)
    platform = TrainingPlatform()
    volcano = config.queue_system == "volcano"
    if volcano:
        # before KubeRay: its Volcano integration needs the PodGroup CRD the chart installs
        platform.volcano = Volcano(child_name(name, "volcano"), VolcanoArgs.of(
            config.volcano, config.teams, config.priority_classes,
            scale_from_zero=any(pool.min_size == 0 for pool in pools.values())), opts)
    if config.kuberay.enabled:
        platform.kuberay = KubeRayOperator(
            child_name(name, "kuberay"),
            KubeRayArgs.of(config.kuberay, batch_scheduler="volcano" if volcano else None),
            opts_after(opts, [platform.volcano.release] if platform.volcano else []),
        )
    if config.teams or config.priority_classes:
        operator_ns = [config.kuberay.namespace] if config.kuberay.enabled else []
        platform.teams = Teams(child_name(name, "teams"), TeamsArgs(
            teams=config.teams, priority_classes=config.priority_classes,
            extra_ingress_namespaces=operator_ns, pools=dict(pools)), opts)
    if config.teams and not volcano:
        namespaces = platform.teams.namespaces if platform.teams else {}
        platform.kueue = Kueue(child_name(name, "kueue"),
                               KueueArgs.of(config.kueue, pools, config.teams, config.priority_classes),
                               opts, team_namespaces=namespaces)
    if config.kubeflow.any_enabled():
        platform.kubeflow = Kubeflow(
            child_name(name, "kubeflow"), KubeflowArgs.of(config.kubeflow, cert_manager=cert_manager), opts
        )
    for cluster_name, spec in config.ray_clusters.items():
        waits_for = ray_dependencies(platform, spec)
        args = RayClusterArgs.of(spec, cluster_name, pools, workload=workload,
                                 queue_system=config.queue_system, team=config.teams.get(spec.namespace))
        platform.ray_clusters[cluster_name] = RayCluster(child_name(name, f"ray-{cluster_name}"), args,
                                                         opts_after(opts, waits_for))
        if spec.enable_in_tree_autoscaling and platform.teams is not None \
                and spec.namespace in platform.teams.namespaces:  # default-deny: open the API
            autoscaler_api_access(child_name(name, f"ray-{cluster_name}-autoscaler-api"), cluster_name,
                                  spec.namespace, opts_after(opts, waits_for))
    build_workloads(name, config, pools, opts, platform, workload, aws)
    return platform


__all__ = [
    "KubeRayArgs",
    "KubeRayConfig",
    "KubeRayOperator",
    "Kubeflow",
    "KubeflowArgs",
    "KubeflowConfig",
    "Kueue",
    "KueueArgs",
    "KueueConfig",
    "Mlflow",
    "MlflowArgs",
    "MlflowConfig",
    "MountSpec",
    "PriorityClassConfig",
    "PyTorchJob",
    "PyTorchJobArgs",
    "PyTorchJobSpec",
    "RayCluster",
    "RayClusterArgs",
    "RayClusterSpec",
    "RayJob",
    "RayJobArgs",
    "RayJobSpec",
    "SparkOperator",
    "SparkOperatorArgs",
    "SparkOperatorConfig",
    "TeamConfig",
    "Teams",
    "TeamsArgs",
    "TrainingConfig",
    "TrainingPlatform",
    "TrainingRuntime",
    "TrainingRuntimeArgs",
    "TrainingRuntimeSpec",
    "Volcano",
    "VolcanoArgs",
    "VolcanoConfig",
    "WorkerGroup",
    "WorkloadContext",
    "build_training",
    "mlflow_placement_issues",
    "training_pool_issues",
    "training_workload_issues",
]
