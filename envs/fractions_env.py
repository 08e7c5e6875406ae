"""Rational arithmetic: answers as reduced fractions or decimals.

(Named ``fractions_env`` so it does not shadow the standard library's ``fractions``.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction
from math import gcd
from typing import Any, ClassVar, Literal

import numpy as np

from grpo_gym.rewards import RewardResult, Task, extract_answer, math_reward

from .base import TextEnv

_SYMBOL = {"+": "+", "-": "-", "*": "×", "/": "÷"}
_FRACTION_RE = re.compile(
    r"^\s*(-?)\s*(?:\\[dt]?frac\{\s*(-?\d+)\s*\}\{\s*(\d+)\s*\}|(-?\d+)\s*/\s*(\d+))\s*$"
)
_DECIMAL_RE = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")


@dataclass(frozen=True)
class FractionsConfig:
    """Difficulty settings (constructor kwargs of ``Fractions``).

    Attributes:
        terms: number of fractions (>= 2).
        max_denominator: denominators are drawn from 2..max_denominator.
        ops: operators to draw from, any of ``"+-*/"`` (shown as + - × ÷).
        answer_form: ``"fraction"`` (lowest terms, e.g. ``7/12``) or ``"decimal"`` (only
            tasks whose value is a terminating decimal are drawn).
    """

    terms: int = 2
    max_denominator: int = 10
    ops: str = "+-*/"
    answer_form: Literal["fraction", "decimal"] = "fraction"

    def __post_init__(self) -> None:
        if not 2 <= self.terms <= 6:
            raise ValueError(f"terms must be in 2..6, got {self.terms}")
        if not 2 <= self.max_denominator <= 100:
            raise ValueError(f"max_denominator must be in 2..100, got {self.max_denominator}")
        if not self.ops or set(self.ops) - set(_SYMBOL):
            raise ValueError(f"ops must be a non-empty string of '+-*/', got {self.ops!r}")
        if self.answer_form not in ("fraction", "decimal"):
            raise ValueError(
                f"answer_form must be 'fraction' or 'decimal', got {self.answer_form!r}"
            )


def _terminates(q: Fraction) -> bool:
    d = q.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _evaluate(values: list[Fraction], ops: list[str]) -> Fraction:
    """Left-to-right with × and ÷ before + and -."""
    total, sign, product = Fraction(0), 1, values[0]
    for op, value in zip(ops, values[1:], strict=True):
        if op == "*":
            product *= value
        elif op == "/":
            product /= value
        else:
            total += sign * product
            sign, product = (1 if op == "+" else -1), value
    return total + sign * product


def _as_text(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def _as_decimal(q: Fraction) -> str:
    digits = 0
    while (q * 10**digits).denominator != 1:
        digits += 1
    return f"{float(q):.{digits}f}" if digits else str(q.numerator)


def unreduced_fraction(text: str | None) -> bool:
    """True if ``text`` is a single fraction ``a/b`` or ``\\frac{a}{b}`` not in lowest terms."""
    m = _FRACTION_RE.match(text or "")
    if not m:
        return False
    num, den = (m.group(2), m.group(3)) if m.group(2) is not None else (m.group(4), m.group(5))
    return int(den) == 0 or gcd(int(num), int(den)) != 1 or int(den) == 1


class Fractions(TextEnv):
    """Add, subtract, multiply and divide fractions.

    ## Description
    ``terms`` proper or improper fractions with denominators up to ``max_denominator`` joined by
    the operators in ``ops`` (× and ÷ bind tighter than + and -). Computed exactly with
    ``fractions.Fraction``.

    ## Observation
    ``"Compute 3/4 + 5/6. Give the answer as a fraction in lowest terms (or an integer),
    e.g. \\boxed{7/12}."`` (or "as a decimal number" for ``answer_form="decimal"``).

    ## Action
    The model's reply (str); the last ``\\boxed{}`` holds the answer.

    ## Reward
    1.0 for the right value in the requested form; 0.5 for the right value in another form
    (a fraction not in lowest terms, or a fraction when a decimal was asked for); else 0.0.
    Components: ``correct`` (value right), ``form`` (form right). Single-turn.

    ## Version History
    * v0: initial version.
    """

    description = "Fraction arithmetic; answer as a reduced fraction (or a decimal)"
    reward_kind = "math"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"terms": 2, "max_denominator": 5, "ops": "+"},
        {"terms": 2, "max_denominator": 10, "ops": "+-"},
        {"terms": 2, "max_denominator": 10, "ops": "+-*/"},
        {"terms": 3, "max_denominator": 12, "ops": "+-*/"},
        {"terms": 4, "max_denominator": 20, "ops": "+-*/"},
    )

    config_class: ClassVar[type] = FractionsConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        for _ in range(1000):
            values = []
            for _ in range(cfg.terms):
                den = int(rng.integers(2, cfg.max_denominator + 1))
                num = int(rng.integers(1, 2 * den))
                while gcd(num, den) != 1:  # show every operand in lowest terms
                    num = int(rng.integers(1, 2 * den))
                values.append(Fraction(num, den))
            ops = [cfg.ops[int(rng.integers(len(cfg.ops)))] for _ in range(cfg.terms - 1)]
            value = _evaluate(values, ops)
            if cfg.answer_form == "fraction" or _terminates(value):
                break
        else:  # pragma: no cover - terminating values are common
            raise RuntimeError("Fractions: could not draw a terminating decimal")
        text = f"{values[0].numerator}/{values[0].denominator}"
        for op, q in zip(ops, values[1:], strict=True):
            text += f" {_SYMBOL[op]} {q.numerator}/{q.denominator}"
        if cfg.answer_form == "fraction":
            answer, how = (
                _as_text(value),
                "as a fraction in lowest terms (or an integer), e.g. \\boxed{7/12}",
            )
        else:
            answer, how = _as_decimal(value), "as a decimal number, e.g. \\boxed{0.75}"
        prompt = f"Compute {text}. Give the answer {how}."
        return Task(
            prompt=prompt,
            answer=answer,
            metadata={"expression": text, "answer_form": cfg.answer_form},
        )

    def score(self, reply: str, task: Task) -> RewardResult:
        result = math_reward(reply, task)
        if result.score < 1.0:
            return result
        extracted = result.extracted if result.extracted is not None else extract_answer(reply)
        if task.metadata.get("answer_form") == "decimal":
            bad_form = not _DECIMAL_RE.match(extracted or "")
            why = "the answer should be a decimal number"
        else:
            bad_form = unreduced_fraction(extracted)
            why = "the fraction is not in lowest terms"
        if not bad_form:
            return replace(result, components={**result.components, "correct": 1.0, "form": 1.0})
        return replace(
            result,
            score=0.5,
            components={**result.components, "correct": 1.0, "form": 0.0},
            reason=why,
        )
