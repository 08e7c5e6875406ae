"""Symbolic algebra: Simplify, Expand and Factor (answers checked symbolically, under a time limit).

Each answer must be (1) equal to the gold expression — ``grpo_gym.rewards.math_reward`` — and
(2) in the requested form: expanded, a product of irreducible factors, or no longer than the
gold simplification. The form checks parse the model's answer with the safe
``grpo_gym.rewards.parse_math`` inside ``run_limited`` (a killable worker), never ``sympify``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import sympy as sp

from grpo_gym.rewards import (
    RewardResult,
    Task,
    WorkerError,
    extract_answer,
    math_reward,
    parse_math,
    run_limited,
)

from .base import TextEnv

X = sp.Symbol("x")
FORM_TIMEOUT = 5.0


@dataclass(frozen=True)
class AlgebraConfig:
    """Difficulty settings (constructor kwargs of ``Simplify``, ``Expand`` and ``Factor``).

    Attributes:
        factors: number of factors multiplied together (2..4).
        max_coef: coefficients are drawn from -max_coef..max_coef.
        max_leading: leading coefficients of linear factors are drawn from 1..max_leading.
        max_power: a factor may be raised to a power up to this (1 = no powers).
    """

    factors: int = 2
    max_coef: int = 6
    max_leading: int = 1
    max_power: int = 1

    def __post_init__(self) -> None:
        if not 2 <= self.factors <= 4:
            raise ValueError(f"factors must be in 2..4, got {self.factors}")
        if not 2 <= self.max_coef <= 50:
            raise ValueError(f"max_coef must be in 2..50, got {self.max_coef}")
        if not 1 <= self.max_leading <= 9:
            raise ValueError(f"max_leading must be in 1..9, got {self.max_leading}")
        if not 1 <= self.max_power <= 3:
            raise ValueError(f"max_power must be in 1..3, got {self.max_power}")


def _linear(rng: np.random.Generator, cfg: AlgebraConfig) -> sp.Expr:
    a = int(rng.integers(1, cfg.max_leading + 1))
    b = int(rng.integers(1, cfg.max_coef + 1)) * (1 if rng.random() < 0.5 else -1)
    return a * X + b


def _product(rng: np.random.Generator, cfg: AlgebraConfig) -> sp.Expr:
    """A product of ``cfg.factors`` distinct linear factors (some raised to a power), unevaluated."""
    linears: list[sp.Expr] = []
    while len(linears) < cfg.factors:
        factor = _linear(rng, cfg)
        if factor not in linears or len(linears) >= 2 * cfg.max_coef:
            linears.append(factor)
    parts = []
    for factor in linears:
        power = int(rng.integers(1, cfg.max_power + 1))
        parts.append(sp.Pow(factor, power, evaluate=False) if power > 1 else factor)
    return sp.Mul(*parts, evaluate=False)


# ---- form checks (run in a worker through run_limited; arguments are plain text) ---------------
def _parse(text: str) -> sp.Expr | None:
    try:
        expr = parse_math(text)
    except ValueError:  # MathParseError: not math
        return None
    return expr if isinstance(expr, sp.Expr) else None


def is_expanded(answer: str) -> bool:
    """No product or integer power of a sum is left in ``answer``."""
    expr = _parse(answer)
    if expr is None:
        return False
    for node in sp.preorder_traversal(expr):
        if node.is_Mul and any(arg.is_Add for arg in node.args):
            return False
        if node.is_Pow and node.base.is_Add and node.exp.is_Integer and node.exp > 1:
            return False
    return True


def is_factored(answer: str) -> bool:
    """``answer`` is a product (or power) whose non-constant factors are irreducible over Q."""
    expr = _parse(answer)
    if expr is None or not (expr.is_Mul or expr.is_Pow):
        return False
    bases = [f.base if f.is_Pow else f for f in (expr.args if expr.is_Mul else (expr,))]
    bases = [b for b in bases if b.free_symbols]
    if not bases:
        return False
    for base in bases:
        if not base.is_polynomial():
            return False
        _, irreducible = sp.factor_list(base)
        if len(irreducible) != 1 or irreducible[0][1] != 1:
            return False
    return True


def is_simplified(answer: str, gold: str) -> bool:
    """``answer`` has at most one operation more than the gold simplification."""
    expr, target = _parse(answer), _parse(gold)
    if expr is None or target is None:
        return False
    return sp.count_ops(expr) <= sp.count_ops(target) + 1


# ---- envs --------------------------------------------------------------------------------------
class _AlgebraEnv(TextEnv):
    """An expression to transform: ``"{instruction} ${expression}$. Put the final answer in \\boxed{}."``."""

    reward_kind = "math"
    #: The prompt's opening words, before the expression.
    instruction: ClassVar[str] = ""
    form_reason: ClassVar[str] = ""

    config_class: ClassVar[type] = AlgebraConfig

    def pose_expression(self, rng: np.random.Generator) -> tuple[str, Callable[[], str]]:
        """Draw the question's LaTeX, and a function that computes the gold answer's LaTeX."""
        raise NotImplementedError

    def check_form(self, answer: str, task: Task) -> bool:
        raise NotImplementedError

    def pose_task(self, rng: np.random.Generator) -> tuple[str, Callable[[], Task]]:
        question, gold = self.pose_expression(rng)
        prompt = f"{self.instruction} ${question}$. Put the final answer in \\boxed{{}}."
        return prompt, lambda: Task(prompt=prompt, answer=gold(), metadata={"expression": question})

    def score(self, reply: str, task: Task) -> RewardResult:
        extracted = extract_answer(reply)
        if not extracted:
            return RewardResult(
                score=0.0, components={"correct": 0.0, "form": 0.0}, reason="no answer found"
            )
        # time-limited symbolic equality; no echo check (the form check below says "not
        # expanded" / "not factored" about an answer that restates the question)
        equal = math_reward(reply, dataclasses.replace(task, prompt=""))
        if equal.score < 1.0:
            return RewardResult(
                score=0.0,
                components={"correct": 0.0, "form": 0.0},
                extracted=extracted,
                reason=equal.reason or "not equal to the answer",
                timed_out=equal.timed_out,
            )
        try:
            form_ok = bool(self.check_form(extracted, task))
        except WorkerError:  # the check itself failed on this answer: not in the requested form
            form_ok = False
        except TimeoutError:  # CheckTimeout
            return RewardResult(
                score=0.0,
                components={"correct": 1.0, "form": 0.0},
                extracted=extracted,
                reason="form check timed out",
                timed_out=True,
            )
        if not form_ok:
            return RewardResult(
                score=0.0,
                components={"correct": 1.0, "form": 0.0},
                extracted=extracted,
                reason=self.form_reason,
            )
        return RewardResult(
            score=1.0, components={"correct": 1.0, "form": 1.0}, extracted=extracted
        )


_LEVELS: tuple[dict[str, Any], ...] = (
    {"factors": 2, "max_coef": 5, "max_leading": 1, "max_power": 1},
    {"factors": 2, "max_coef": 9, "max_leading": 1, "max_power": 1},
    {"factors": 2, "max_coef": 9, "max_leading": 3, "max_power": 1},
    {"factors": 3, "max_coef": 6, "max_leading": 2, "max_power": 2},
    {"factors": 4, "max_coef": 9, "max_leading": 3, "max_power": 2},
)


class Expand(_AlgebraEnv):
    """Expand a product of linear factors.

    ## Description
    ``factors`` linear factors ``(a·x + b)`` (some raised to a power up to ``max_power``); the
    gold answer is their expanded polynomial.

    ## Observation
    ``"Expand and simplify $(x + 2)(x - 3)$. Put the final answer in \\boxed{}."``

    ## Action
    The model's reply (str); the last ``\\boxed{}`` holds the polynomial.

    ## Reward
    1.0 if the answer equals the product AND is expanded (no product or power of a sum
    remains; checked on the parsed answer under a time limit), else 0.0. Components
    ``correct`` and ``form``. Single-turn.

    ## Version History
    * v0: initial version.
    """

    description = "Expand a product of linear factors into a polynomial"
    instruction = "Expand and simplify"
    form_reason = "the answer is equal but not expanded"
    difficulty_levels = _LEVELS

    def pose_expression(self, rng: np.random.Generator) -> tuple[str, Callable[[], str]]:
        product = _product(rng, self.config)
        return sp.latex(product), lambda: sp.latex(sp.expand(product))

    def check_form(self, answer: str, task: Task) -> bool:
        return run_limited(is_expanded, answer, timeout=FORM_TIMEOUT)


class Factor(_AlgebraEnv):
    """Factor a polynomial completely.

    ## Description
    A polynomial with integer coefficients built as a product of ``factors`` linear factors
    (distinct, each up to ``max_power``), shown expanded.

    ## Observation
    ``"Factor completely: $x^{2} - x - 6$. Put the final answer in \\boxed{}."``

    ## Action
    The model's reply (str); ``\\boxed{(x - 3)(x + 2)}``.

    ## Reward
    1.0 if the answer equals the polynomial AND is a product whose non-constant factors are
    irreducible over Q (checked on the parsed answer in a worker, under a time limit; a check
    that runs out of time scores 0 with ``timed_out=True``), else 0.0. Single-turn.

    ## Version History
    * v0: initial version.
    """

    description = "Factor a polynomial completely (answer must be a product)"
    instruction = "Factor completely:"
    form_reason = "the answer is equal but not a product of irreducible factors"
    difficulty_levels = _LEVELS

    def pose_expression(self, rng: np.random.Generator) -> tuple[str, Callable[[], str]]:
        poly = sp.expand(_product(rng, self.config))
        return sp.latex(poly), lambda: sp.latex(sp.factor(poly))

    def check_form(self, answer: str, task: Task) -> bool:
        return run_limited(is_factored, answer, timeout=FORM_TIMEOUT)


class Simplify(_AlgebraEnv):
    """Simplify a rational expression or a difference of products.

    ## Description
    Either ``P(x)·(x + a) / (x + a)`` with both written expanded (the common factor cancels)
    or ``(x + a)(x + b) - (x + c)(x + d)`` (the squares cancel); ``factors`` sets the size of
    ``P``.

    ## Observation
    ``"Simplify $\\frac{x^{2} + 5 x + 6}{x + 2}$. Put the final answer in \\boxed{}."``

    ## Action
    The model's reply (str); ``\\boxed{x + 3}``.

    ## Reward
    1.0 if the answer equals the expression AND has at most one operation more than the gold
    simplification (``sympy.count_ops`` of the parsed answer, under a time limit), else 0.0.
    Copying the question back scores 0. Single-turn.

    ## Version History
    * v0: initial version.
    """

    description = "Simplify a rational expression or a difference of products"
    instruction = "Simplify"
    form_reason = "the answer is equal but not simplified"
    difficulty_levels = _LEVELS

    def pose_expression(self, rng: np.random.Generator) -> tuple[str, Callable[[], str]]:
        cfg = self.config
        if rng.random() < 0.5:
            common = _linear(rng, cfg)
            keep = sp.Mul(*[_linear(rng, cfg) for _ in range(cfg.factors - 1)])
            expr = sp.Mul(
                sp.expand(keep * common),
                sp.Pow(sp.expand(common), -1, evaluate=False),
                evaluate=False,
            )
            return sp.latex(expr), lambda: sp.latex(sp.expand(keep))
        a, b, c, d = (_linear(rng, cfg) for _ in range(4))
        while sp.expand(a * b - c * d) == 0:
            d = _linear(rng, cfg)
        question = (
            f"{sp.latex(sp.Mul(a, b, evaluate=False))} - {sp.latex(sp.Mul(c, d, evaluate=False))}"
        )
        return question, lambda: sp.latex(sp.expand(a * b - c * d))

    def check_form(self, answer: str, task: Task) -> bool:
        return run_limited(is_simplified, answer, task.answer, timeout=FORM_TIMEOUT)
