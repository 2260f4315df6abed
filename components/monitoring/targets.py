"""Which workloads of an environment export metrics, and where: the scrape targets and pool prices.

Pure functions of the environment's config; ``gpu_platform.monitoring.Observability`` renders them.

- vLLM predictors: every InferenceService on the library's vLLM runtime, in the serving namespace,
  selected by KServe's ``serving.kserve.io/inferenceservice`` pod label (copied onto the series as
  ``inference_service``), port 8080 by number.
- Ray heads and workers: the RayClusters' namespaces, selected by ``ray.io/cluster`` in the
  clusters' names, port ``metrics`` (8080).
- Training jobs: team namespaces, pods of Kubeflow Trainer TrainJobs (JobSet's
  ``jobset.sigs.k8s.io/jobset-name`` label) and of training-operator v1 jobs
  (``training.kubeflow.org/job-name``) that declare a ``metrics`` port.
"""

from __future__ import annotations

from gpu_platform.environment import EnvironmentConfig
from gpu_platform.gpu.cost_rules import PoolPrice, pool_prices
from gpu_platform.monitoring.scrape import ScrapeTarget, label_to_target
from gpu_platform.serving.runtimes import VLLM_PORT, VLLM_RUNTIME_NAME

ISVC_LABEL = "serving.kserve.io/inferenceservice"
RAY_CLUSTER_LABEL = "ray.io/cluster"
# KubeRay's metrics port on heads and workers: MetricsPortName "metrics", DefaultMetricsPort 8080
# (ray-project/kuberay ray-operator/controllers/ray/utils/constant.go, read 2026-11-26)
RAY_METRICS_PORT = ("metrics", 8080)
JOBSET_LABEL = "jobset.sigs.k8s.io/jobset-name"
TRAINING_OPERATOR_LABEL = "training.kubeflow.org/job-name"
TRAINING_METRICS_PORT = "metrics"


def _exists(key: str) -> dict[str, object]:
    return {"matchExpressions": [{"key": key, "operator": "Exists"}]}


def scrape_targets(env: EnvironmentConfig) -> list[ScrapeTarget]:
    """The environment's metric-exporting workloads, in a fixed order."""
    teams = tuple(sorted(env.training.teams)) if env.training.enabled else ()
    targets: list[ScrapeTarget] = []
    serving = env.serving
    if serving.enabled and any(
        spec.runtime == VLLM_RUNTIME_NAME for spec in serving.inference_services.values()
    ):
        targets.append(ScrapeTarget(
            name="vllm-predictors", namespaces=(serving.namespace,), selector=_exists(ISVC_LABEL),
            port=None, port_number=VLLM_PORT,  # Knative (Serverless) renames the port
            relabelings=(label_to_target(ISVC_LABEL, "inference_service"),),
            isolated_namespaces=tuple(ns for ns in teams if ns == serving.namespace),
        ))
    if env.training.enabled and env.training.ray_clusters:
        clusters = env.training.ray_clusters
        targets.append(ScrapeTarget(
            name="ray", namespaces=tuple(sorted({c.namespace for c in clusters.values()})),
            selector={"matchExpressions": [
                {"key": RAY_CLUSTER_LABEL, "operator": "In", "values": sorted(clusters)}]},
            port=RAY_METRICS_PORT[0], port_number=RAY_METRICS_PORT[1],
            isolated_namespaces=teams,
        ))
    kubeflow = env.training.kubeflow
    stalled = env.gpu_alerts.training_stalled
    step_metric = (stalled.metric,) if env.gpu_alerts.enabled and stalled.enabled else ()
    for enabled, name, key in (
        (kubeflow.trainer.enabled, "training-jobs", JOBSET_LABEL),
        (kubeflow.training_operator.enabled, "training-operator-jobs", TRAINING_OPERATOR_LABEL),
    ):
        if teams and enabled:
            targets.append(ScrapeTarget(
                name=name, namespaces=teams, selector=_exists(key), port=TRAINING_METRICS_PORT,
                isolated_namespaces=teams, application_metrics=step_metric,
            ))
    return targets


def environment_pool_prices(env: EnvironmentConfig) -> dict[str, PoolPrice]:
    """Each AWS GPU pool's catalog price per GPU; pools on existing clusters are unpriced."""
    if env.aws is None:
        return {}
    return pool_prices({
        name: pool.instance_type for name, pool in env.aws.node_pools.items() if name in env.gpu_pools
    })


__all__ = ["environment_pool_prices", "scrape_targets"]
