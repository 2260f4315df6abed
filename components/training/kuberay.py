"""The KubeRay operator: a namespace (Pod Security ``restricted``) and the pinned Helm chart.

The chart installs the ``ray.io`` CRDs from its ``crds/`` folder; Helm never deletes those on
uninstall, so RayClusters survive an operator reinstall.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pulumi
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigModel, component_args
from gpu_platform.core.component import depends_on_of
from gpu_platform.core.names import DnsLabel, PositiveInt
from gpu_platform.k8s.addon import PodSecurityLevel, operator_install
from gpu_platform.k8s.values import deep_merge
from gpu_platform.training.quantity import Quantity
from gpu_platform.versions import KUBERAY_OPERATOR

KUBERAY_TYPE = "gpu-platform:training:KubeRayOperator"
BatchScheduler = Literal["volcano"]


class KubeRaySettings(ConfigModel):
    """The operator's settings, shared by the environment key and the component's args."""

    namespace: DnsLabel = "ray-system"
    # false: install into an existing namespace (one a platform team manages, with its own
    # Pod Security labels); nothing creates or deletes it
    create_namespace: bool = True
    # the operator's pod passes "restricted" (the chart sets a restricted securityContext)
    pod_security: PodSecurityLevel = "restricted"
    replicas: PositiveInt = 1
    cpu: Quantity = "100m"
    memory: Quantity = "512Mi"
    service_monitor: bool = False  # needs the Prometheus Operator's CRDs
    values_overrides: dict[str, Any] = Field(default_factory=dict)


class KubeRayConfig(KubeRaySettings):
    """``training.kuberay``: the settings, and whether the environment installs the operator."""

    enabled: bool = True


class KubeRayArgs(KubeRaySettings, ComponentArgs):
    """Args of ``KubeRayOperator``: the settings and the gang scheduler RayClusters may name."""

    batch_scheduler: BatchScheduler | None = None

    @classmethod
    def of(cls, config: KubeRaySettings, batch_scheduler: BatchScheduler | None = None) -> KubeRayArgs:
        fields = settings_of(config, KubeRaySettings)
        return cls.model_validate({**fields, "batch_scheduler": batch_scheduler})


def settings_of(config: ConfigModel, base: type[ConfigModel]) -> dict[str, Any]:
    """``config``'s values of the fields ``base`` declares (by field name, not re-validated)."""
    return {name: getattr(config, name) for name in base.model_fields}


def kuberay_values(config: KubeRaySettings, batch_scheduler: BatchScheduler | None = None) -> dict[str, Any]:
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
    """The KubeRay operator (``ray.io`` CRDs and controller); RayClusters order after it."""

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: KubeRayArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(KubeRayArgs, args, component="KubeRayOperator", name=name)
        super().__init__(KUBERAY_TYPE, name, None, opts)
        install = operator_install(
            name, KUBERAY_OPERATOR, parent=self, release_name="kuberay-operator",
            namespace_name=args.namespace, pod_security=args.pod_security,
            values=kuberay_values(args, args.batch_scheduler), depends_on=depends_on_of(opts),
            create_namespace=args.create_namespace,
        )
        self.namespace_resource, self.release = install.namespace, install.release
        self.namespace, self.release_name = install.namespace_name, install.release_name
        self.register_outputs({"namespace": self.namespace, "releaseName": self.release_name})
