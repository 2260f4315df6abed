"""Model serving: KServe with a vLLM runtime, typed InferenceServices, and on AWS an encrypted
model bucket read through IRSA. Config key: ``gpu-platform:serving``.

``deploymentMode``: ``RawDeployment`` (default; Deployments + HPA, nothing else installed) or
``Serverless`` (Knative Serving + Kourier, pinned, installed before KServe's controller: scale to
zero, concurrency/rps autoscaling, canary traffic splits)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
from pydantic import Field

from gpu_platform.config import ConfigError, ConfigIssue, ConfigModel
from gpu_platform.config.errors import collect_issues, issue
from gpu_platform.core.names import DnsLabel, child_name
from gpu_platform.core.pools import GpuPool, pool_scheduling
from gpu_platform.k8s.addon import namespace
from gpu_platform.serving.inference_service import InferenceService, InferenceServiceSpec
from gpu_platform.serving.knative import Knative
from gpu_platform.serving.kserve import (
    CertManagerConfig,
    DeploymentMode,
    KServe,
    KServeArgs,
    KServeConfig,
)
from gpu_platform.serving.model_store import AwsServingConfig, ModelStore
from gpu_platform.serving.runtimes import Runtimes, RuntimesConfig
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
    inference_services: dict[DnsLabel, InferenceServiceSpec] = Field(default_factory=dict)

    def issues(self) -> Iterator[ConfigIssue]:
        if self.deployment_mode == "Serverless" and self.kserve.ingress_class_name is not None:
            yield issue("kserve.ingressClassName",
                        "Ingresses are for RawDeployment; Serverless is reached through Kourier "
                        "(Knative routes on kserve.ingressDomain): remove it",
                        self.kserve.ingress_class_name)
        available = self.runtimes.available()
        for name, spec in self.inference_services.items():
            path = f"inferenceServices.{name}"
            for found in spec.mode_issues(self.deployment_mode):
                yield found.prefixed(path)
            if spec.runtime not in available:
                known = ", ".join(sorted(available)) or "none (switch one on under runtimes)"
                yield issue(f"{path}.runtime", f"unknown or disabled runtime; available: {known}",
                            spec.runtime)

    def model_format(self, spec: InferenceServiceSpec) -> str:
        return spec.model_format or self.runtimes.available()[spec.runtime]


def check_serving_pools(
    config: ServingConfig, pools: Mapping[str, GpuPool], prefix: str = "serving"
) -> list[ConfigIssue]:
    """Cross-check every InferenceService against the environment's GPU pools (pure)."""
    found: list[ConfigIssue] = []
    for name, spec in config.inference_services.items():
        path = f"inferenceServices.{name}"
        pool = pools.get(spec.pool)
        if pool is None:
            known = ", ".join(sorted(pools)) or "none"
            found.append(issue(f"{path}.pool", f"unknown GPU pool; known pools: {known}", spec.pool))
            continue
        if spec.gpus > pool.gpu.count:
            found.append(issue(
                f"{path}.gpus",
                f"a replica needs {spec.gpus} GPUs on one node but nodes of pool '{spec.pool}' "
                f"have {pool.gpu.count}; lower gpus or use a pool with bigger nodes",
                spec.gpus,
            ))
        elif spec.gpus > 1 and pool.sharing.mode != "whole":
            found.append(issue(
                f"{path}.gpus",
                f"pool '{spec.pool}' shares its GPUs ({pool.sharing.mode}); tensor parallelism "
                "needs whole GPUs: use gpus: 1 or a whole-GPU pool",
                spec.gpus,
            ))
    return [f.prefixed(prefix) for f in found]


def check_serving_mounts(
    config: ServingConfig, storage: StorageConfig | None, prefix: str = "serving"
) -> list[ConfigIssue]:
    """Mounts of InferenceServices that do not resolve in the serving namespace (pure)."""
    return [i.prefixed(f"{prefix}.inferenceServices.{name}")
            for name, spec in config.inference_services.items()
            for i in mount_issues(spec.mounts, storage, config.namespace)]


