"""Prefill each distinct prompt once and share its KV cache across the G replies to it.

``generate`` on B*G rows would run the prompt G times; this runs ``prompts[:, :-1]`` once per
distinct prompt, repeats the cache G times and lets ``generate`` start from it. Sampling is
unchanged (the same tokens for the same seed: tests/test_sampling_fast_paths.py).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from torch import Tensor, nn


def position_ids(attention_mask: Tensor) -> Tensor:
    """Positions that skip left padding, as ``generate`` computes them: ``[N, L]``."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def cache_kwarg(model: nn.Module) -> str:
    """``cache`` (transformers >= 5.2x) or ``past_key_values`` (older)."""
    cls: Any = type(model)
    return _cache_kwarg_of(cls)


@functools.cache
def _cache_kwarg_of(cls: Any) -> str:
    return "cache" if "cache" in inspect.signature(cls.forward).parameters else "past_key_values"


def shared_prefill(model: Any, ids: Tensor, mask: Tensor, n: int) -> dict[str, object]:
    """``generate`` kwargs holding the KV cache of ``ids[:, :-1]`` ([B, P]) repeated n times.

    Returns ``{}`` (the plain path) for a model whose cache cannot be repeated in place.
    """
    out = model(
        input_ids=ids[:, :-1],
        attention_mask=mask[:, :-1],
        position_ids=position_ids(mask)[:, :-1],
        use_cache=True,
        logits_to_keep=1,
    )
    cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
    if cache is None or not hasattr(cache, "batch_repeat_interleave"):
        return {}
    cache.batch_repeat_interleave(n)  # [B, ...] -> [B*n, ...]
    return {cache_kwarg(model): cache}
