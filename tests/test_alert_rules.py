"""Every alert fires on a bad series and stays quiet on a healthy one: ``promtool test rules``.

The rules are the ones the library renders (``gpu_alert_rules`` and the cost group), written to a
rule file without their annotations (those are tested as text below); each alert gets a small
synthetic series set shaped like what its exporter really exports (label names included), and
promtool evaluates it after the alert's ``for``. promtool comes from Debian's ``prometheus``
package; without it the tests skip, except under CI (``CI=true``), where its absence fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gpu_platform.config import validate_model
from gpu_platform.gpu.alert_rules import gpu_alert_rules
from gpu_platform.gpu.alerts import GpuAlertsConfig
from gpu_platform.gpu.cost_rules import PoolPrice, cost_rule_group

# p5.48xlarge: 8 GPUs; a round price keeps the expected values readable
TRAIN = PoolPrice("p5.48xlarge", 12.5, 8)
INFER = PoolPrice("p4de.24xlarge", 5.0, 8)
PRICES = {"train": TRAIN, "infer": INFER}
# The cost spike's baseline is shortened so the synthetic history stays small.
CONFIG: dict[str, Any] = {"gpuCostSpike": {"baseline": "1d"}}

GPU_POD = {"Hostname": "gpu-node-1", "gpu": "0", "UUID": "GPU-1", "modelName": "NVIDIA H100 80GB HBM3",
           "exported_namespace": "llm", "exported_pod": "trainer-0", "exported_container": "trainer"}
MIG_POD = {**GPU_POD, "GPU_I_ID": "1", "GPU_I_PROFILE": "3g.40gb", "exported_namespace": "ml-serving",
           "exported_pod": "llama-predictor-0"}
CONTAINER = {"namespace": "llm", "pod": "trainer-0", "container": "trainer", "uid": "u1"}
ISVC = {"namespace": "ml-serving", "inference_service": "llama", "pod": "llama-predictor-0"}


def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("promtool is required under CI: apt-get install -y prometheus (see .ci/run)")
    pytest.skip("promtool is absent (Debian: apt-get install -y --no-install-recommends prometheus)")


def s(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return {"series": f"{name}{{{inner}}}", "values": values}


def requests(resource: str, amount: int, **labels: str) -> dict[str, str]:
    return s("kube_pod_container_resource_requests",
             {**CONTAINER, "node": "gpu-node-1", "resource": resource, "unit": "integer", **labels},
             f"{amount}x200")


# alert -> (eval time, bad series, labels of the alert(s) they raise, healthy series)
CASES: dict[str, tuple[str, list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]] = {
    "GpuUnavailable": (
        "10m",
        # one GPU marked unhealthy; a MIG node (mixed strategy) that lost its slices
        [s("kube_node_status_allocatable", {"node": "n1", "resource": "nvidia_com_gpu"}, "7x20"),
         s("kube_node_status_capacity", {"node": "n1", "resource": "nvidia_com_gpu"}, "8x20"),
         s("kube_node_status_capacity", {"node": "n2", "resource": "nvidia_com_mig_3g_40gb"}, "0x20"),
         s("kube_node_status_allocatable", {"node": "n2", "resource": "nvidia_com_mig_3g_40gb"}, "0x20")],
        [{"node": "n1"}, {"node": "n2"}],
        # healthy, including a mixed-strategy MIG node that offers no whole nvidia.com/gpu
        [s("kube_node_status_allocatable", {"node": "n1", "resource": "nvidia_com_gpu"}, "8x20"),
         s("kube_node_status_capacity", {"node": "n1", "resource": "nvidia_com_gpu"}, "8x20"),
         s("kube_node_status_capacity", {"node": "n2", "resource": "nvidia_com_gpu"}, "0x20"),
         s("kube_node_status_allocatable", {"node": "n2", "resource": "nvidia_com_gpu"}, "0x20"),
         s("kube_node_status_capacity", {"node": "n2", "resource": "nvidia_com_mig_3g_40gb"}, "16x20"),
         s("kube_node_status_allocatable", {"node": "n2", "resource": "nvidia_com_mig_3g_40gb"},
           "16x20")],
    ),
    "GpuLowUtilization": (
        "45m",
        # a MIG instance (profiling ratio only) and a whole GPU without profiling metrics
        [s("DCGM_FI_PROF_GR_ENGINE_ACTIVE", MIG_POD, "0.05x60"),
         s("DCGM_FI_DEV_GPU_UTIL", GPU_POD, "5x60")],
        [{k: MIG_POD[k] for k in ("Hostname", "gpu", "GPU_I_ID", "exported_namespace", "exported_pod")},
         {k: GPU_POD[k] for k in ("Hostname", "gpu", "exported_namespace", "exported_pod")}],
        # busy GPUs; an idle GPU no pod holds is the cost alerts' business
        [s("DCGM_FI_PROF_GR_ENGINE_ACTIVE", MIG_POD, "0.7x60"),
         s("DCGM_FI_DEV_GPU_UTIL", GPU_POD, "85x60"),
         s("DCGM_FI_PROF_GR_ENGINE_ACTIVE", {**GPU_POD, "gpu": "1", "exported_pod": ""}, "0x60")],
    ),
    "GpuMemoryNearFull": (
        "10m",
        [s("DCGM_FI_DEV_FB_USED", GPU_POD, "79000x20"), s("DCGM_FI_DEV_FB_FREE", GPU_POD, "1000x20")],
        [GPU_POD],
        [s("DCGM_FI_DEV_FB_USED", GPU_POD, "72000x20"), s("DCGM_FI_DEV_FB_FREE", GPU_POD, "8000x20")],
    ),
    "GpuXidErrors": (
        "2m",
        [s("DCGM_FI_DEV_XID_ERRORS", GPU_POD, "0 79 79")],
        [GPU_POD],
        [s("DCGM_FI_DEV_XID_ERRORS", GPU_POD, "0 0 0")],
    ),
    "GpuTemperatureHigh": (
        "10m",
        [s("DCGM_FI_DEV_GPU_TEMP", GPU_POD, "91x20")],
        [GPU_POD],
        [s("DCGM_FI_DEV_GPU_TEMP", GPU_POD, "70x20")],
    ),
    "GpuContainerOomKilled": (
        "10m",
        [s("kube_pod_container_status_last_terminated_reason", {**CONTAINER, "reason": "OOMKilled"},
           "1x20"),
         s("kube_pod_container_status_restarts_total", CONTAINER, "0x5 1x15"),
         requests("nvidia_com_gpu", 8)],
        [{**CONTAINER, "reason": "OOMKilled"}],
        # the same OOM kill in a container without GPUs, and a GPU container that never restarted
        [s("kube_pod_container_status_last_terminated_reason", {**CONTAINER, "reason": "OOMKilled"},
           "1x20"),
         s("kube_pod_container_status_restarts_total", CONTAINER, "0x5 1x15"),
         requests("cpu", 4),
         s("kube_pod_container_status_last_terminated_reason",
           {**CONTAINER, "pod": "trainer-1", "reason": "OOMKilled"}, "1x20"),
         s("kube_pod_container_status_restarts_total", {**CONTAINER, "pod": "trainer-1"}, "3x20"),
         requests("nvidia_com_gpu", 8, pod="trainer-1")],
    ),
    "GpuContainerRestarting": (
        "30m",
        [s("kube_pod_container_status_restarts_total", CONTAINER, "0+1x40"),
         requests("nvidia_com_mig_3g_40gb", 1)],
        [CONTAINER],
        [s("kube_pod_container_status_restarts_total", CONTAINER, "2x40"),
         requests("nvidia_com_mig_3g_40gb", 1)],
    ),
    "TrainingJobFailed": (
        "2m",
        [s("kube_job_owner", {"namespace": "llm", "job_name": "pretrain-node-0", "owner_kind": "JobSet",
                              "owner_name": "pretrain", "owner_is_controller": "true"}, "1x5"),
         s("kube_job_failed", {"namespace": "llm", "job_name": "pretrain-node-0", "condition": "true"},
           "0 1 1 1")],
        [{"namespace": "llm", "job_name": "pretrain-node-0", "owner_kind": "JobSet",
          "owner_name": "pretrain"}],
        # still running, and a failed Job that is no training job (a CronJob's)
        [s("kube_job_owner", {"namespace": "llm", "job_name": "pretrain-node-0", "owner_kind": "JobSet",
                              "owner_name": "pretrain", "owner_is_controller": "true"}, "1x5"),
         s("kube_job_failed", {"namespace": "llm", "job_name": "pretrain-node-0", "condition": "true"},
           "0x5"),
         s("kube_job_owner", {"namespace": "llm", "job_name": "cleanup-1", "owner_kind": "CronJob",
                              "owner_name": "cleanup", "owner_is_controller": "true"}, "1x5"),
         s("kube_job_failed", {"namespace": "llm", "job_name": "cleanup-1", "condition": "true"}, "1x5")],
    ),
    "TrainingStalled": (
        "65m",
        [s("training_step_total", {"namespace": "llm", "pod": "trainer-0"}, "0+10x5 50x70")],
        [{"namespace": "llm", "pod": "trainer-0"}],
        [s("training_step_total", {"namespace": "llm", "pod": "trainer-0"}, "0+10x75")],
    ),
    "InferenceErrorRate": (
        "20m",
        # 10% 5xx on the API; and, for another model, 10% engine errors
        [s("http_requests_total", {**ISVC, "handler": "/v1/chat/completions", "method": "POST",
                                   "status": "2xx"}, "0+90x30"),
         s("http_requests_total", {**ISVC, "handler": "/v1/chat/completions", "method": "POST",
                                   "status": "5xx"}, "0+10x30"),
         s("vllm:request_success_total", {**ISVC, "inference_service": "mistral", "model_name": "m",
                                          "finished_reason": "stop"}, "0+90x30"),
         s("vllm:request_success_total", {**ISVC, "inference_service": "mistral", "model_name": "m",
                                          "finished_reason": "error"}, "0+10x30")],
        [{"namespace": "ml-serving", "inference_service": "llama"},
         {"namespace": "ml-serving", "inference_service": "mistral"}],
        # 1% errors; health probes do not count; client aborts are not errors
        [s("http_requests_total", {**ISVC, "handler": "/v1/chat/completions", "method": "POST",
                                   "status": "2xx"}, "0+99x30"),
         s("http_requests_total", {**ISVC, "handler": "/v1/chat/completions", "method": "POST",
                                   "status": "5xx"}, "0+1x30"),
         s("http_requests_total", {**ISVC, "handler": "/health", "method": "GET", "status": "5xx"},
           "0+50x30"),
         s("vllm:request_success_total", {**ISVC, "model_name": "llama", "finished_reason": "stop"},
           "0+50x30"),
         s("vllm:request_success_total", {**ISVC, "model_name": "llama", "finished_reason": "abort"},
           "0+50x30")],
    ),
    "InferenceLatencyHigh": (
        "15m",
        [s("vllm:e2e_request_latency_seconds_bucket", {**ISVC, "model_name": "llama", "le": "10.0"},
           "0x20"),
         s("vllm:e2e_request_latency_seconds_bucket", {**ISVC, "model_name": "llama", "le": "60.0"},
           "0+10x20"),
         s("vllm:e2e_request_latency_seconds_bucket", {**ISVC, "model_name": "llama", "le": "+Inf"},
           "0+10x20")],
        [{"namespace": "ml-serving", "inference_service": "llama", "model_name": "llama"}],
        [s("vllm:e2e_request_latency_seconds_bucket", {**ISVC, "model_name": "llama", "le": "10.0"},
           "0+10x20"),
         s("vllm:e2e_request_latency_seconds_bucket", {**ISVC, "model_name": "llama", "le": "60.0"},
           "0+10x20"),
         s("vllm:e2e_request_latency_seconds_bucket", {**ISVC, "model_name": "llama", "le": "+Inf"},
           "0+10x20")],
    ),
    "InferenceQueueBacklog": (
        "10m",
        [s("vllm:num_requests_waiting", {**ISVC, "model_name": "llama"}, "150x20")],
        [{"namespace": "ml-serving", "inference_service": "llama", "model_name": "llama"}],
        [s("vllm:num_requests_waiting", {**ISVC, "model_name": "llama"}, "3x20")],
    ),
}


def node(name: str, pool: str, resource: str, capacity: int) -> list[dict[str, str]]:
    return [s("kube_node_labels", {"node": name, "label_gpu_platform_io_pool": pool}, "1x2000"),
            s("kube_node_status_capacity", {"node": name, "resource": resource, "unit": "integer"},
              f"{capacity}x2000")]


def running(pod: str, namespace: str, node_name: str, resource: str, amount: str) -> list[dict[str, str]]:
    labels = {"namespace": namespace, "pod": pod, "uid": pod, "container": "main"}
    return [s("kube_pod_status_phase", {**labels, "phase": "Running"}, "1x2000"),
            s("kube_pod_container_resource_requests",
              {**labels, "node": node_name, "resource": resource, "unit": "integer"}, amount)]


CASES.update({
    "GpuCostSpike": (
        "26h",
        # one GPU for a day, then all eight for two hours: 100 USD/h against a ~20 USD/h day
        [*node("n1", "train", "nvidia_com_gpu", 8),
         *running("trainer-0", "llm", "n1", "nvidia_com_gpu", "1x1440 8x200")],
        [{"namespace": "llm"}],
        [*node("n1", "train", "nvidia_com_gpu", 8),
         *running("trainer-0", "llm", "n1", "nvidia_com_gpu", "8x1640")],
    ),
    "GpuIdlePaid": (
        "3h",
        # 7 of 8 paid GPUs unrequested (87.5 USD/h); healthy: all requested
        [*node("n1", "train", "nvidia_com_gpu", 8),
         *running("trainer-0", "llm", "n1", "nvidia_com_gpu", "1x200")],
        [{"pool": "train"}],
        [*node("n1", "train", "nvidia_com_gpu", 8),
         *running("trainer-0", "llm", "n1", "nvidia_com_gpu", "8x200")],
    ),
})


def config() -> GpuAlertsConfig:
    return validate_model(GpuAlertsConfig, CONFIG)


def rule_groups() -> list[dict[str, Any]]:
    alerts = [{k: v for k, v in r.items() if k != "annotations"} for r in gpu_alert_rules(config())]
    cost = cost_rule_group(config(), PRICES)
    assert cost is not None
    cost = {**cost, "rules": [{k: v for k, v in r.items() if k != "annotations"} for r in cost["rules"]]}
    return [{"name": "gpu-platform", "rules": alerts}, cost]


def severity(alert: str) -> str:
    for group in rule_groups():
        for r in group["rules"]:
            if r.get("alert") == alert:
                return str(r["labels"]["severity"])
    raise KeyError(alert)


def run_promtool(tmp_path: Path, tests: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups()}, sort_keys=False))
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(
        {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}, sort_keys=False))
    return subprocess.run([promtool(), "test", "rules", "test.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def test_missing_promtool_skips_locally_and_fails_under_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="promtool is absent"):
        promtool()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="promtool is required under CI"):
        promtool()


def test_every_alert_has_a_case():
    alerts = {r["alert"] for g in rule_groups() for r in g["rules"] if "alert" in r}
    assert alerts == set(CASES)


@pytest.mark.parametrize("alert", sorted(CASES))
def test_alert_fires_on_bad_series_and_stays_quiet_on_healthy(alert, tmp_path):
    eval_time, bad, fired, healthy = CASES[alert]
    expected = [{"exp_labels": {**labels, "severity": severity(alert)}} for labels in fired]
    tests = [
        {"name": f"{alert} fires", "interval": "1m", "input_series": bad,
         "alert_rule_test": [{"eval_time": eval_time, "alertname": alert, "exp_alerts": expected}]},
        {"name": f"{alert} stays quiet", "interval": "1m", "input_series": healthy,
         "alert_rule_test": [{"eval_time": eval_time, "alertname": alert, "exp_alerts": []}]},
    ]
    result = run_promtool(tmp_path, tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_bad_case_would_fail_if_the_alert_did_not_fire(tmp_path):
    """The harness can fail: expecting silence on a bad series is reported by promtool."""
    eval_time, bad, _fired, _healthy = CASES["GpuXidErrors"]
    tests = [{"interval": "1m", "input_series": bad,
              "alert_rule_test": [{"eval_time": eval_time, "alertname": "GpuXidErrors", "exp_alerts": []}]}]
    result = run_promtool(tmp_path, tests)
    assert result.returncode == 1
    assert "GpuXidErrors" in result.stdout + result.stderr


def test_cost_recording_rules_price_mig_slices_and_count_gpu_hours(tmp_path):
    # an infer node: 8 A100s cut into 16 MIG slices (single strategy); a pod holds 2 slices = 1 GPU
    series = [*node("n2", "infer", "nvidia_com_gpu", 16),
              *running("llama-predictor-0", "ml-serving", "n2", "nvidia_com_gpu", "2x2000")]
    tests = [{"interval": "1m", "input_series": series, "promql_expr_test": [
        {"expr": "gpu_platform:namespace_pool_gpus:allocated", "eval_time": "1d",
         "exp_samples": [{"labels": 'gpu_platform:namespace_pool_gpus:allocated{namespace="ml-serving",'
                                    'pool="infer"}', "value": 1}]},
        {"expr": "gpu_platform:namespace_gpu_cost_usd_per_hour", "eval_time": "1d",
         "exp_samples": [{"labels": 'gpu_platform:namespace_gpu_cost_usd_per_hour{namespace="ml-serving"}',
                          "value": INFER.gpu_usd_per_hour}]},
        # one GPU all day: 24 GPU hours (rounded: Prometheus 2 counts both ends of a range)
        {"expr": "round(gpu_platform:namespace_gpu_hours:1d)", "eval_time": "25h",
         "exp_samples": [{"labels": '{namespace="ml-serving"}', "value": 24}]},
        {"expr": "gpu_platform:pool_idle_gpus", "eval_time": "1d",
         "exp_samples": [{"labels": 'gpu_platform:pool_idle_gpus{pool="infer"}', "value": 7}]},
    ]}]
    result = run_promtool(tmp_path, tests)
    assert result.returncode == 0, result.stdout + result.stderr
