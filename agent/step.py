"""One GRPO step, in algorithm order (DeepSeekMath, Shao et al. 2024, Algorithm 1, outcome supervision).

    1. draw B prompts from the env mixture's train split        rollout.prompt_stream
    2. sample G replies per prompt                              engine.generate (agent/engines)
    3. score each reply through env.step                        rollout.collect
    4. group-relative advantages A = (r - mean) / std           loss.group_advantages
    5. micro-batches of whole groups                            batch.micro_batches
    6. reference log-probs, then mu passes of the clipped
       surrogate + beta * KL                                    update.Learner.update -> loss.grpo_loss
    7. the engine follows the new weights                       engine.sync_weights

Everything else (logs, checkpoints, evaluation, curriculum, reference sync) hangs off the loop in
``trainer.train`` as hooks (agent/hooks.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import Tensor

from grpo_gym.rewards.length import soft_overlong_penalty

from .batch import micro_batches
from .config import GRPOConfig
from .engines import Engine
from .env_pool import EnvPool
from .loss import group_advantages, zero_std_groups
from .rollout import Rollout, collect, prompt_stream
from .update import Learner, UpdateStats


@dataclass
class StepResult:
    """What one GRPO step sampled, scored and changed."""

    rollout: Rollout
    advantages: Tensor  # [N] one per reply-episode
    zero_std_fraction: float  # groups whose G rewards were all equal (no signal)
    update: UpdateStats
    seconds: float


def grpo_step(
    cfg: GRPOConfig, engine: Engine, envs: EnvPool, learner: Learner, step: int, pad_id: int
) -> StepResult:
    """Sample, score and learn from one batch of B prompts x G replies."""
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed * 1_000_003 + step)  # sampling depends only on (seed, step, weights)
    rollout, zero_frac = sample_groups(cfg, engine, envs, step)  # steps 1-3
    adv = group_advantages(rollout.rewards(), scale=cfg.adv_scale).flatten()  # [N]    step 4
    sample_adv = [adv[s.episode].item() for s in rollout.samples]
    batches = micro_batches(
        rollout.samples,
        sample_adv,
        cfg.micro_batch_size,
        pad_id,  # step 5
        mask_truncated=cfg.mask_truncated,
    )
    stats = learner.update([mb.to(learner.device) for mb in batches])  # step 6
    engine.sync_weights(learner.model)  # step 7
    return StepResult(rollout, adv, zero_frac, stats, time.perf_counter() - t0)


def sample_groups(
    cfg: GRPOConfig, engine: Engine, envs: EnvPool, step: int
) -> tuple[Rollout, float]:
    """B groups of G scored replies, and the fraction of groups with equal rewards.

    With dynamic sampling (DAPO), groups whose rewards are all equal carry no signal and are
    dropped; more prompts are drawn (up to ``max_sampling_rounds``) until B groups remain.
    """
    kept: list[Rollout] = []
    n_groups = zero_groups = 0
    ro = None
    for rnd in range(cfg.max_sampling_rounds if cfg.dynamic_sampling else 1):
        need = cfg.prompts_per_step - sum(len(r.episodes) // cfg.group_size for r in kept)
        if need <= 0:
            break
        requests = prompt_stream(
            cfg.env, cfg.env_weights or None, cfg.seed, step * 1000 + rnd, need
        )
        ro = collect(engine, requests, cfg.group_size, envs, strict=cfg.strict_rewards)
        if cfg.overlong_penalty:
            for e in ro.episodes:
                e.reward += soft_overlong_penalty(
                    e.max_reply_tokens, cfg.sampling.max_new_tokens, cfg.overlong_penalty
                )
        flat = zero_std_groups(ro.rewards())  # [b]
        n_groups += len(flat)
        zero_groups += int(flat.sum())
        if cfg.dynamic_sampling and not flat.all():
            ro = ro.keep_groups((~flat).nonzero().flatten().tolist())
        if not cfg.dynamic_sampling or not flat.all():
            kept.append(ro)
    assert ro is not None
    if not kept:  # every group flat in every round: train on the last one (advantages are 0)
        kept.append(ro)
    return Rollout.merge(kept), zero_groups / max(n_groups, 1)
