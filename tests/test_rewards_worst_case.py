"""The worst case: hostile answers are decided by size estimates before any symbolic work.

The corpus (tests/data/hostile_math.json, also timed by benchmarks/verify_bench.py) holds
factorial and power towers, huge binomials, powers inside fractions, nested logarithms, sums and
products with huge bounds and expansion bombs. No timing here (speed lives in benchmarks): each
answer must score 0 without an error, and the cheap checks must decide most of them without
reaching the time limit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sympy import Integer, Rational, sqrt, symbols

from grpo_gym.rewards import MathParseError, Task, math_reward
from grpo_gym.rewards.magnitude import (
    MAX_EXACT_DIGITS,
    check_nesting,
    checked_binomial,
    checked_factorial,
    checked_pow,
)
from grpo_gym.rewards.mathparse import parse_answer

CORPUS = json.loads((Path(__file__).parent / "data" / "hostile_math.json").read_text())


def test_hostile_corpus_scores_zero_and_mostly_without_the_time_limit() -> None:
    timed_out = []
    for row in CORPUS:
        res = math_reward(row["reply"], Task(answer=row["gold"]))
        assert res.error is None, (row, res.error)
        if row["gold"] in ("2", "x"):  # every reply in the corpus is wrong for these golds
            assert res.score == 0.0, row
        if res.timed_out:
            timed_out.append(row["reply"][:40])
    assert len(timed_out) <= 1, timed_out  # only the symbolic 8x8 determinant may run out


@pytest.mark.parametrize(
    "text",
    [
        r"5^{5^{5^{5^5}}}",
        r"9^{9^{9^{9}}}",
        r"\frac{1}{10^{10^{10}}}",
        r"(10^{10})!",
        r"\binom{10^{9}}{10^{8}}",
        r"\sum_{k=1}^{10^{12}} k",
        r"\prod_{k=1}^{10^{9}} k",
        r"\sqrt{2}^{\sqrt{2}^{\sqrt{2}^{\sqrt{2}^{1000}}}}",
        r"(x+1)^{10^{6}}",
        r"\log(\log(\log(\log(\log(\log(\log(\log(2))))))))",
        r"\int_0^{1} x dx",
        r"\lim_{n\to\infty} 1/n",
        "1e999999999",
        r"\frac{1}{" * 30 + "1" + "}" * 30,
    ],
)
def test_hostile_answers_are_refused_while_parsing(text: str) -> None:
    with pytest.raises(MathParseError):
        parse_answer(text)


def test_size_checks_pass_ordinary_numbers() -> None:
    x = symbols("x")
    assert checked_pow(Integer(2), Integer(100)) == 2**100
    assert checked_pow(Integer(10), Integer(-5)) == Rational(1, 100000)
    assert checked_pow(Integer(1), Integer(10) ** 40) == 1
    assert checked_pow(x + 1, Integer(3)) == (x + 1) ** 3
    assert checked_pow(sqrt(2), Integer(1000)) == 2**500
    assert checked_factorial(Integer(100)) > 10**150
    assert checked_binomial(Integer(100), Integer(50)) > 10**28
    assert parse_answer(r"\sum_{k=1}^{10} k").expr == 55
    with pytest.raises(MathParseError, match="digits"):
        checked_pow(Integer(10), Integer(MAX_EXACT_DIGITS + 1))
    with pytest.raises(MathParseError):
        check_nesting("(" * 40 + ")" * 40)
    check_nesting("((((x))))")
