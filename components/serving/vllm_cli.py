"""The pinned vLLM's ``vllm serve`` arguments as dated data, and the check of ``extraArgs``.

Source (read 2026-11-26): the vLLM 0.33.0 source release on PyPI
(https://pypi.org/project/vllm/0.33.0/, ``vllm-0.33.0.tar.gz``, sha256 f4c33c2503d5...c74112,
the version ``VLLM_IMAGE`` in ``gpu_platform.versions`` pins). ``vllm serve`` builds its parser in
``vllm/entrypoints/common/cli_args.py`` (``make_arg_parser``: ``--headless``,
``--api-server-count``/``-asc``, ``--config``, ``--grpc``, then every field of
``BaseFrontendArgs``/``FrontendArgs`` as ``--<field-with-dashes>``) and
``vllm/engine/arg_utils.py`` (``EngineArgs.add_cli_args`` and ``AsyncEngineArgs.add_cli_args``,
one ``add_argument`` per flag). ``VLLM_SERVE_FLAGS`` is every option string those calls register
(321 long flags); ``VLLM_SHORT_FLAGS`` the short aliases they register with them.

What ``FlexibleArgumentParser`` (``vllm/utils/argparse_utils.py``) also accepts, and this check
with it: underscores for dashes in the name (``--max_model_len``), ``--name=value``, dotted
sub-keys of config flags (``--compilation-config.mode=3``), ``-O<level>`` for
``--optimization-level``, ``--no-<flag>`` for boolean flags (``BooleanOptionalAction``) and
``--disable-<x>`` for ``--enable-<x>`` (``EnableDisableAction``). The check accepts ``--no-`` and
``--disable-``/``--enable-`` forms of any known flag, so it refuses no valid command line; vLLM
itself rejects a ``--no-`` form of a non-boolean flag at start-up.

Refused, naming the flag: flags vLLM 0.33.0 does not have (with the known replacement for flags
removed upstream) and flags the library sets itself (``LIBRARY_FLAGS``: the runtime's
``--port``, ``--model`` and ``--served-model-name``; the InferenceService's
``--tensor-parallel-size`` from ``gpus`` and the ``vllm`` fields), which would otherwise be
passed twice with the last one silently winning.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence

VLLM_ARGS_VERSION = "0.33.0"
VLLM_ARGS_SOURCE = "vllm-0.33.0.tar.gz (PyPI): vllm/engine/arg_utils.py, vllm/entrypoints/common/cli_args.py"

VLLM_SERVE_FLAGS: frozenset[str] = frozenset(f"--{name}" for name in """
additional-config aggregate-engine-logging all2all-backend allow-credentials
allow-deprecated-quantization allowed-headers allowed-local-media-path allowed-media-domains
allowed-methods allowed-origins anthropic-disabled-thinking-effort api-key api-server-count
async-scheduling attention-backend attention-config aux-output-config block-size
chat-template chat-template-content-format code-revision cohere-format
cohere-is-reasoning-model collect-detailed-traces compilation-config config config-format
convert cp-kv-cache-interleave-size cpu-distributed-timeout-seconds cpu-offload-gb
cpu-offload-params cudagraph-capture-sizes cudagraph-metrics custom-histogram-buckets
data-parallel-address data-parallel-backend data-parallel-external-lb
data-parallel-hybrid-lb data-parallel-multi-port-external-lb data-parallel-rank
data-parallel-rpc-port data-parallel-size data-parallel-size-local data-parallel-start-rank
data-parallel-supervisor-port dbo-decode-token-threshold dbo-prefill-token-threshold
dcp-comm-backend dcp-kv-cache-interleave-size dcp-q-replicate decode-context-parallel-size
default-chat-template-kwargs default-mm-loras device-ids device-memory-utilization
diffusion-config disable-access-log-for-endpoints disable-cascade-attn
disable-chunked-mm-input disable-custom-all-reduce disable-fastapi-docs
disable-hybrid-kv-cache-manager disable-log-stats disable-nccl-for-dp-synchronization
disable-sliding-window disable-uvicorn-access-log distributed-executor-backend
distributed-timeout-seconds download-dir dp-supervisor-probe-failure-threshold
dp-supervisor-probe-interval-s dp-supervisor-probe-timeout-s dp-sync-interval dtype
ec-manager-config ec-transfer-config elastic-ep-max-dp-size enable-auto-tool-choice
enable-batch-sharded-sampling enable-chunked-prefill enable-cumem-allocator enable-dbo
enable-elastic-ep enable-ep-weight-filter enable-eplb enable-expert-parallel
enable-fault-tolerance enable-flash-late-interaction enable-flashinfer-autotune
enable-force-include-usage enable-hc-sp enable-layerwise-nvtx-tracing enable-log-deltas
enable-log-outputs enable-log-requests enable-logging-iteration-details enable-lora
enable-mamba-cache-stochastic-rounding enable-mamba-shared-prefix-checkpoint
enable-mfu-metrics enable-mixed-moe-lora-format enable-mm-embeds enable-moe-shared-loras
enable-nccl-comm-suspend enable-offline-docs enable-per-request-metrics
enable-prefix-caching enable-prompt-embeds enable-prompt-tokens-details
enable-request-id-headers enable-return-routed-experts enable-scale-out
enable-server-load-tracking enable-shm-tensor-arena enable-sleep-mode enable-ssl-refresh
enable-tokenizer-info-endpoint enable-tower-connector-lora enable-trace-replay enforce-eager
engram-config eplb-config exclude-tools-when-tool-choice-none expert-placement-strategy
fail-on-environ-validation fault-tolerance-config fingerprint-mode fingerprint-value
fully-sharded-loras gdn-prefill-backend generation-config gpu-memory-utilization grpc
grpc-port h11-max-header-count h11-max-incomplete-event-size headless hf-config-path
hf-overrides hf-token host ignore-patterns interleave-mm-strings io-processor-plugin
ir-op-priority jit-monitor-mode jit-monitor-verbose kda-decode-backend kda-prefill-backend
kernel-config kv-cache-dtype kv-cache-dtype-skip-layers kv-cache-memory-bytes
kv-cache-metrics kv-cache-metrics-sample kv-events-config kv-offloading-backend
kv-offloading-size kv-sharing-fast-prefill kv-transfer-config language-model-only
limit-mm-per-prompt linear-backend load-format log-config-file log-error-stack log-level
logging-config logits-processors logprobs-mode long-prefill-token-threshold
long-prefill-token-threshold-adaptive lora-dtype lora-modules lora-target-modules
mamba-backend mamba-block-size mamba-cache-dtype mamba-cache-mode mamba-cache-philox-rounds
mamba-ssm-cache-dtype mamba-ssu-algorithm master-addr master-port max-cpu-loras
max-cudagraph-capture-size max-log-len max-logprobs max-lora-cls-labels max-lora-rank
max-loras max-model-len max-num-active-seqs max-num-batched-tokens max-num-queued-reqs
max-num-queued-tokens max-num-scheduled-tokens max-num-seqs max-parallel-loading-workers
media-io-kwargs middleware mm-device-do-normalize mm-encoder-attn-backend
mm-encoder-attn-dtype mm-encoder-fp8-scale-path mm-encoder-fp8-scale-save-margin
mm-encoder-fp8-scale-save-path mm-encoder-only mm-encoder-tp-mode mm-hasher-algorithm
mm-ipc-gpu-memory-gb mm-processor-cache-gb mm-processor-cache-type mm-processor-device
mm-processor-kwargs mm-shm-cache-max-object-size-mb mm-tensor-ipc model
model-class-overrides model-impl model-loader-extra-config moe-backend monokernel nnodes
node-rank num-gpu-blocks-override numa-bind numa-bind-cpus numa-bind-nodes offload-backend
offload-group-size offload-num-in-group offload-params offload-prefetch-step
optimization-level otlp-traces-endpoint override-generation-config
per-request-spec-decode-metrics performance-mode pipeline-parallel-size pooler-config port
prefill-context-parallel-size prefill-schedule-interval prefix-cache-retention-interval
prefix-caching-hash-algo prefix-match-unit profiler-config pt-load-map-location quantization
quantization-config ray-workers-use-nsight reasoning-config reasoning-effort-map
reasoning-parser reasoning-parser-plugin renderer-num-workers replayssm-buffer-len
response-role return-sampling-mask return-tokens-as-token-ids revision root-path runner
safetensors-load-strategy safetensors-prefetch-block-size safetensors-prefetch-num-threads
scheduler-cls scheduler-reserve-full-isl scheduling-policy seed served-model-name
show-hidden-metrics-for-version shutdown-timeout skip-mm-profiling skip-tokenizer-init
sleep-mode-backend sleep-mode-offload-cudagraph sleep-preserve-parameter-names
sparse-indexer-topk-backend spec-method spec-model spec-tokens specialize-active-lora
speculative-config sse-keep-alive-interval ssl-ca-certs ssl-cert-reqs ssl-certfile
ssl-ciphers ssl-keyfile stream-interval structured-outputs-config swa-bounded-replay
tensor-parallel-size tokenizer tokenizer-mode tokenizer-revision tokens-only
tool-call-parser tool-parser-plugin tool-server tool-strict-level trust-remote-code
trust-request-chat-template trust-request-mm-kwargs ubatch-size uds use-fp64-gumbel
use-replayssm use-tqdm-on-load uvicorn-log-level video-pruning-method video-pruning-rate
watchdog-config watermark watermark-config weight-transfer-config worker-cls
worker-extension-cls
""".split())

# short alias -> long flag (registered in the same add_argument call)
VLLM_SHORT_FLAGS: dict[str, str] = {
    "-q": "--quantization",
    "-pp": "--pipeline-parallel-size",
    "-n": "--nnodes",
    "-r": "--node-rank",
    "-tp": "--tensor-parallel-size",
    "-dcp": "--decode-context-parallel-size",
    "-pcp": "--prefill-context-parallel-size",
    "-dp": "--data-parallel-size",
    "-dpn": "--data-parallel-rank",
    "-dpr": "--data-parallel-start-rank",
    "-dpl": "--data-parallel-size-local",
    "-dpa": "--data-parallel-address",
    "-dpp": "--data-parallel-rpc-port",
    "-dpb": "--data-parallel-backend",
    "-dph": "--data-parallel-hybrid-lb",
    "-dpe": "--data-parallel-external-lb",
    "-dpm": "--data-parallel-multi-port-external-lb",
    "-ep": "--enable-expert-parallel",
    "-sc": "--speculative-config",
    "-dc": "--diffusion-config",
    "-cc": "--compilation-config",
    "-ac": "--attention-config",
    "-asc": "--api-server-count",
}

# removed upstream -> what to do instead (each absent from VLLM_SERVE_FLAGS; tested)
REMOVED_FLAGS: dict[str, str] = {
    "--use-v2-block-manager": "the v2 block manager is vLLM's only one (no-op since 0.6.2, "
                              "then removed); drop the flag",
    "--worker-use-ray": "use --distributed-executor-backend=ray",
    "--engine-use-ray": "use --distributed-executor-backend=ray",
    "--guided-decoding-backend": "use --structured-outputs-config.backend=<backend>",
    "--disable-log-requests": "requests are not logged unless --enable-log-requests is given; "
                              "drop the flag",
}

# flags the library renders -> the setting to use instead
LIBRARY_FLAGS: dict[str, str] = {
    "--tensor-parallel-size": "set gpus (the library passes --tensor-parallel-size=<gpus>)",
    "--gpu-memory-utilization": "set vllm.gpuMemoryUtilization",
    "--max-model-len": "set vllm.maxModelLen",
    "--quantization": "set vllm.quantization",
    "--served-model-name": "set modelName",
    "--model": "set storageUri (KServe downloads the model to /mnt/models, which the runtime serves)",
    "--port": "the runtime serves on 8080, where KServe and the probes expect it",
}


def flag_name(arg: str) -> str | None:
    """The long flag an argument names (``--max_model_len=4`` -> ``--max-model-len``), the long
    flag of a short alias, or None for a value (anything not starting with ``-``, or a number)."""
    if not arg.startswith("-") or arg.lstrip("-").replace(".", "", 1).isdigit():
        return None
    if arg.startswith("-O"):
        return "--optimization-level"
    if not arg.startswith("--"):
        return VLLM_SHORT_FLAGS.get(arg.split("=", 1)[0], arg.split("=", 1)[0])
    name = arg[2:].split("=", 1)[0].split(".", 1)[0]
    return "--" + name.replace("_", "-")


def _known(flag: str) -> bool:
    if flag in VLLM_SERVE_FLAGS:
        return True
    for prefix, inverse in (("--no-", "--"), ("--disable-", "--enable-"), ("--enable-", "--disable-")):
        if flag.startswith(prefix) and inverse + flag.removeprefix(prefix) in VLLM_SERVE_FLAGS:
            return True
    return False


def vllm_arg_problems(args: Sequence[str]) -> Iterator[tuple[int, str, str]]:
    """``(index, problem, argument)`` for each argument of ``args`` that vLLM 0.33.0's
    ``vllm serve`` does not take or that the library already sets."""
    for index, arg in enumerate(args):
        flag = flag_name(arg)
        if flag is None:
            continue
        library = "--" + flag.removeprefix("--no-").removeprefix("--")
        if library in LIBRARY_FLAGS:
            yield index, f"{library} is set by the library; {LIBRARY_FLAGS[library]}", arg
        elif flag in REMOVED_FLAGS:
            yield index, (f"{flag} was removed from vLLM (not an argument of vllm serve "
                          f"{VLLM_ARGS_VERSION}); {REMOVED_FLAGS[flag]}"), arg
        elif not _known(flag):
            close = difflib.get_close_matches(flag, sorted(VLLM_SERVE_FLAGS), n=3, cutoff=0.75)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            yield index, f"{flag} is not an argument of vllm serve {VLLM_ARGS_VERSION}{hint}", arg
