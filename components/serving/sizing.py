"""Does a model fit the GPU memory it gets? Pure checks for InferenceServices and Ray groups.

A served model declares what it is (``model``): a catalog entry (``gpu_platform.catalog.models``)
or a parameter count and precision. What it needs is its weights plus a KV-cache reserve: one
sequence of ``--max-model-len`` tokens for a catalog model (vLLM refuses to start with less), or
``kvCacheGb`` (default: 10% of the weights) for a model declared by its size alone.

What it gets, per GPU it requests (``device_memory``):

- a whole GPU: the model's memory (the catalog's nominal GB, ``catalog.gpus``);
- a MIG slice: the profile's GB (``3g.40gb`` -> 40 GB); a pool with several profiles gives a pod
  any of them, so the smallest counts;
- a time-sliced share: the GPU's memory / replicas. Time-slicing does not isolate memory; the
  share is what each of the replicas may use without starving the others.

vLLM uses ``--gpu-memory-utilization`` (default 0.9, vLLM's ``CacheConfig``) of the memory it
sees: the slice on MIG, the whole card otherwise, so on a time-sliced GPU that fraction must stay
within the share. Tensor parallelism splits weights and KV cache over the replica's GPUs, so a
model fits when weights + reserve <= GPUs x budget per GPU. GPU figures are nominal (an
"80 GB" A100 holds 85.9e9 bytes), which leaves a little headroom for activations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import Field

from gpu_platform.catalog.gpus import get_gpu_model
from gpu_platform.catalog.models import MODELS, ModelEntry, Precision, weights_gb
from gpu_platform.config import ConfigIssue, ConfigModel
from gpu_platform.config.errors import issue
from gpu_platform.core.pools import GpuPool

VLLM_DEFAULT_GPU_MEMORY_UTILIZATION = 0.9
DEFAULT_KV_FRACTION = 0.1  # kvCacheGb of a model declared by size only
_PROFILE_GB = re.compile(r"^[0-9]+g\.([0-9]+)gb$")


class ModelSpec(ConfigModel):
    """What a served model is: ``catalog`` (a key of ``catalog.models.MODELS``), or
    ``parametersB`` (billions) and ``precision``; ``kvCacheGb`` overrides the KV reserve."""

    catalog: str | None = Field(default=None, min_length=1)
    parameters_b: float | None = Field(default=None, gt=0)
    precision: Precision | None = None
    kv_cache_gb: float | None = Field(default=None, ge=0)

    def issues(self) -> Iterator[ConfigIssue]:
        if self.catalog is not None:
            if self.catalog not in MODELS:
                yield issue("catalog", f"unknown model; catalog: {', '.join(MODELS)}", self.catalog)
            for key, value in (("parametersB", self.parameters_b), ("precision", self.precision)):
                if value is not None:
                    yield issue(key, "comes from the catalog entry; remove it or the catalog key", value)
        elif self.parameters_b is None or self.precision is None:
            yield issue("", "declare catalog, or parametersB and precision")

    @property
    def entry(self) -> ModelEntry | None:
        return MODELS.get(self.catalog) if self.catalog is not None else None

    @property
    def name(self) -> str:
        if self.catalog is not None:
            return self.catalog
        return f"a {_num(self.parameters_b or 0)}B {self.precision} model"

    def weights_gb(self) -> float:
        entry = self.entry
        if entry is not None:
            return entry.weights_gb
        return weights_gb(self.parameters_b or 0.0, self.precision or "fp32")

    def kv_reserve(self, max_model_len: int | None) -> tuple[float, str]:
        """GB of KV cache to reserve and how it was chosen."""
        if self.kv_cache_gb is not None:
            return self.kv_cache_gb, "kvCacheGb"
        entry = self.entry
        if entry is None:
            return self.weights_gb() * DEFAULT_KV_FRACTION, "10% of the weights"
        tokens = max_model_len or entry.context_length
        return entry.kv_cache_gb(tokens), f"one {tokens}-token sequence"


class ServedModel(ModelSpec):
    """A model a Ray Serve group serves with vLLM: the model and the engine settings its memory
    depends on (``engine_kwargs`` of Ray Serve LLM; vLLM's defaults when unset)."""

    max_model_len: int | None = Field(default=None, ge=1)
    gpu_memory_utilization: float | None = Field(default=None, gt=0, le=1)


@dataclass(frozen=True)
class DeviceMemory:
    """The GPU memory one requested device gives a pod, and how to say it."""

    gb: float
    card_gb: float  # the memory vLLM's utilisation applies to (the slice on MIG)
    shared_by: int  # time-slicing replicas; 1 otherwise
    description: str


def device_memory(pool: GpuPool) -> DeviceMemory:
    """What one ``nvidia.com/gpu`` of ``pool`` gives (see the module docstring)."""
    model = get_gpu_model(pool.gpu.model)
    sharing = pool.sharing
    if sharing.time_slicing is not None:
        replicas = sharing.time_slicing.replicas
        share = model.memory_gib / replicas
        return DeviceMemory(share, model.memory_gib, replicas,
                            f"a time-sliced share of {_a(model.key)} "
                            f"({model.memory_gib} GB / {replicas} replicas)")
    if sharing.mig is not None:
        sizes = {}
        for layout in sharing.mig.device_layouts:
            for profile in layout or {"": 0}:
                match = _PROFILE_GB.match(profile)
                sizes[profile or "whole"] = int(match.group(1)) if match else model.memory_gib
        smallest = min(sizes, key=lambda name: (sizes[name], name))
        gb = sizes[smallest]
        what = (f"a whole {model.key}" if smallest == "whole"
                else f"a {smallest} MIG slice of {_a(model.key)}")
        return DeviceMemory(gb, gb, 1, f"{what} ({_num(gb)} GB)")
    return DeviceMemory(model.memory_gib, model.memory_gib, 1,
                        f"a whole {model.key} ({model.memory_gib} GB)")


def sizing_issues(
    model: ModelSpec,
    pool: GpuPool,
    gpus: int,
    *,
    vllm: bool,
    gpu_memory_utilization: float | None = None,
    max_model_len: int | None = None,
    gpus_key: str = "gpus",
    utilization_key: str = "vllm.gpuMemoryUtilization",
) -> Iterator[ConfigIssue]:
    """Problems fitting ``model`` on ``gpus`` devices of ``pool`` (paths relative to the spec
    that holds ``model``). ``vllm``: the server takes ``gpu_memory_utilization`` of each device."""
    device = device_memory(pool)
    per_device = device.gb
    how = ""
    if vllm:
        utilization = gpu_memory_utilization or VLLM_DEFAULT_GPU_MEMORY_UTILIZATION
        claimed = utilization * device.card_gb
        if device.shared_by > 1 and claimed > device.gb + 1e-9:
            most = int(100 / device.shared_by) / 100
            yield issue(
                utilization_key,
                f"vLLM would take {_num(utilization)} x {_num(device.card_gb)} GB = "
                f"{_gb(claimed)} of the GPU, but each pod gets {_gb(device.gb)}: "
                f"{device.description}; set it <= {_num(most)}",
                gpu_memory_utilization if gpu_memory_utilization is not None else utilization,
            )
            return
        per_device = claimed
        how = f" at gpuMemoryUtilization {_num(utilization)}"
    weights = model.weights_gb()
    reserve, reserve_how = model.kv_reserve(max_model_len)
    need = weights + reserve
    have = per_device * gpus
    if need > have + 1e-9:
        yield issue(
            "model",
            f"{model.name} needs {_gb(weights)} of weights + {_gb(reserve)} of KV cache "
            f"({reserve_how}) = {_gb(need)}, but {gpus} x {device.description}{how} gives "
            f"{_gb(have)}; use more {gpus_key}, a pool with more GPU memory or a smaller model",
            model.catalog or f"{_num(model.parameters_b or 0)}B {model.precision}",
        )


def _a(word: str) -> str:
    """``word`` with its article, as the letter is said ("an A100", "an L4", "a T4")."""
    return f"{'an' if word[:1] in 'AEFHILMNORSX' else 'a'} {word}"


def _gb(value: float) -> str:
    return f"{value:.1f} GB"


def _num(value: float) -> str:
    return f"{value:g}"
