"""One GRPO step, in algorithm order (DeepSeekMath, Shao et al. 2024, Algorithm 1, outcome supervision).

    1. draw B prompts from the env mixture's train split        rollout.prompt_stream
    2. sample G replies per prompt                              engine.generate (agent/engines)
    3. score each reply through env.step                        rollout.collect
    4. group-relative advantages A = (r - mean) / std           loss.group_advantages
    5. micro-batches, replies to one prompt side by side        batch.micro_batches
    6. reference log-probs, then mu passes of the clipped
       surrogate + beta * KL                                    update.Learner.update -> loss.grpo_loss
    7. the engine follows the new weights                       engine.sync_weights

With several processes (torchrun, agent/distributed.py) each rank takes every N-th prompt of the
same draw and learns from its groups; ``world`` sums what must be global (counts, refills).

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
from .distributed import SINGLE, World, full_weights
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
    cfg: GRPOConfig,
    engine: Engine,
    envs: EnvPool,
    learner: Learner,
    step: int,
    pad_id: int,
    world: World = SINGLE,
) -> StepResult:
    """Sample, score and learn from one batch of B prompts x G replies (this rank's groups)."""
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed * 1_000_003 + step + 7_919 * world.rank)  # (seed, step, rank)
    with full_weights(learner.policy, world):  # FSDP: whole weights while sampling
        rollout, zero_frac = sample_groups(cfg, engine, envs, step, world)  # steps 1-3
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
    if world.size > 1:  # every rank's episodes, so that metrics and hooks see the whole batch
        rollout, adv = _gathered(rollout, adv, world)
    return StepResult(rollout, adv, zero_frac, stats, time.perf_counter() - t0)


def sample_groups(
    cfg: GRPOConfig, engine: Engine, envs: EnvPool, step: int, world: World = SINGLE
) -> tuple[Rollout, float]:
    """B groups of G scored replies (this rank's share), and the fraction of flat groups.

    With dynamic sampling (DAPO), groups whose rewards are all equal carry no signal and are
    dropped; more prompts are drawn (up to ``max_sampling_rounds``) until B groups remain,
    counted over all ranks.
    """
    kept: list[Rollout] = []
    n_groups = zero_groups = kept_groups = 0
    ro = None
    for rnd in range(cfg.max_sampling_rounds if cfg.dynamic_sampling else 1):
        need = cfg.prompts_per_step - kept_groups
        if need <= 0:
            break
        requests = world.shard(
            prompt_stream(cfg.env, cfg.env_weights or None, cfg.seed, step * 1000 + rnd, need)
        )
        ro = collect(engine, requests, cfg.group_size, envs, strict=cfg.strict_rewards)
        if cfg.overlong_penalty:
            for e in ro.episodes:
                e.reward += soft_overlong_penalty(
                    e.max_reply_tokens, cfg.sampling.max_new_tokens, cfg.overlong_penalty
                )
        flat = zero_std_groups(ro.rewards())  # [b]
        n, n_flat = (int(x) for x in world.sum([len(flat), int(flat.sum())]))
        n_groups, zero_groups = n_groups + n, zero_groups + n_flat
        if cfg.dynamic_sampling and n_flat < n:
            ro = ro.keep_groups((~flat).nonzero().flatten().tolist())
        if not cfg.dynamic_sampling or n_flat < n:
            kept.append(ro)
            kept_groups += n - n_flat if cfg.dynamic_sampling else n
    assert ro is not None
    if not kept:  # every group flat in every round: train on the last one (advantages are 0)
        kept.append(ro)
    return Rollout.merge(kept), zero_groups / max(n_groups, 1)


def _gathered(rollout: Rollout, adv: Tensor, world: World) -> tuple[Rollout, Tensor]:
    """All ranks' episodes and advantages, in rank order (token samples stay on their rank)."""
    light = Rollout(
        rollout.episodes,
        [],
        rollout.group_size,
        rollout.errors,
        rollout.generate_s,
        rollout.score_s,
        rollout.stuck,
        rollout.output_chars,
    )
    parts = world.gather((light, adv.cpu()))
    merged = Rollout.merge([p for p, _ in parts])
    merged.generate_s = max(p.generate_s for p, _ in parts)  # ranks sample at the same time
    merged.score_s = max(p.score_s for p, _ in parts)
    return merged, torch.cat([a for _, a in parts])
