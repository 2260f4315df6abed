"""InferenceService autoscaling on serving signals through KEDA (KServe 0.20, RawDeployment).

With the annotation ``serving.kserve.io/autoscalerClass: keda`` KServe turns the predictor's
``autoScaling.metrics`` into a KEDA ScaledObject (``reconcilers/keda/keda_reconciler.go`` at
v0.20.0): an ``External`` metric becomes a trigger of type ``metric.backend`` (``prometheus``) with
``serverAddress``, ``query`` and ``threshold`` = ``target.value``; a ``Resource`` cpu metric a
``cpu`` trigger on ``averageUtilization``. KServe's webhook (``validateScalingKedaCompExtension``)
requires a query and ``target.value`` on external metrics, ``Utilization`` for cpu, and refuses
``scaleMetric`` alongside. ``minReplicas``/``maxReplicas`` become the ScaledObject's counts.

KEDA gives the HPA external triggers as ``AverageValue`` metrics: desired replicas =
ceil(query result / threshold). Every query here is therefore a *sum* over the service's pods and
every target a per-replica figure:

- ``waitingRequests``: ``vllm:num_requests_waiting`` (gauge; requests queued in vLLM's scheduler);
- ``kvCacheUsage``: ``vllm:kv_cache_usage_perc`` (gauge, 0-1). vLLM deprecated the older name
  ``vllm:gpu_cache_usage_perc`` in 0.9 and hid it from 0.10 (vllm PR #18354;
  https://docs.vllm.ai/en/v0.32.0/usage/metrics/ lists the current names; the runtime pins
  ``vllm/vllm-openai:v0.33.0``). Both vLLM series carry ``model_name`` (the served model name)
  and, scraped by a PodMonitor, the pod's ``namespace``;
- ``gpuUtilization`` (the seed's HPA on GPU utilisation, averageValue 80): dcgm-exporter's
  ``DCGM_FI_DEV_GPU_UTIL`` (percent) on whole GPUs; MIG instances report no ``GPU_UTIL``, only
  ``DCGM_FI_PROF_GR_ENGINE_ACTIVE`` (0-1, scaled to percent here). The GPU Operator's
  ServiceMonitor does not honour labels, so the pod holding the GPU is ``exported_pod`` in
  ``exported_namespace``; KServe names the predictor Deployment ``<name>-predictor``. A
  time-sliced GPU reports one utilisation for every pod sharing it, so it is refused there;
- ``cpuUtilization``: CPU percent of the requests (models without GPUs too).

Scale to zero stays with Serverless (Knative's activator holds requests while a pod starts): at
zero replicas vLLM exports nothing, so no vLLM query could wake a RawDeployment up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue
from gpu_platform.core.names import NonNegativeInt

AUTOSCALER_CLASS_ANNOTATION = "serving.kserve.io/autoscalerClass"
KEDA_CLASS = "keda"
VLLM_QUEUE_METRIC = "vllm:num_requests_waiting"
VLLM_KV_CACHE_METRIC = "vllm:kv_cache_usage_perc"
DCGM_GPU_UTIL = "DCGM_FI_DEV_GPU_UTIL"
DCGM_ENGINE_ACTIVE = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"


class AutoscalingSpec(ConfigModel):
    """KEDA targets per replica; each one set becomes a trigger and the highest demand wins."""

    waiting_requests: float | None = Field(default=None, gt=0)
    kv_cache_usage: float | None = Field(default=None, gt=0, le=1)
    gpu_utilization: int | None = Field(default=None, ge=1, le=100)
    cpu_utilization: int | None = Field(default=None, ge=1, le=100)
    scale_down_stabilization_seconds: NonNegativeInt | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        if not self.triggers:
            yield issue("", "set at least one of waitingRequests, kvCacheUsage, gpuUtilization "
                        "or cpuUtilization")

    @property
    def triggers(self) -> list[str]:
        keys = ("waitingRequests", "kvCacheUsage", "gpuUtilization", "cpuUtilization")
        values = (self.waiting_requests, self.kv_cache_usage, self.gpu_utilization,
                  self.cpu_utilization)
        return [key for key, value in zip(keys, values, strict=True) if value is not None]

    @property
    def needs_prometheus(self) -> bool:
        return any(t != "cpuUtilization" for t in self.triggers)

    def target_issues(self, *, vllm: bool, gpus: int, sharing: str | None) -> Iterator[ConfigIssue]:
        """Triggers the predictor cannot feed (paths relative to this spec). ``sharing``: the
        pool's sharing mode (None: no pool)."""
        for key, value in (("waitingRequests", self.waiting_requests),
                           ("kvCacheUsage", self.kv_cache_usage)):
            if value is not None and not vllm:
                yield issue(key, "is a vLLM metric; use gpuUtilization or cpuUtilization with "
                            "other runtimes", value)
        if self.gpu_utilization is not None:
            if gpus == 0:
                yield issue("gpuUtilization", "the predictor has no GPU; use cpuUtilization",
                            self.gpu_utilization)
            elif sharing == "time-slicing":
                yield issue("gpuUtilization", "a time-sliced GPU reports one utilisation for every "
                            "pod sharing it; scale on waitingRequests or kvCacheUsage",
                            self.gpu_utilization)


def _selector(**labels: str) -> str:
    return ",".join(f'{key}{"=~" if value.endswith(".*") else "="}"{value}"'
                    for key, value in labels.items())


def queries(namespace: str, service: str, model_name: str, *, mig: bool) -> dict[str, str]:
    """The PromQL sum each external trigger reads (pure)."""
    vllm = _selector(namespace=namespace, model_name=model_name)
    dcgm = _selector(exported_namespace=namespace, exported_pod=f"{service}-predictor-.*")
    gpu = (f"sum({DCGM_ENGINE_ACTIVE}{{{dcgm}}}) * 100" if mig
           else f"sum({DCGM_GPU_UTIL}{{{dcgm}}})")
    return {
        "waitingRequests": f"sum({VLLM_QUEUE_METRIC}{{{vllm}}})",
        "kvCacheUsage": f"sum({VLLM_KV_CACHE_METRIC}{{{vllm}}})",
        "gpuUtilization": gpu,
    }


def render_autoscaling(
    spec: AutoscalingSpec,
    *,
    namespace: str,
    service: str,
    model_name: str,
    prometheus_url: Any,
    mig: bool = False,
) -> dict[str, Any]:
    """The predictor's ``autoScaling`` (pure; ``prometheus_url`` may be an Output)."""
    promql = queries(namespace, service, model_name, mig=mig)
    metrics: list[dict[str, Any]] = []
    for key, value in (("waitingRequests", spec.waiting_requests),
                       ("kvCacheUsage", spec.kv_cache_usage),
                       ("gpuUtilization", spec.gpu_utilization)):
        if value is None:
            continue
        metrics.append({"type": "External", "external": {
            "metric": {"backend": "prometheus", "serverAddress": prometheus_url,
                       "query": promql[key]},
            "target": {"type": "Value", "value": f"{value:g}"},
        }})
    if spec.cpu_utilization is not None:
        metrics.append({"type": "Resource", "resource": {
            "name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": spec.cpu_utilization},
        }})
    rendered: dict[str, Any] = {"metrics": metrics}
    if spec.scale_down_stabilization_seconds is not None:
        rendered["behavior"] = {"scaleDown": {
            "stabilizationWindowSeconds": spec.scale_down_stabilization_seconds}}
    return rendered
