"""Where samples become rewards: run episodes of text envs with a policy, batch by batch.

``collect`` resets one env per episode with the requested seed, asks the policy for G replies
to each distinct prompt in ONE batched call, steps the envs with the replies, and — for
multi-turn envs — keeps generating follow-up replies for the episodes that are still running.
The trainer and the evaluator both call it, so they see identical prompts, sampling and
scoring. A reward function or env that raises on one reply (or in ``reset``) scores that reply 0
and records the error; ``strict=True`` re-raises instead (for people debugging an env).

Every ``reset`` and ``step`` runs on a worker thread under a watchdog (agent/watchdog.py): a call
past the pool's ``timeout_s`` is reported with its env id, seed and stack, and either scores 0
(counted in ``errors`` and the episode's ``timed_out``; the env instance is replaced) or aborts
with ``EnvStuckError``, as ``on_stuck`` says. What envs print is counted, not echoed.
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from .engines import Engine
from .env_pool import EnvPool, StepOutcome
from .sampling import Conversation, Generation, Policy
from .watchdog import CallResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PromptRequest:
    """One prompt to draw: an env id, its seed, and the split."""

    env_id: str
    seed: int
    split: str = "train"


@dataclass
class Sample:
    """One generated reply as tokens (a multi-turn episode yields one sample per turn)."""

    prompt_ids: Tensor  # [P] unpadded
    completion_ids: Tensor  # [T] unpadded, up to and including EOS
    episode: int  # index into Rollout.episodes
    truncated: bool
    sampled_logp: Tensor | None = (
        None  # [T] the engine's own log-probs of these tokens, if it gives them
    )


@dataclass
class Episode:
    """One reply-episode: its conversation, total reward and the env's verdict."""

    env_id: str
    seed: int
    split: str
    group: int  # index of its prompt in the request list
    conversation: Conversation
    reward: float = 0.0
    success: bool = False
    turns: int = 0
    truncated: bool = False  # the last reply hit max_new_tokens
    components: dict[str, float] = field(default_factory=dict)
    reply_tokens: int = 0  # summed over turns
    max_reply_tokens: int = 0  # the longest single reply
    error: str | None = None
    timed_out: bool = False

    @property
    def replies(self) -> list[str]:
        return [m["content"] for m in self.conversation if m["role"] == "assistant"]


@dataclass
class Rollout:
    """Episodes (``len(requests) * group_size``, grouped consecutively) and their samples."""

    episodes: list[Episode]
    samples: list[Sample]
    group_size: int
    errors: int = 0  # reward/env errors (each scored 0)
    generate_s: float = 0.0  # seconds in the policy
    score_s: float = 0.0  # seconds in env.reset/step (scoring)
    stuck: int = 0  # env calls the watchdog abandoned (also counted in errors)
    output_chars: int = 0  # characters the envs printed

    def rewards(self) -> Tensor:
        """``[B, G]`` episode rewards."""
        return torch.tensor([e.reward for e in self.episodes], dtype=torch.float32).view(
            -1, self.group_size
        )

    def keep_groups(self, groups: list[int]) -> Rollout:
        """Only the episodes (and samples) of the given groups, renumbered."""
        G = self.group_size
        keep = [i for g in groups for i in range(g * G, (g + 1) * G)]
        remap = {old: new for new, old in enumerate(keep)}
        samples = [s for s in self.samples if s.episode in remap]
        for s in samples:
            s.episode = remap[s.episode]
        return Rollout(
            [self.episodes[i] for i in keep],
            samples,
            G,
            self.errors,
            self.generate_s,
            self.score_s,
            self.stuck,
            self.output_chars,
        )

    @staticmethod
    def merge(parts: list[Rollout]) -> Rollout:
        """One rollout of all ``parts``' groups, in order."""
        episodes: list[Episode] = []
        samples: list[Sample] = []
        for ro in parts:
            offset = len(episodes)
            episodes.extend(ro.episodes)
            for s in ro.samples:
                s.episode += offset
                samples.append(s)
        return Rollout(
            episodes,
            samples,
            parts[0].group_size,
            sum(r.errors for r in parts),
            sum(r.generate_s for r in parts),
            sum(r.score_s for r in parts),
            sum(r.stuck for r in parts),
            sum(r.output_chars for r in parts),
        )