class Serving(pulumi.ComponentResource):
    """KServe, runtimes, the optional AWS model store and every configured InferenceService."""

    def __init__(
        self,
        name: str,
        config: ServingConfig,
        pools: Mapping[str, GpuPool],
        opts: pulumi.ResourceOptions | None = None,
        *,
        oidc_provider_arn: pulumi.Input[str] | None = None,
        oidc_provider_url: pulumi.Input[str] | None = None,
        storage: StorageConfig | None = None,
    ):
        super().__init__(SERVING_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.knative = None
        if config.deployment_mode == "Serverless":
            self.knative = Knative(child_name(name, "knative"), domain=config.kserve.ingress_domain,
                                   opts=child)
        self.kserve = KServe(
            child_name(name, "kserve"),
            KServeArgs(deployment_mode=config.deployment_mode, cert_manager=config.cert_manager,
                       kserve=config.kserve),
            child,
            depends_on=self.knative.ready if self.knative is not None else (),
        )
        self.namespace = namespace(child_name(name, "ns"), config.namespace, "baseline", child)
        self.runtimes = Runtimes(
            child_name(name, "runtimes"), config.runtimes, namespace=config.kserve.namespace,
            opts=child, depends_on=[self.kserve.controller],
        )
        self.model_store = None
        if config.aws.enabled:
            self.model_store = ModelStore(
                child_name(name, "models"), config.aws, namespace=config.namespace,
                oidc_provider_arn=oidc_provider_arn or config.aws.oidc_provider_arn,
                oidc_provider_url=oidc_provider_url or config.aws.oidc_provider_url,
                opts=child, depends_on=[self.namespace],
            )
        after: list[Any] = [self.namespace, self.runtimes]
        if self.model_store is not None:
            after.append(self.model_store)
        self.inference_services: dict[str, InferenceService] = {}
        for key, spec in config.inference_services.items():
            reader = None
            if self.model_store is not None and spec.storage_uri.startswith("s3://"):
                reader = self.model_store.service_account_name
            self.inference_services[key] = InferenceService(
                child_name(name, key), spec, isvc_name=key, namespace=config.namespace,
                mode=config.deployment_mode, scheduling=pool_scheduling(spec.pool, pools[spec.pool]),
                model_format=config.model_format(spec), service_account=reader, storage=storage,
                opts=child, depends_on=after,
            )
        self.register_outputs({"namespace": config.namespace,
                               "inferenceServices": sorted(config.inference_services)})


def build_serving(
    name: str,
    config: ServingConfig,
    pools: Mapping[str, GpuPool],
    opts: pulumi.ResourceOptions,
    **deps: Any,
) -> Serving | None:
    """The serving area, or None when switched off. Raises ConfigError (all problems at once)
    before registering anything. ``deps``: ``oidc_provider_arn``/``oidc_provider_url`` outputs
    of the EKS cluster, which override the config strings, and ``storage`` (the storage config
    ``mounts`` name)."""
    if not config.enabled:
        return None
    problems = [i.prefixed("serving") for i in collect_issues(config)]
    problems += check_serving_pools(config, pools)
    problems += check_serving_mounts(config, deps.get("storage"))
    if config.aws.enabled:
        # the EKS component's outputs win; the config strings are for clusters built elsewhere
        aws = config.aws
        for key, value in (("oidcProviderArn", deps.get("oidc_provider_arn") or aws.oidc_provider_arn),
                           ("oidcProviderUrl", deps.get("oidc_provider_url") or aws.oidc_provider_url)):
            if value is None:
                problems.append(issue(f"serving.aws.{key}",
                                      "is required when aws.enabled is true (IRSA trust)"))
    if problems:
        raise ConfigError(problems)
    return Serving(name, config, pools, opts, **deps)


__all__ = [
    "AwsServingConfig",
    "InferenceServiceSpec",
    "Knative",
    "Serving",
    "ServingConfig",
    "build_serving",
    "check_serving_mounts",
    "check_serving_pools",
]
