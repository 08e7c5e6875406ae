"""Replies seen in real training runs that once broke a reward function."""

from __future__ import annotations

import pytest
from grpo_gym.rewards import Task, math_reward


@pytest.mark.parametrize(
    "reply",
    [
        "Acom shortly, 25 + 12 = 37. The final answer is \\boxed{}.",  # empty box (IndexError once)
        "\\boxed{}",
        "\\boxed{+}",
        "\\boxed{-}",
        "$$",
    ],
)
def test_degenerate_answers_score_zero_without_error(reply: str) -> None:
    r = math_reward(reply, Task(answer="37"))
    assert r.score == 0.0 and r.error is None, r


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ("<think>a<think>b</think></think><answer>5</answer>", 0.0),  # nested duplicate (review finding)
        ("<think>a</think><answer><answer>5</answer></answer>", 0.0),
        ("<think>a</think><answer>5</answer>", 1.0),
    ],
)
def test_tag_format_each_tag_exactly_once(reply: str, score: float) -> None:
    from grpo_gym.rewards import TagFormat

    assert TagFormat()(reply, Task()).score == score


def test_nan_reward_is_an_error_not_a_nan() -> None:
    import gymnasium as gym
    import numpy as np
    from grpo_gym.envs import TextEnv
    from grpo_gym.rewards import RewardResult

    class NaNEnv(TextEnv):
        def generate_task(self, rng: np.random.Generator) -> Task:
            return Task(prompt=f"p{int(rng.integers(1000))}", answer="1")

        def score(self, reply: str, task: Task) -> RewardResult:
            return RewardResult(score=float("nan"))

    env = NaNEnv()
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("anything")
    assert reward == 0.0 and terminated and "non-finite" in info["error"]
    assert isinstance(env, gym.Env)


def test_long_reply_keeps_its_final_answer() -> None:
    import grpo_gym.envs  # noqa: F401
    import gymnasium as gym

    env = gym.make("grpo_gym/Arithmetic-v0")
    _, info = env.reset(seed=1)
    reply = "x" * 40_000 + info["reference"]
    assert env.step(reply)[1] == 1.0


def test_non_strict_renaming_is_one_substitution_for_the_whole_answer() -> None:
    """(x, 2x) ~ (y, 2y) under strict=False, but never (x, 2x) ~ (y, 2z) (renamed per element once)."""
    import sympy
    from grpo_gym.rewards import MathVerifyConfig, sym_equal

    x, y, z = sympy.symbols("x y z")
    loose = MathVerifyConfig(strict=False, workers=1)
    assert sym_equal(sympy.Tuple(x, 2 * x), sympy.Tuple(y, 2 * y), loose)
    assert not sym_equal(sympy.Tuple(x, 2 * x), sympy.Tuple(y, 2 * z), loose)
