"""GPU node software: the NVIDIA GPU Operator, GPU sharing (time-slicing, MIG), monitoring and
alerts.

Exports are resolved on first use: ``gpu_platform.core.pools`` imports ``gpu.sharing``, which
runs this file first, and the components here import ``core.pools`` back.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gpu_platform.gpu.alerts import GpuAlerts, GpuAlertsArgs, GpuAlertsConfig
    from gpu_platform.gpu.monitoring import MonitoringConfig, PrometheusStack, PrometheusStackArgs
    from gpu_platform.gpu.operator import (
        GpuDirectRdma,
        GpuOperator,
        GpuOperatorArgs,
        GpuOperatorConfig,
    )
    from gpu_platform.gpu.sharing import GpuSharing, MigLayout, TimeSlicing

_EXPORTS = {
    "GpuAlerts": "alerts",
    "GpuAlertsArgs": "alerts",
    "GpuAlertsConfig": "alerts",
    "GpuDirectRdma": "operator",
    "GpuOperator": "operator",
    "GpuOperatorArgs": "operator",
    "GpuOperatorConfig": "operator",
    "GpuSharing": "sharing",
    "MigLayout": "sharing",
    "MonitoringConfig": "monitoring",
    "PrometheusStack": "monitoring",
    "PrometheusStackArgs": "monitoring",
    "TimeSlicing": "sharing",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gpu_platform.gpu' has no attribute {name!r}")
    return getattr(importlib.import_module(f"gpu_platform.gpu.{module}"), name)


__all__ = [
    "GpuAlerts",
    "GpuAlertsArgs",
    "GpuAlertsConfig",
    "GpuDirectRdma",
    "GpuOperator",
    "GpuOperatorArgs",
    "GpuOperatorConfig",
    "GpuSharing",
    "MigLayout",
    "MonitoringConfig",
    "PrometheusStack",
    "PrometheusStackArgs",
    "TimeSlicing",
]
