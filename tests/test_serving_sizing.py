"""Model sizing: a model whose weights plus KV-cache reserve do not fit the GPU memory it gets (whole
GPU, MIG slice, time-sliced share) is refused, naming the numbers; the pure functions hold for any
size (hypothesis)."""

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpu_platform.catalog.gpus import GPU_MODELS
from gpu_platform.catalog.models import MODELS, PRECISION_BITS, weights_gb
from gpu_platform.config import ConfigError, validate_model
from gpu_platform.core.pools import GpuPool
from gpu_platform.serving import InferenceService, ServingConfig, check_serving_pools
from gpu_platform.serving.sizing import ModelSpec, device_memory, sizing_issues


def _pool(model="A100-80GB", count=8, sharing=None):
    data = {"role": "inference", "gpu": {"model": model, "count": count}}
    if sharing:
        data["sharing"] = sharing
    return GpuPool.model_validate(data)


POOLS = {
    "mig": _pool(sharing={"mig": {"profiles": {"3g.40gb": 2}}}),
    "whole": _pool(),
    "t4": _pool("T4", 1, {"timeSlicing": {"replicas": 4}}),
    "a10g": _pool("A10G", 1, {"timeSlicing": {"replicas": 4}}),
}
AWQ70 = {"storageUri": "s3://models/llama", "model": {"catalog": "llama-2-70b-chat-awq"},
         "vllm": {"maxModelLen": 4096, "gpuMemoryUtilization": 0.9, "quantization": "awq"}}


def _issues(services):
    config = validate_model(ServingConfig, {"enabled": True, "inferenceServices": services})
    return [str(i) for i in check_serving_pools(config, POOLS)]


def test_catalog_sizes_match_published_checkpoints():
    # issue 18: "about 36.5 GB of weights"; Qwen2.5-7B-Instruct-AWQ's safetensors total 5.58 GB
    assert round(MODELS["llama-2-70b-chat-awq"].weights_gb, 1) == 36.6
    assert round(MODELS["qwen2.5-7b-instruct-awq"].weights_gb, 1) == 5.6
    assert round(MODELS["llama-3.1-8b-instruct"].weights_gb, 2) == 16.06
    # 2 x 80 layers x 8 KV heads x 128 x 2 bytes per token
    assert MODELS["llama-2-70b-chat"].kv_bytes_per_token == 327680
    assert all(m.source.startswith("https://huggingface.co/") for m in MODELS.values())


def test_prod_before_the_fix_70b_awq_on_a_40gb_mig_slice_is_refused():
    assert _issues({"llama": {**AWQ70, "pool": "mig"}}) == [
        "serving.inferenceServices.llama.model: llama-2-70b-chat-awq needs 36.6 GB of weights + "
        "1.3 GB of KV cache (one 4096-token sequence) = 38.0 GB, but 1 x a 3g.40gb MIG slice of "
        "an A100-80GB (40 GB) at gpuMemoryUtilization 0.9 gives 36.0 GB; use more gpus, a pool "
        'with more GPU memory or a smaller model (got "llama-2-70b-chat-awq")'
    ]
    assert _issues({"llama": {**AWQ70, "pool": "whole"}}) == []


def test_dev_before_the_fix_vllm_claims_more_than_its_time_sliced_share():
    qwen = {"storageUri": "s3://models/qwen", "pool": "a10g",
            "model": {"catalog": "qwen2.5-7b-instruct-awq"},
            "vllm": {"maxModelLen": 8192, "gpuMemoryUtilization": 0.85, "quantization": "awq"}}
    assert _issues({"qwen": qwen}) == [
        "serving.inferenceServices.qwen.vllm.gpuMemoryUtilization: vLLM would take 0.85 x 24 GB = "
        "20.4 GB of the GPU, but each pod gets 6.0 GB: a time-sliced share of an A10G (24 GB / 4 "
        "replicas); set it <= 0.25 (got 0.85)"
    ]
    # within its share, the 7B model still needs 6.0 GB of the 6.0 GB (0.25 x 24)
    assert _issues({"qwen": {**qwen, "vllm": {"maxModelLen": 8192, "gpuMemoryUtilization": 0.25}}}) == [
        "serving.inferenceServices.qwen.model: qwen2.5-7b-instruct-awq needs 5.6 GB of weights + "
        "0.5 GB of KV cache (one 8192-token sequence) = 6.0 GB, but 1 x a time-sliced share of an "
        "A10G (24 GB / 4 replicas) at gpuMemoryUtilization 0.25 gives 6.0 GB; use more gpus, a "
        'pool with more GPU memory or a smaller model (got "qwen2.5-7b-instruct-awq")'
    ]


