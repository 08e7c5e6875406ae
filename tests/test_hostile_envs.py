"""Envs that raise in reset, hang, return NaN or a string, or print megabytes: each costs only its
own sample, is counted, and the run goes on; a hang is reported with env, seed and stack (issue 18)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

import tests.hostile_envs  # noqa: F401  (registers grpo_gym_hostile/* envs)
from grpo_gym.agent.errors import EnvStuckError
from grpo_gym.agent.rollout import EnvPool, PromptRequest, collect
from grpo_gym.agent.trainer import train
from tests.helpers import tiny_cfg

HOSTILE, SLEEPY, LETTER = (
    "grpo_gym_hostile/Hostile-v0",
    "grpo_gym_hostile/Sleepy-v0",
    "grpo_gym_test/Letter-v0",
)


def all_a(convs, n):
    return ["aaaa"] * (len(convs) * n)


def test_each_hostile_env_costs_only_its_own_samples(capsys: pytest.CaptureFixture[str]) -> None:
    reqs = [
        PromptRequest(HOSTILE, seed) for seed in (5, 6, 7, 8, 9)
    ]  # behaves, reset raises, NaN, string, prints
    ro = collect(all_a, reqs, 2, EnvPool(timeout_s=30))
    r = ro.rewards()
    assert r[0].tolist() == [1.0, 1.0] and r[4].tolist() == [1.0, 1.0]
    assert r[1:4].flatten().tolist() == [0.0] * 6 and ro.errors == 6
    eps = ro.episodes
    assert "reset exploded" in (eps[2].error or "") and "non-finite" in (eps[4].error or "")
    assert "could not convert string to float" in (eps[6].error or "")
    assert ro.output_chars >= 4_000_000  # two replies printed two million characters each
    out = capsys.readouterr()
    assert len(out.out) + len(out.err) < 10_000  # counted, not echoed


def test_a_hung_scorer_is_reported_with_its_stack_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pool = EnvPool(timeout_s=0.5)
    t0 = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="grpo_gym.agent.rollout"):
        ro = collect(all_a, [PromptRequest(SLEEPY, 3), PromptRequest(LETTER, 4)], 2, pool)
    assert time.monotonic() - t0 < 20
    assert ro.rewards()[1].tolist() == [1.0, 1.0] and ro.rewards()[0].tolist() == [0.0, 0.0]
    assert ro.stuck == 2 and ro.errors == 2 and all(e.timed_out for e in ro.episodes[:2])
    report = caplog.text
    assert f"env.step of {SLEEPY} (seed 3) is still running" in report and "HANG.wait()" in report
    assert (SLEEPY, 0) not in pool._envs  # the stuck instance is never reused
    abort = EnvPool(timeout_s=0.5, on_stuck="abort")
    with pytest.raises(
        EnvStuckError, match=rf"{SLEEPY} \(seed 3\) is still running .* score_timeout_s"
    ):
        collect(all_a, [PromptRequest(SLEEPY, 3)], 2, abort)


def test_training_goes_on_over_hostile_and_hung_envs(tiny_model_dir: Path, tmp_path: Path) -> None:
    cfg = tiny_cfg(
        tiny_model_dir,
        tmp_path / "run",
        env=(HOSTILE, SLEEPY),
        steps=1,
        prompts_per_step=4,
        group_size=2,
        max_new_tokens=4,
        score_timeout_s=0.5,
        seed=1,
    )
    res = train(cfg, echo=lambda s: None)
    m = res.history[0]
    assert res.checkpoint is not None and m["env_stuck"] >= 1
    assert m["reward_timeouts"] >= m["env_stuck"] and m["reward_errors"] >= m["env_stuck"]
