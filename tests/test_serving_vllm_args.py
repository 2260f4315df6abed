"""vLLM ``extraArgs`` checked against the pinned vLLM's ``vllm serve`` arguments: removed flags
and flags the library sets are refused by name (exact messages); valid spellings pass."""

from __future__ import annotations

import pytest

from gpu_platform.core.pools import GpuPool
from gpu_platform.serving import InferenceService
from gpu_platform.serving.vllm_cli import (
    LIBRARY_FLAGS,
    REMOVED_FLAGS,
    VLLM_ARGS_VERSION,
    VLLM_SERVE_FLAGS,
    VLLM_SHORT_FLAGS,
    vllm_arg_problems,
)
from gpu_platform.versions import VLLM_IMAGE

POOLS = {"infer": GpuPool.model_validate({"role": "inference", "gpu": {"model": "A100-80GB", "count": 8}})}


def isvc(extra_args: list[str]) -> dict:
    return {"serviceName": "llama", "pools": POOLS,
            "spec": {"storageUri": "s3://models/llama", "pool": "infer", "gpus": 4,
                     "model": {"catalog": "llama-3.1-8b-instruct"},
                     "vllm": {"extraArgs": extra_args}}}


def test_the_flag_list_is_the_pinned_images_version() -> None:
    # bumping VLLM_IMAGE without re-reading the release's arguments fails here
    assert VLLM_IMAGE == f"vllm/vllm-openai:v{VLLM_ARGS_VERSION}"
    assert len(VLLM_SERVE_FLAGS) == 321
    assert set(VLLM_SHORT_FLAGS.values()) <= VLLM_SERVE_FLAGS
    assert set(LIBRARY_FLAGS) <= VLLM_SERVE_FLAGS  # what the library sets exists upstream
    assert not set(REMOVED_FLAGS) & VLLM_SERVE_FLAGS


def test_removed_and_library_flags_are_refused_naming_the_flag(refused) -> None:
    err = refused(lambda: InferenceService("i", isvc([
        "--use-v2-block-manager", "--tensor-parallel-size=2", "--gpu-memory-utilization", "0.95",
        "--enable-prefix-caching", "--max-num-seqs", "64", "-tp", "4", "--max_model_len=8192",
        "--guided-decoding-backend=xgrammar", "--max-num-seq=3"])))
    assert str(err) == (
        "invalid args of InferenceService 'i' (7 errors):\n"
        "  - spec.vllm.extraArgs.0: --use-v2-block-manager was removed from vLLM (not an argument "
        "of vllm serve 0.33.0); the v2 block manager is vLLM's only one (no-op since 0.6.2, then "
        'removed); drop the flag (got "--use-v2-block-manager")\n'
        "  - spec.vllm.extraArgs.1: --tensor-parallel-size is set by the library; set gpus (the "
        'library passes --tensor-parallel-size=<gpus>) (got "--tensor-parallel-size=2")\n'
        "  - spec.vllm.extraArgs.2: --gpu-memory-utilization is set by the library; set "
        'vllm.gpuMemoryUtilization (got "--gpu-memory-utilization")\n'
        "  - spec.vllm.extraArgs.7: --tensor-parallel-size is set by the library; set gpus (the "
        'library passes --tensor-parallel-size=<gpus>) (got "-tp")\n'
        "  - spec.vllm.extraArgs.9: --max-model-len is set by the library; set vllm.maxModelLen "
        '(got "--max_model_len=8192")\n'
        "  - spec.vllm.extraArgs.10: --guided-decoding-backend was removed from vLLM (not an "
        "argument of vllm serve 0.33.0); use --structured-outputs-config.backend=<backend> "
        '(got "--guided-decoding-backend=xgrammar")\n'
        "  - spec.vllm.extraArgs.11: --max-num-seq is not an argument of vllm serve 0.33.0; did "
        'you mean --max-num-seqs, --max-num-active-seqs? (got "--max-num-seq=3")'
    )


@pytest.mark.parametrize("flag", sorted(LIBRARY_FLAGS))
def test_every_library_flag_is_refused(flag: str) -> None:
    [(index, problem, arg)] = list(vllm_arg_problems([flag]))
    assert (index, arg) == (0, flag)
    assert problem == f"{flag} is set by the library; {LIBRARY_FLAGS[flag]}"


@pytest.mark.parametrize("args", [
    ["--enable-prefix-caching", "--no-enable-prefix-caching"],
    ["--max-num-seqs", "64", "--max_num_batched_tokens=8192"],
    ["-O3", "--compilation-config.mode=3", "-cc", '{"mode": 3}'],
    ["--kv-cache-dtype", "fp8", "--enable-chunked-prefill", "--seed", "-1"],
    ["--trust-remote-code", "--enable-log-requests", "--disable-log-stats"],
])
def test_valid_spellings_pass(args: list[str]) -> None:
    assert list(vllm_arg_problems(args)) == []


def test_valid_extra_args_render_after_the_librarys() -> None:
    from gpu_platform.serving.inference_service import VllmArgs

    rendered = VllmArgs.model_validate({"extraArgs": ["--enable-prefix-caching"]}).render(4)
    assert rendered == ["--tensor-parallel-size=4", "--enable-prefix-caching"]
