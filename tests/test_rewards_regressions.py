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
        (
            "<think>a<think>b</think></think><answer>5</answer>",
            0.0,
        ),  # nested duplicate (review finding)
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
    import gymnasium as gym

    import grpo_gym.envs  # noqa: F401

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


# ---- "or" glued to the letters around it: "x=1orx=-1" reads like "x=1 or x=-1" ----------------
GLUED_OR_GOLDS = [r"\{1,-1\}", "1, -1", r"x = 1 \text{ or } x = -1", r"x = \pm 1"]


@pytest.mark.parametrize("gold", GLUED_OR_GOLDS)
@pytest.mark.parametrize(
    "reply",
    [r"\boxed{x=1orx=-1}", "So $x=1orx=-1$", r"\boxed{x=1 orx=-1}", r"\boxed{x = 1 or x = -1}"],
)
def test_or_glued_to_letters_splits_like_the_spaced_form(gold: str, reply: str) -> None:
    assert math_reward(reply, Task(answer=gold)).score == 1.0


@pytest.mark.parametrize("gold", GLUED_OR_GOLDS)
@pytest.mark.parametrize("reply", [r"\boxed{x=1orx=2}", r"\boxed{x=1orx=1}"])
def test_or_glued_still_compares_every_part(gold: str, reply: str) -> None:
    assert math_reward(reply, Task(answer=gold)).score == 0.0


def test_glued_or_with_a_function_on_the_left() -> None:
    gold = r"W(x) = 1 \text{ or } W(x) = -1"
    assert math_reward(r"$W(x)=1orW(x)=-1$", Task(answer=gold)).score == 1.0


@pytest.mark.parametrize(
    "text",
    ["color", "north", "random", "x_{color}=3", r"\operatorname{ord}_7(2)=3", "(1,2)", "10orange"],
)
def test_words_containing_or_and_are_not_split(text: str) -> None:
    from grpo_gym.rewards.normalize import normalize

    assert ", " not in normalize(text)[0]


def test_text_answers_containing_or_still_match() -> None:
    assert math_reward(r"\boxed{\text{color}}", Task(answer=r"\text{color}")).score == 1.0
    assert math_reward(r"\boxed{\text{north}}", Task(answer=r"\text{north}")).score == 1.0
    assert math_reward(r"\boxed{\text{north}}", Task(answer=r"\text{south}")).score == 0.0


# ---- an absolute-value bound is the interval it describes: |x-1|<2 is (-1, 3) ----------------
@pytest.mark.parametrize(
    ("gold", "reply", "score"),
    [
        ("(-1,3)", r"\boxed{|x-1|<2}", 1.0),
        ("(-1,3)", r"$\left|x-1\right| < 2$", 1.0),
        ("(-1,3)", r"\boxed{2 > |1-x|}", 1.0),
        ("[-1,3]", r"\boxed{|x-1| \le 2}", 1.0),
        ("(-1,2)", r"\boxed{|1-2x|<3}", 1.0),
        (r"(1-\sqrt{2}, 1+\sqrt{2})", r"\boxed{|x-1|<\sqrt{2}}", 1.0),
        ("-1<x<3", r"\boxed{|x-1|<2}", 1.0),
        ("|x-1|<2", r"\boxed{-1 < x < 3}", 1.0),
        ("|x-1|<2", r"\boxed{(-1,3)}", 1.0),
        ("(-1,3)", r"\boxed{|x-1| \le 2}", 0.0),  # closed vs open
        ("(-2,4)", r"\boxed{|x-1|<2}", 0.0),
        ("(-1,3)", r"\boxed{|x-1|>2}", 0.0),  # outside: a union, not this interval
        ("(-1,3)", r"\boxed{|x^2-1|<2}", 0.0),  # not linear inside: not converted
        ("(-1,3)", r"\boxed{|x-y|<2}", 0.0),
        ("(-1,3)", r"\boxed{|x-1|<a}", 0.0),
        ("-1<y<3", r"\boxed{|x-1|<2}", 0.0),  # another variable (strict)
    ],
)
def test_absolute_value_bound_matches_its_interval(gold: str, reply: str, score: float) -> None:
    assert math_reward(reply, Task(answer=gold)).score == score