def test_a_70b_model_declared_by_size_on_a_shared_t4_is_refused():
    spec = {"storageUri": "pvc://m/x", "pool": "t4", "runtime": "kserve-huggingfaceserver",
            "model": {"parametersB": 70, "precision": "fp16"}}
    config = validate_model(ServingConfig, {"enabled": True, "inferenceServices": {"big": spec},
                                            "runtimes": {"builtin": {"huggingfaceserver": True}}})
    assert [str(i) for i in check_serving_pools(config, POOLS)] == [
        "serving.inferenceServices.big.model: a 70B fp16 model needs 140.0 GB of weights + 14.0 GB "
        "of KV cache (10% of the weights) = 154.0 GB, but 1 x a time-sliced share of a T4 (16 GB / "
        "4 replicas) gives 4.0 GB; use more gpus, a pool with more GPU memory or a smaller model "
        '(got "70B fp16")'
    ]


def test_tensor_parallelism_spreads_the_model_over_whole_gpus():
    fp16 = {"storageUri": "pvc://m/x", "pool": "whole", "model": {"catalog": "llama-2-70b-chat"},
            "vllm": {"maxModelLen": 8192, "gpuMemoryUtilization": 0.92}}
    assert _issues({"fp16": {**fp16, "gpus": 2}}) == []  # 140.6 GB of 147.2 GB
    assert _issues({"fp16": {**fp16, "gpus": 1}}) == [
        "serving.inferenceServices.fp16.model: llama-2-70b-chat needs 138.0 GB of weights + 2.7 GB "
        "of KV cache (one 8192-token sequence) = 140.6 GB, but 1 x a whole A100-80GB (80 GB) at "
        "gpuMemoryUtilization 0.92 gives 73.6 GB; use more gpus, a pool with more GPU memory or a "
        'smaller model (got "llama-2-70b-chat")'
    ]


def test_model_declaration_errors_name_the_path():
    with pytest.raises(ConfigError) as err:
        validate_model(ServingConfig, {"enabled": True, "inferenceServices": {
            "a": {"storageUri": "pvc://m/a", "pool": "whole", "model": {"catalog": "gpt-5"}},
            "b": {"storageUri": "pvc://m/b", "pool": "whole", "model": {"parametersB": 7}},
            "c": {"storageUri": "pvc://m/c", "pool": "whole",
                  "model": {"catalog": "llama-3.1-8b-instruct", "precision": "int4"}},
        }})
    assert [str(i) for i in err.value.issues] == [
        f'inferenceServices.a.model.catalog: unknown model; catalog: {", ".join(MODELS)} (got "gpt-5")',
        "inferenceServices.b.model: declare catalog, or parametersB and precision",
        "inferenceServices.c.model.precision: comes from the catalog entry; remove it or the "
        'catalog key (got "int4")',
    ]


def test_the_component_refuses_a_model_that_does_not_fit_before_registering(refused):
    args = {"serviceName": "llama", "spec": {**AWQ70, "pool": "mig"}, "pools": POOLS}
    err = refused(lambda: InferenceService("llama", args, pulumi.ResourceOptions()))
    assert str(err).splitlines()[1].startswith(
        "  - spec.model: llama-2-70b-chat-awq needs 36.6 GB of weights")


def test_device_memory_of_each_sharing_mode():
    assert device_memory(POOLS["whole"]).gb == 80
    assert device_memory(POOLS["mig"]).gb == 40
    assert device_memory(POOLS["t4"]).gb == 4
    mixed = _pool(sharing={"mig": {"devices": [{"3g.40gb": 1, "1g.10gb": 4}, {}] * 4}})
    assert device_memory(mixed).description == "a 1g.10gb MIG slice of an A100-80GB (10 GB)"


# --- properties of the pure functions ------------------------------------------------------------

