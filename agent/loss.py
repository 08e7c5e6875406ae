"""The GRPO math: group-relative advantages and the clipped surrogate with a KL penalty.

References:
    DeepSeekMath (Shao et al., 2024), eq. 3 — GRPO objective, outcome supervision
        A_i = (r_i - mean(r)) / std(r), the same advantage for every token of reply i.
    Schulman (2020), "Approximating KL Divergence" — the k3 estimator
        KL ≈ exp(ref - logp) - (ref - logp) - 1 (unbiased, always >= 0).
    DAPO (Yu et al., 2025) — decoupled clip range (eps_low, eps_high), token-level mean ("bnpo").
    Dr. GRPO (Liu et al., 2025) — no std scaling, sum / (N * L_max) normalisation.
    GSPO (Zheng et al., 2025) — length-normalised sequence-level ratio.

Shapes: B prompts, G replies each, N = B*G sequences, T completion tokens (padded).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

AdvantageScale = Literal["group", "batch", "none"]
LossType = Literal["grpo", "bnpo", "dr_grpo"]
RatioLevel = Literal["token", "sequence"]


def zero_std_groups(rewards: Tensor) -> Tensor:
    """``[B]`` bool: groups whose G rewards are all equal (no learning signal; DAPO drops them)."""
    return (rewards == rewards[:, :1]).all(dim=1)


def group_advantages(
    rewards: Tensor, *, scale: AdvantageScale = "group", eps: float = 1e-4
) -> Tensor:
    """Group-relative advantages A = (r - mean_group(r)) / (std + eps)  (DeepSeekMath §4.1.2).

    Args:
        rewards: ``[B, G]`` rewards of G replies to each of B prompts.
        scale: ``"group"`` divides by each group's std, ``"batch"`` by the std of the whole
            batch, ``"none"`` only centres (Dr. GRPO).
        eps: added to the std.

    Returns:
        ``[B, G]`` advantages. A group whose rewards are all equal gets exactly 0 (never NaN).
    """
    if rewards.ndim != 2 or rewards.shape[1] < 2:
        raise ValueError(f"rewards must be [B, G] with G >= 2, got shape {tuple(rewards.shape)}")
    rewards = rewards.float()
    centred = rewards - rewards.mean(dim=1, keepdim=True)  # [B, G]
    flat_group = zero_std_groups(rewards).unsqueeze(1)  # [B, 1]
    if scale == "none":
        adv = centred
    elif scale == "group":
        adv = centred / (rewards.std(dim=1, keepdim=True) + eps)  # [B, G]
    elif scale == "batch":
        adv = centred / (rewards.std() + eps)  # [B, G]
    else:
        raise ValueError(f"unknown scale {scale!r}: use 'group', 'batch' or 'none'")
    return adv.masked_fill(flat_group, 0.0)


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``x`` over positions where ``mask`` is 1 (0 if the mask is empty)."""
    return (x * mask).sum() / mask.sum().clamp(min=1)