def prompt_stream(
    env_ids: Sequence[str],
    weights: Sequence[float] | None,
    seed: int,
    step: int,
    n: int,
    split: str = "train",
) -> list[PromptRequest]:
    """``n`` prompt requests for training step ``step``: a pure function of (seed, step).

    Env ids are drawn from the weighted mixture; seeds from a generator keyed on
    (seed, step), so a resumed run draws exactly the prompts an uninterrupted one would.
    """
    rng = np.random.default_rng([seed, step])
    p = None if not weights else np.asarray(weights, dtype=float) / float(np.sum(weights))
    ids = rng.choice(len(env_ids), size=n, p=p)
    seeds = rng.integers(0, 2**31 - 1, size=n)
    return [PromptRequest(env_ids[int(i)], int(s), split) for i, s in zip(ids, seeds, strict=True)]


def _apply_step(
    episode: Episode, res: CallResult[StepOutcome], reply: str, strict: bool
) -> tuple[str | None, int]:
    """Fold one env.step result into its episode. Returns (next observation or None, errors)."""
    exc = res.error
    if exc is not None and not isinstance(exc, Exception):
        raise exc  # KeyboardInterrupt, SystemExit: not the env's business
    if exc is not None:
        if strict:
            exc.add_note(
                f"while stepping {episode.env_id} (seed {episode.seed}) with reply {reply[:200]!r}"
            )
            raise exc
        episode.error = f"{type(exc).__name__}: {exc}"
        return None, 1
    if res.stuck_stack is not None:
        episode.error, episode.timed_out = (
            f"env.step still running after {res.seconds:.0f}s (watchdog)",
            True,
        )
        return None, 1
    out = res.value
    assert out is not None
    if not math.isfinite(out.reward):
        if strict:
            raise ValueError(
                f"{episode.env_id} returned a non-finite reward {out.reward!r} (seed {episode.seed})"
            )
        episode.error = f"non-finite reward {out.reward!r}"
        return None, 1
    episode.reward += out.reward
    episode.success = out.success
    episode.components = dict(out.components)
    episode.timed_out = episode.timed_out or out.timed_out
    if out.error:
        episode.error = out.error
    return (None if out.done else out.observation), int(out.error is not None)


def _sample(
    policy: Policy, convs: list[Conversation], n: int, stop: tuple[str, ...]
) -> tuple[Generation | None, list[str]]:
    """``n`` replies to each conversation: the engine's ``Generation`` (None for a plain policy)
    and the texts. The envs' stop strings go to engines and policies only when there are some,
    so a policy written as ``policy(conversations, n)`` keeps working (its envs cut its replies)."""
    extra: dict[str, Any] = {"stop": stop} if stop else {}
    if isinstance(policy, Engine):
        gen = policy.generate(convs, n, **extra)
        return gen, gen.texts
    if extra and not _takes_stop(policy):
        extra = {}
    return None, list(policy(convs, n, **extra))


def _takes_stop(policy: Policy) -> bool:
    try:
        params = inspect.signature(policy).parameters
    except (TypeError, ValueError):
        return False
    return "stop" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _step(env: gym.Env, reply: str) -> StepOutcome:
    return StepOutcome.from_step(*env.step(reply))


def _reset(
    envs: EnvPool, requests: Sequence[PromptRequest], group_size: int, strict: bool
) -> tuple[list[Episode], list[Conversation], int]:
    """Reset one env per episode (under the watchdog). A reset that raises or hangs costs that episode:
    it scores 0 (``error`` set) and shares its group's prompt if another slot got one."""
    episodes: list[Episode] = []
    calls: list[tuple[Episode, int, Callable[[], Any]]] = []
    for g, req in enumerate(requests):
        system = envs.system_prompt(req.env_id)
        for j in range(group_size):
            slot = g * group_size + j
            ep = Episode(
                req.env_id,
                req.seed,
                req.split,
                g,
                [{"role": "system", "content": system}] if system else [],
            )
            episodes.append(ep)
            calls.append(
                (
                    ep,
                    slot,
                    partial(
                        envs.get(req.env_id, slot).reset,
                        seed=req.seed,
                        options={"split": req.split},
                    ),
                )
            )
    results = envs.run("env.reset", calls)
    errors = 0
    for ep, res in zip(episodes, results, strict=True):
        if res.error is not None and (strict or not isinstance(res.error, Exception)):
            res.error.add_note(f"while resetting {ep.env_id} (seed {ep.seed})")
            raise res.error
        if res.error is not None or res.stuck_stack is not None:
            errors += 1
            ep.timed_out = res.stuck_stack is not None
            ep.error = (
                f"env.reset failed: {type(res.error).__name__}: {res.error}"
                if res.error
                else "env.reset hung (watchdog)"
            )
            if errors <= 3:
                log.warning("%s seed=%d: %s", ep.env_id, ep.seed, ep.error)
    convs: list[Conversation] = []
    for g in range(len(requests)):
        group = list(
            zip(
                episodes[g * group_size : (g + 1) * group_size],
                results[g * group_size : (g + 1) * group_size],
                strict=True,
            )
        )
        prompt = next(
            (str(res.value[0]) for ep, res in group if ep.error is None and res.value is not None),
            "",
        )
        for ep, res in group:
            obs = str(res.value[0]) if ep.error is None and res.value is not None else prompt
            ep.conversation.append({"role": "user", "content": obs})
        convs.append(list(episodes[(g + 1) * group_size - 1].conversation))
    return episodes, convs, errors


