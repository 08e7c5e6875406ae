"""Linear equations in one unknown."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from grpo_gym.rewards import RewardResult, Task, math_reward

from .base import TextEnv


@dataclass(frozen=True)
class LinearConfig:
    """Difficulty settings (constructor kwargs of ``LinearEquation``).

    Attributes:
        max_coef: coefficients and constants are drawn from -max_coef..max_coef.
        max_solution: integer solutions are drawn from -max_solution..max_solution.
        both_sides: the unknown appears on both sides (``3x + 4 = x - 2``).
        fractional: the solution may be a fraction (``x = -3/4``).
        variable: the unknown's name.
    """

    max_coef: int = 9
    max_solution: int = 10
    both_sides: bool = True
    fractional: bool = False
    variable: str = "x"

    def __post_init__(self) -> None:
        if not 2 <= self.max_coef <= 1000:
            raise ValueError(f"max_coef must be in 2..1000, got {self.max_coef}")
        if not 1 <= self.max_solution <= 10**6:
            raise ValueError(f"max_solution must be in 1..10^6, got {self.max_solution}")
        if len(self.variable) != 1 or not self.variable.isalpha():
            raise ValueError(f"variable must be one letter, got {self.variable!r}")


def _side(coef: int, const: int, var: str) -> str:
    """``3x - 4``, ``-x``, ``7`` ..."""
    parts = []
    if coef:
        parts.append(("" if abs(coef) == 1 else str(abs(coef))) + var)
        sign = "-" if coef < 0 else ""
        parts[0] = sign + parts[0]
    if const or not parts:
        parts.append(str(const) if not parts else f"{'-' if const < 0 else '+'} {abs(const)}")
    return " ".join(parts)


def _nonzero(rng: np.random.Generator, bound: int) -> int:
    value = int(rng.integers(1, bound + 1))
    return -value if rng.random() < 0.5 else value


class LinearEquation(TextEnv):
    """Solve a linear equation for the unknown.

    ## Description
    ``a·x + b = c·x + d`` with integer coefficients (``c = 0`` when ``both_sides=False``) and a
    unique solution, an integer unless ``fractional=True``.

    ## Observation
    ``"Solve for x: 3x + 4 = -2x + 19. Put the final answer in \\boxed{}."``

    ## Action
    The model's reply (str); ``\\boxed{3}`` or ``\\boxed{x = 3}``.

    ## Reward
    1.0 if the answer equals the solution (``grpo_gym.rewards.math_reward``), else 0.0.
    Single-turn.

    ## Version History
    * v0: initial version.
    """

    description = "Solve a linear equation a·x + b = c·x + d for x"
    reward_kind = "math"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"max_coef": 5, "max_solution": 5, "both_sides": False, "fractional": False},
        {"max_coef": 9, "max_solution": 10, "both_sides": False, "fractional": False},
        {"max_coef": 9, "max_solution": 10, "both_sides": True, "fractional": False},
        {"max_coef": 20, "max_solution": 20, "both_sides": True, "fractional": True},
        {"max_coef": 99, "max_solution": 50, "both_sides": True, "fractional": True},
    )

    config_class: ClassVar[type] = LinearConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        a = _nonzero(rng, cfg.max_coef)
        c = 0
        if cfg.both_sides:
            c = _nonzero(rng, cfg.max_coef)
            while c == a:
                c = _nonzero(rng, cfg.max_coef)
        b = int(rng.integers(-cfg.max_coef, cfg.max_coef + 1))
        if cfg.fractional:
            d = int(
                rng.integers(-cfg.max_coef * cfg.max_solution, cfg.max_coef * cfg.max_solution + 1)
            )
            x = Fraction(d - b, a - c)
        else:
            x = Fraction(int(rng.integers(-cfg.max_solution, cfg.max_solution + 1)))
            d = int((a - c) * x + b)
        v = cfg.variable
        equation = f"{_side(a, b, v)} = {_side(c, d, v)}"
        answer = str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
        prompt = f"Solve for {v}: {equation}. Put the final answer in \\boxed{{}}."
        return Task(prompt=prompt, answer=answer, metadata={"equation": equation, "variable": v})

    def score(self, reply: str, task: Task) -> RewardResult:
        return math_reward(reply, task)
