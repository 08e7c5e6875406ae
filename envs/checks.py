"""Sanity checks for an env (``grpo-gym envs check``): ``run_checks(env_id) -> [CheckResult]``.

Per env: Gymnasium's ``check_env``, every observation of ``OBSERVATION_SEEDS`` seeds (at least)
inside the observation space, seed determinism, the reference reply earning ``max_reward``, and
empty / "I don't know." / garbage replies scoring below it without raising.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
from gymnasium.utils.env_checker import check_env

from .base import TextEnv
from .registry import resolve_id
from .rows import RowsEnv

#: Seeds whose observations ``observations`` checks, at least: a contract broken on 3 % of the
#: seeds (reasoning-gym's codeio before its fix) shows up with probability 1 - 0.97**100 = 95 %.
#: Gymnasium's ``check_env`` resets only a few times.
OBSERVATION_SEEDS = 100

#: Replies that must score strictly below the reference.
BAD_REPLIES: tuple[str, ...] = (
    "",
    "I don't know.",
    "qwerty uiop }{ \\boxed{ \\frac{ ^^ $$",
    "The answer is \\boxed{banana}.",
    "%$#@!" * 40,
)


@dataclass(frozen=True)
class CheckResult:
    env_id: str
    check: str
    ok: bool
    detail: str = ""


def make_unwrapped(env_id: str, **kwargs: Any) -> TextEnv:
    env = gym.make(resolve_id(env_id), **kwargs).unwrapped
    if not isinstance(env, TextEnv):
        raise ValueError(f"{env_id} is not a grpo_gym TextEnv")
    return env


# ---- checks ------------------------------------------------------------------------------------
def _check_gymnasium(env_id: str, n: int) -> str:
    env = make_unwrapped(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=False)
    notes = sorted({str(w.message).split("\n")[0] for w in caught})
    return "; ".join(notes)


def _check_observations(env_id: str, n: int) -> str:
    """Every observation of ``max(n, OBSERVATION_SEEDS)`` seeds (of the env's first split: the
    splits draw from one generator, and a test reset of a hash split costs ~10 draws) and, for
    a finite benchmark, every problem's prompt of every split lies in the observation space."""
    env = make_unwrapped(env_id)
    space = env.observation_space
    seeds = max(n, OBSERVATION_SEEDS)
    splits = getattr(env, "splits", ("train", "test"))
    finite = isinstance(env, RowsEnv)  # a benchmark: every prompt is checked too
    checked = 0

    def check(obs: Any, where: str) -> None:
        if not space.contains(obs):
            size = len(obs) if isinstance(obs, str) else type(obs).__name__
            raise AssertionError(f"{where}: observation ({size} chars) is outside {space}")

    for split in splits:
        problems = env.problems_of(split) if isinstance(env, RowsEnv) else []
        for i, problem in enumerate(problems):
            check(problem.prompt, f"{split} problem {i}")
        checked += len(problems)
        for seed in range(seeds if split == splits[0] else 0):
            obs, _ = env.reset(seed=seed, options={"split": split})
            check(obs, f"seed {seed} {split}")
            checked += 1
            if env.max_turns > 1:  # the feedback after a failed attempt is an observation too
                obs, *_ = env.step("")
                check(obs, f"seed {seed} {split}, the feedback")
                checked += 1
    what = f"{seeds} seeds" + (" and every problem" if finite else "")
    return f"{checked} observations ({what}) in the space"


def _check_determinism(env_id: str, n: int) -> str:
    a, b = make_unwrapped(env_id), make_unwrapped(env_id)
    prompts = []
    for seed in range(n):
        pa, pb = a.reset(seed=seed)[0], b.reset(seed=seed)[0]
        if pa != pb or a.reset(seed=seed)[0] != pa:
            raise AssertionError(f"seed {seed} gave different prompts")
        prompts.append(pa)
    if n > 2 and len(set(prompts)) == 1:
        raise AssertionError(f"{n} different seeds all gave the same prompt")
    return f"{len(set(prompts))} distinct prompts from {n} seeds"


def no_known_reference(task: Any) -> bool:
    """A benchmark task no reply can fully follow (IFEval: 5 of 541), or one for which no
    reply that follows it is known (IFBench: only the shipped sample reply is)."""
    meta = task.metadata
    return meta.get("followable") is False or meta.get("reference_follows") is False


def _check_reference(env_id: str, n: int) -> str:
    env = make_unwrapped(env_id)
    checked = skipped = seed = 0
    while seed < n or (checked == 0 and seed < 20 * n):  # draw on while none could be checked
        for split in getattr(env, "splits", ("train", "test")):  # eval-only benchmarks: test
            _, info = env.reset(seed=seed, options={"split": split})
            if no_known_reference(info["task"]):
                skipped += 1
                continue
            result = env.score(info["reference"], info["task"])
            if result.score < env.max_reward - 1e-9:
                raise AssertionError(
                    f"seed {seed} {split}: reference scored {result.score} < {env.max_reward} ({result.reason}, {result.error})"
                )
            checked += 1
        seed += 1
    if checked == 0:
        raise AssertionError(f"none of {skipped} tasks has a reference reply that follows it")
    note = f" ({skipped} tasks have no reference that follows them)" if skipped else ""
    return f"{checked} references score {env.max_reward}{note}"


def _check_bad_replies(env_id: str, n: int) -> str:
    # an env whose default reward is an official metric that credits junk (IFEval's checkers
    # pass "I don't know." on "use no commas") names the settings this check uses
    env = make_unwrapped(env_id)
    settings = getattr(env, "check_settings", None)
    if settings:
        env = make_unwrapped(env_id, **settings)
    for seed in range(n):
        _, info = env.reset(seed=seed)
        for reply in BAD_REPLIES:
            result = env.score(reply, info["task"])
            if not result.score < env.max_reward:
                raise AssertionError(
                    f"seed {seed}: reply {reply[:30]!r} scored {result.score}, the maximum"
                )
    return f"{len(BAD_REPLIES) * n} bad replies score below {env.max_reward}"


CHECKS: dict[str, Callable[[str, int], str]] = {
    "check_env": _check_gymnasium,
    "observations": _check_observations,
    "determinism": _check_determinism,
    "reference_max": _check_reference,
    "bad_replies_low": _check_bad_replies,
}


def run_checks(env_id: str, n: int = 3) -> list[CheckResult]:
    """Run every check in ``CHECKS`` on ``env_id`` (never raises; failures are results)."""
    results = []
    for name, fn in CHECKS.items():
        try:
            results.append(CheckResult(env_id, name, True, fn(env_id, n)))
        except Exception as exc:
            results.append(CheckResult(env_id, name, False, f"{type(exc).__name__}: {exc}"))
    return results
