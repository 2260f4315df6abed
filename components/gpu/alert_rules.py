"""The GPU platform's alerting rules: GPU health and waste, GPU containers, training, vLLM serving.

Every expression uses only series that the exporters the platform installs really export, checked
upstream (``monitoring.exporters`` keeps the lists and their sources):

- dcgm-exporter's ``etc/default-counters.csv`` (the GPU Operator v26.7.0 ships exporter
  ``4.6.0-4.8.3``): ``DCGM_FI_DEV_GPU_UTIL``, ``DCGM_FI_PROF_GR_ENGINE_ACTIVE`` (a 0-1 ratio, the
  only utilisation MIG instances report: NVML has no per-instance ``GPU_UTIL``),
  ``DCGM_FI_DEV_FB_USED``/``_FREE`` (no ``FB_TOTAL``), ``DCGM_FI_DEV_XID_ERRORS`` (gauge: the last
  XID), ``DCGM_FI_DEV_GPU_TEMP``. Series carry ``gpu``, ``UUID``, ``GPU_I_ID`` on MIG instances,
  and the host as ``Hostname`` (renamed ``hostname`` by dcgm-exporter PR #655, 2026-05-12), so
  both spellings are grouped by and printed. The GPU Operator's ServiceMonitor does not honour
  labels, so the pod holding a GPU arrives as ``exported_namespace``/``exported_pod``.
- kube-state-metrics (kube-prometheus-stack, honorLabels): node capacity/allocatable with the
  resource sanitised to ``nvidia_com_gpu`` / ``nvidia_com_mig_<profile>``, container requests,
  last termination reason, restarts, ``kube_job_failed`` and ``kube_job_owner``.
- vLLM's OpenAI server: ``vllm:e2e_request_latency_seconds`` (histogram),
  ``vllm:num_requests_waiting``, ``vllm:request_success_total{finished_reason}`` (``error`` is
  an engine failure; ``abort`` is mostly client cancellation) and prometheus-fastapi-
  instrumentator's ``http_requests_total{handler,status}`` (status grouped as ``5xx`` by
  default). The library's PodMonitor adds ``inference_service`` from the predictor's label.

No alert for NCCL falling back to TCP: NCCL exports no metric (it reports its transport only in
its log with ``NCCL_DEBUG=INFO``: ``NET/Socket`` instead of ``NET/IB``), and no exporter the
platform installs counts RDMA traffic per job; see README, "GPU alerts".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpu_platform.gpu.alert_settings import AlertSettings

if TYPE_CHECKING:
    from gpu_platform.gpu.alerts import GpuAlertsConfig

# kube-state-metrics' names of whole GPUs, renamed time-sliced replicas (``nvidia.com/gpu.shared``)
# and MIG slices of the mixed strategy (``nvidia.com/mig-3g.40gb``)
KSM_GPU_RESOURCES = 'resource=~"nvidia_com_gpu|nvidia_com_gpu_shared|nvidia_com_mig_.+"'
# DCGM's per-GPU identity (both spellings of the host label) and the pod holding it
DCGM_GPU_LABELS = "Hostname, hostname, gpu, GPU_I_ID"
DCGM_POD_LABELS = "exported_namespace, exported_pod"
# Training Jobs: a Kubeflow TrainJob runs as a JobSet of Jobs; a RayJob submits through a Job.
TRAINING_JOB_OWNERS = "JobSet|RayJob"
ISVC = "namespace, inference_service"


def label(name: str) -> str:
    """An alert template's reference to a label of the firing series."""
    return "{{ $labels." + name + " }}"


HOST = label("Hostname") + label("hostname")
GPU = f"GPU {label('gpu')} on {HOST}"
POD = f"{label('exported_namespace')}/{label('exported_pod')}"
K8S_POD = f"{label('namespace')}/{label('pod')}"
MODEL = f"InferenceService {label('namespace')}/{label('inference_service')}"


def num(value: float) -> str:
    """PromQL literal: 20.0 -> "20", 0.95 -> "0.95"."""
    return f"{value:g}"


def rule(
    name: str, s: AlertSettings, expr: str, summary: str, description: str, component: str,
    first: str,
) -> dict[str, Any]:
    """One alerting rule; ``component`` and ``runbook`` say who is at fault and what to run first."""
    return {
        "alert": name,
        "expr": expr,
        "for": s.for_,
        "labels": {"severity": s.severity},
        "annotations": {
            "summary": summary,
            "description": description,
            "component": component,
            "runbook": f"First run: {first}",
        },
    }


def _gpu_requests() -> str:
    return f"kube_pod_container_resource_requests{{{KSM_GPU_RESOURCES}}} > 0"


