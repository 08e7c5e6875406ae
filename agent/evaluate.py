"""Held-out pass rates per environment: ``evaluate(policy, env_ids, ...) -> EvalReport``.

Each env contributes ``problems`` prompts from its TEST split, with seeds drawn
deterministically from the eval seed (the same seeds for every env; a smaller ``problems``
is a prefix of a larger one). Each problem gets ``n`` replies through ``rollout.collect`` —
the same prompts, sampling and scoring path as training — and a reply passes when the env
says ``info["is_success"]``. pass@k uses the unbiased estimator (``passk.pass_at_k``).

Works with any ``Policy``; with an ``Engine`` the engine's own ``SamplingConfig`` is what is
used and recorded, and reply token counts and truncation are reported as well.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

from grpo_gym.envs import list_envs, resolve_id

from .config import parse_env_kwargs
from .distributed import SINGLE, World
from .engines import Engine
from .env_pool import EnvPool
from .eval_config import ALL_PROBLEMS, EvalConfig
from .passk import mean_stderr, pass_at_k
from .report import EnvResult, EvalReport, ModelInfo, Provenance, SampleRecord, format_summary
from .rollout import Episode, PromptRequest, collect
from .sampling import Policy, SamplingConfig

__all__ = [
    "EvalConfig",
    "EvalReport",
    "evaluate",
    "format_summary",
    "problem_seeds",
    "resolve_env_ids",
]


def problem_seeds(seed: int, problems: int) -> list[int]:
    """The reset seeds of the ``problems`` evaluation prompts (a prefix-stable stream)."""
    rng = np.random.default_rng([seed, 0xE7A1])
    return [int(rng.integers(0, 2**31 - 1)) for _ in range(problems)]


def _stable_int(*parts: object) -> int:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def resolve_env_ids(env: Sequence[str] = (), suite: str | None = None) -> list[str]:
    """Full registered ids for ``env`` plus every env of ``suite``; an unknown id is an error."""
    ids: list[str] = []
    if suite is not None:
        if suite not in ("all", "builtin"):
            raise ValueError(f"unknown suite {suite!r}: use 'all' or 'builtin'")
        ids += [
            r.id for r in (list_envs(namespace="grpo_gym") if suite == "builtin" else list_envs())
        ]
        if not ids:
            raise ValueError(f"suite {suite!r} is empty: no text envs are registered")
    ids += [resolve_id(e) for e in env]  # UnknownEnvError names the close matches
    if not ids:
        raise ValueError("no envs to evaluate: pass env=ID (one or more) or suite=all")
    return list(dict.fromkeys(ids))


def _env_version(env_id: str) -> int | None:
    try:
        return gym.spec(env_id).version
    except gym.error.Error:
        return None


def _prompt(ep: Episode) -> str:
    users = [m["content"] for m in ep.conversation if m["role"] == "user"]
    return users[0] if users else ""


def _score_env(
    env_id: str, episodes: list[Episode], n: int, ks: tuple[int, ...], tokens: bool, wall_s: float
) -> EnvResult:
    groups = [episodes[i : i + n] for i in range(0, len(episodes), n)]
    pk: dict[int, float] = {}
    pk_se: dict[int, float | None] = {}
    for k in ks:
        pk[k], pk_se[k] = mean_stderr([pass_at_k(n, sum(e.success for e in g), k) for g in groups])
    reward, reward_se = mean_stderr([sum(e.reward for e in g) / n for g in groups])
    m = len(episodes)
    return EnvResult(
        env_id=env_id,
        version=_env_version(env_id),
        problems=len(groups),
        samples_per_problem=n,
        distinct_prompts=len({_prompt(g[0]) for g in groups}),
        pass_at_k=pk,
        pass_at_k_stderr=pk_se,
        reward_mean=reward,
        reward_stderr=reward_se,
        reply_chars=sum(sum(len(r) for r in e.replies) for e in episodes) / m,
        reply_tokens=sum(e.reply_tokens for e in episodes) / m if tokens else None,
        truncated=sum(e.truncated for e in episodes) / m if tokens else None,
        timeouts=sum(e.timed_out for e in episodes) / m,
        errors=sum(e.error is not None for e in episodes) / m,
        wall_s=wall_s,
    )


def _env_seeds(env: Any, config: EvalConfig, seeds: list[int]) -> list[int]:
    """Env hook: a finite dataset picks seeds that give distinct problems (each one once)."""
    hook = getattr(env, "evaluation_seeds", None)
    if config.problems == ALL_PROBLEMS:
        if not callable(hook):
            raise ValueError(
                f"problems=all needs a benchmark env with a fixed test set; {type(env).__name__} "
                "generates tasks without end: give a number, e.g. problems=100"
            )
        return list(hook(config.seed, 2**31 - 1))
    return list(hook(config.seed, config.problems)) if callable(hook) else seeds


def _with_env_metrics(env: Any, result: EnvResult, episodes: list[Episode], n: int) -> EnvResult:
    """Env hook: ``aggregate_metrics(components, n)`` -> ``{name: (value, stderr)}``, e.g. IFEval's
    prompt- and instruction-level accuracies (components in problem order, ``n`` per problem)."""
    hook = getattr(env, "aggregate_metrics", None)
    if not callable(hook):
        return result
    metrics = hook([dict(e.components) for e in episodes], n)
    return dataclasses.replace(
        result,
        metrics={k: v for k, (v, _) in metrics.items()},
        metrics_stderr={k: se for k, (_, se) in metrics.items()},
    )


def _records(env_id: str, episodes: list[Episode], n: int, tokens: bool) -> list[SampleRecord]:
    return [
        SampleRecord(
            env_id,
            e.seed,
            i // n,
            i % n,
            _prompt(e),
            e.replies,
            e.reward,
            dict(e.components),
            e.success,
            e.reply_tokens if tokens else None,
            e.truncated if tokens else None,
            e.timed_out,
            e.error,
        )
        for i, e in enumerate(episodes)
    ]


def _unshard_groups(world: World, episodes: list[Episode], n: int) -> list[Episode]:
    groups = [episodes[i : i + n] for i in range(0, len(episodes), n)]
    return [e for g in world.unshard(world.gather(groups)) for e in g]


def _rng_devices() -> list[int]:
    return [torch.cuda.current_device()] if torch.cuda.is_available() else []


def evaluate(
    policy: Policy,
    env_ids: Sequence[str] | str | None = None,
    *,
    config: EvalConfig | None = None,
    envs: EnvPool | None = None,
    model: ModelInfo | str | None = None,
    log: Callable[[str], None] | None = None,
    world: World = SINGLE,
    **overrides: Any,
) -> EvalReport:
    """Evaluate ``policy`` on the test split of each env.

    Args:
        policy: any ``Policy``; an ``Engine``'s sampling settings override the config's.
        env_ids: ids (namespace optional); default: ``config.env`` / ``config.suite``.
        config: an ``EvalConfig``; ``overrides`` (its field names or the sampling ones, e.g.
            ``problems=32, n=1, temperature=0``) are applied on top of it (or of the defaults).
        envs: an ``EnvPool`` to reuse (e.g. the trainer's, with its env kwargs); default a new one.
        model: the model's identity for the provenance (``describe_model`` or a name).
        log: called with one line per finished env.
        world: with several ranks (torchrun), each rank runs every N-th problem and all ranks
            get the same report as one process would.

    The caller's torch RNG state is left untouched (sampling uses a forked, seeded RNG).
    """
    base = config if config is not None else EvalConfig()
    sampling_names = {f.name for f in dataclasses.fields(SamplingConfig)}
    flat = {
        k: overrides.pop(k) for k in list(overrides) if k in sampling_names
    }  # temperature=0, ...
    if flat:
        overrides["sampling"] = dataclasses.replace(base.sampling, **flat)
    config = dataclasses.replace(base, **overrides)
    tokens = isinstance(policy, Engine)
    if isinstance(policy, Engine):  # the engine's settings are what is actually used
        config = dataclasses.replace(config, sampling=policy.config)
    if isinstance(env_ids, str):
        env_ids = [env_ids]
    ids = resolve_env_ids(env_ids or config.env, None if env_ids else config.suite)
    seeds = problem_seeds(config.seed, config.problems)
    if envs is None:
        env_kwargs = parse_env_kwargs(config.env_kwargs, tuple(ids))
        pool = EnvPool(env_kwargs, config.system_prompt, strict=config.strict)
    else:
        pool = envs
    results: list[EnvResult] = []
    samples: list[SampleRecord] = []
    t_start = time.perf_counter()
    try:
        with torch.random.fork_rng(devices=_rng_devices()):
            for env_id in ids:
                t0 = time.perf_counter()
                torch.manual_seed(_stable_int(config.seed, env_id))
                episodes: list[Episode] = []
                probe = pool.get(env_id, 0).unwrapped
                env_seeds = _env_seeds(probe, config, seeds)
                my_seeds = world.shard(env_seeds)
                bar = tqdm(
                    total=len(my_seeds),
                    desc=env_id,
                    unit="problem",
                    disable=not config.progress,
                    dynamic_ncols=True,
                    leave=False,
                )
                for b in range(0, len(my_seeds), config.batch_size):
                    requests = [
                        PromptRequest(env_id, s, "test")
                        for s in my_seeds[b : b + config.batch_size]
                    ]
                    episodes += collect(
                        policy, requests, config.n, pool, strict=config.strict
                    ).episodes
                    bar.update(len(requests))
                    bar.set_postfix(
                        pass_rate=f"{sum(e.success for e in episodes) / len(episodes):.3f}",
                        tok_s=f"{sum(e.reply_tokens for e in episodes) / (time.perf_counter() - t0):.1f}",
                    )
                bar.close()
                if world.size > 1:  # every rank's problems, back in problem order
                    episodes = _unshard_groups(world, episodes, config.n)
                result = _score_env(
                    env_id, episodes, config.n, config.ks, tokens, time.perf_counter() - t0
                )
                result = _with_env_metrics(probe, result, episodes, config.n)
                results.append(result)
                samples += _records(env_id, episodes, config.n, tokens)
                if log is not None:
                    log(
                        f"{result.short_id}: pass@1 {result.pass_at_k[1]:.3f} over {result.problems} problems "
                        f"x {config.n} samples ({result.wall_s:.1f} s)"
                    )
    finally:
        if envs is None:
            pool.close()
    if isinstance(model, str):
        model = ModelInfo(model)
    if model is None:
        inner = getattr(policy, "model", None)
        model = ModelInfo(
            str(
                getattr(getattr(inner, "config", None), "_name_or_path", "")
                or type(policy).__name__
            )
        )
    provenance = Provenance(
        model=model,
        package_version=_package_version(),
        env_versions={r.env_id: r.version for r in results},
        policy=type(policy).__name__,
        temperature=config.sampling.temperature if tokens else None,
        top_p=config.sampling.top_p if tokens else None,
        top_k=config.sampling.top_k if tokens else None,
        max_new_tokens=config.sampling.max_new_tokens if tokens else None,
        seed=config.seed,
        problem_seeds=seeds,
        problems=config.problems,
        samples_per_problem=config.n,
        k=list(config.ks),
        device=_device(policy),
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        wall_s=time.perf_counter() - t_start,
        notes=[
            *config.notes,
            *(n for i in ids for n in getattr(pool.get(i, 0).unwrapped, "report_notes", ())),
        ],
        env_kwargs={i: dict(pool.env_kwargs[i]) for i in ids if pool.env_kwargs.get(i)},
    )
    return EvalReport(results, provenance, samples)


def _package_version() -> str:
    import grpo_gym

    return grpo_gym.__version__


def _device(policy: Policy) -> str:
    inner = getattr(policy, "model", None)
    if isinstance(inner, torch.nn.Module):
        try:
            return str(next(inner.parameters()).device)
        except StopIteration:
            pass
    return "n/a"
