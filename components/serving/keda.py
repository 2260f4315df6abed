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

import re
from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.args import InputStr
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import DnsLabel, child_name
from gpu_platform.k8s.addon import helm_release, namespace
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

    def issues(self) -> Iterator[ConfigIssue]:
        url = self.prometheus_url
        if isinstance(url, str) and not re.match(PROMETHEUS_URL_PATTERN, url):
            yield issue("prometheusUrl", "must be an http(s) URL such as "
                        "http://prometheus.monitoring.svc:9090", url)

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
        child = child_options(self, opts)  # both wait for opts.depends_on
        self.namespace_resource = None
        if args.create_namespace:
            self.namespace_resource = namespace(child_name(name, "ns"), args.namespace,
                                                "restricted", child)
        self.release = helm_release(
            child_name(name, "chart"), KEDA, release_name=RELEASE_NAME, namespace=args.namespace,
            values=keda_values(args), opts=child,
            depends_on=[self.namespace_resource] if self.namespace_resource is not None else [],
        )
        self.namespace = self.release.namespace  # type: ignore[assignment]
        self.release_name = self.release.name  # type: ignore[assignment]
        url = args.prometheus_url
        self.prometheus_url = None if url is None else pulumi.Output.from_input(url)
        self.register_outputs({"namespace": self.namespace, "releaseName": self.release_name,
                               "prometheusUrl": self.prometheus_url})
