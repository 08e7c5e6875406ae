"""Roots of polynomials with integer roots (the answer is a set)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from grpo_gym.rewards import RewardResult, Task, extract_answer, math_reward

from .base import TextEnv

_INT_RE = re.compile(r"^[+-]?\d+$")
_LHS_RE = re.compile(r"^[a-zA-Z](?:_\{?\w+\}?)?\s*=\s*")
_SEPARATORS = re.compile(r"\\text\{\s*(?:and|or)\s*\}|\band\b|\bor\b|;|\\quad|\\qquad")
_BRACES = re.compile(r"\\left|\\right|\\[{}]|\\\{|\\\}|^\{|\}$|\\,|\$")


@dataclass(frozen=True)
class PolynomialConfig:
    """Difficulty settings (constructor kwargs of ``PolynomialRoots``).

    Attributes:
        degree: the polynomial's degree = the number of distinct integer roots (1..6).
        max_root: roots are drawn from -max_root..max_root.
        max_leading: the leading coefficient is drawn from 1..max_leading.
    """

    degree: int = 2
    max_root: int = 9
    max_leading: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.degree <= 6:
            raise ValueError(f"degree must be in 1..6, got {self.degree}")
        if not 1 <= self.max_root <= 100 or 2 * self.max_root + 1 < self.degree:
            raise ValueError(
                f"max_root must be in 1..100 with room for {self.degree} distinct roots"
            )
        if not 1 <= self.max_leading <= 20:
            raise ValueError(f"max_leading must be in 1..20, got {self.max_leading}")


def poly_from_roots(roots: list[int], leading: int) -> list[int]:
    """Coefficients, highest degree first, of ``leading * prod(x - r)``."""
    coeffs = [leading]
    for r in roots:
        coeffs = [*coeffs, 0]
        for i in range(len(coeffs) - 1, 0, -1):
            coeffs[i] -= r * coeffs[i - 1]
    return coeffs


def poly_latex(coeffs: list[int], var: str = "x") -> str:
    """``x^{3} - 2x^{2} - 5x + 6`` (highest degree first, zero terms skipped)."""
    degree = len(coeffs) - 1
    out = ""
    for i, c in enumerate(coeffs):
        power = degree - i
        if c == 0:
            continue
        mag = abs(c)
        body = (str(mag) if mag != 1 or power == 0 else "") + (
            "" if power == 0 else var if power == 1 else f"{var}^{{{power}}}"
        )
        sign = ("-" if c < 0 else "") if not out else (" - " if c < 0 else " + ")
        out += sign + body
    return out or "0"


def split_answer(text: str) -> list[str]:
    """``"x = -2, x = 3"`` / ``"\\{-2, 3\\}"`` / ``"-2 and 3"`` -> ``["-2", "3"]``."""
    text = _SEPARATORS.sub(",", _BRACES.sub("", text.strip()))
    return [_LHS_RE.sub("", part.strip()).strip() for part in text.split(",") if part.strip()]


def _as_set(items: list[str]) -> str:
    return "\\{" + ", ".join(items) + "\\}"


class PolynomialRoots(TextEnv):
    """Find all real roots of a polynomial.

    ## Description
    ``leading · (x - r1)(x - r2)...`` expanded, with ``degree`` distinct integer roots, shown as
    ``p(x) = 0``.

    ## Observation
    ``"Find all real solutions of $x^{2} - x - 6 = 0$. List them separated by commas inside
    \\boxed{}, e.g. \\boxed{-1, 4}."``

    ## Action
    The model's reply (str); the last ``\\boxed{}`` holds the roots in any order
    (``\\boxed{3, -2}``, ``\\boxed{x = -2, x = 3}`` and ``\\boxed{\\{-2, 3\\}}`` all work).

    ## Reward
    1.0 if the set of answers equals the set of roots; 0.0 otherwise (a missing or an extra root
    scores 0; ``reason`` says which). Single-turn.

    ## Version History
    * v0: initial version.
    """

    description = "Find all roots of a polynomial with integer roots (answer is a set)"
    reward_kind = "math"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"degree": 1, "max_root": 9, "max_leading": 1},
        {"degree": 2, "max_root": 9, "max_leading": 1},
        {"degree": 2, "max_root": 12, "max_leading": 3},
        {"degree": 3, "max_root": 9, "max_leading": 1},
        {"degree": 4, "max_root": 9, "max_leading": 2},
    )

    config_class: ClassVar[type] = PolynomialConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        pool = np.arange(-cfg.max_root, cfg.max_root + 1)
        roots = sorted(int(r) for r in rng.choice(pool, size=cfg.degree, replace=False))
        leading = int(rng.integers(1, cfg.max_leading + 1))
        equation = f"{poly_latex(poly_from_roots(roots, leading))} = 0"
        prompt = (
            f"Find all real solutions of ${equation}$. List them separated by commas inside "
            "\\boxed{}, e.g. \\boxed{-1, 4}."
        )
        answer = ", ".join(map(str, roots))
        return Task(prompt=prompt, answer=answer, metadata={"roots": roots, "equation": equation})

    def score(self, reply: str, task: Task) -> RewardResult:
        extracted = extract_answer(reply)
        if not extracted:
            return RewardResult(score=0.0, components={"correct": 0.0}, reason="no answer found")
        pieces = split_answer(extracted)
        roots = [int(r) for r in task.metadata["roots"]]
        if len(pieces) > 2 * len(roots):
            return RewardResult(
                score=0.0,
                components={"correct": 0.0},
                extracted=extracted,
                reason=f"{len(pieces)} answers for {len(roots)} roots",
            )
        if all(_INT_RE.match(p) for p in pieces):  # the common case: decided in-process, no sympy
            got = {int(p) for p in pieces}
            missing, extra = sorted(set(roots) - got), sorted(got - set(roots))
            if not missing and not extra:
                return RewardResult(score=1.0, components={"correct": 1.0}, extracted=extracted)
            reason = "; ".join(
                s
                for s in (
                    f"missing {len(missing)} root(s)" if missing else "",
                    f"not roots: {extra}" if extra else "",
                )
                if s
            )
            return RewardResult(
                score=0.0, components={"correct": 0.0}, extracted=extracted, reason=reason
            )
        # symbolic pieces (\frac{4}{2}, 2.0 ...): ONE set comparison under one hard time limit
        r = math_reward(
            f"\\boxed{{{_as_set(pieces)}}}", Task(answer=_as_set([str(x) for x in roots]))
        )
        return RewardResult(
            score=r.score,
            components={"correct": r.score},
            extracted=extracted,
            reason=r.reason,
            timed_out=r.timed_out,
            error=r.error,
        )
