"""Symbolic differentiation."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import sympy as sp

from grpo_gym.rewards import RewardResult, Task, extract_answer, math_reward

from .base import TextEnv

X = sp.Symbol("x")
KINDS = ("poly", "trig", "exp", "log")
#: Notation that would let an answer restate the question instead of differentiating.
_UNSOLVED = re.compile(
    r"\\frac\s*\{\s*d|\bd\s*/\s*d|\\partial|\\prime|'|Derivative|diff|\\int|\\mathrm\{d\}|\\operatorname"
)


@dataclass(frozen=True)
class DerivativeConfig:
    """Difficulty settings (constructor kwargs of ``Derivative``).

    Attributes:
        terms: number of summands in f(x) (1..6).
        kinds: summand kinds to draw from: ``"poly"`` (c·x^n), ``"trig"`` (c·sin(a·x),
            c·cos(a·x)), ``"exp"`` (c·e^(a·x)), ``"log"`` (c·ln(x)).
        max_coef: coefficients are drawn from 1..max_coef (with a random sign).
        max_power: polynomial powers are drawn from 1..max_power.
        products: one summand is a product x^n·g(x) (product rule).
        chain: arguments are a·x + b and may be squared inside sin/cos/exp (chain rule).
    """

    terms: int = 2
    kinds: tuple[str, ...] = KINDS
    max_coef: int = 5
    max_power: int = 4
    products: bool = False
    chain: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", tuple(self.kinds))
        if not 1 <= self.terms <= 6:
            raise ValueError(f"terms must be in 1..6, got {self.terms}")
        if not self.kinds or set(self.kinds) - set(KINDS):
            raise ValueError(f"kinds must be a non-empty subset of {KINDS}, got {self.kinds!r}")
        if not 1 <= self.max_coef <= 50:
            raise ValueError(f"max_coef must be in 1..50, got {self.max_coef}")
        if not 1 <= self.max_power <= 10:
            raise ValueError(f"max_power must be in 1..10, got {self.max_power}")


def _coef(rng: np.random.Generator, cfg: DerivativeConfig) -> int:
    c = int(rng.integers(1, cfg.max_coef + 1))
    return -c if rng.random() < 0.3 else c


def _argument(rng: np.random.Generator, cfg: DerivativeConfig) -> sp.Expr:
    a = int(rng.integers(1, 4))
    if not cfg.chain:
        return a * X
    b = int(rng.integers(-3, 4))
    return a * X**2 + b if rng.random() < 0.3 else a * X + b


def _summand(rng: np.random.Generator, cfg: DerivativeConfig, kind: str) -> sp.Expr:
    if kind == "poly":
        return _coef(rng, cfg) * X ** int(rng.integers(1, cfg.max_power + 1))
    if kind == "trig":
        fn = sp.sin if rng.random() < 0.5 else sp.cos
        return _coef(rng, cfg) * fn(_argument(rng, cfg))
    if kind == "exp":
        return _coef(rng, cfg) * sp.exp(_argument(rng, cfg))
    return _coef(rng, cfg) * sp.log(X if not cfg.chain else X**2 + int(rng.integers(1, 5)))


def answer_part(extracted: str) -> str:
    """The right-hand side of ``f'(x) = ...`` (the whole answer if it has no ``=``)."""
    return extracted.rsplit("=", 1)[-1].strip()


class Derivative(TextEnv):
    """Differentiate a function of x.

    ## Description
    f(x) is a sum of ``terms`` summands drawn from ``kinds`` (powers, sin/cos, exponentials,
    logarithms), optionally with a product-rule summand and chain-rule arguments. The gold
    answer is ``sympy.diff(f, x)``.

    ## Observation
    ``"Find the derivative of $f(x) = 3 x^{2} + \\sin{\\left(2 x \\right)}$ with respect to x.
    Put the final answer in \\boxed{}."``

    ## Action
    The model's reply (str); ``\\boxed{6x + 2\\cos(2x)}`` (a leading ``f'(x) =`` is fine).

    ## Reward
    1.0 if the answer is symbolically equal to f'(x) (``grpo_gym.rewards.math_reward``, time
    limited) and contains no derivative or integral notation (so restating
    ``\\frac{d}{dx} f`` scores 0), else 0.0. Single-turn.

    ## Version History
    * v0: initial version.
    """

    description = "Differentiate f(x): powers, trig, exp, log; product and chain rules"
    reward_kind = "math"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"terms": 1, "kinds": ("poly",), "products": False, "chain": False},
        {"terms": 2, "kinds": ("poly",), "products": False, "chain": False},
        {"terms": 2, "kinds": KINDS, "products": False, "chain": False},
        {"terms": 3, "kinds": KINDS, "products": True, "chain": False},
        {"terms": 3, "kinds": KINDS, "products": True, "chain": True},
    )

    config_class: ClassVar[type] = DerivativeConfig

    def pose_task(self, rng: np.random.Generator) -> tuple[str, Callable[[], Task]]:
        cfg = self.config
        f = sp.Integer(0)
        while not f.free_symbols:
            summands = [
                _summand(rng, cfg, cfg.kinds[int(rng.integers(len(cfg.kinds)))])
                for _ in range(cfg.terms)
            ]
            if cfg.products:
                kind = ("trig", "exp", "log")[int(rng.integers(3))]
                summands[-1] = X ** int(rng.integers(1, 3)) * _summand(rng, cfg, kind)
            f = sp.Add(*summands)
        function = sp.latex(f, ln_notation=True)
        prompt = f"Find the derivative of $f(x) = {function}$ with respect to x. Put the final answer in \\boxed{{}}."

        def build() -> Task:  # the derivative is built only for the prompt that reset keeps
            answer = sp.latex(sp.diff(f, X), ln_notation=True)
            return Task(prompt=prompt, answer=answer, metadata={"function": function})

        return prompt, build

    def score(self, reply: str, task: Task) -> RewardResult:
        extracted = extract_answer(reply)
        if not extracted:
            return RewardResult(score=0.0, components={"correct": 0.0}, reason="no answer found")
        rhs = answer_part(extracted)
        if _UNSOLVED.search(rhs):
            return RewardResult(
                score=0.0,
                components={"correct": 0.0},
                extracted=rhs,
                reason="the answer still contains derivative or integral notation",
            )
        result = math_reward(f"\\boxed{{{rhs}}}", task)  # time-limited symbolic equality
        ok = result.score >= 1.0
        return RewardResult(
            score=float(ok),
            components={"correct": float(ok)},
            extracted=rhs,
            reason=None if ok else result.reason or "not equal to f'(x)",
            timed_out=result.timed_out,
        )