def gpu_health_rules(c: GpuAlertsConfig) -> list[tuple[AlertSettings, dict[str, Any]]]:
    ns = c.namespace  # the GPU Operator's namespace: device plugin and DCGM exporter run there
    low = c.gpu_low_utilization
    by = f"avg by ({DCGM_GPU_LABELS}, {DCGM_POD_LABELS})"
    held = 'exported_pod!=""'
    return [
        (c.gpu_unavailable, rule(
            "GpuUnavailable", c.gpu_unavailable,
            # allocatable < capacity: the device plugin marked GPUs unhealthy; capacity 0: the
            # node registered GPUs once and now reports none. Summed per node over every GPU
            # resource: a node of MIG slices (mixed strategy) offers no whole nvidia.com/gpu.
            f"sum by (node) (kube_node_status_allocatable{{{KSM_GPU_RESOURCES}}})"
            f" < sum by (node) (kube_node_status_capacity{{{KSM_GPU_RESOURCES}}})"
            f" or sum by (node) (kube_node_status_capacity{{{KSM_GPU_RESOURCES}}}) == 0",
            f"GPUs unavailable on node {label('node')}",
            f"Node {label('node')} offers only {{{{ $value }}}} schedulable GPUs, fewer than it "
            "has: the device plugin marked GPUs unhealthy or lost them (check XID errors).",
            f"NVIDIA device plugin (GPU Operator, namespace {ns}) on node {label('node')}",
            f"kubectl -n {ns} get pods -l app=nvidia-device-plugin-daemonset -o wide "
            f"--field-selector spec.nodeName={label('node')}",
        )),
        (low, rule(
            "GpuLowUtilization", low,
            # MIG instances report only the profiling ratio; whole GPUs report both and the
            # profiling metric wins (``or`` keeps the left side for equal label sets).
            f"({by} (avg_over_time(DCGM_FI_PROF_GR_ENGINE_ACTIVE{{{held}}}[{low.window}])) * 100"
            f" or {by} (avg_over_time(DCGM_FI_DEV_GPU_UTIL{{{held}}}[{low.window}])))"
            f" < {num(low.threshold)}",
            f"{GPU} held by {POD} is mostly idle",
            f"{GPU} (MIG instance {label('GPU_I_ID')}) averaged {{{{ $value }}}}% utilisation "
            f"over {low.window}, below {num(low.threshold)}%: {POD} holds a GPU it does not use.",
            f"workload {POD}",
            f"kubectl -n {label('exported_namespace')} describe pod {label('exported_pod')}",
        )),
        (c.gpu_memory_near_full, rule(
            "GpuMemoryNearFull", c.gpu_memory_near_full,
            "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)"
            f" > {num(c.gpu_memory_near_full.threshold)}",
            f"{GPU} memory is nearly full",
            f"{GPU} uses {{{{ $value | humanizePercentage }}}} of its framebuffer memory; "
            f"{POD} risks CUDA out-of-memory errors.",
            f"workload {POD}",
            f"kubectl -n {label('exported_namespace')} logs {label('exported_pod')} --tail=200",
        )),
        (c.gpu_xid_errors, rule(
            "GpuXidErrors", c.gpu_xid_errors,
            "DCGM_FI_DEV_XID_ERRORS > 0",
            f"{GPU} reported XID error {{{{ $value }}}}",
            f"{GPU} reported XID {{{{ $value }}}} (see NVIDIA's XID catalogue); the GPU may need "
            "a reset or the node a drain.",
            f"NVIDIA driver on node {HOST} (seen by the DCGM exporter, namespace {ns})",
            f"kubectl debug node/{HOST} -it --profile=sysadmin --image=busybox -- "
            "chroot /host dmesg -T | grep -i xid",
        )),
        (c.gpu_temperature_high, rule(
            "GpuTemperatureHigh", c.gpu_temperature_high,
            f"DCGM_FI_DEV_GPU_TEMP > {num(c.gpu_temperature_high.threshold)}",
            f"{GPU} is hot",
            f"{GPU} is at {{{{ $value }}}} C, above {num(c.gpu_temperature_high.threshold)} C; "
            "it will throttle. Check cooling.",
            f"node {HOST} (hardware)",
            f"kubectl describe node {HOST}",
        )),
    ]


def gpu_container_rules(c: GpuAlertsConfig) -> list[tuple[AlertSettings, dict[str, Any]]]:
    oom, restarts = c.gpu_container_oom_killed, c.gpu_container_restarting
    on = "on (namespace, pod, container)"
    container = f"container {label('container')} of {K8S_POD}"
    return [
        (oom, rule(
            "GpuContainerOomKilled", oom,
            'kube_pod_container_status_last_terminated_reason{reason="OOMKilled"} == 1'
            f" and {on} increase(kube_pod_container_status_restarts_total[{oom.window}]) > 0"
            f" and {on} {_gpu_requests()}",
            f"GPU {container} was OOMKilled",
            f"The GPU {container} exceeded its memory limit and was killed within {oom.window}: "
            "raise its memory or shrink its data loader / batch.",
            f"GPU workload {K8S_POD}",
            f"kubectl -n {label('namespace')} describe pod {label('pod')}",
        )),
        (restarts, rule(
            "GpuContainerRestarting", restarts,
            f"increase(kube_pod_container_status_restarts_total[{restarts.window}])"
            f" >= {num(restarts.threshold)} and {on} {_gpu_requests()}",
            f"GPU {container} keeps restarting",
            f"The GPU {container} restarted {{{{ $value }}}} times in {restarts.window} "
            "(CUDA errors, NCCL timeouts or out-of-memory crash loops).",
            f"GPU workload {K8S_POD}",
            f"kubectl -n {label('namespace')} logs {label('pod')} -c {label('container')} --previous",
        )),
    ]


