"""What each exporter the platform installs really exports: the metric names alerts may use.

Facts, each with its source (read 2026-11-26):

- dcgm-exporter: the default counters file ``etc/default-counters.csv`` of NVIDIA/dcgm-exporter at
  d5e5f510 (2026-05-12, after release 4.5.3-4.8.2; the GPU Operator v26.7.0 chart pins image
  ``4.6.0-4.8.3-distroless`` in ``dcgmExporter.version``, whose tag the mirror did not hold yet).
  The profiling (DCP) fields at the end are default since the 3.x exporters; ``DCGM_FI_DRIVER_VERSION``
  is a label, not a series.
- kube-state-metrics v2.20.0 (subchart kube-state-metrics 8.4.0 of kube-prometheus-stack 88.5.3):
  ``docs/metrics/workload/{pod,job}-metrics.md`` and ``docs/metrics/cluster/node-metrics.md``;
  only the families the platform's rules use are listed.
- vLLM's OpenAI-compatible server (``vllm/v1/metrics/loggers.py`` and the API server's
  prometheus-fastapi-instrumentator): the gauges, counters and histogram series below.
- Ray (``rayproject/ray`` on the metrics port): every series is prefixed ``ray_``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exporter:
    name: str
    metrics: frozenset[str]
    prefixes: tuple[str, ...] = ()

    def exports(self, metric: str) -> bool:
        return metric in self.metrics or (bool(self.prefixes) and metric.startswith(self.prefixes))


def _histogram(name: str) -> set[str]:
    return {f"{name}_bucket", f"{name}_sum", f"{name}_count"}


DCGM_EXPORTER = Exporter("dcgm-exporter", frozenset({
    "DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_MEM_CLOCK", "DCGM_FI_DEV_MEMORY_TEMP", "DCGM_FI_DEV_GPU_TEMP",
    "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
    "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_MEM_COPY_UTIL", "DCGM_FI_DEV_ENC_UTIL", "DCGM_FI_DEV_DEC_UTIL",
    "DCGM_FI_DEV_XID_ERRORS", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_RESERVED",
    "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "DCGM_FI_DEV_VGPU_LICENSE_STATUS",
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS",
    "DCGM_FI_DEV_ROW_REMAP_FAILURE", "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
    "DCGM_FI_PROF_DRAM_ACTIVE", "DCGM_FI_PROF_PCIE_TX_BYTES", "DCGM_FI_PROF_PCIE_RX_BYTES",
}))

KUBE_STATE_METRICS = Exporter("kube-state-metrics", frozenset({
    "kube_node_info", "kube_node_labels", "kube_node_spec_taint", "kube_node_status_capacity",
    "kube_node_status_allocatable", "kube_node_status_condition",
    "kube_pod_info", "kube_pod_status_phase", "kube_pod_container_resource_requests",
    "kube_pod_container_resource_limits", "kube_pod_container_status_restarts_total",
    "kube_pod_container_status_last_terminated_reason", "kube_pod_container_status_waiting_reason",
    "kube_job_owner", "kube_job_failed", "kube_job_complete", "kube_job_status_failed",
    "kube_job_status_active", "kube_job_status_succeeded",
}))

VLLM = Exporter("vllm", frozenset({
    "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
    "vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:request_success_total",
    "vllm:num_preemptions_total", "http_requests_total",
    *_histogram("vllm:e2e_request_latency_seconds"), *_histogram("vllm:time_to_first_token_seconds"),
    *_histogram("vllm:inter_token_latency_seconds"), *_histogram("vllm:request_queue_time_seconds"),
    *_histogram("http_request_duration_seconds"),
}))

RAY = Exporter("ray", frozenset(), prefixes=("ray_",))

EXPORTERS = (DCGM_EXPORTER, KUBE_STATE_METRICS, VLLM, RAY)


def exporter_of(metric: str) -> Exporter | None:
    for exporter in EXPORTERS:
        if exporter.exports(metric):
            return exporter
    return None


__all__ = ["DCGM_EXPORTER", "EXPORTERS", "KUBE_STATE_METRICS", "RAY", "VLLM", "Exporter", "exporter_of"]
