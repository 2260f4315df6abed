"""GPU node software: the NVIDIA GPU Operator, monitoring (kube-prometheus-stack) and GPU alerts.

GPU sharing (time-slicing and MIG models and their device-plugin/mig-parted rendering) is a
property of a pool, so it lives in ``gpu_platform.core.sharing``; it is re-exported here
because the operator is what acts on it.
"""

from gpu_platform.core.sharing import GpuSharing, MigLayout, TimeSlicing
from gpu_platform.gpu.alerts import GpuAlerts, GpuAlertsArgs, GpuAlertsConfig
from gpu_platform.gpu.monitoring import MonitoringConfig, PrometheusStack, PrometheusStackArgs
from gpu_platform.gpu.operator import GpuDirectRdma, GpuOperator, GpuOperatorArgs, GpuOperatorConfig

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
