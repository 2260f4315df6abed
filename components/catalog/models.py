"""Language models the platform serves, and how much GPU memory their weights and KV cache take.

Each entry is read from the model's ``config.json`` on Hugging Face (read 2026-11-26; the URL is
in ``source``): parameter count, the decoder's layers, KV heads and head size, the longest
context, and the vocabulary (whose embedding and LM head AWQ/GPTQ keep in 16 bits).

Sizes are in GB (10^9 bytes):

- weights = quantized parameters x bits of the precision / 8, plus the 16-bit embedding and LM
  head of a 4-bit checkpoint. 4-bit AWQ/GPTQ at group size 128 stores, per 128 weights, one
  16-bit scale and one packed 4-bit zero point: 4 + (16 + 4) / 128 = 4.15625 bits. Checked
  against published checkpoints: Llama-2-70B-Chat-AWQ comes to 36.6 GB (issue 18 quotes about
  36.5 GB), Qwen2.5-7B-Instruct-AWQ to 5.6 GB (its safetensors total 5.58 GB).
- KV cache per token = 2 (K and V) x layers x KV heads x head size x 2 bytes (16-bit cache, vLLM's
  ``--kv-cache-dtype auto``). vLLM refuses to start when its KV cache cannot hold one sequence of
  ``--max-model-len`` tokens ("To serve at least one request with the models's max seq len ...
  is needed, which is larger than the available KV cache memory", vllm/v1/core/kv_cache_utils.py),
  so one full-length sequence is the least KV cache a server must reserve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Precision = Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4"]

# Bits per stored weight; int4 is AWQ/GPTQ at group size 128 (scale and zero point per group).
PRECISION_BITS: dict[str, float] = {
    "fp32": 32.0,
    "bf16": 16.0,
    "fp16": 16.0,
    "fp8": 8.0,
    "int8": 8.0,
    "int4": 4.0 + (16 + 4) / 128,
}
# vLLM --quantization methods -> the precision of their checkpoints' weights
QUANTIZATION_PRECISION: dict[str, Precision] = {
    "awq": "int4", "awq_marlin": "int4", "gptq": "int4", "gptq_marlin": "int4", "fp8": "fp8",
}
KV_BYTES = 2  # a 16-bit KV cache
GB = 1e9


def weights_gb(parameters_b: float, precision: Precision, unquantized_b: float = 0.0) -> float:
    """GB of weights: ``parameters_b`` billion parameters, of which ``unquantized_b`` stay 16-bit."""
    quantized = max(parameters_b - unquantized_b, 0.0)
    return (quantized * PRECISION_BITS[precision] + unquantized_b * 16.0) / 8.0


@dataclass(frozen=True)
class ModelEntry:
    """One model checkpoint: its size, precision and the shape its KV cache follows."""

    key: str
    parameters_b: float  # billions of parameters
    precision: Precision
    layers: int
    kv_heads: int
    head_dim: int
    context_length: int  # max_position_embeddings
    vocab: int
    hidden: int
    tied_embeddings: bool
    source: str

    @property
    def unquantized_b(self) -> float:
        """Billions of parameters a 4-bit checkpoint keeps in 16 bits (embedding, LM head)."""
        if self.precision != "int4":
            return 0.0
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2) / 1e9

    @property
    def weights_gb(self) -> float:
        return weights_gb(self.parameters_b, self.precision, self.unquantized_b)

    @property
    def kv_bytes_per_token(self) -> int:
        return 2 * self.layers * self.kv_heads * self.head_dim * KV_BYTES

    def kv_cache_gb(self, tokens: int) -> float:
        return self.kv_bytes_per_token * tokens / GB


_HF = "https://huggingface.co/{}/blob/main/config.json"


def _llama2_70b(key: str, repo: str, precision: Precision) -> ModelEntry:
    return ModelEntry(key, 68.98, precision, layers=80, kv_heads=8, head_dim=128,
                      context_length=4096, vocab=32000, hidden=8192, tied_embeddings=False,
                      source=_HF.format(repo))


MODELS: dict[str, ModelEntry] = {
    entry.key: entry
    for entry in (
        _llama2_70b("llama-2-70b-chat", "meta-llama/Llama-2-70b-chat-hf", "fp16"),
        _llama2_70b("llama-2-70b-chat-awq", "TheBloke/Llama-2-70B-Chat-AWQ", "int4"),
        ModelEntry("llama-3.1-8b-instruct", 8.03, "bf16", layers=32, kv_heads=8, head_dim=128,
                   context_length=131072, vocab=128256, hidden=4096, tied_embeddings=False,
                   source=_HF.format("meta-llama/Llama-3.1-8B-Instruct")),
        ModelEntry("llama-3.1-70b-instruct-awq", 70.55, "int4", layers=80, kv_heads=8,
                   head_dim=128, context_length=131072, vocab=128256, hidden=8192,
                   tied_embeddings=False,
                   source=_HF.format("hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4")),
        ModelEntry("qwen2.5-7b-instruct-awq", 7.62, "int4", layers=28, kv_heads=4, head_dim=128,
                   context_length=32768, vocab=152064, hidden=3584, tied_embeddings=False,
                   source=_HF.format("Qwen/Qwen2.5-7B-Instruct-AWQ")),
        ModelEntry("qwen2.5-1.5b-instruct", 1.54, "bf16", layers=28, kv_heads=2, head_dim=128,
                   context_length=32768, vocab=151936, hidden=1536, tied_embeddings=True,
                   source=_HF.format("Qwen/Qwen2.5-1.5B-Instruct")),
    )
}