def collect(
    policy: Policy,
    requests: Sequence[PromptRequest],
    group_size: int,
    envs: EnvPool,
    *,
    strict: bool = False,
    max_logged_errors: int = 3,
) -> Rollout:
    """Run ``group_size`` episodes per request (consecutive episodes form one GRPO group).

    With an ``Engine`` the token tensors of every reply are kept for training; any other
    policy (e.g. a scripted one in tests, a served model) yields episodes only. Envs whose reset
    failed get replies too (the batch is per group) but are not stepped: they score 0.
    """
    t_score = time.perf_counter()
    stuck0, chars0 = envs.stuck_calls, envs.output_chars
    episodes, convs, errors = _reset(envs, requests, group_size, strict)
    failed = {i for i, ep in enumerate(episodes) if ep.error is not None}
    score_s = time.perf_counter() - t_score
    generate_s = 0.0
    samples: list[Sample] = []
    active = list(range(len(episodes)))
    first = True
    while active:
        if first:  # one batched call: G replies to each distinct prompt
            batch_convs, n = convs, group_size
        else:
            batch_convs, n = [list(episodes[i].conversation) for i in active], 1
        stop = envs.stop_strings(dict.fromkeys(episodes[i].env_id for i in active))
        t0 = time.perf_counter()
        gen, texts = _sample(policy, batch_convs, n, stop)
        t1 = time.perf_counter()
        generate_s += t1 - t0
        if len(texts) != len(active):
            raise RuntimeError(f"policy returned {len(texts)} replies for {len(active)} episodes")
        still = []
        for row, i in enumerate(active):
            ep = episodes[i]
            reply = texts[row]
            if getattr(
                reply, "error", None
            ):  # a sample the policy could not produce (engines.openai.FailedReply)
                ep.error = f"policy: {reply.error}"  # type: ignore[attr-defined]
            ep.turns += 1
            ep.conversation.append({"role": "assistant", "content": reply})
            if gen is not None:
                n_tok = int(gen.completion_mask[row].sum())
                ep.reply_tokens += n_tok
                ep.max_reply_tokens = max(ep.max_reply_tokens, n_tok)
                ep.truncated = bool(gen.truncated[row])
                engine_logp = (
                    None if gen.sampled_logp is None else gen.sampled_logp[row, :n_tok].cpu()
                )
                samples.append(
                    Sample(
                        gen.prompt_ids[row][gen.prompt_mask[row].bool()].cpu(),
                        gen.completion_ids[row, :n_tok].cpu(),
                        i,
                        ep.truncated,
                        engine_logp,
                    )
                )
        # score concurrently: each episode has its own env, and symbolic checks wait on worker
        # processes (rewards.pool), so threads keep every math worker busy
        steps = [(i, texts[row]) for row, i in enumerate(active) if i not in failed]
        results = envs.run(
            "env.step",
            [
                (episodes[i], i, partial(_step, envs.get(episodes[i].env_id, i), reply))
                for i, reply in steps
            ],
        )
        for (i, reply), res in zip(steps, results, strict=True):
            ep = episodes[i]
            nxt, err = _apply_step(ep, res, reply, strict)
            if err and errors < max_logged_errors:
                log.warning(
                    "reward error in %s seed=%d: %s; reply=%r",
                    ep.env_id,
                    ep.seed,
                    ep.error,
                    reply[:200],
                )
            errors += err
            if nxt is not None:
                ep.conversation.append({"role": "user", "content": nxt})
                still.append(i)
        active, first = still, False
        score_s += time.perf_counter() - t1
    return Rollout(
        episodes,
        samples,
        group_size,
        errors,
        generate_s,
        score_s,
        envs.stuck_calls - stuck0,
        envs.output_chars - chars0,
    )
