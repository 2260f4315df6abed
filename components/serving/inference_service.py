"""One model served by KServe: a ``serving.kserve.io/v1beta1`` InferenceService from a typed spec.

GPUs are whole devices requested as ``nvidia.com/gpu`` with requests == limits (Kubernetes
rejects anything else for extended resources), on the nodes of one pool (its node selector and
tolerations), and vLLM shards the model over them with ``--tensor-parallel-size=<gpus>``.

Autoscaling: in RawDeployment KServe creates an HPA from ``minReplicas``/``maxReplicas``/
``scaleMetric``/``scaleTarget`` on the predictor (cpu or memory; the ``autoscalerClass: hpa``
annotation routes validation to the HPA rules). In Serverless, Knative's KPA reads the
``autoscaling.knative.dev/metric``/``target`` annotations (concurrency or rps), and
``canaryTrafficPercent`` splits traffic between revisions, which only Knative has.

Security: the predictor Pod runs under the runtime's default seccomp profile and mounts no service
account token (the model server never calls the Kubernetes API; IRSA injects its own projected
token regardless). vLLM's official image runs as root, so runAsNonRoot is not set; the serving
namespace enforces Pod Security baseline.

Storage: ``mounts`` names storage volumes or datasets (e.g. a ``models`` PVC) resolved by
``volume_for`` into predictor volumes and model-container volumeMounts.

``InferenceService(name, InferenceServiceArgs, opts)`` refuses, before registering anything, a
spec its pool cannot run (an unknown pool, more GPUs than a node has, tensor parallelism on a
shared pool), options of the other deployment mode, a runtime that is not installed and mounts
that do not resolve in its namespace. It waits for ``opts.depends_on`` (KServe, the runtimes).

Outputs: ``service_name``, ``namespace_name`` and ``url``, the in-cluster address
``http://<name>-predictor.<namespace>.svc.cluster.local``. That is what KServe v0.20 writes to
``status.address.url`` with ``disableIstioVirtualHost`` (always set here) in both modes: the
predictor's Service (RawDeployment: ``getRawServiceHost`` in the ``kube_ingress_reconciler.go``;
Serverless: ``getHostPrefix`` in ``ingress_reconciler.go``, both in
``pkg/controller/v1beta1/inferenceservice/reconcilers/ingress``). The external ``status.url``
depends on the ingress and is only known once KServe has reconciled.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pulumi
from pydantic import Field

from gpu_platform.config import ComponentArgs, ConfigIssue, ConfigModel, component_args
from gpu_platform.config.args import InputStr
from gpu_platform.config.errors import issue
from gpu_platform.core.component import child_options
from gpu_platform.core.names import MANAGED_BY_LABELS, DnsLabel, NonNegativeInt, PositiveInt, child_name
from gpu_platform.core.pools import GPU_RESOURCE, GpuPool, Scheduling, pool_scheduling
from gpu_platform.k8s.objects import custom_resource
from gpu_platform.serving.autoscaling import (
    AUTOSCALER_CLASS_ANNOTATION,
    KEDA_CLASS,
    AutoscalingSpec,
    render_autoscaling,
)
from gpu_platform.serving.kserve import KSERVE_MODE_NAMES, DeploymentMode
from gpu_platform.serving.runtimes import (
    VLLM_DEFAULT_CPU,
    VLLM_DEFAULT_MEMORY,
    VLLM_MODEL_FORMAT,
    VLLM_PORT,
    VLLM_RUNTIME_NAME,
)
from gpu_platform.serving.sizing import ModelSpec, sizing_issues
from gpu_platform.serving.vllm_cli import vllm_arg_problems
from gpu_platform.storage import StorageConfig
from gpu_platform.workloads import MountSpec, mount_issues, render_mounts

INFERENCE_SERVICE_TYPE = "gpu-platform:serving:InferenceService"
# the PriorityClass of model servers unless a spec names another (the training area creates it
# with the other shared classes: training.priorityClasses; see gpu_platform.training.teams)
DEFAULT_INFERENCE_PRIORITY_CLASS = "inference-critical"
STORAGE_URI_PATTERN = r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?|pvc://[a-z0-9][-a-z0-9.]*(/.*)?)$"

ScaleMetric = Literal["cpu", "memory", "concurrency", "rps"]
HPA_METRICS = ("cpu", "memory")
KNATIVE_METRICS = ("concurrency", "rps")
# vLLM --quantization methods with pre-quantized checkpoints commonly served.
Quantization = Literal[
    "awq", "awq_marlin", "gptq", "gptq_marlin", "fp8", "bitsandbytes", "gguf", "compressed-tensors"
]


class Probe(ConfigModel):
    """An HTTP probe of the model server; delays are sized for loading tens of GB of weights."""

    path: str = Field(default="/health", pattern=r"^/")
    initial_delay_seconds: NonNegativeInt
    period_seconds: PositiveInt
    timeout_seconds: PositiveInt = 10
    failure_threshold: PositiveInt = 3

    def render(self, port: int) -> dict[str, Any]:
        return {
            "httpGet": {"path": self.path, "port": port},
            "initialDelaySeconds": self.initial_delay_seconds,
            "periodSeconds": self.period_seconds,
            "timeoutSeconds": self.timeout_seconds,
            "failureThreshold": self.failure_threshold,
        }


def _readiness() -> Probe:
    return Probe(initial_delay_seconds=120, period_seconds=10)


def _liveness() -> Probe:
    return Probe(initial_delay_seconds=180, period_seconds=30)


class VllmArgs(ConfigModel):
    max_model_len: PositiveInt | None = None
    gpu_memory_utilization: float | None = Field(default=None, gt=0, le=1)
    quantization: Quantization | None = None
    # more ``vllm serve`` arguments, checked against the pinned vLLM's (serving/vllm_cli.py)
    extra_args: list[str] = Field(default_factory=list)

    def issues(self) -> Iterator[ConfigIssue]:
        for index, problem, arg in vllm_arg_problems(self.extra_args):
            yield issue(f"extraArgs.{index}", problem, arg)

    def render(self, gpus: int) -> list[str]:
        args = [f"--tensor-parallel-size={gpus}"]
        if self.max_model_len is not None:
            args.append(f"--max-model-len={self.max_model_len}")
        if self.gpu_memory_utilization is not None:
            args.append(f"--gpu-memory-utilization={self.gpu_memory_utilization}")
        if self.quantization is not None:
            args.append(f"--quantization={self.quantization}")
        return [*args, *self.extra_args]


class InferenceServiceSpec(ConfigModel):
    """One served model, keyed by its InferenceService name in ``serving.inferenceServices``."""

    storage_uri: str = Field(pattern=STORAGE_URI_PATTERN)
    pool: str | None = Field(default=None, min_length=1)  # None: a CPU-only model (gpus: 0)
    runtime: str = VLLM_RUNTIME_NAME
    model_format: str | None = Field(default=None, min_length=1)  # default: the runtime's
    model_name: str | None = Field(default=None, min_length=1)  # served name; default: the key
    gpus: NonNegativeInt = 1
    # what the model is, so that its weights + KV cache are checked against its GPU memory
    model: ModelSpec | None = None
    cpu: str = Field(default=VLLM_DEFAULT_CPU, min_length=1)
    memory: str = Field(default=VLLM_DEFAULT_MEMORY, min_length=1)
    min_replicas: NonNegativeInt = 1
    max_replicas: PositiveInt = 1
    scale_metric: ScaleMetric | None = None
    scale_target: PositiveInt | None = None
    autoscaling: AutoscalingSpec | None = None  # KEDA on serving metrics (RawDeployment)
    canary_traffic_percent: int | None = Field(default=None, ge=0, le=100)
    readiness_probe: Probe = Field(default_factory=_readiness)
    liveness_probe: Probe = Field(default_factory=_liveness)
    vllm: VllmArgs = Field(default_factory=VllmArgs)
    mounts: dict[DnsLabel, MountSpec] = Field(default_factory=dict)  # storage volumes or datasets
    # the predictor pods' PriorityClass (default inference-critical where it exists)
    priority_class: DnsLabel | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        if self.min_replicas > self.max_replicas:
            yield issue("minReplicas", f"must be <= maxReplicas ({self.max_replicas})", self.min_replicas)
        if (self.scale_metric is None) != (self.scale_target is None):
            yield issue("scaleTarget", "scaleMetric and scaleTarget are set together", self.scale_target)
        if self.autoscaling is not None and self.scale_metric is not None:
            yield issue("scaleMetric", "autoscaling (KEDA) replaces scaleMetric/scaleTarget; "
                        "remove one", self.scale_metric)
        yield from self._gpu_issues()

    def _gpu_issues(self) -> Iterator[ConfigIssue]:
        if self.gpus == 0:
            if self.pool is not None:
                yield issue("pool", "a CPU-only model (gpus: 0) runs off the GPU pools; remove pool",
                            self.pool)
            if self.runtime == VLLM_RUNTIME_NAME:
                yield issue("gpus", f"runtime {VLLM_RUNTIME_NAME} serves on GPUs; CPU-only models "
                            "use a built-in runtime (e.g. kserve-sklearnserver)", 0)
            return
        if self.pool is None:
            yield issue("pool", "is required for a model on GPUs (or set gpus: 0 for a CPU-only model)")
        if self.model is None:
            yield issue("model", "is required for a model on GPUs: declare catalog, or parametersB "
                        "and precision, so its fit in GPU memory is checked")

    def mode_issues(self, mode: DeploymentMode) -> Iterator[ConfigIssue]:
        """Problems only visible once the deployment mode is known (paths relative to self)."""
        if mode == "RawDeployment":
            if self.canary_traffic_percent is not None:
                yield issue(
                    "canaryTrafficPercent",
                    "canary rollouts need deploymentMode Serverless (Knative revisions); "
                    "remove it for RawDeployment",
                    self.canary_traffic_percent,
                )
            if self.min_replicas == 0:
                yield issue("minReplicas", "scale to zero needs Serverless; use >= 1", 0)
            if self.scale_metric is not None and self.scale_metric not in HPA_METRICS:
                yield issue("scaleMetric", "RawDeployment (HPA) scales on cpu or memory", self.scale_metric)
        elif self.scale_metric is not None and self.scale_metric not in KNATIVE_METRICS:
            yield issue("scaleMetric", "Serverless (Knative KPA) scales on concurrency or rps",
                        self.scale_metric)
        if mode == "Serverless" and self.autoscaling is not None:
            yield issue("autoscaling", "KServe scales with KEDA in RawDeployment only; Serverless "
                        "scales with Knative (scaleMetric concurrency or rps)")
        if self.runtime != VLLM_RUNTIME_NAME and self.vllm != VllmArgs():
            yield issue("vllm", f"vLLM args need runtime {VLLM_RUNTIME_NAME}", self.runtime)

    def runtime_issues(self, available: Mapping[str, str]) -> Iterator[ConfigIssue]:
        """The runtime must be installed (``available``: runtime name -> model format)."""
        if self.runtime not in available:
            known = ", ".join(sorted(available)) or "none (switch one on under runtimes)"
            yield issue("runtime", f"unknown or disabled runtime; available: {known}", self.runtime)

    def pool_issues(self, pools: Mapping[str, GpuPool]) -> Iterator[ConfigIssue]:
        """The pool must exist, a replica's GPUs fit on one of its nodes, whole, and the model in
        their memory; autoscaling triggers must have a metric to read."""
        pool = pools.get(self.pool) if self.pool is not None else None
        if self.autoscaling is not None:
            sharing = pool.sharing.mode if pool is not None else None
            for found in self.autoscaling.target_issues(vllm=self.runtime == VLLM_RUNTIME_NAME,
                                                        gpus=self.gpus, sharing=sharing):
                yield found.prefixed("autoscaling")
        if self.pool is None:
            return
        if pool is None:
            known = ", ".join(sorted(pools)) or "none"
            yield issue("pool", f"unknown GPU pool; known pools: {known}", self.pool)
            return
        if self.gpus > pool.gpu.count:
            yield issue(
                "gpus",
                f"a replica needs {self.gpus} GPUs on one node but nodes of pool '{self.pool}' "
                f"have {pool.gpu.count}; lower gpus or use a pool with bigger nodes",
                self.gpus,
            )
        elif self.gpus > 1 and pool.sharing.mode != "whole":
            yield issue(
                "gpus",
                f"pool '{self.pool}' shares its GPUs ({pool.sharing.mode}); tensor parallelism "
                "needs whole GPUs: use gpus: 1 or a whole-GPU pool",
                self.gpus,
            )
        elif self.model is not None:
            vllm = self.runtime == VLLM_RUNTIME_NAME
            yield from sizing_issues(self.model, pool, self.gpus, vllm=vllm,
                                     gpu_memory_utilization=self.vllm.gpu_memory_utilization,
                                     max_model_len=self.vllm.max_model_len)


def render_inference_service(
    name: str,
    namespace: str,
    spec: InferenceServiceSpec,
    mode: DeploymentMode,
    scheduling: Scheduling | None,
    model_format: str,
    service_account: str | pulumi.Output[str] | None = None,
    storage: StorageConfig | None = None,
    priority_class: str | None = None,
    *,
    prometheus_url: str | pulumi.Output[str] | None = None,
    mig: bool = False,
) -> dict[str, Any]:
    """The InferenceService manifest (pure; the spec is assumed validated for ``mode`` and its
    mounts resolvable in ``storage``). ``scheduling``: the pool's (None: a CPU-only model);
    ``priority_class``: the predictor's PriorityClass; ``prometheus_url``: what KEDA queries;
    ``mig``: the pool's GPUs are MIG slices."""
    annotations = {
        "serving.kserve.io/deploymentMode": KSERVE_MODE_NAMES[mode],
        "serving.kserve.io/enable-prometheus-scraping": "true",
    }
    predictor: dict[str, Any] = {
        "minReplicas": spec.min_replicas,
        "maxReplicas": spec.max_replicas,
    }
    if mode == "RawDeployment" and spec.autoscaling is not None:
        annotations[AUTOSCALER_CLASS_ANNOTATION] = KEDA_CLASS
        predictor["autoScaling"] = render_autoscaling(
            spec.autoscaling, namespace=namespace, service=name,
            model_name=spec.model_name or name, prometheus_url=prometheus_url, mig=mig)
    elif mode == "RawDeployment":
        annotations[AUTOSCALER_CLASS_ANNOTATION] = "hpa"
        if spec.scale_metric is not None:
            predictor["scaleMetric"] = spec.scale_metric
            predictor["scaleTarget"] = spec.scale_target
    else:
        annotations["autoscaling.knative.dev/class"] = "kpa.autoscaling.knative.dev"
        if spec.scale_metric is not None:
            annotations["autoscaling.knative.dev/metric"] = spec.scale_metric
            annotations["autoscaling.knative.dev/target"] = str(spec.scale_target)
        if spec.canary_traffic_percent is not None:
            predictor["canaryTrafficPercent"] = spec.canary_traffic_percent
    amounts = {"cpu": spec.cpu, "memory": spec.memory}
    if spec.gpus:
        amounts[GPU_RESOURCE] = str(spec.gpus)
    model: dict[str, Any] = {
        "modelFormat": {"name": model_format},
        "runtime": spec.runtime,
        "storageUri": spec.storage_uri,
        "resources": {"requests": dict(amounts), "limits": dict(amounts)},
        "readinessProbe": spec.readiness_probe.render(VLLM_PORT),
        "livenessProbe": spec.liveness_probe.render(VLLM_PORT),
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }
    if spec.runtime == VLLM_RUNTIME_NAME:
        args = spec.vllm.render(spec.gpus)
        if spec.model_name is not None:
            args.insert(0, f"--served-model-name={spec.model_name}")
        model["args"] = args
    volumes = render_mounts(model, spec.mounts, storage, namespace)
    if volumes:
        predictor["volumes"] = volumes
    predictor["securityContext"] = {"seccompProfile": {"type": "RuntimeDefault"}}
    predictor["automountServiceAccountToken"] = False
    if scheduling is not None:
        predictor["nodeSelector"] = dict(scheduling.node_selector)
        predictor["tolerations"] = [dict(t) for t in scheduling.tolerations]
    if service_account is not None:
        predictor["serviceAccountName"] = service_account
    if priority_class is not None:
        predictor["priorityClassName"] = priority_class
    predictor["model"] = model
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(MANAGED_BY_LABELS),
            "annotations": annotations,
        },
        "spec": {"predictor": predictor},
    }


