"""Typed settings of each GPU platform alert (``gpuAlerts.<alert>``): thresholds, ``for``, severity.

One model per alert, so that a partial override (e.g. only ``severity``) keeps that alert's own
defaults for every other key. The rules themselves are in ``gpu.alert_rules`` (health, training,
serving) and ``gpu.cost_rules`` (GPU hours and cost).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gpu_platform.config import ConfigModel
from gpu_platform.config.errors import PATTERN_HINTS

DURATION_PATTERN = r"^[0-9]+[smh]$"
BASELINE_PATTERN = r"^[0-9]+[hdw]$"
METRIC_NAME_PATTERN = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
PATTERN_HINTS[DURATION_PATTERN] = "must be a Prometheus duration such as 30s, 5m or 1h"
PATTERN_HINTS[BASELINE_PATTERN] = "must be a Prometheus duration in hours, days or weeks, such as 7d"
PATTERN_HINTS[METRIC_NAME_PATTERN] = "must be a Prometheus metric name (letters, digits, '_' and ':')"

Severity = Literal["warning", "critical"]

# Defaults, named so the README and tests can refer to them.
GPU_LOW_UTILIZATION_PERCENT = 20.0
GPU_MEMORY_NEAR_FULL_RATIO = 0.95  # vLLM pre-allocates 90% by default; 0.9 would always fire
GPU_TEMPERATURE_HIGH_CELSIUS = 85.0
GPU_CONTAINER_RESTARTS = 3.0  # restarts within the window
INFERENCE_P99_LATENCY_SECONDS = 30.0  # end-to-end, including generation of the whole answer
INFERENCE_QUEUE_BACKLOG_REQUESTS = 100.0
INFERENCE_ERROR_RATIO = 0.05
TRAINING_STEP_METRIC = "training_step_total"
GPU_COST_SPIKE_RATIO = 1.5  # this hour's spend over the baseline's average
GPU_COST_SPIKE_MIN_USD_PER_HOUR = 50.0  # small namespaces may double without anyone caring
GPU_IDLE_PAID_USD_PER_HOUR = 20.0


def _for(default: str) -> str:
    return Field(default=default, alias="for", pattern=DURATION_PATTERN)


class AlertSettings(ConfigModel):
    """An alert without a tunable threshold (the condition itself is the problem)."""

    enabled: bool = True
    for_: str = _for("5m")
    severity: Severity = "warning"


class GpuUnavailableAlert(AlertSettings):
    severity: Severity = "critical"


class GpuLowUtilizationAlert(AlertSettings):
    for_: str = _for("30m")
    threshold: float = Field(default=GPU_LOW_UTILIZATION_PERCENT, ge=0, le=100)
    # averaged first so that one busy or idle sample does not reset ``for``
    window: str = Field(default="10m", pattern=DURATION_PATTERN)


class GpuMemoryNearFullAlert(AlertSettings):
    threshold: float = Field(default=GPU_MEMORY_NEAR_FULL_RATIO, ge=0, le=1)


class GpuXidErrorsAlert(AlertSettings):
    for_: str = _for("0m")
    severity: Severity = "critical"


class GpuTemperatureHighAlert(AlertSettings):
    threshold: float = Field(default=GPU_TEMPERATURE_HIGH_CELSIUS, ge=0)


class GpuContainerOomKilledAlert(AlertSettings):
    for_: str = _for("0m")
    window: str = Field(default="15m", pattern=DURATION_PATTERN)


class GpuContainerRestartingAlert(AlertSettings):
    for_: str = _for("0m")
    threshold: float = Field(default=GPU_CONTAINER_RESTARTS, ge=1)
    window: str = Field(default="30m", pattern=DURATION_PATTERN)


class TrainingJobFailedAlert(AlertSettings):
    for_: str = _for("0m")


class TrainingStalledAlert(AlertSettings):
    for_: str = _for("30m")
    # The training job's own step counter (the seed's application metric); must be a counter.
    metric: str = Field(default=TRAINING_STEP_METRIC, pattern=METRIC_NAME_PATTERN)
    window: str = Field(default="30m", pattern=DURATION_PATTERN)


class InferenceErrorRateAlert(AlertSettings):
    for_: str = _for("10m")
    threshold: float = Field(default=INFERENCE_ERROR_RATIO, gt=0, le=1)
    window: str = Field(default="5m", pattern=DURATION_PATTERN)


class InferenceLatencyHighAlert(AlertSettings):
    threshold: float = Field(default=INFERENCE_P99_LATENCY_SECONDS, ge=0)
    window: str = Field(default="5m", pattern=DURATION_PATTERN)


class InferenceQueueBacklogAlert(AlertSettings):
    threshold: float = Field(default=INFERENCE_QUEUE_BACKLOG_REQUESTS, ge=0)


class GpuCostSpikeAlert(AlertSettings):
    for_: str = _for("1h")
    threshold: float = Field(default=GPU_COST_SPIKE_RATIO, gt=1)  # ratio to the baseline
    min_usd_per_hour: float = Field(default=GPU_COST_SPIKE_MIN_USD_PER_HOUR, ge=0)
    baseline: str = Field(default="7d", pattern=BASELINE_PATTERN)


class GpuIdlePaidAlert(AlertSettings):
    for_: str = _for("2h")
    threshold: float = Field(default=GPU_IDLE_PAID_USD_PER_HOUR, ge=0)  # USD per hour per pool


__all__ = [name for name in dir() if name.endswith(("Alert", "Settings"))]