sizes = st.floats(0.1, 1000, allow_nan=False)
precisions = st.sampled_from(sorted(PRECISION_BITS))


@given(sizes, precisions)
def test_weights_scale_with_parameters_and_bits(params, precision):
    assert weights_gb(params, precision) == pytest.approx(params * PRECISION_BITS[precision] / 8)
    assert weights_gb(params * 2, precision) == pytest.approx(2 * weights_gb(params, precision))


@given(sizes, precisions, st.sampled_from(sorted(GPU_MODELS)), st.integers(1, 8),
       st.floats(0.05, 1.0))
def test_a_fit_is_monotonic_in_gpus_and_refusals_name_the_numbers(params, precision, gpu, gpus,
                                                                  utilization):
    model = ModelSpec(parameters_b=params, precision=precision)
    pool = _pool(gpu, 8)
    found = list(sizing_issues(model, pool, gpus, vllm=True, gpu_memory_utilization=utilization))
    need = model.weights_gb() * 1.1
    have = GPU_MODELS[gpu].memory_gib * utilization * gpus
    assert bool(found) == (need > have + 1e-9)
    if found:
        assert f"= {need:.1f} GB" in found[0].message and f"gives {have:.1f} GB" in found[0].message
    else:  # more GPUs never break a fit
        assert not list(sizing_issues(model, pool, gpus + 1, vllm=True,
                                      gpu_memory_utilization=utilization))


@given(st.sampled_from(sorted(GPU_MODELS)), st.integers(2, 16), st.floats(0.01, 1.0))
def test_vllm_on_a_time_sliced_gpu_stays_within_its_share(gpu, replicas, utilization):
    pool = _pool(gpu, 1, {"timeSlicing": {"replicas": replicas}})
    tiny = ModelSpec(parameters_b=0.001, precision="int4")
    found = list(sizing_issues(tiny, pool, 1, vllm=True, gpu_memory_utilization=utilization))
    over = utilization > 1 / replicas + 1e-9
    assert [i.path for i in found] == (["vllm.gpuMemoryUtilization"] if over else [])


# --- Ray serving groups ---------------------------------------------------------------------------

def _ray_env(group):
    return {"cluster": {"kind": "existing", "context": "c"},
            "gpuPools": {"l4": {"role": "inference", "gpu": {"model": "L4", "count": 4}}},
            "training": {"enabled": True, "rayClusters": {"serve": {
                "namespace": "ml", "workerGroups": {"llm": group}}}}}


def test_a_ray_serving_group_declares_its_model_and_is_refused_when_it_does_not_fit():
    from gpu_platform.environment import EnvironmentConfig

    group = {"pool": "l4", "gpusPerWorker": 1, "cpu": "8", "memory": "32Gi",
             "model": {"catalog": "llama-3.1-8b-instruct"}}
    with pytest.raises(ConfigError) as err:
        validate_model(EnvironmentConfig, _ray_env(group))
    # vLLM's default context for Llama 3.1 is 131072 tokens: 17.2 GB of KV cache
    assert [str(i) for i in err.value.issues] == [
        "training.rayClusters.serve.workerGroups.llm.model: llama-3.1-8b-instruct needs 16.1 GB "
        "of weights + 17.2 GB of KV cache (one 131072-token sequence) = 33.2 GB, but 1 x a whole "
        "L4 (24 GB) at gpuMemoryUtilization 0.9 gives 21.6 GB; use more gpusPerWorker, a pool "
        'with more GPU memory or a smaller model (got "llama-3.1-8b-instruct")'
    ]
    fits = {**group, "model": {"catalog": "llama-3.1-8b-instruct", "maxModelLen": 8192}}
    validate_model(EnvironmentConfig, _ray_env(fits))
    validate_model(EnvironmentConfig, _ray_env({**group, "gpusPerWorker": 2}))  # tensor parallel
    with pytest.raises(ConfigError) as err:
        validate_model(EnvironmentConfig, _ray_env({"model": {"catalog": "qwen2.5-1.5b-instruct"}}))
    assert [str(i) for i in err.value.issues] == [
        "training.rayClusters.serve.workerGroups.llm.model: a served model needs GPUs: set pool "
        "and gpusPerWorker"]
