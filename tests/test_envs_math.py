"""Behaviour of the math envs: task correctness, answer forms, difficulty, multi-turn, datasets."""

from __future__ import annotations

import ast
import json
import operator
import re
from fractions import Fraction
from pathlib import Path

import gymnasium as gym
import pytest

import grpo_gym.envs as ge
from grpo_gym.envs.dataset import gold_answer, load_problems
from grpo_gym.envs.polynomial import poly_from_roots, split_answer


def _task(env_id: str, seed: int = 0, **kwargs):
    env = gym.make(env_id, **kwargs).unwrapped
    _, info = env.reset(seed=seed)
    return env, info["task"]


def _int_eval(expr: str) -> int:
    """Evaluate OUR generated integer expression (an independent check, via Python's AST)."""
    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}

    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](walk(node.left), walk(node.right))
        raise AssertionError(f"unexpected node {ast.dump(node)}")

    return walk(ast.parse(expr, mode="eval").body)


# ---- Arithmetic --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "settings",
    [{}, {"brackets": False}, {"negatives": True, "terms": 4}, {"digits": 3, "ops": "*"}],
)
def test_arithmetic_answer_is_the_value(settings: dict) -> None:
    env = gym.make("grpo_gym/Arithmetic-v0", **settings).unwrapped
    for seed in range(30):
        _, info = env.reset(seed=seed)
        task = info["task"]
        assert _int_eval(task.metadata["expression"]) == int(task.answer)
        assert "\\boxed{}" in task.prompt


def test_demo_preset_is_single_digit_addition() -> None:
    for env in (
        gym.make("grpo_gym/Arithmetic-v0", digits=1, ops="+", terms=2),
        gym.make("grpo_gym/ArithmeticEasy-v0"),
    ):
        for seed in range(20):
            prompt, info = env.reset(seed=seed)
            assert re.fullmatch(
                r"Calculate \d \+ \d\. Put the final answer in \\boxed\{\}\.", prompt
            ), prompt
            _, reward, *_ = env.step(f"So the sum is \\boxed{{{info['task'].answer}}}.")
            assert reward == 1.0


def test_arithmetic_wrong_answer_scores_zero() -> None:
    env, task = _task("grpo_gym/Arithmetic-v0")
    assert env.score(f"\\boxed{{{int(task.answer) + 1}}}", task).score == 0.0
    assert env.score(f"\\boxed{{{task.answer}}}", task).score == 1.0


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="ops"):
        gym.make("grpo_gym/Arithmetic-v0", ops="/")
    with pytest.raises(ValueError, match="digits"):
        gym.make("grpo_gym/Arithmetic-v0", digits=0)
    with pytest.raises(TypeError):
        gym.make("grpo_gym/Arithmetic-v0", no_such_setting=1)


# ---- curriculum hook ---------------------------------------------------------------------------
def test_set_and_adjust_difficulty() -> None:
    env = gym.make("grpo_gym/Arithmetic-v0").unwrapped
    env.set_difficulty(0)
    assert env.difficulty == 0 and env.config.digits == 1
    assert all(re.search(r"Calculate \d \+ \d\.", env.reset(seed=s)[0]) for s in range(10))
    assert env.adjust_difficulty(0.9) == 1 and env.config.ops == "+-"
    assert env.adjust_difficulty(0.5) == 1
    assert env.adjust_difficulty(0.1) == 0
    assert env.adjust_difficulty(0.0) == 0
    top = len(env.difficulty_levels) - 1
    env.set_difficulty(top)
    assert env.adjust_difficulty(1.0) == top
    with pytest.raises(ValueError, match="out of range"):
        env.set_difficulty(top + 1)
    env.configure(digits=4)
    assert env.config.digits == 4
    with pytest.raises(ValueError, match="unknown settings"):
        env.configure(colour="red")


