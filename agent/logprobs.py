"""Per-token log-probabilities of the completion tokens: the definition, and the fast path.

``plain_completion_logprobs`` is the definition: one forward pass, ``log_softmax`` over the
vocabulary, gather the sampled token. ``agent/fast/logprobs.py`` computes the same numbers with
less work (LM head on real completion tokens only, each shared prompt run once, a sparse
embedding gradient); ``completion_logprobs`` picks one by an explicit ``impl`` argument
(``GRPOConfig.logprobs``), and tests/test_logprobs.py checks the fast path against this one in
values and in every parameter's gradient.

Shapes: N rows, P prompt tokens (left-padded), T completion tokens (right-padded), V vocabulary.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from .fast.logprobs import fast_completion_logprobs
from .fast.prefill import position_ids

LogprobImpl = Literal["fast", "plain"]


def plain_completion_logprobs(
    model: nn.Module,
    input_ids: Tensor,
    attention_mask: Tensor,
    completion_len: int,
    *,
    temperature: float = 1.0,
    with_entropy: bool = True,
) -> tuple[Tensor, Tensor]:
    """log p(token) and entropy at the last ``completion_len`` positions: forward, log_softmax, gather.

    Args:
        input_ids, attention_mask: ``[N, P + T]``.
        completion_len: T.
        temperature: logits are divided by it, matching the sampling distribution.
        with_entropy: False returns zeros for the entropy.

    Returns:
        ``(logp, entropy)``, both ``[N, T]`` float32; entropy is detached.
    """
    T = completion_len
    out = model(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=position_ids(attention_mask),
        use_cache=False,
    )
    logits = out.logits[:, -T - 1 : -1].float() / temperature  # [N, T, V]: position t predicts t+1
    logp_all = torch.log_softmax(logits, dim=-1)  # [N, T, V]
    logp = logp_all.gather(-1, input_ids[:, -T:].unsqueeze(-1)).squeeze(-1)  # [N, T]
    if not with_entropy:
        return logp, torch.zeros_like(logp)
    entropy = -(logp_all.exp() * logp_all).sum(-1)  # [N, T]
    return logp, entropy.detach()


def completion_logprobs(
    model: nn.Module,
    input_ids: Tensor,
    attention_mask: Tensor,
    completion_len: int,
    *,
    temperature: float = 1.0,
    with_entropy: bool = True,
    impl: LogprobImpl = "fast",
) -> tuple[Tensor, Tensor]:
    """``[N, T]`` log-probs and entropies of the completion tokens, by ``impl``.

    ``"plain"`` is the definition above; ``"fast"`` (agent/fast/logprobs.py) gives the same values
    and gradients with less compute. With the fast path, padded completion positions (mask 0) may
    hold 0 instead of the pad token's log-prob; every loss masks them out.
    """
    if impl == "plain":
        return plain_completion_logprobs(
            model,
            input_ids,
            attention_mask,
            completion_len,
            temperature=temperature,
            with_entropy=with_entropy,
        )
    if impl == "fast":
        return fast_completion_logprobs(
            model,
            input_ids,
            attention_mask,
            completion_len,
            temperature=temperature,
            with_entropy=with_entropy,
        )
    raise ValueError(f"unknown log-prob impl {impl!r}: use 'fast' or 'plain'")
