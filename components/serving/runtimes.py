"""Serving runtimes: the library's own vLLM ClusterServingRuntime and KServe's built-in ones.

The vLLM runtime carries only what every model shares (the OpenAI-compatible server on :8080,
the model KServe downloads to /mnt/models, a memory-backed /dev/shm for tensor-parallel NCCL);
each InferenceService appends its own args (``--tensor-parallel-size=<gpus>`` and friends), which
KServe adds after the runtime's args. The container also carries defaults an InferenceService
overrides field by field (KServe merges the predictor's container over the runtime's): resources,
/health probes, and a hardened securityContext. ServingRuntime has no pod-level securityContext or
automountServiceAccountToken; the InferenceService predictor sets those.

KServe's built-in runtimes come from the ``kserve-runtime-configs`` chart, one switch each; every
switch is rendered (the chart's default is *enabled*), so only runtimes asked for are usable.

``Runtimes(name, RuntimesArgs(runtimes=..., namespace=<KServe's>), opts)``: after
``opts.depends_on`` (KServe's controller, whose CRDs and webhook the runtimes need). Outputs:
``release_name``/``namespace_name`` of the built-in runtimes release, ``vllm_runtime_name``
(None when switched off) and ``available`` (every runtime name an InferenceService may use).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigModel, component_args
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, child_name
from gpu_platform.k8s.addon import helm_release
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.k8s.values import deep_merge
from gpu_platform.versions import KSERVE_RUNTIME_CONFIGS, VLLM_IMAGE

RUNTIMES_TYPE = "gpu-platform:serving:Runtimes"
VLLM_RUNTIME_NAME = "gpu-platform-vllm"
VLLM_MODEL_FORMAT = "vllm"
VLLM_PORT = 8080
MODEL_NAME_PLACEHOLDER = "{{.Name}}"  # KServe substitutes the InferenceService name
# Defaults for a model server container; every InferenceService sets its own (same defaults).
VLLM_DEFAULT_CPU = "8"
VLLM_DEFAULT_MEMORY = "64Gi"
VLLM_HEALTH_PATH = "/health"

# values.yaml key under kserve.servingruntime -> ClusterServingRuntime name and model format
# (charts/kserve-runtime-configs/files/runtimes/clusterservingruntimes-patch.yaml, v0.20.0).
BUILTIN_RUNTIMES: dict[str, tuple[str, str]] = {
    "tensorflow": ("kserve-tensorflow-serving", "tensorflow"),
    "mlserver": ("kserve-mlserver", "mlflow"),
    "sklearnserver": ("kserve-sklearnserver", "sklearn"),
    "xgbserver": ("kserve-xgbserver", "xgboost"),
    "huggingfaceserver": ("kserve-huggingfaceserver", "huggingface"),
    "tritonserver": ("kserve-tritonserver", "triton"),
    "pmmlserver": ("kserve-pmmlserver", "pmml"),
    "predictiveserver": ("kserve-predictiveserver", "sklearn"),
    "paddleserver": ("kserve-paddleserver", "paddle"),
    "lgbserver": ("kserve-lgbserver", "lightgbm"),
    "autogluonserver": ("kserve-autogluonserver", "autogluon"),
    "torchserve": ("kserve-torchserve", "pytorch"),
    "vllmserver": ("kserve-vllmserver", "vllm"),
}


class VllmRuntimeConfig(ConfigModel):
    enabled: bool = True
    image: str = Field(default=VLLM_IMAGE, min_length=1)
    # /dev/shm for NCCL between tensor-parallel workers; the 64Mi container default is too small.
    shm_size: str = Field(default="16Gi", pattern=r"^[0-9]+(Mi|Gi)$")


class BuiltinRuntimes(ConfigModel):
    """KServe's built-in ClusterServingRuntimes, each off unless switched on."""

    tensorflow: bool = False
    mlserver: bool = False
    sklearnserver: bool = False
    xgbserver: bool = False
    huggingfaceserver: bool = False
    tritonserver: bool = False
    pmmlserver: bool = False
    predictiveserver: bool = False
    paddleserver: bool = False
    lgbserver: bool = False
    autogluonserver: bool = False
    torchserve: bool = False
    vllmserver: bool = False

    def enabled_names(self) -> dict[str, str]:
        """ClusterServingRuntime name -> model format, for the runtimes switched on."""
        return {BUILTIN_RUNTIMES[key][0]: BUILTIN_RUNTIMES[key][1] for key in self.switched_on()}

    def switched_on(self) -> list[str]:
        return [key for key in BUILTIN_RUNTIMES if getattr(self, key)]


class RuntimesConfig(ConfigModel):
    vllm: VllmRuntimeConfig = Field(default_factory=VllmRuntimeConfig)
    builtin: BuiltinRuntimes = Field(default_factory=BuiltinRuntimes)
    values_overrides: dict[str, Any] = Field(default_factory=dict)

    def available(self) -> dict[str, str]:
        """Every runtime an InferenceService may name -> its model format."""
        names = dict(self.builtin.enabled_names())
        if self.vllm.enabled:
            names[VLLM_RUNTIME_NAME] = VLLM_MODEL_FORMAT
        return names