@pytest.mark.parametrize(
    "env_id",
    [
        "grpo_gym/Fractions-v0",
        "grpo_gym/LinearEquation-v0",
        "grpo_gym/PolynomialRoots-v0",
        "grpo_gym/Expand-v0",
        "grpo_gym/Derivative-v0",
        "grpo_gym/MultiTurnMath-v0",
    ],
)
def test_every_level_generates_solvable_tasks(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    assert env.difficulty_levels
    for level in range(len(env.difficulty_levels)):
        env.set_difficulty(level)
        _, info = env.reset(seed=level)
        assert env.step(info["reference"])[1] == pytest.approx(env.max_reward), level


# ---- Fractions ---------------------------------------------------------------------------------
def test_fractions_reduced_form_required() -> None:
    env = gym.make("grpo_gym/Fractions-v0", ops="+", terms=2).unwrapped
    for seed in range(40):
        _, info = env.reset(seed=seed)
        task = info["task"]
        q = Fraction(task.answer)
        if q.denominator > 1:
            break
    assert env.score(f"\\boxed{{{q.numerator}/{q.denominator}}}", task).score == 1.0
    assert env.score(f"\\boxed{{\\frac{{{q.numerator}}}{{{q.denominator}}}}}", task).score == 1.0
    unreduced = env.score(f"\\boxed{{{2 * q.numerator}/{2 * q.denominator}}}", task)
    assert unreduced.score == 0.5 and "lowest terms" in unreduced.reason
    assert env.score(f"\\boxed{{{q.numerator + 1}/{q.denominator}}}", task).score == 0.0


def test_fractions_decimal_form() -> None:
    env = gym.make("grpo_gym/Fractions-v0", answer_form="decimal", max_denominator=8).unwrapped
    for seed in range(10):
        _, info = env.reset(seed=seed)
        task = info["task"]
        value = Fraction(task.answer)
        assert re.fullmatch(r"-?\d+(\.\d+)?", task.answer)
        assert env.score(f"\\boxed{{{task.answer}}}", task).score == 1.0
        if value.denominator > 1:
            as_fraction = env.score(f"\\boxed{{{value.numerator}/{value.denominator}}}", task)
            assert as_fraction.score == 0.5 and "decimal" in as_fraction.reason


# ---- Linear ------------------------------------------------------------------------------------
def _side_value(side: str, x: Fraction) -> Fraction:
    m = re.fullmatch(r"(?:(-?\d*)x)?\s*(?:([+-]?)\s*(\d+))?", side.strip())
    assert m, side
    coef = m.group(1)
    a = 0 if coef is None else (1 if coef == "" else -1 if coef == "-" else int(coef))
    b = 0 if m.group(3) is None else int(m.group(3)) * (-1 if m.group(2) == "-" else 1)
    return a * x + b


@pytest.mark.parametrize("fractional", [False, True])
def test_linear_solution_satisfies_the_equation(fractional: bool) -> None:
    env = gym.make("grpo_gym/LinearEquation-v0", fractional=fractional).unwrapped
    for seed in range(30):
        _, info = env.reset(seed=seed)
        lhs, rhs = info["task"].metadata["equation"].split("=")
        x = Fraction(info["task"].answer)
        assert _side_value(lhs, x) == _side_value(rhs, x)
    assert env.score(f"x = \\boxed{{{x}}}", info["task"]).score == 1.0
    assert env.score(f"\\boxed{{x = {x}}}", info["task"]).score == 1.0
    assert env.score(f"\\boxed{{{x + 1}}}", info["task"]).score == 0.0


# ---- Polynomial roots --------------------------------------------------------------------------
def test_poly_from_roots() -> None:
    assert poly_from_roots([2, 3], 1) == [1, -5, 6]
    assert poly_from_roots([-1, 0, 1], 2) == [2, 0, -2, 0]


def test_split_answer_forms() -> None:
    assert split_answer("x = -2, x = 3") == ["-2", "3"]
    assert split_answer("\\{-2, 3\\}") == ["-2", "3"]
    assert split_answer("-2 \\text{ and } 3") == ["-2", "3"]
    assert split_answer("x_1 = 4; x_2 = -1") == ["4", "-1"]


def test_polynomial_roots_set_scoring() -> None:
    env, task = _task("grpo_gym/PolynomialRoots-v0", seed=3, degree=3)
    roots = task.metadata["roots"]
    shuffled = ", ".join(map(str, reversed(roots)))
    assert env.score(f"\\boxed{{{shuffled}}}", task).score == 1.0
    assert env.score("\\boxed{" + ", ".join(f"x = {r}" for r in roots) + "}", task).score == 1.0
    missing = env.score("\\boxed{" + ", ".join(map(str, roots[:-1])) + "}", task)
    assert missing.score == 0.0 and "missing" in missing.reason
    extra = env.score("\\boxed{" + ", ".join(map(str, [*roots, 99])) + "}", task)
    assert extra.score == 0.0 and "not roots" in extra.reason


# ---- Expand / Factor / Simplify / Derivative ---------------------------------------------------
def test_expand_requires_an_expanded_answer() -> None:
    env, task = _task("grpo_gym/Expand-v0", seed=1)
    assert env.score(f"\\boxed{{{task.answer}}}", task).score == 1.0
    echo = env.score(f"\\boxed{{{task.metadata['expression']}}}", task)
    assert echo.score == 0.0 and echo.components["correct"] == 1.0 and "not expanded" in echo.reason


def test_factor_requires_a_product_of_irreducibles() -> None:
    env, task = _task("grpo_gym/Factor-v0", seed=0, factors=3)
    assert env.score(f"\\boxed{{{task.answer}}}", task).score == 1.0
    echo = env.score(f"\\boxed{{{task.metadata['expression']}}}", task)  # the expanded polynomial
    assert echo.score == 0.0 and echo.components["correct"] == 1.0
    env2, task2 = _task("grpo_gym/Factor-v0", seed=0)
    assert env2.score("\\boxed{(x - 1)(x + 1)}", with_answer(task2, "x^{2} - 1")).score == 1.0
    partial = env2.score("\\boxed{(x^2 - 1)(x + 2)}", with_answer(task2, "(x - 1)(x + 1)(x + 2)"))
    assert partial.score == 0.0 and partial.components["correct"] == 1.0


def with_answer(task: ge.Task, answer: str) -> ge.Task:
    return ge.Task(prompt=task.prompt, answer=answer, metadata=task.metadata)


def test_simplify_rejects_the_question_back() -> None:
    env = gym.make("grpo_gym/Simplify-v0").unwrapped
    for seed in range(4):
        _, info = env.reset(seed=seed)
        task = info["task"]
        assert env.score(f"\\boxed{{{task.answer}}}", task).score == 1.0
        echo = env.score(f"\\boxed{{{task.metadata['expression']}}}", task)
        assert echo.score == 0.0, task.metadata["expression"]


def test_derivative_rejects_derivative_notation() -> None:
    env, task = _task("grpo_gym/Derivative-v0", seed=2)
    assert env.score(f"f'(x) = \\boxed{{{task.answer}}}", task).score == 1.0
    assert env.score(f"\\boxed{{f'(x) = {task.answer}}}", task).score == 1.0
    cheat = env.score(
        f"\\boxed{{\\frac{{d}}{{dx}}\\left({task.metadata['function']}\\right)}}", task
    )
    assert cheat.score == 0.0 and "notation" in cheat.reason
    assert env.score(f"\\boxed{{{task.metadata['function']}}}", task).score == 0.0


#: Exact prompts of seeds 0 and 7 on each split (the full suite is pinned in test_envs.py).
PINNED_PROMPTS = {
    ("grpo_gym/Derivative-v0", "train"): [
        "Find the derivative of $f(x) = - 4 \\ln{\\left(x \\right)} + \\sin{\\left(2 x \\right)}$ with respect to x. Put the final answer in \\boxed{}.",
        "Find the derivative of $f(x) = - 4 e^{x} + 4 \\ln{\\left(x \\right)}$ with respect to x. Put the final answer in \\boxed{}.",
    ],
    ("grpo_gym/Derivative-v0", "test"): [
        "Find the derivative of $f(x) = - 2 x^{3} + 4 e^{3 x}$ with respect to x. Put the final answer in \\boxed{}.",
        "Find the derivative of $f(x) = - 2 e^{2 x} + 5 \\ln{\\left(x \\right)}$ with respect to x. Put the final answer in \\boxed{}.",
    ],
    ("grpo_gym/Factor-v0", "train"): [
        "Factor completely: $x^{2} + 10 x + 24$. Put the final answer in \\boxed{}.",
        "Factor completely: $x^{2} - 10 x + 24$. Put the final answer in \\boxed{}.",
    ],
    ("grpo_gym/Factor-v0", "test"): [
        "Factor completely: $x^{2} + x - 20$. Put the final answer in \\boxed{}.",
        "Factor completely: $x^{2} + 4 x + 3$. Put the final answer in \\boxed{}.",
    ],
    ("grpo_gym/Simplify-v0", "train"): [
        "Simplify $\\left(x + 2\\right) \\left(x + 4\\right) - \\left(x - 5\\right) \\left(x - 2\\right)$. Put the final answer in \\boxed{}.",
        "Simplify $\\left(x - 5\\right) \\left(x + 6\\right) - \\left(x - 1\\right) \\left(x + 2\\right)$. Put the final answer in \\boxed{}.",
    ],
    ("grpo_gym/Simplify-v0", "test"): [
        "Simplify $\\frac{x^{2} + 10 x + 24}{x + 4}$. Put the final answer in \\boxed{}.",
        "Simplify $\\left(x - 5\\right) \\left(x + 2\\right) - \\left(x - 4\\right) \\left(x + 5\\right)$. Put the final answer in \\boxed{}.",
    ],
}


@pytest.mark.parametrize(("env_id", "split"), sorted(PINNED_PROMPTS))
def test_sympy_envs_keep_their_prompts(env_id: str, split: str) -> None:
    env = gym.make(env_id)
    prompts = [env.reset(seed=s, options={"split": split})[0] for s in (0, 7)]
    assert prompts == PINNED_PROMPTS[env_id, split]


# ---- MathDataset -------------------------------------------------------------------------------
def test_default_dataset_loads_both_answer_styles() -> None:
    env = gym.make("grpo_gym/MathDataset-v0").unwrapped
    assert 30 <= len(env.problems) <= 50
    sizes = env.split_sizes()
    assert sizes["train"] > 0 and sizes["test"] > 0
    styles = {"####" in p.solution for p in env.problems}
    assert styles == {True, False}


def test_gold_answer_styles() -> None:
    assert gold_answer("so 3 + 4 = 7\n#### 7") == "7"
    assert gold_answer("The answer is $\\boxed{\\frac{1}{2}}$.") == "\\frac{1}{2}"
    assert gold_answer("42") == "42"
    assert gold_answer("a long solution\nwithout a final answer") is None


def test_dataset_from_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    rows = [{"q": f"What is {i} + {i}?", "a": f"#### {2 * i}"} for i in range(30)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    env = gym.make("grpo_gym/MathDataset-v0", path=str(path), question_key="q", answer_key="a")
    prompt, info = env.reset(seed=5)
    i = int(re.match(r"What is (\d+)", prompt).group(1))
    assert info["task"].answer == str(2 * i)
    assert env.step(f"\\boxed{{{2 * i}}}")[1] == 1.0


def test_dataset_errors_name_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        gym.make("grpo_gym/MathDataset-v0", path=str(tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "1+1?", "answer": "#### 2"}\n{"question": "2+2?"\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: not valid JSON"):
        load_problems(bad)
    bad.write_text('{"question": "1+1?", "answer": "#### 2"}\n{"question": "2+2?"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: missing or empty string field 'answer'"):
        load_problems(bad)
    bad.write_text('{"question": "1+1?", "answer": "a long solution\\nwith no final answer"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:1: no final answer"):
        load_problems(bad)
    bad.write_text("\n")
    with pytest.raises(ValueError, match="no problems"):
        load_problems(bad)


# ---- Multi-turn --------------------------------------------------------------------------------
def test_multiturn_retries_with_decaying_reward() -> None:
    env = gym.make(
        "grpo_gym/MultiTurnMath-v0", inner="grpo_gym/Arithmetic-v0", max_turns=3, decay=0.5
    )
    prompt, info = env.reset(seed=4)
    answer = info["task"].answer
    assert "3 attempts" in prompt
    obs, reward, terminated, _, step_info = env.step("\\boxed{-99999}")
    assert (
        reward == 0.0
        and not terminated
        and "2 attempts left" in obs
        and answer not in obs.split("Calculate")[0]
    )
    obs, reward, terminated, _, step_info = env.step(f"\\boxed{{{answer}}}")
    assert reward == 0.5 and terminated and step_info["is_success"] and obs == ""
    assert step_info["components"]["attempt_discount"] == 0.5


def test_multiturn_ends_after_max_turns() -> None:
    env = gym.make("grpo_gym/MultiTurnMath-v0", max_turns=2)
    env.reset(seed=0)
    assert env.step("no idea")[2] is False
    _, reward, terminated, truncated, info = env.step("still no idea")
    assert terminated and not truncated and reward == 0.0 and not info["is_success"]
    assert [r.multi_turn for r in ge.list_envs() if r.id == "grpo_gym/MultiTurnMath-v0"] == [True]


# ---- GRPO groups through vector envs -----------------------------------------------------------
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_env_is_one_grpo_group(mode: str) -> None:
    group = 4
    envs = gym.make_vec("grpo_gym/ArithmeticEasy-v0", num_envs=group, vectorization_mode=mode)
    try:
        for seed in (3, 11):
            prompts, infos = envs.reset(seed=[seed] * group)
            assert len(prompts) == group and len(set(prompts)) == 1 and isinstance(prompts[0], str)
            answer = infos["task"][0].answer
            replies = [f"\\boxed{{{answer}}}", "\\boxed{-1}", "I don't know.", f"It is {answer}"]
            _, rewards, terminated, _, step_infos = envs.step(replies)
            assert list(rewards) == [1.0, 0.0, 0.0, 1.0]
            assert terminated.all() and list(step_infos["is_success"]) == [True, False, False, True]
        other, _ = envs.reset(seed=[1, 2, 3, 4])
        assert len(set(other)) > 1
    finally:
        envs.close()
