"""Integer arithmetic expressions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from grpo_gym.rewards import RewardResult, Task, math_reward

from .base import TextEnv

BOXED = "Put the final answer in \\boxed{}."
_PRECEDENCE = {"+": 1, "-": 1, "*": 2}


@dataclass(frozen=True)
class ArithmeticConfig:
    """Difficulty settings (constructor kwargs of ``Arithmetic``).

    Attributes:
        digits: operands have exactly this many digits (1 means 0..9).
        terms: number of operands (>= 2).
        ops: the operators to draw from, any of ``"+-*"``.
        negatives: operands may be negative (written in parentheses, e.g. ``(-7)``).
        brackets: nest sub-expressions in parentheses; without, a flat chain that is evaluated
            with the usual precedence (``*`` before ``+``/``-``).
    """

    digits: int = 2
    terms: int = 3
    ops: str = "+-*"
    negatives: bool = False
    brackets: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.digits <= 12:
            raise ValueError(f"digits must be in 1..12, got {self.digits}")
        if not 2 <= self.terms <= 12:
            raise ValueError(f"terms must be in 2..12, got {self.terms}")
        if not self.ops or set(self.ops) - set(_PRECEDENCE):
            raise ValueError(f"ops must be a non-empty string of '+', '-', '*', got {self.ops!r}")


def _operand(rng: np.random.Generator, cfg: ArithmeticConfig) -> int:
    low = 0 if cfg.digits == 1 else 10 ** (cfg.digits - 1)
    value = int(rng.integers(low, 10**cfg.digits))
    return -value if cfg.negatives and value and rng.random() < 0.5 else value


def _literal(value: int, first: bool) -> str:
    return str(value) if value >= 0 or first else f"({value})"


def _apply(op: str, a: int, b: int) -> int:
    return a + b if op == "+" else a - b if op == "-" else a * b


def _flat(rng: np.random.Generator, cfg: ArithmeticConfig) -> tuple[str, int]:
    """``a op b op c ...`` evaluated with precedence: sum of products."""
    values = [_operand(rng, cfg) for _ in range(cfg.terms)]
    ops = [cfg.ops[int(rng.integers(len(cfg.ops)))] for _ in range(cfg.terms - 1)]
    text = _literal(values[0], True)
    total, sign, product = 0, 1, values[0]
    for op, value in zip(ops, values[1:], strict=True):
        text += f" {op} {_literal(value, False)}"
        if op == "*":
            product *= value
        else:
            total += sign * product
            sign, product = (1 if op == "+" else -1), value
    return text, total + sign * product


def _tree(
    rng: np.random.Generator, cfg: ArithmeticConfig, n: int, first: bool
) -> tuple[str, int, bool]:
    """A random expression tree over ``n`` operands: (text, value, is_leaf)."""
    if n == 1:
        value = _operand(rng, cfg)
        return _literal(value, first), value, True
    left_n = int(rng.integers(1, n))
    op = cfg.ops[int(rng.integers(len(cfg.ops)))]
    lt, lv, l_leaf = _tree(rng, cfg, left_n, first)
    rt, rv, r_leaf = _tree(rng, cfg, n - left_n, False)
    lt = lt if l_leaf else f"({lt})"
    rt = rt if r_leaf else f"({rt})"
    return f"{lt} {op} {rt}", _apply(op, lv, rv), False


class Arithmetic(TextEnv):
    """Evaluate an integer arithmetic expression.

    ## Description
    A random expression over ``terms`` integers of ``digits`` digits with the operators in
    ``ops`` (``+ - *``), optionally with negative operands and nested parentheses. The value is
    computed exactly with Python integers.

    ## Observation
    ``"Calculate 37 * (12 - 5). Put the final answer in \\boxed{}."``

    ## Action
    The model's reply (str); the last ``\\boxed{}`` (or final number) is the answer.

    ## Reward
    1.0 if the answer equals the value (checked by ``grpo_gym.rewards.math_reward``), else 0.0.
    Single-turn.

    ## Arguments
    ``gymnasium.make("grpo_gym/Arithmetic-v0", digits=1, terms=2, ops="+", negatives=False,
    brackets=False)`` — see ``ArithmeticConfig``. ``grpo_gym/ArithmeticEasy-v0`` is exactly
    that: single-digit addition for a quick CPU demo.

    ## Version History
    * v0: initial version.
    """

    description = "Evaluate an integer expression (+, -, *; digits/terms/negatives/brackets)"
    reward_kind = "math"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"digits": 1, "terms": 2, "ops": "+", "negatives": False, "brackets": False},
        {"digits": 1, "terms": 2, "ops": "+-", "negatives": False, "brackets": False},
        {"digits": 2, "terms": 2, "ops": "+-", "negatives": False, "brackets": False},
        {"digits": 2, "terms": 3, "ops": "+-*", "negatives": False, "brackets": True},
        {"digits": 2, "terms": 4, "ops": "+-*", "negatives": True, "brackets": True},
        {"digits": 3, "terms": 5, "ops": "+-*", "negatives": True, "brackets": True},
    )

    config_class: ClassVar[type] = ArithmeticConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        if cfg.brackets:
            text, value, _ = _tree(rng, cfg, cfg.terms, True)
        else:
            text, value = _flat(rng, cfg)
        return Task(
            prompt=f"Calculate {text}. {BOXED}", answer=str(value), metadata={"expression": text}
        )

    def score(self, reply: str, task: Task) -> RewardResult:
        return math_reward(reply, task)
