"""Fast completion log-probs: the same numbers as ``agent/logprobs.plain_completion_logprobs``, cheaper.

Three savings, each checked against the plain definition in ``tests/test_logprobs.py``:

* **Only real completion tokens reach the LM head.** For models whose causal-LM forward is
  exactly ``lm_head(decoder(...))`` (``PLAIN_HEAD_MODELS``), the decoder's hidden states at the
  completion positions whose mask is 1 are gathered into ``[M, D]`` and the head runs once on
  those M rows: no logits for padding, no second head call for the prompt's last position.
  Other models go through their own forward with ``logits_to_keep`` (completion positions only).
* **Shared prompts (GRPO groups).** The G replies of one group have the same (left-padded)
  prompt, so the prompt runs ONCE per distinct prompt with a KV cache whose keys/values are
  copied to the G rows; then only the completion tokens run per row. Autograd flows through the
  copy, so the prompt's gradient is the sum over its G replies, exactly as in a full forward.
  This removes (G-1)/G of the prompt-token compute from the reference forward, the policy
  forward and the backward. It falls back to the plain full forward when no prompt repeats,
  with gradient checkpointing, or for models whose cache is not a plain dynamic cache.
* **One embedding lookup, with a sparse gradient.** Prompt and completion tokens are embedded
  in one call; for a plain ``nn.Embedding`` the lookup's gradient is sparse (one row per token)
  instead of a dense ``[vocab, D]`` zero-filled tensor, which for a 49k-token vocabulary was
  most of the backward's memory traffic on CPU. The sum into a tied LM-head weight is unchanged.

The log-softmax itself is ``logit[label] - logsumexp(logits)``, chunked over rows, with a
hand-written backward (``_LabelLogProb``) that touches each ``[M, V]`` buffer once.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .prefill import cache_kwarg, position_ids

# model_type values whose ``*ForCausalLM.forward`` computes ``logits = lm_head(last_hidden_state)``
# with nothing in between (no logit scaling or soft-capping), so the head may be applied by us.
PLAIN_HEAD_MODELS = frozenset({"llama", "mistral", "qwen2", "qwen3", "phi3", "smollm3", "olmo2"})


class _LabelLogProb(torch.autograd.Function):
    """``log_softmax(logits)[label]`` for ``[M, V]`` logits, keeping the softmax for the backward.

    The backward is ``d logp / d logits = onehot(label) - softmax`` written into one buffer
    (autograd's logsumexp + gather backward allocates and adds three ``[M, V]`` tensors), and the
    saved softmax also gives the entropy for free. The logits themselves are not kept.
    """

    @staticmethod
    def forward(
        ctx, logits: Tensor, labels: Tensor
    ) -> tuple[Tensor, Tensor]:  # [M, V], [M] -> [M], [M]
        lse = torch.logsumexp(logits, dim=-1)  # [M]
        probs = torch.sub(logits, lse.unsqueeze(-1)).exp_()  # [M, V]
        entropy = lse - torch.linalg.vecdot(probs, logits)  # H = lse - sum p * logit
        ctx.save_for_backward(probs, labels)
        ctx.mark_non_differentiable(entropy)
        return logits.gather(-1, labels.unsqueeze(-1)).squeeze(-1) - lse, entropy

    @staticmethod
    def backward(ctx, grad_logp: Tensor, _grad_entropy: Tensor | None) -> tuple[Tensor, None]:
        probs, labels = ctx.saved_tensors
        grad = probs.mul(-grad_logp.unsqueeze(-1))  # [M, V]: -g * softmax
        grad.scatter_add_(-1, labels.unsqueeze(-1), grad_logp.unsqueeze(-1))  # + g at the label
        return grad, None


def selective_log_softmax(
    logits: Tensor, labels: Tensor, *, chunk_rows: int = 8, with_entropy: bool = True
) -> tuple[Tensor, Tensor]:
    """log p(label) and entropy per position, ``chunk_rows`` leading rows at a time.

    Args:
        logits: ``[N, T, V]`` or ``[M, V]`` (upcast to float32 a chunk at a time).
        labels: ``[N, T]`` or ``[M]`` token ids.
        with_entropy: without a gradient to compute, False skips the entropy (a full-vocabulary
            pass) and returns zeros: for callers that discard it (reference / old log-probs).

    Returns:
        ``(logp, entropy)``, both shaped like ``labels``, float32; entropy is detached.
    """
    logps, ents = [], []
    V = logits.shape[-1]
    for start in range(0, logits.shape[0], chunk_rows):
        chunk = logits[start : start + chunk_rows].float().reshape(-1, V)  # [m, V]
        y = labels[start : start + chunk_rows]
        if chunk.requires_grad or with_entropy:
            logp, ent = _LabelLogProb.apply(chunk, y.reshape(-1))  # [m], [m]
        else:
            logp = chunk.gather(-1, y.reshape(-1, 1)).squeeze(-1) - torch.logsumexp(chunk, dim=-1)
            ent = torch.zeros_like(logp)
        logps.append(logp.view(y.shape))
        ents.append(ent.detach().view(y.shape))
    if not logps:  # no rows at all
        empty = logits.new_zeros(labels.shape, dtype=torch.float32)
        return empty, empty
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


def _checkpointing(model: nn.Module) -> bool:
    flag = (
        "is_activation_checkpointing"
        if hasattr(type(model), "is_activation_checkpointing")
        else "is_gradient_checkpointing"
    )
    return bool(getattr(model, flag, False))


def _split_head(model: Any) -> tuple[nn.Module, nn.Linear] | None:
    """(decoder, lm_head) when logits are exactly ``lm_head(decoder(...).last_hidden_state)``.

    The head has no bias, so ``lm_head(h) / t == lm_head(h / t)``: temperature scales D numbers
    per token instead of V.
    """
    if getattr(getattr(model, "config", None), "model_type", None) not in PLAIN_HEAD_MODELS:
        return None
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    try:
        decoder = model.get_decoder()
    except (AttributeError, ValueError):
        return None
    if (
        not isinstance(head, nn.Linear)
        or head.bias is not None
        or decoder is None
        or decoder is model
    ):
        return None
    return decoder, head


def _embed(model: Any, *parts: Tensor) -> list[Tensor]:
    """Embeddings of several id tensors in ONE lookup: ``[*shape, D]`` each.

    A plain ``nn.Embedding`` weight tied to the LM head gets a sparse gradient (rows of the
    looked-up tokens) instead of a dense zero-filled ``[vocab, D]`` tensor; autograd adds it into
    the head's dense gradient, so ``.grad`` is dense and equal to before. Untied embeddings keep
    the dense gradient (optimizers and norm clipping expect one).
    """
    emb = model.get_input_embeddings()
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    tied = (
        isinstance(head, nn.Linear) and head.weight is emb.weight
    )  # the head's dense gradient absorbs the sparse one
    flat = torch.cat([p.reshape(-1) for p in parts])  # [sum numel]
    if (
        tied
        and type(emb) is nn.Embedding
        and emb.max_norm is None
        and emb.weight.requires_grad
        and torch.is_grad_enabled()
    ):
        vectors = F.embedding(flat, emb.weight, emb.padding_idx, sparse=True)  # [n, D]
    else:
        vectors = emb(flat)
    return [
        v.view(*p.shape, -1)
        for p, v in zip(parts, vectors.split([p.numel() for p in parts]), strict=True)
    ]


def _completion_states(
    net: nn.Module,
    embedder: nn.Module,
    input_ids: Tensor,
    attention_mask: Tensor,
    T: int,
    *,
    hidden: bool,
    share_prompt: bool,
) -> Tensor:
    """``[N, T, D]`` outputs at the positions that predict the T completion tokens.

    ``net`` is the decoder (``hidden=True``: last hidden states) or the whole causal LM
    (logits). Each distinct prompt runs once when prompts repeat (see the module docstring).
    """
    P = input_ids.shape[1] - T
    positions = position_ids(attention_mask)  # [N, P+T]
    groups = (
        _prompt_groups(input_ids[:, :P], attention_mask[:, :P])
        if share_prompt and P >= 1 and T >= 1
        else None
    )
    if groups is not None and not _checkpointing(net):
        shared = _shared_prefix_states(
            net, embedder, input_ids, attention_mask, positions, T, groups, hidden=hidden
        )
        if shared is not None:
            return shared
    (embeds,) = _embed(embedder, input_ids)
    kw = {} if hidden else {"logits_to_keep": T + 1}
    out = net(
        inputs_embeds=embeds,
        attention_mask=attention_mask,
        position_ids=positions,
        use_cache=False,
        **kw,
    )
    return out.last_hidden_state[:, P - 1 : P + T - 1] if hidden else out.logits[:, :-1]


def _shared_prefix_states(
    net: nn.Module,
    embedder: nn.Module,
    input_ids: Tensor,
    attention_mask: Tensor,
    positions: Tensor,
    T: int,
    groups: tuple[Tensor, Tensor],
    *,
    hidden: bool,
) -> Tensor | None:
    """As ``_completion_states``, each distinct prompt run once; None if the cache is not plain."""
    from transformers.cache_utils import DynamicLayer

    P = input_ids.shape[1] - T
    first, inverse = groups  # [U], [N]
    prompt_embeds, completion_embeds = _embed(
        embedder, input_ids[first, :P], input_ids[:, P : P + T - 1]
    )
    out_p = net(
        inputs_embeds=prompt_embeds,
        attention_mask=attention_mask[first, :P],
        position_ids=positions[first, :P],
        use_cache=True,
        **({} if hidden else {"logits_to_keep": 1}),
    )
    cache = getattr(out_p, "cache", None) or getattr(out_p, "past_key_values", None)
    layers = getattr(cache, "layers", None)
    if not layers or any(type(layer) is not DynamicLayer for layer in layers):
        return None
    last = (out_p.last_hidden_state if hidden else out_p.logits)[:, -1:].index_select(
        0, inverse
    )  # [N, 1, D] predicts token 0
    if T == 1:
        return last
    for layer in layers:  # [U, H, P, d] -> [N, H, P, d]; differentiable copy
        layer.reorder_cache(inverse)
    # the last completion token is never an input: its successor is not scored
    out_c = net(
        inputs_embeds=completion_embeds,
        attention_mask=attention_mask[:, : P + T - 1],
        position_ids=positions[:, P : P + T - 1],
        use_cache=True,
        **{cache_kwarg(net): cache},
    )
    return torch.cat(
        [last, out_c.last_hidden_state if hidden else out_c.logits], dim=1
    )  # [N, T, D]


def fast_completion_logprobs(
    model: nn.Module,
    input_ids: Tensor,
    attention_mask: Tensor,
    completion_len: int,
    *,
    temperature: float = 1.0,
    with_entropy: bool = True,
    share_prompt: bool = True,
    split_head: bool = True,
) -> tuple[Tensor, Tensor]:
    """Log-probs of the last ``completion_len`` tokens of each row, given everything before.

    Args:
        input_ids, attention_mask: ``[N, P + T]`` = left-padded prompt then right-padded
            completion; ``attention_mask[:, P:]`` marks the real completion tokens.
        completion_len: T.
        temperature: logits are divided by it, matching the sampling distribution.
        with_entropy: False returns zeros for the entropy and skips computing it.
        share_prompt: run each distinct prompt once (False: the full forward per row).
        split_head: apply the LM head to real completion tokens only, where the model allows it
            (False: logits through the model's own forward).

    Returns:
        ``(logp, entropy)``, both ``[N, T]`` float32. With the split head, padded completion
        positions (mask 0) hold 0; otherwise they hold the model's value for the pad token.
    """
    T = completion_len
    labels = input_ids[:, -T:]  # [N, T]
    split = _split_head(model) if split_head else None
    if split is None:
        logits = _completion_states(
            model, model, input_ids, attention_mask, T, hidden=False, share_prompt=share_prompt
        )  # [N, T, V]
        if temperature != 1.0:
            logits = logits / temperature
        return selective_log_softmax(logits, labels, with_entropy=with_entropy)
    decoder, head = split
    states = _completion_states(
        decoder, model, input_ids, attention_mask, T, hidden=True, share_prompt=share_prompt
    )  # [N, T, D]
    real = attention_mask[:, -T:].bool()  # [N, T]
    picked = states[real]  # [M, D]: only real completion tokens reach the head
    logits = head(picked / temperature if temperature != 1.0 else picked)  # [M, V] (bias-free head)
    logp, ent = selective_log_softmax(
        logits, labels[real], chunk_rows=256, with_entropy=with_entropy
    )  # [M]
    zeros = logp.new_zeros(real.shape)  # [N, T]
    return zeros.masked_scatter(real, logp), zeros.masked_scatter(real, ent)
