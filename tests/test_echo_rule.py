"""The echo rule (issue 30): a final answer that restates the expression the problem asks to
simplify, rewrite, expand, factor, rationalise, compute or evaluate is no answer."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from grpo_gym.envs.benchmark_data import shipped_rows
from grpo_gym.rewards import Task, math_reward, verify
from grpo_gym.rewards.echo import ECHO_REASON, echo_key, problem_expressions, restates_problem
from grpo_gym.rewards.extract import extract_gold
from grpo_gym.rewards.unicode_math import ascii_math

SAMPLES = Path(__file__).parents[1] / "benchmarks/results/math500-smollm2-135m-vllm.samples.jsonl"
SUFFIX = "\n\nPut the final answer in \\boxed{}."


def _math500() -> list[tuple[str, str]]:
    """(prompt as MATH500-v0 poses it, gold answer) of the 500 shipped problems."""
    return [
        (r["problem"].strip() + SUFFIX, str(r["answer"]))
        for r in shipped_rows("math500_test.jsonl")
    ]


def _sample_rows() -> list[dict]:
    """The committed greedy replies, keyed by row order (row i has ``"problem": i``)."""
    rows = [json.loads(line) for line in SAMPLES.read_text().splitlines()]
    assert [r["problem"] for r in rows] == list(range(len(rows)))
    return rows


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("Simplify $\\sqrt{242}$.", ["\\sqrt{242}"]),
        ("Write the expression \\[\\frac{4+6a}{5}\\] as a single fraction.", ["\\frac{4+6a}{5}"]),
        ("What is $1^{(2^{235423523})}$?", ["1^{(2^{235423523})}"]),
        ("Calculate 12 + 35. Put the final answer in \\boxed{}.", ["12 + 35"]),
        ("Let $x = 3$. Evaluate $x^2 + 1$. Use $y$.", ["x^2 + 1"]),  # only the verb's sentence
        ("The cost is \\$5 and $a$ is $2$.", []),  # no instruction verb
        (
            "Simplify\n\\[\\cos \\left( x \\right).\\]\n\nPut it in a box.",
            ["\\cos \\left( x \\right)."],
        ),
    ],
)
def test_problem_expressions(prompt: str, expected: list[str]) -> None:
    assert problem_expressions(prompt) == expected


def test_echo_key_ignores_spacing_sizing_and_frac_spelling() -> None:
    a = r"\cos \left( \frac{2 \pi}{15} \right) \cos \left (\frac {4 \pi}{15} \right)."
    b = r"$\cos ( \dfrac{2\pi}{15} )\cos(\frac{4\pi}{15})$"
    assert echo_key(a) == echo_key(b)
    assert echo_key(r"\frac{3}{4}") == echo_key("3/4") == "3/4"
    assert echo_key(r"\frac{1}{23}") != echo_key(r"\frac{12}{3}")


def test_restates_problem_and_its_guards() -> None:
    prompt = "Simplify $\\sqrt{242}$."
    assert restates_problem("\\sqrt{242}", prompt)
    assert restates_problem("\\sqrt{242} = \\sqrt{242}", prompt)  # the value after "=" restates
    assert not restates_problem("11\\sqrt{2}", prompt)
    assert not restates_problem("\\sqrt{242} = 11\\sqrt{2}", prompt)
    # the gold itself is never an echo, even where the problem states it
    gold_prompt = "What is $\\sqrt{53}$ in simplest radical form?"
    assert restates_problem("\\sqrt{53}", gold_prompt)
    assert not restates_problem("\\sqrt{53}", gold_prompt, gold="\\sqrt{53}")
    assert not restates_problem(" \\sqrt{ 53 } ", gold_prompt, gold="\\sqrt{53}")
    # a plain number is judged on its value, never as an echo
    assert not restates_problem("7", "Is $7$ prime? Find $7$.")
    assert not restates_problem("", prompt) and not restates_problem("x", "")


@pytest.mark.parametrize("row", [37, 43, 171, 378, 303])
def test_committed_math500_echoes_score_zero(row: int) -> None:
    """#37, #43, #171 and #378 were scored correct, #303 (the same kind) wrong: now all 0."""
    sample = _sample_rows()[row]
    golds = dict(_math500())
    result = math_reward(
        sample["reply"], Task(prompt=sample["prompt"], answer=golds[sample["prompt"]])
    )
    assert result.score == 0.0 and result.reason == ECHO_REASON, (result, sample["reply"][-200:])


def test_303_and_37_behave_alike() -> None:
    rows, golds = _sample_rows(), dict(_math500())
    results = [
        math_reward(
            rows[i]["reply"], Task(prompt=rows[i]["prompt"], answer=golds[rows[i]["prompt"]])
        )
        for i in (37, 303)
    ]
    assert [(r.score, r.reason) for r in results] == [(0.0, ECHO_REASON)] * 2


def test_no_math500_gold_is_an_echo_of_its_own_problem() -> None:
    """Each of the 500 golds, boxed or written out with other spacing, scores 1 on its own
    problem; without the gold guard exactly one gold (``\\sqrt{53}``) would be an echo."""
    unguarded = []
    for prompt, gold in _math500():
        task = Task(prompt=prompt, answer=gold)
        for reply in (f"The answer is $\\boxed{{{gold}}}$.", f"Final answer: $ {gold} $"):
            result = math_reward(reply, task)
            assert result.reason != ECHO_REASON, (prompt, gold, reply)
        assert math_reward(f"\\boxed{{{gold}}}", task).score == 1.0, (prompt, gold)
        ans = extract_gold(ascii_math(gold))
        assert ans is not None and not restates_problem(ans, prompt, gold=ans)
        if restates_problem(ans, prompt):
            unguarded.append(gold)
    assert unguarded == ["\\sqrt{53}"]


def test_without_a_prompt_there_is_no_echo_check() -> None:
    assert verify("11\\sqrt2", "so \\boxed{\\sqrt{242}}")  # verify(gold, completion) as before
    task = Task(prompt="Simplify $\\sqrt{242}$.", answer="11\\sqrt2")
    assert math_reward("so \\boxed{\\sqrt{242}}", task).reason == ECHO_REASON
    assert math_reward("so \\boxed{11\\sqrt{2}}", task).score == 1.0


def test_math500_env_scores_an_echo_zero() -> None:
    import gymnasium as gym

    import grpo_gym.envs  # noqa: F401

    env = gym.make("grpo_gym/MATH500-v0").unwrapped
    for seed in range(200):
        prompt, _ = env.reset(seed=seed, options={"split": "test"})
        if prompt.startswith("Simplify $\\sqrt{242}$."):
            break
    else:
        pytest.skip("no seed of 200 drew the problem")
    _, reward, _, _, step_info = env.step("$\\sqrt{242}$ is $\\sqrt{242}$.")
    assert reward == 0.0 and step_info["reason"] == ECHO_REASON


@pytest.mark.parametrize(
    ("answer", "prompt"),
    [
        ("x", "$" * 50_000),
        ("x", "Simplify " * 5_000 + "$x" * 5_000),
        ("\\[" * 5_000, "\\[" * 20_000 + "Find \\(" * 5_000),
        ("{a}" * 2_000, "Evaluate $" + "{a}" * 5_000 + "$."),
    ],
)
def test_echo_rule_is_linear_time(answer: str, prompt: str) -> None:
    start = time.perf_counter()
    restates_problem(answer, prompt)
    assert time.perf_counter() - start < 1.0