def training_rules(c: GpuAlertsConfig) -> list[tuple[AlertSettings, dict[str, Any]]]:
    failed, stalled = c.training_job_failed, c.training_stalled
    job = f"{label('owner_kind')} {label('namespace')}/{label('owner_name')}"
    return [
        (failed, rule(
            "TrainingJobFailed", failed,
            "max by (namespace, job_name, owner_kind, owner_name)"
            f' (kube_job_owner{{owner_kind=~"{TRAINING_JOB_OWNERS}"}})'
            " * on (namespace, job_name) group_left ()"
            ' (max by (namespace, job_name) (kube_job_failed{condition="true"}) == 1)',
            f"Training job {job} failed",
            f"Job {label('job_name')} of {job} failed (backoff limit reached or deadline passed).",
            f"training job {job}",
            f"kubectl -n {label('namespace')} logs job/{label('job_name')} --tail=200",
        )),
        (stalled, rule(
            "TrainingStalled", stalled,
            f"rate({stalled.metric}[{stalled.window}]) == 0",
            f"Training job {K8S_POD} makes no progress",
            f"{stalled.metric} of {K8S_POD} has not increased for {stalled.window}: the job is "
            "hung (NCCL, data loader).",
            f"training pod {K8S_POD}",
            f"kubectl -n {label('namespace')} logs {label('pod')} --tail=200",
        )),
    ]


def _ratio(metric: str, bad: str, window: str, scope: str = "") -> str:
    """Rate of the ``bad`` requests over all requests of each InferenceService."""
    scoped = 'inference_service!=""' + (f", {scope}" if scope else "")
    return (
        f"sum by ({ISVC}) (rate({metric}{{{scoped}, {bad}}}[{window}]))"
        f" / sum by ({ISVC}) (rate({metric}{{{scoped}}}[{window}]))"
    )


def serving_rules(c: GpuAlertsConfig) -> list[tuple[AlertSettings, dict[str, Any]]]:
    errors, latency, backlog = c.inference_error_rate, c.inference_latency_high, c.inference_queue_backlog
    first = (f"kubectl -n {label('namespace')} logs -l serving.kserve.io/inferenceservice="
             f"{label('inference_service')} -c kserve-container --tail=200")
    component = f"{MODEL} (vLLM predictor)"
    # the OpenAI API only: probes of /health and scrapes of /metrics are not requests
    http = _ratio("http_requests_total", 'status=~"5.."', errors.window, 'handler=~"/v1/.+"')
    engine = _ratio("vllm:request_success_total", 'finished_reason="error"', errors.window)
    return [
        (errors, rule(
            "InferenceErrorRate", errors,
            f"({http}) > {num(errors.threshold)} or ({engine}) > {num(errors.threshold)}",
            f"{MODEL} fails requests",
            f"{MODEL} answers {{{{ $value | humanizePercentage }}}} of its API requests with a "
            f"server error or an engine error, above {num(errors.threshold * 100)}%.",
            component, first,
        )),
        (latency, rule(
            "InferenceLatencyHigh", latency,
            f"histogram_quantile(0.99, sum by ({ISVC}, model_name, le)"
            f" (rate(vllm:e2e_request_latency_seconds_bucket[{latency.window}])))"
            f" > {num(latency.threshold)}",
            f"{MODEL} is slow",
            f"{MODEL} has a p99 end-to-end latency of {{{{ $value }}}}s, above "
            f"{num(latency.threshold)}s.",
            component, f"kubectl -n {label('namespace')} get inferenceservice "
            f"{label('inference_service')} -o wide",
        )),
        (backlog, rule(
            "InferenceQueueBacklog", backlog,
            f"sum by ({ISVC}, model_name) (vllm:num_requests_waiting) > {num(backlog.threshold)}",
            f"{MODEL} has a request backlog",
            f"{MODEL} has {{{{ $value }}}} requests waiting; add replicas.",
            component, f"kubectl -n {label('namespace')} get hpa,pods -l "
            f"serving.kserve.io/inferenceservice={label('inference_service')}",
        )),
    ]


def gpu_alert_rules(config: GpuAlertsConfig) -> list[dict[str, Any]]:
    """The enabled alerting rules of the ``gpu-platform`` group, in a fixed order."""
    candidates = [
        *gpu_health_rules(config), *gpu_container_rules(config),
        *training_rules(config), *serving_rules(config),
    ]
    return [r for settings, r in candidates if settings.enabled]


__all__ = ["gpu_alert_rules", "label", "num", "rule"]
