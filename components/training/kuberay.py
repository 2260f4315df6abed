"""The KubeRay operator: a namespace (Pod Security ``restricted``) and the pinned Helm chart.

The chart installs the ``ray.io`` CRDs from its ``crds/`` folder; Helm never deletes those on
uninstall, so RayClusters survive an operator reinstall.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pulumi
from pydantic import Field

from gpu_platform.config import ConfigModel
from gpu_platform.core.names import DnsLabel, PositiveInt
from gpu_platform.k8s.addon import PodSecurityLevel, operator_install
from gpu_platform.k8s.values import deep_merge
from gpu_platform.training.quantity import Quantity
from gpu_platform.versions import KUBERAY_OPERATOR

KUBERAY_TYPE = "gpu-platform:training:KubeRayOperator"
BatchScheduler = Literal["volcano"]


class KubeRayConfig(ConfigModel):
    enabled: bool = True
    namespace: DnsLabel = "ray-system"
    # the operator's pod passes "restricted" (the chart sets a restricted securityContext)
    pod_security: PodSecurityLevel = "restricted"
    replicas: PositiveInt = 1
    cpu: Quantity = "100m"
    memory: Quantity = "512Mi"
    service_monitor: bool = False  # needs the Prometheus Operator's CRDs
    values_overrides: dict[str, Any] = Field(default_factory=dict)


def kuberay_values(config: KubeRayConfig, batch_scheduler: BatchScheduler | None = None) -> dict[str, Any]:
    """Helm values for the kuberay-operator chart (every key exists in its values.yaml).

    ``batch_scheduler``: the gang scheduler RayClusters labelled ``ray.io/scheduler-name`` use."""
    resources = {"cpu": config.cpu, "memory": config.memory}
    values = {
        "replicas": config.replicas,
        # more than one replica only works with leader election
        "leaderElectionEnabled": True,
        # limits only (values.yaml declares no requests): Kubernetes sets requests = limits
        "resources": {"limits": resources},
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": config.service_monitor}},
    }
    if batch_scheduler is not None:
        values["batchScheduler"] = {"name": batch_scheduler}
    return deep_merge(values, config.values_overrides)


class KubeRayOperator(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        config: KubeRayConfig,
        opts: pulumi.ResourceOptions | None = None,
        *,
        batch_scheduler: BatchScheduler | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ):
        super().__init__(KUBERAY_TYPE, name, None, opts)
        install = operator_install(
            name, KUBERAY_OPERATOR, parent=self, release_name="kuberay-operator",
            namespace_name=config.namespace, pod_security=config.pod_security,
            values=kuberay_values(config, batch_scheduler), depends_on=depends_on,
        )
        self.namespace, self.release = install.namespace, install.release
        self.register_outputs({})