class InferenceServiceArgs(ComponentArgs):
    """One InferenceService and what its spec is checked against: the GPU pools, the runtimes
    installed, the deployment mode and the storage layer its mounts name."""

    service_name: DnsLabel  # metadata.name of the InferenceService
    namespace: DnsLabel = "ml-serving"
    spec: InferenceServiceSpec
    deployment_mode: DeploymentMode = "RawDeployment"
    pools: dict[DnsLabel, GpuPool]
    # runtime name -> model format, for the runtimes installed (default: the library's vLLM)
    runtimes: dict[str, str] = Field(default_factory=lambda: {VLLM_RUNTIME_NAME: VLLM_MODEL_FORMAT})
    # the predictor's ServiceAccount (the model store's reader for s3:// models), or an Output
    service_account: InputStr | None = None
    storage: StorageConfig | None = None  # what ``spec.mounts`` name
    # the PriorityClasses that exist (None: not known here; the default class is assumed)
    priority_classes: list[DnsLabel] | None = None
    # the Prometheus KEDA queries for ``spec.autoscaling`` (PrometheusStack.prometheus_url)
    prometheus_url: InputStr | None = None

    def issues(self) -> Iterator[ConfigIssue]:
        for found in self.spec_issues():
            yield found.prefixed("spec")
        named, known = self.spec.priority_class, self.priority_classes
        if named is not None and known is not None and named not in known:
            classes = ", ".join(known) or "none (training.priorityClasses creates them)"
            yield issue("spec.priorityClass", f"unknown PriorityClass; priorityClasses: {classes}",
                        named)
        scaling = self.spec.autoscaling
        if scaling is not None and scaling.needs_prometheus and self.prometheus_url is None:
            yield issue("prometheusUrl", "is required for autoscaling on Prometheus metrics "
                        f"({', '.join(t for t in scaling.triggers if t != 'cpuUtilization')})")

    @property
    def priority_class(self) -> str | None:
        """The predictor's PriorityClass: the spec's, else inference-critical unless the known
        classes lack it (then none: the pods would be refused admission)."""
        if self.spec.priority_class is not None:
            return self.spec.priority_class
        known = self.priority_classes
        default = DEFAULT_INFERENCE_PRIORITY_CLASS
        return default if known is None or default in known else None

    def spec_issues(self) -> Iterator[ConfigIssue]:
        """The checks across the spec and its surroundings (paths relative to the spec)."""
        yield from self.spec.mode_issues(self.deployment_mode)
        yield from self.spec.runtime_issues(self.runtimes)
        yield from self.spec.pool_issues(self.pools)
        yield from mount_issues(self.spec.mounts, self.storage, self.namespace)

    @property
    def model_format(self) -> str:
        return self.spec.model_format or self.runtimes[self.spec.runtime]


