"""Options for math answer verification (:class:`MathVerifyConfig`).

Every public math function (``verify``, ``math_reward``, ``verify_batch``) takes either a
``config=MathVerifyConfig(...)`` or the same fields as keyword options; the options override
the config. Values are checked in ``__post_init__`` and errors say how to fix them.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

EXTRACTION_MODES: tuple[str, ...] = (
    "boxed",
    "answer_tag",
    "final_answer",
    "answer_colon",
    "latex",
    "last_number",
)
"""Every extraction mode, see :func:`grpo_gym.rewards.extract.extract_answer`."""

DEFAULT_MODES: tuple[str, ...] = EXTRACTION_MODES
"""Default order: the first mode that finds something wins; within a mode the last match wins."""


def default_workers() -> int:
    """Worker processes for symbolic checks: ``$GRPO_GYM_MATH_WORKERS`` or min(2, cpu count)."""
    env = os.environ.get("GRPO_GYM_MATH_WORKERS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True)
class MathVerifyConfig:
    """How answers are extracted and compared.

    Attributes:
        min_significant_digits: the precision policy (:mod:`grpo_gym.rewards.precision`): a
            decimal matches an irrational or recurring value (``3.1416`` for pi, ``0.3333`` for
            1/3) only when it is that value correctly rounded to the digits it states and states
            at least this many significant digits (4: ``3.14`` is not pi). Exact values, and a
            decimal against a terminating value, always compare exactly.
        rel_tol: opt-in relative tolerance whenever a side is written as a decimal (0, the
            default, turns it off); it only adds matches to the precision policy.
        float_rounding: opt-in: a decimal side also matches when both values rounded to this
            many decimal places agree (math-verify's ``float_rounding``); None disables it.
        timeout: the per-check limit: seconds a symbolic check may run in a worker before it
            is killed (score 0, ``timed_out=True``). Cheap decisions come first (sizes of powers,
            factorials and binomials are estimated before they are built, see
            :mod:`grpo_gym.rewards.magnitude`), so only unusual answers get near it.
        max_input_chars: completions longer than this are cut to their last ``max_input_chars``
            characters before extraction (answers sit at the end).
        max_answer_chars: an extracted answer longer than this is not parsed (score 0).
        modes: extraction modes in priority order (see ``EXTRACTION_MODES``).
        strict: if False, expressions equal up to a renaming of their variables match
            (``f(x)`` vs ``f(y)``).
        allow_set_relation: if True, ``x \\in [-2, 7]`` matches ``-2 \\le x \\le 7``.
        join_adjacent_boxed: several ``\\boxed{}`` close together (``\\boxed{1}, \\boxed{2}``)
            form one answer ``{1, 2}``; otherwise only the last box counts.
        percent_as_fraction: ``28\\%`` also matches ``0.28`` (it always matches ``28``).
        workers: size of the worker pool for symbolic checks (the pool is shared by the
            process; a different size resizes it).
    """

    min_significant_digits: int = 4
    rel_tol: float = 0.0
    float_rounding: int | None = None
    timeout: float = 2.5
    max_input_chars: int = 20_000
    max_answer_chars: int = 1_000
    modes: tuple[str, ...] = DEFAULT_MODES
    strict: bool = True
    allow_set_relation: bool = False
    join_adjacent_boxed: bool = True
    percent_as_fraction: bool = True
    workers: int = dataclasses.field(default_factory=default_workers)

    def __post_init__(self) -> None:
        if isinstance(self.modes, str):
            raise TypeError(
                f"modes must be a tuple of mode names, e.g. ({self.modes!r},), not a string"
            )
        object.__setattr__(self, "modes", tuple(self.modes))
        if not isinstance(self.rel_tol, int | float) or not 0 <= self.rel_tol < 1:
            raise ValueError(f"rel_tol={self.rel_tol!r}: use a float in [0, 1), e.g. 1e-6")
        if (
            not isinstance(self.min_significant_digits, int)
            or not 1 <= self.min_significant_digits <= 50
        ):
            raise ValueError(
                f"min_significant_digits={self.min_significant_digits!r}: use an int in 1..50, e.g. 4"
            )
        if self.float_rounding is not None and (
            not isinstance(self.float_rounding, int) or not 0 <= self.float_rounding <= 15
        ):
            raise ValueError(
                f"float_rounding={self.float_rounding!r}: use an int of decimal places in 0..15, or None"
            )
        if not isinstance(self.timeout, int | float) or not 0 < self.timeout <= 600:
            raise ValueError(f"timeout={self.timeout!r}: use seconds in (0, 600], e.g. 2.5")
        if not isinstance(self.max_input_chars, int) or self.max_input_chars < 1:
            raise ValueError(
                f"max_input_chars={self.max_input_chars!r}: use a positive int, e.g. 20000"
            )
        if not isinstance(self.max_answer_chars, int) or self.max_answer_chars < 1:
            raise ValueError(
                f"max_answer_chars={self.max_answer_chars!r}: use a positive int, e.g. 1000"
            )
        if not self.modes:
            raise ValueError(f"modes is empty: give at least one of {EXTRACTION_MODES}")
        unknown = [m for m in self.modes if m not in EXTRACTION_MODES]
        if unknown:
            raise ValueError(f"unknown extraction modes {unknown}: choose from {EXTRACTION_MODES}")
        if len(set(self.modes)) != len(self.modes):
            raise ValueError(f"modes {self.modes} repeats a mode: list each mode once")
        if not isinstance(self.workers, int) or not 1 <= self.workers <= 64:
            raise ValueError(
                f"workers={self.workers!r}: use an int in 1..64 (1 or 2 on a 2-core machine)"
            )

    def replace(self, **options: Any) -> MathVerifyConfig:
        """A copy with ``options`` changed; unknown names raise TypeError listing valid ones."""
        if not options:
            return self
        valid = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise TypeError(f"unknown math option(s) {unknown}; valid options: {sorted(valid)}")
        return dataclasses.replace(self, **options)


def resolve_config(config: MathVerifyConfig | None, options: dict[str, Any]) -> MathVerifyConfig:
    """``config`` (or the defaults) with keyword ``options`` applied on top."""
    base = config if config is not None else _default_config()
    return base.replace(**options)


_DEFAULT: MathVerifyConfig | None = None


def _default_config() -> MathVerifyConfig:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = MathVerifyConfig()
    return _DEFAULT
