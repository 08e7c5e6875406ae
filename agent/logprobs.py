"""Per-token log-probabilities of completion tokens, without a full-vocabulary float32 log-softmax.

Only the logits at the T completion label positions are computed (``logits_to_keep``), and
the log-softmax is evaluated chunk by chunk as ``logit[label] - logsumexp(logits)``, so peak
memory is one chunk of ``[rows, T, V]`` instead of ``[N, P+T, V]`` in float32.

Shared prompts (GRPO groups): the G replies of one group have the same (left-padded) prompt,
so ``completion_logprobs`` runs the prompt ONCE per distinct prompt (with a KV cache), copies
its keys/values to the G rows, and runs only the completion tokens per row. Autograd flows
through the copy, so the prompt's gradient is the sum over its G replies, exactly as in a full
forward. This removes (G-1)/G of the prompt-token compute from the reference forward, the
policy forward and the backward. It falls back to the plain full forward when no prompt
repeats, with gradient checkpointing, or for models whose cache is not a plain dynamic cache.
"""

from __future__ import annotations

import functools
import inspect

import torch
from torch import Tensor

SHARE_PROMPT_PREFIX = True  # set False to force the plain full forward (for A/B checks)


def selective_log_softmax(logits: Tensor, labels: Tensor, *, chunk_rows: int = 8, with_entropy: bool = True) -> tuple[Tensor, Tensor]:
    """log p(label) and entropy per position.

    Args:
        logits: ``[N, T, V]``.
        labels: ``[N, T]`` token ids.
        with_entropy: False skips the entropy (one more full-vocabulary pass) and returns zeros
            in its place: for callers that discard it (reference / old log-probs).

    Returns:
        ``(logp, entropy)``, both ``[N, T]`` float32; entropy is detached.
    """
    logps, ents = [], []
    for start in range(0, logits.shape[0], chunk_rows):
        chunk = logits[start : start + chunk_rows].float()  # [n, T, V]
        lse = torch.logsumexp(chunk, dim=-1)  # [n, T]
        picked = chunk.gather(-1, labels[start : start + chunk_rows].unsqueeze(-1)).squeeze(-1)  # [n, T]
        logps.append(picked - lse)
        if not with_entropy:
            ents.append(torch.zeros_like(lse, requires_grad=False))
            continue
        with torch.no_grad():
            c = chunk.detach()
            p = torch.exp(c - lse.detach().unsqueeze(-1))  # [n, T, V] softmax from the lse we have
            ents.append(lse.detach() - (p * c).sum(-1))  # [n, T]
    return torch.cat(logps), torch.cat(ents)


def _prompt_groups(prompt_ids: Tensor, prompt_mask: Tensor) -> tuple[Tensor, Tensor] | None:
    """(first row of each distinct prompt [U], row -> distinct index [N]), or None if all differ."""
    key = torch.cat([prompt_ids, prompt_mask.to(prompt_ids.dtype)], dim=1)  # [N, 2P]
    uniq, inverse = torch.unique(key, dim=0, return_inverse=True)  # [U, 2P], [N]
    if uniq.shape[0] == key.shape[0]:
        return None
    first = torch.full((uniq.shape[0],), key.shape[0], dtype=torch.long, device=key.device)
    first.scatter_reduce_(0, inverse, torch.arange(key.shape[0], device=key.device), reduce="amin")
    return first, inverse


def _checkpointing(model: torch.nn.Module) -> bool:
    flag = "is_activation_checkpointing" if hasattr(type(model), "is_activation_checkpointing") else "is_gradient_checkpointing"
    return bool(getattr(model, flag, False))


def position_ids(attention_mask: Tensor) -> Tensor:
    """Positions that skip left padding, as ``generate`` computes them: ``[N, L]``."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def _cache_kwarg(model: torch.nn.Module) -> str:
    """``cache`` (transformers >= 5.2x) or ``past_key_values`` (older)."""
    return _cache_kwarg_of(type(model))


@functools.cache
def _cache_kwarg_of(cls: type) -> str:
    return "cache" if "cache" in inspect.signature(cls.forward).parameters else "past_key_values"


def _shared_prefix_logits(model: torch.nn.Module, input_ids: Tensor, attention_mask: Tensor, T: int) -> Tensor | None:
    """``[N, T, V]`` completion logits with each distinct prompt run once; None if not applicable."""
    from transformers.cache_utils import DynamicLayer

    P = input_ids.shape[1] - T
    if P < 1 or T < 1 or _checkpointing(model):
        return None
    groups = _prompt_groups(input_ids[:, :P], attention_mask[:, :P])
    if groups is None:
        return None
    first, inverse = groups
    positions = position_ids(attention_mask)  # [N, P+T]
    out_p = model(
        input_ids=input_ids[first, :P],
        attention_mask=attention_mask[first, :P],
        position_ids=positions[first, :P],
        use_cache=True,
        logits_to_keep=1,
    )
    cache = getattr(out_p, "cache", None) or getattr(out_p, "past_key_values", None)
    layers = getattr(cache, "layers", None)
    if not layers or any(type(layer) is not DynamicLayer for layer in layers):
        return None
    last_prompt_logits = out_p.logits[:, -1:, :].index_select(0, inverse)  # [N, 1, V] predicts completion token 0
    if T == 1:
        return last_prompt_logits
    for layer in layers:  # [U, H, P, D] -> [N, H, P, D]; differentiable copy
        layer.reorder_cache(inverse)
    # the last completion token is never an input: its successor is not scored
    out_c = model(
        input_ids=input_ids[:, P : P + T - 1],
        attention_mask=attention_mask[:, : P + T - 1],
        position_ids=positions[:, P : P + T - 1],
        use_cache=True,
        **{_cache_kwarg(model): cache},
    )
    return torch.cat([last_prompt_logits, out_c.logits], dim=1)  # [N, T, V]


def completion_logprobs(
    model: torch.nn.Module,
    input_ids: Tensor,
    attention_mask: Tensor,
    completion_len: int,
    *,
    temperature: float = 1.0,
    with_entropy: bool = True,
) -> tuple[Tensor, Tensor]:
    """Log-probs of the last ``completion_len`` tokens of each row, given everything before.

    Args:
        input_ids, attention_mask: ``[N, P + T]`` = left-padded prompt then completion.
        completion_len: T.
        temperature: logits are divided by it, matching the sampling distribution.
        with_entropy: False returns zeros for the entropy and skips computing it.

    Returns:
        ``(logp, entropy)``, both ``[N, T]``.
    """
    logits = _shared_prefix_logits(model, input_ids, attention_mask, completion_len) if SHARE_PROMPT_PREFIX else None
    if logits is None:
        out = model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids(attention_mask),  # [N, P+T]
            logits_to_keep=completion_len + 1,
            use_cache=False,
        )
        logits = out.logits[:, :-1, :]  # [N, T, V] predictions for the completion tokens
    if temperature != 1.0:
        logits = logits / temperature
    labels = input_ids[:, -completion_len:]  # [N, T]
    return selective_log_softmax(logits, labels, with_entropy=with_entropy)
