"""Model serving: KServe with a vLLM runtime, typed InferenceServices, and on AWS an encrypted
model bucket read through IRSA. Config key: ``gpu-platform:serving``.

``deploymentMode``: ``RawDeployment`` (default; Deployments + HPA, nothing else installed) or
``Serverless`` (Knative Serving + Kourier, pinned, installed before KServe's controller: scale to
zero, concurrency/rps autoscaling, canary traffic splits).

``keda.enabled`` installs KEDA (pinned); InferenceServices with ``autoscaling`` then scale on
vLLM's queue and KV-cache usage, GPU or CPU utilisation through KServe's KEDA integration
(``serving.autoscaling``), querying the monitoring component's Prometheus. Every GPU model declares
what it is (``model``) and is refused when it does not fit its GPU memory (``serving.sizing``).

Components (each ``X(name, XArgs | mapping, opts=None)``, refusing bad args with one
``ConfigError`` before registering anything, ordered by ``opts.depends_on``): ``Serving`` (the
whole area from a ``ServingConfig``), ``KServe``, ``Knative``, ``Keda``, ``Runtimes``,
``ModelStore`` and ``InferenceService``. ``build_serving`` is what the platform calls: None when
switched off.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigError, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.args import InputStr
from gpu_platform.config.errors import collect_issues, issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import DnsLabel, child_name
from gpu_platform.core.pools import GpuPool
from gpu_platform.k8s.addon import namespace
from gpu_platform.serving.autoscaling import AutoscalingSpec
from gpu_platform.serving.inference_service import (
    InferenceService,
    InferenceServiceArgs,
    InferenceServiceSpec,
)
from gpu_platform.serving.keda import Keda, KedaArgs, KedaConfig
from gpu_platform.serving.knative import Knative, KnativeArgs
from gpu_platform.serving.kserve import (
    CertManagerConfig,
    DeploymentMode,
    KServe,
    KServeArgs,
    KServeConfig,
    mode_issues,
)
from gpu_platform.serving.model_store import (
    AwsServingConfig,
    ModelBucketConfig,
    ModelStore,
    ModelStoreArgs,
)
from gpu_platform.serving.runtimes import Runtimes, RuntimesArgs, RuntimesConfig, metadata_name
from gpu_platform.serving.sizing import ModelSpec
from gpu_platform.storage import StorageConfig
from gpu_platform.workloads import mount_issues

SERVING_TYPE = "gpu-platform:serving:Serving"


class ServingConfig(ConfigModel):
    enabled: bool = False
    deployment_mode: DeploymentMode = "RawDeployment"
    # Namespace of the InferenceServices. Pod Security "baseline": the vLLM image runs as root.
    namespace: DnsLabel = "ml-serving"
    cert_manager: CertManagerConfig = Field(default_factory=CertManagerConfig)
    kserve: KServeConfig = Field(default_factory=KServeConfig)
    runtimes: RuntimesConfig = Field(default_factory=RuntimesConfig)
    aws: AwsServingConfig = Field(default_factory=AwsServingConfig)
    keda: KedaConfig = Field(default_factory=KedaConfig)
    inference_services: dict[DnsLabel, InferenceServiceSpec] = Field(default_factory=dict)

    def issues(self) -> Iterator[ConfigIssue]:
        yield from mode_issues(self.deployment_mode, self.kserve)  # KServe's own check
        available = self.runtimes.available()
        for name, spec in self.inference_services.items():
            path = f"inferenceServices.{name}"
            for found in spec.mode_issues(self.deployment_mode):
                yield found.prefixed(path)
            for found in spec.runtime_issues(available):
                yield found.prefixed(path)
            if spec.autoscaling is not None and not self.keda.enabled:
                yield issue(f"{path}.autoscaling", "needs KEDA: set serving.keda.enabled: true")

    def autoscaled_on_prometheus(self) -> list[str]:
        """InferenceServices whose autoscaling queries Prometheus."""
        return [name for name, spec in self.inference_services.items()
                if spec.autoscaling is not None and spec.autoscaling.needs_prometheus]


def check_serving_autoscaling(
    config: ServingConfig, prometheus_installed: bool, prefix: str = "serving"
) -> list[ConfigIssue]:
    """KEDA's Prometheus must be known when a model scales on Prometheus metrics: the one the
    monitoring component installs, or ``keda.prometheusUrl`` (pure)."""
    users = config.autoscaled_on_prometheus()
    if not config.enabled or not users or prometheus_installed or config.keda.prometheus_url:
        return []
    return [issue(f"{prefix}.keda.prometheusUrl",
                  f"is required: {', '.join(users)} scale on Prometheus metrics and "
                  "monitoring.installPrometheusStack is false; give the URL of the cluster's "
                  "Prometheus")]


def check_serving_pools(
    config: ServingConfig, pools: Mapping[str, GpuPool], prefix: str = "serving"
) -> list[ConfigIssue]:
    """Cross-check every InferenceService against the environment's GPU pools (pure; the
    checks are ``InferenceServiceSpec.pool_issues``, which the component runs too)."""
    return [found.prefixed(f"{prefix}.inferenceServices.{name}")
            for name, spec in config.inference_services.items()
            for found in spec.pool_issues(pools)]


def check_serving_mounts(
    config: ServingConfig, storage: StorageConfig | None, prefix: str = "serving"
) -> list[ConfigIssue]:
    """Mounts of InferenceServices that do not resolve in the serving namespace (pure)."""
    return [i.prefixed(f"{prefix}.inferenceServices.{name}")
            for name, spec in config.inference_services.items()
            for i in mount_issues(spec.mounts, storage, config.namespace)]


class ServingArgs(ComponentArgs):
    """The serving config and what it is checked against and wired to: the GPU pools, the
    storage layer that ``mounts`` name, and the EKS cluster's OIDC provider (Outputs welcome;
    they win over ``serving.aws.oidcProvider*``). ``serving.enabled`` is read by
    ``build_serving`` only: a Serving built directly is built."""

    serving: ServingConfig
    pools: dict[DnsLabel, GpuPool] = Field(default_factory=dict)
    storage: StorageConfig | None = None
    oidc_provider_arn: InputStr | None = None
    oidc_provider_url: InputStr | None = None
    # the PriorityClasses that exist (training.priorityClasses; None: not known, assumed)
    priority_classes: list[DnsLabel] | None = None
    # the monitoring component's Prometheus (wins over serving.keda.prometheusUrl)
    prometheus_url: InputStr | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        for name, spec in self.serving.inference_services.items():
            known = self.priority_classes
            if spec.priority_class is not None and known is not None and spec.priority_class not in known:
                classes = ", ".join(known) or "none (training.priorityClasses creates them)"
                yield issue(f"serving.inferenceServices.{name}.priorityClass",
                            f"unknown PriorityClass; priorityClasses: {classes}", spec.priority_class)
        yield from check_serving_pools(self.serving, self.pools)
        yield from check_serving_mounts(self.serving, self.storage)
        yield from check_serving_autoscaling(self.serving, self.prometheus_url is not None)
        if self.serving.aws.enabled:
            wired = (("oidcProviderArn", self.provider_arn), ("oidcProviderUrl", self.provider_url))
            for key, value in wired:
                if value is None:
                    yield issue(f"serving.aws.{key}", "is required when aws.enabled is true (IRSA trust)")

    @property
    def provider_arn(self) -> InputStr | None:
        """The OIDC provider ARN the model store's role trusts: the wired one, else the config's."""
        wired = self.oidc_provider_arn
        return wired if wired is not None else self.serving.aws.oidc_provider_arn

    @property
    def provider_url(self) -> InputStr | None:
        wired = self.oidc_provider_url
        return wired if wired is not None else self.serving.aws.oidc_provider_url


class Serving(pulumi.ComponentResource):
    """KServe, runtimes, the optional AWS model store and every configured InferenceService.

    Outputs: ``namespace_name`` (of the InferenceServices), ``kserve_namespace_name``,
    ``urls`` (InferenceService key -> in-cluster URL); the parts are attributes (``kserve``,
    ``knative``, ``runtimes``, ``model_store``, ``inference_services``) with their own outputs.
    """

    namespace_name: pulumi.Output[str]
    kserve_namespace_name: pulumi.Output[str]
    urls: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        args: ServingArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(ServingArgs, args, component="Serving", name=name)
        super().__init__(SERVING_TYPE, name, None, opts)
        config = args.serving
        child = child_options(self, opts)
        self.knative = None
        if config.deployment_mode == "Serverless":
            self.knative = Knative(child_name(name, "knative"),
                                   KnativeArgs(domain=config.kserve.ingress_domain), opts=child)
        self.kserve = KServe(
            child_name(name, "kserve"),
            KServeArgs(deployment_mode=config.deployment_mode, cert_manager=config.cert_manager,
                       kserve=config.kserve),
            _after(child, self.knative.ready if self.knative is not None else []),
        )
        # the namespace attribute stays the Namespace resource (what other areas wait for)
        self.namespace = namespace(child_name(name, "ns"), config.namespace, "baseline", child)
        self.runtimes = Runtimes(
            child_name(name, "runtimes"),
            RuntimesArgs(runtimes=config.runtimes, namespace=config.kserve.namespace),
            _after(child, [self.kserve.controller]),
        )
        self.keda = None
        if config.keda.enabled:
            self.keda = Keda(child_name(name, "keda"),
                             KedaArgs.of(config.keda, args.prometheus_url), opts=child)
        self.model_store = None
        if config.aws.enabled:
            self.model_store = ModelStore(
                child_name(name, "models"),
                ModelStoreArgs(namespace=config.namespace, model_bucket=config.aws.model_bucket,
                               service_account=config.aws.service_account,
                               oidc_provider_arn=args.provider_arn,
                               oidc_provider_url=args.provider_url),
                _after(child, [self.namespace]),
            )
        after: list[pulumi.Resource] = [self.namespace, self.runtimes]
        if self.model_store is not None:
            after.append(self.model_store)
        if self.keda is not None:
            after.append(self.keda.release)  # KServe creates ScaledObjects: KEDA's CRDs first
        prometheus_url = self.keda.prometheus_url if self.keda is not None else None
        available = config.runtimes.available()
        self.inference_services: dict[str, InferenceService] = {}
        for key, spec in config.inference_services.items():
            reader = None
            if self.model_store is not None and spec.storage_uri.startswith("s3://"):
                reader = config.aws.service_account
            self.inference_services[key] = InferenceService(
                child_name(name, key),
                InferenceServiceArgs(service_name=key, namespace=config.namespace, spec=spec,
                                     deployment_mode=config.deployment_mode, pools=args.pools,
                                     runtimes=available, service_account=reader, storage=args.storage,
                                     priority_classes=args.priority_classes,
                                     prometheus_url=prometheus_url),
                _after(child, after),
            )
        self.namespace_name = self.namespace.metadata.apply(metadata_name)
        self.kserve_namespace_name = self.kserve.namespace_name
        self.urls = {key: isvc.url for key, isvc in self.inference_services.items()}
        self.register_outputs({"namespace": self.namespace_name,
                               "kserveNamespace": self.kserve_namespace_name,
                               "inferenceServices": sorted(config.inference_services),
                               "urls": self.urls})


def _after(opts: pulumi.ResourceOptions, resources: list[pulumi.Resource]) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(resources)))


def build_serving(
    name: str,
    config: ServingConfig,
    pools: Mapping[str, GpuPool],
    opts: pulumi.ResourceOptions,
    **deps: Any,
) -> Serving | None:
    """The serving area, or None when switched off. Raises ConfigError (all problems at once)
    before registering anything. ``deps``: ``oidc_provider_arn``/``oidc_provider_url`` outputs
    of the EKS cluster, which override the config strings, ``storage`` (the storage config
    ``mounts`` name), ``priority_classes`` (the PriorityClasses that exist) and ``prometheus_url``
    (the monitoring component's, for KEDA). The checks are ``ServingArgs``' (the component runs
    them too)."""
    if not config.enabled:
        return None
    args = ServingArgs(serving=config, pools=dict(pools), storage=deps.get("storage"),
                       oidc_provider_arn=deps.get("oidc_provider_arn"),
                       oidc_provider_url=deps.get("oidc_provider_url"),
                       priority_classes=deps.get("priority_classes"),
                       prometheus_url=deps.get("prometheus_url"))
    problems = list(collect_issues(args))
    if problems:
        raise ConfigError(problems)
    return Serving(name, args, opts)


__all__ = [
    "AutoscalingSpec",
    "AwsServingConfig",
    "CertManagerConfig",
    "InferenceService",
    "InferenceServiceArgs",
    "InferenceServiceSpec",
    "KServe",
    "KServeArgs",
    "KServeConfig",
    "Keda",
    "KedaArgs",
    "KedaConfig",
    "Knative",
    "KnativeArgs",
    "ModelBucketConfig",
    "ModelStore",
    "ModelSpec",
    "ModelStoreArgs",
    "Runtimes",
    "RuntimesArgs",
    "RuntimesConfig",
    "Serving",
    "ServingArgs",
    "ServingConfig",
    "build_serving",
    "check_serving_autoscaling",
    "check_serving_mounts",
    "check_serving_pools",
]