def runtime_configs_values(config: RuntimesConfig) -> dict[str, Any]:
    switches = {key: {"disabled": not getattr(config.builtin, key)} for key in BUILTIN_RUNTIMES}
    values = {"kserve": {"servingruntime": {"enabled": True, **switches}}}
    return deep_merge(values, config.values_overrides)


def vllm_probe(initial_delay_seconds: int, period_seconds: int) -> dict[str, Any]:
    """An HTTP probe of vLLM's /health, delays sized for loading tens of GB of weights."""
    return {
        "httpGet": {"path": VLLM_HEALTH_PATH, "port": VLLM_PORT},
        "initialDelaySeconds": initial_delay_seconds,
        "periodSeconds": period_seconds,
        "timeoutSeconds": 10,
        "failureThreshold": 3,
    }


def vllm_runtime_object(config: VllmRuntimeConfig) -> dict[str, Any]:
    """The vLLM ClusterServingRuntime manifest (pure)."""
    amounts = {"cpu": VLLM_DEFAULT_CPU, "memory": VLLM_DEFAULT_MEMORY}
    return {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ClusterServingRuntime",
        "metadata": {"name": VLLM_RUNTIME_NAME, "labels": dict(MANAGED_BY_LABELS)},
        "spec": {
            "annotations": {
                "prometheus.kserve.io/path": "/metrics",
                "prometheus.kserve.io/port": str(VLLM_PORT),
            },
            "supportedModelFormats": [
                {"name": VLLM_MODEL_FORMAT, "version": "1", "autoSelect": True, "priority": 1}
            ],
            "containers": [
                {
                    "name": "kserve-container",
                    "image": config.image,
                    "args": [
                        f"--port={VLLM_PORT}",
                        "--model=/mnt/models",
                        f"--served-model-name={MODEL_NAME_PLACEHOLDER}",
                    ],
                    "ports": [{"containerPort": VLLM_PORT, "name": "http", "protocol": "TCP"}],
                    "resources": {"requests": dict(amounts), "limits": dict(amounts)},
                    "readinessProbe": vllm_probe(120, 10),
                    "livenessProbe": vllm_probe(180, 30),
                    # vLLM's official image runs as root, so no runAsNonRoot (see testing/security.py)
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "privileged": False,
                        "capabilities": {"drop": ["ALL"]},
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "volumeMounts": [{"name": "devshm", "mountPath": "/dev/shm"}],
                }
            ],
            "volumes": [
                {"name": "devshm", "emptyDir": {"medium": "Memory", "sizeLimit": config.shm_size}}
            ],
        },
    }


class RuntimesArgs(ComponentArgs):
    runtimes: RuntimesConfig = Field(default_factory=RuntimesConfig)
    namespace: DnsLabel = "kserve"  # KServe's namespace: the built-in runtimes release goes there


class Runtimes(pulumi.ComponentResource):
    """The vLLM ClusterServingRuntime and the built-in runtimes chart (after the KServe CRDs)."""

    release_name: pulumi.Output[str]
    namespace_name: pulumi.Output[str]
    vllm_runtime_name: pulumi.Output[str] | None
    available: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        args: RuntimesArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(RuntimesArgs, args, component="Runtimes", name=name)
        super().__init__(RUNTIMES_TYPE, name, None, opts)
        config = args.runtimes
        self.vllm = None
        self.vllm_runtime_name = None
        if config.vllm.enabled:
            body = vllm_runtime_object(config.vllm)
            self.vllm = custom_resource(child_name(name, "vllm"), body, child_options(self, opts))
            self.vllm_runtime_name = self.vllm.urn.apply(lambda _: VLLM_RUNTIME_NAME)
        self.builtin = helm_release(
            child_name(name, "builtin"), KSERVE_RUNTIME_CONFIGS, release_name="kserve-runtimes",
            namespace=args.namespace, values=runtime_configs_values(config),
            opts=child_options(self, opts),
        )
        self.release_name = self.builtin.name  # type: ignore[assignment]
        self.namespace_name = self.builtin.namespace  # type: ignore[assignment]
        names = sorted(config.available())
        self.available = pulumi.Output.all(
            self.builtin.urn, *([self.vllm.urn] if self.vllm is not None else [])
        ).apply(lambda _: names)
        self.register_outputs({"releaseName": self.release_name, "namespace": self.namespace_name,
                               "vllmRuntimeName": self.vllm_runtime_name, "available": self.available})


def metadata_name(metadata: Any) -> str:
    """``metadata.name`` of a resource's metadata output (a dict or an ObjectMeta)."""
    return str(metadata["name"] if isinstance(metadata, Mapping) else metadata.name)


def metadata_namespace(metadata: Any) -> str:
    """``metadata.namespace`` of a resource's metadata output (a dict or an ObjectMeta)."""
    return str(metadata["namespace"] if isinstance(metadata, Mapping) else metadata.namespace)
