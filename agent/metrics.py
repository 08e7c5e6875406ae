"""The per-step metrics row written to ``metrics.jsonl`` (and TensorBoard), from a ``StepResult``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch

from .step import StepResult


def step_metrics(step: int, res: StepResult) -> dict[str, Any]:
    """Reward, pass rate, lengths, per-env / per-component means, update statistics and timings."""
    ro = res.rollout
    eps = ro.episodes
    rewards = torch.tensor([e.reward for e in eps])
    m: dict[str, Any] = {
        "step": step,
        "reward_mean": rewards.mean().item(),
        "reward_std": rewards.std().item() if len(rewards) > 1 else 0.0,
        "pass_rate": sum(e.success for e in eps) / len(eps),
        "zero_std_groups": res.zero_std_fraction,
        "completion_len": sum(e.reply_tokens for e in eps) / len(eps),
        "truncated": sum(e.truncated for e in eps) / len(eps),
        "reward_errors": ro.errors,
        "reward_timeouts": sum(e.timed_out for e in eps),
        "adv_abs_mean": res.advantages.abs().mean().item(),
        "reward_by_env": _means((e.env_id, e.reward) for e in eps),
        "pass_by_env": _means((e.env_id, float(e.success)) for e in eps),
        "reward_components": _means((k, v) for e in eps for k, v in e.components.items()),
        **res.update.as_dict(),
    }
    n_tok = sum(e.reply_tokens for e in eps)
    m.update(
        time_generate=ro.generate_s,
        time_score=ro.score_s,
        time_step=res.seconds,
        samples_per_s=len(eps) / res.seconds,
        tokens_per_s=n_tok / res.seconds,
    )
    return m


def _means(pairs: Any) -> dict[str, float]:
    groups: dict[str, list[float]] = defaultdict(list)
    for k, v in pairs:
        groups[k].append(v)
    return {k: sum(v) / len(v) for k, v in groups.items()}


def flatten(m: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric metrics as ``{"reward_by_env/ENV": 0.5, ...}`` for scalar loggers."""
    flat: dict[str, float] = {}
    for k, v in m.items():
        if isinstance(v, dict):
            flat.update(flatten(v, f"{prefix}{k}/"))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            flat[f"{prefix}{k}"] = float(v)
    return flat