def service_url(name: str, namespace: str) -> str:
    """KServe's in-cluster address of an InferenceService (see the module docstring)."""
    return f"http://{name}-predictor.{namespace}.svc.cluster.local"


class InferenceService(pulumi.ComponentResource):
    """One InferenceService rendered from its typed spec (registered after KServe and runtimes)."""

    service_name: pulumi.Output[str]
    namespace_name: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: InferenceServiceArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        args = component_args(InferenceServiceArgs, args, component="InferenceService", name=name)
        super().__init__(INFERENCE_SERVICE_TYPE, name, None, opts)
        spec = args.spec
        pool = args.pools[spec.pool] if spec.pool is not None else None
        manifest = render_inference_service(
            args.service_name, args.namespace, spec, args.deployment_mode,
            pool_scheduling(spec.pool, pool) if spec.pool is not None and pool is not None else None,
            args.model_format, args.service_account, args.storage, args.priority_class,
            prometheus_url=args.prometheus_url, mig=pool is not None and pool.sharing.mode == "mig",
        )
        self.manifest = manifest
        self.resource = custom_resource(child_name(name, "isvc"), manifest, child_options(self, opts))
        known = self.resource.urn  # the names are known; the Outputs resolve after the object
        isvc, ns = args.service_name, args.namespace
        self.service_name = known.apply(lambda _: isvc)
        self.namespace_name = known.apply(lambda _: ns)
        self.url = known.apply(lambda _: service_url(isvc, ns))
        self.register_outputs({"name": self.service_name, "namespace": self.namespace_name,
                               "url": self.url})
