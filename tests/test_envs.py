"""Contract tests run on EVERY registered env: Gymnasium checks, determinism, splits, rewards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import grpo_gym.envs as ge
import gymnasium as gym
import pytest
from grpo_gym.envs.base import EnvUsageError, task_split
from grpo_gym.envs.cli import BAD_REPLIES
from gymnasium.utils.env_checker import check_env

ENV_IDS = [r.id for r in ge.list_envs()]
SEEDS = (0, 1, 2)


def test_the_suite_is_registered() -> None:
    expected = {"Arithmetic", "ArithmeticEasy", "Fractions", "LinearEquation", "PolynomialRoots", "Simplify",
                "Expand", "Factor", "Derivative", "MathDataset", "MultiTurnMath"}
    assert {f"grpo_gym/{name}-v0" for name in expected} <= set(ENV_IDS)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_check_env(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        check_env(env)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_seed_alone_determines_the_task(env_id: str) -> None:
    a, b = gym.make(env_id), gym.make(env_id)
    prompts = []
    for seed in range(8):
        pa, ia = a.reset(seed=seed)
        b.reset(seed=seed + 100)  # b's history must not matter
        pb, ib = b.reset(seed=seed)
        assert pa == pb and ia["reference"] == ib["reference"]
        prompts.append(pa)
    assert len(set(prompts)) > 1, "different seeds should give different tasks"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_reference_scores_max_and_bad_replies_score_lower(env_id: str) -> None:
    env = gym.make(env_id)
    top = env.unwrapped.max_reward
    for seed in SEEDS:
        for split in ("train", "test"):
            prompt, info = env.reset(seed=seed, options={"split": split})
            assert isinstance(prompt, str) and prompt and info["split"] == split
            _, reward, terminated, truncated, step_info = env.step(info["reference"])
            assert reward == pytest.approx(top), (prompt, info["reference"], step_info["reason"])
            assert terminated and not truncated and step_info["is_success"]
        _, info = env.reset(seed=seed)
        for reply in BAD_REPLIES:
            result = env.unwrapped.score(reply, info["task"])
            assert result.score < top, (reply, result)
            assert result.error is None, result.error


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_train_and_test_splits_are_disjoint(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    frac = env.test_fraction
    train = {env.reset(seed=s, options={"split": "train"})[0] for s in range(150)}
    test = {env.reset(seed=s, options={"split": "test"})[0] for s in range(30)}
    assert train and test and not train & test
    assert all(task_split(p, frac) == "train" for p in train)
    assert all(task_split(p, frac) == "test" for p in test)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_step_before_reset_and_after_the_end_raise(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    with pytest.raises(EnvUsageError, match="before reset"):
        env.step("1")
    env.reset(seed=0)
    terminated = False
    while not terminated:
        _, _, terminated, _, _ = env.step("no idea")
    with pytest.raises(EnvUsageError, match="after the episode ended"):
        env.step("1")
    with pytest.raises(TypeError, match="str"):
        env.reset(seed=0)
        env.step(42)  # type: ignore[arg-type]


def test_wrapped_env_refuses_step_before_reset() -> None:
    env = gym.make("grpo_gym/Arithmetic-v0")
    with pytest.raises(gym.error.ResetNeeded):
        env.step("3")


_PRINT_PROMPTS = """
import json, grpo_gym.envs as ge, gymnasium as gym
out = {}
for r in ge.list_envs():
    env = gym.make(r.id)
    out[r.id] = [env.reset(seed=s, options={"split": sp})[0] for s in (0, 7, 123) for sp in ("train", "test")]
print(json.dumps(out))
"""


def test_prompts_are_equal_across_processes_with_different_hash_seeds() -> None:
    outs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run([sys.executable, "-c", _PRINT_PROMPTS], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert set(outs[0]) >= set(ENV_IDS)
    assert outs[0] == outs[1]


class UnicodePrompts(ge.TextEnv):
    def generate_task(self, rng):
        n = int(rng.integers(1000))
        return ge.Task(prompt=f"Compute {n} × 2 ÷ π… 🙂", answer=str(2 * n))

    def score(self, reply, task):
        return ge.RewardResult(score=float(reply.strip() == task.answer))


def test_async_vector_env_carries_any_unicode_prompt() -> None:
    """The shared-memory path for UnicodeText (base.py): every reset's prompt, not the first."""
    ge.register("test_envs/Unicode-v0", UnicodePrompts, force=True)
    envs = gym.make_vec("test_envs/Unicode-v0", num_envs=2, vectorization_mode="async")
    try:
        for seed in (0, 1, 2):
            prompts, infos = envs.reset(seed=[seed, seed + 10])
            assert prompts == tuple(t.prompt for t in infos["task"]) and "🙂" in prompts[0]
            assert prompts[0] != prompts[1]
            rewards = envs.step([infos["task"][0].answer, "nope"])[1]
            assert list(rewards) == [1.0, 0.0]
    finally:
        envs.close()
        gym.registry.pop("test_envs/Unicode-v0")


def test_settings_go_to_the_config_class_and_unknown_ones_fail() -> None:
    from grpo_gym.envs.arithmetic import Arithmetic

    assert Arithmetic(digits=3).config.digits == 3
    with pytest.raises(TypeError, match="colour"):
        Arithmetic(colour="red")
    with pytest.raises(ValueError, match="digits"):
        Arithmetic(digits=0)
