"""KEDA, the autoscaler KServe hands InferenceServices to (``serving.keda``).

The pinned chart (``versions.KEDA``) installs the operator, its external-metrics API server and
admission webhooks; it templates its CRDs (``crds.install``) without Helm's keep annotation, so the
release is guarded (``gpu_platform.k8s.crds``): removing it would delete every ScaledObject.
KEDA's pods run as non-root with every capability dropped and the runtime seccomp profile (the
chart's defaults), so its namespace enforces Pod Security ``restricted``.

``Keda(name, KedaArgs, opts)``: the namespace (unless ``createNamespace: false``) and the release,
after ``opts.depends_on``. Outputs: ``namespace``, ``release_name`` and ``prometheus_url`` (the
Prometheus that ScaledObjects query, as given: the monitoring stack's, or ``prometheusUrl``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigModel, component_args
from gpu_platform.config.args import InputStr
from gpu_platform.core.component import depends_on_of
from gpu_platform.core.names import DnsLabel
from gpu_platform.k8s.addon import operator_install
from gpu_platform.k8s.values import deep_merge
from gpu_platform.versions import KEDA

KEDA_TYPE = "gpu-platform:serving:Keda"
RELEASE_NAME = "keda"
PROMETHEUS_URL_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/.*)?$"


class KedaSettings(ConfigModel):
    namespace: DnsLabel = "keda"
    create_namespace: bool = True  # false: an existing namespace (Pod Security restricted or laxer)
    # Where ScaledObjects query; default: the Prometheus the monitoring component installs
    prometheus_url: str | None = Field(default=None, pattern=PROMETHEUS_URL_PATTERN)
    values_overrides: dict[str, Any] = Field(default_factory=dict)


class KedaConfig(KedaSettings):
    """``serving.keda``: install KEDA so InferenceServices can scale on serving metrics."""

    enabled: bool = False


class KedaArgs(KedaSettings, ComponentArgs):
    """The install; ``prometheus_url`` may be wired from ``PrometheusStack.prometheus_url``."""

    prometheus_url: InputStr | None = None  # type: ignore[assignment]

    @classmethod
    def of(cls, config: KedaSettings, prometheus_url: InputStr | None = None) -> KedaArgs:
        fields = {key: getattr(config, key) for key in KedaSettings.model_fields}
        wired = prometheus_url if prometheus_url is not None else config.prometheus_url
        return cls(**{**fields, "prometheus_url": wired})


def keda_values(config: KedaSettings) -> dict[str, Any]:
    """Chart values (pure): the CRDs come with the release (hence the guard)."""
    return deep_merge({"crds": {"install": True}}, config.values_overrides)


class Keda(pulumi.ComponentResource):
    """KEDA's namespace and pinned release."""

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str]
    prometheus_url: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        args: KedaArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(KedaArgs, args, component="Keda", name=name)
        super().__init__(KEDA_TYPE, name, None, opts)
        install = operator_install(
            name, KEDA, parent=self, release_name=RELEASE_NAME, namespace_name=args.namespace,
            pod_security="restricted", values=keda_values(args), depends_on=depends_on_of(opts),
            create_namespace=args.create_namespace,
        )
        self.namespace_resource, self.release = install.namespace, install.release
        self.namespace = install.namespace_name
        self.release_name = install.release_name
        url = args.prometheus_url
        self.prometheus_url = None if url is None else pulumi.Output.from_input(url)
        self.register_outputs({"namespace": self.namespace, "releaseName": self.release_name,
                               "prometheusUrl": self.prometheus_url})