def grpo_loss(
    logp: Tensor,
    old_logp: Tensor,
    ref_logp: Tensor | None,
    advantages: Tensor,
    mask: Tensor,
    *,
    eps_low: float = 0.2,
    eps_high: float = 0.2,
    beta: float = 0.04,
    loss_type: LossType = "grpo",
    ratio_level: RatioLevel = "token",
    max_completion_length: int | None = None,
    total_sequences: int | None = None,
    total_tokens: int | None = None,
    is_weights: Tensor | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """Clipped surrogate + beta * KL(policy || reference), aggregated by ``loss_type``.

    Per token t of reply i (DeepSeekMath eq. 3, k3 KL estimator):
        r = exp(logp - old_logp)
        L = -min(r * A_i, clip(r, 1 - eps_low, 1 + eps_high) * A_i) + beta * (exp(ref - logp) - (ref - logp) - 1)

    Args:
        logp, old_logp, ref_logp, mask: ``[N, T]`` over completion tokens; ``ref_logp`` may be
            None when ``beta == 0``; ``mask`` is 1 on tokens that carry loss.
        advantages: ``[N]``, one per reply.
        loss_type: ``"grpo"`` mean over each reply's tokens, then over replies;
            ``"bnpo"`` sum over all tokens / number of tokens (DAPO);
            ``"dr_grpo"`` sum / (N * max_completion_length) (Dr. GRPO).
        ratio_level: ``"token"`` per-token ratio; ``"sequence"`` the length-normalised
            sequence ratio exp(mean_t(logp - old_logp)) (GSPO).
        total_sequences, total_tokens: for gradient accumulation, the number of replies
            (grpo, dr_grpo) or loss tokens (bnpo) in the WHOLE batch; each micro-batch then
            divides by the whole-batch count, so the micro-batch losses sum to the full-batch
            loss. Default: this call's own counts.
        is_weights: ``[N, T]`` truncated importance weights min(pi_old / pi_engine, C) for
            replies sampled by another engine (vLLM); they scale the surrogate term, not the
            KL (as TRL and verl do). None = 1.

    Returns:
        ``(loss, metrics)`` with metrics kl, clip_low, clip_high, ratio (token means).
    """
    if beta != 0 and ref_logp is None:
        raise ValueError("ref_logp is required when beta != 0 (or set beta=0 to drop the KL term)")
    mask = mask.to(logp.dtype)  # [N, T]
    adv = advantages.to(logp.dtype).unsqueeze(1)  # [N, 1]
    log_ratio = logp - old_logp  # [N, T]
    if ratio_level == "sequence":
        seq_log_ratio = (log_ratio * mask).sum(1) / mask.sum(1).clamp(min=1)  # [N]
        log_ratio = seq_log_ratio.unsqueeze(1).expand_as(logp)  # [N, T]
    elif ratio_level != "token":
        raise ValueError(f"unknown ratio_level {ratio_level!r}: use 'token' or 'sequence'")
    ratio = torch.exp(log_ratio)  # [N, T]
    clipped = torch.clamp(ratio, 1 - eps_low, 1 + eps_high)  # [N, T]
    per_token = -torch.minimum(ratio * adv, clipped * adv)  # [N, T]
    if is_weights is not None:
        per_token = per_token * is_weights.detach()

    kl = None
    if beta != 0:
        assert ref_logp is not None
        delta = ref_logp - logp  # [N, T]
        kl = torch.exp(delta) - delta - 1  # [N, T] k3 estimator
        per_token = per_token + beta * kl

    n_seq = logp.shape[0] if total_sequences is None else total_sequences
    if loss_type == "grpo":
        per_seq = (per_token * mask).sum(1) / mask.sum(1).clamp(min=1)  # [N]
        loss = per_seq.sum() / max(n_seq, 1)
    elif loss_type == "bnpo":
        n_tok = mask.sum().clamp(min=1) if total_tokens is None else max(total_tokens, 1)
        loss = (per_token * mask).sum() / n_tok
    elif loss_type == "dr_grpo":
        if max_completion_length is None:
            raise ValueError(
                "loss_type='dr_grpo' needs max_completion_length (the max_new_tokens of sampling)"
            )
        loss = (per_token * mask).sum() / (max(n_seq, 1) * max_completion_length)
    else:
        raise ValueError(f"unknown loss_type {loss_type!r}: use 'grpo', 'bnpo' or 'dr_grpo'")

    with torch.no_grad():
        low = ((ratio < 1 - eps_low) & (adv < 0)).to(mask.dtype)  # clipped from below
        high = ((ratio > 1 + eps_high) & (adv > 0)).to(mask.dtype)  # clipped from above
        metrics = {
            "kl": masked_mean(kl, mask).item() if kl is not None else 0.0,
            "clip_low": masked_mean(low, mask).item(),
            "clip_high": masked_mean(high, mask).item(),
            "ratio": masked_mean(ratio, mask).item(),
        }
    return loss, metrics
