"""``Rubric``: weighted reward functions combined into one score, every component kept.

    rubric = Rubric([("format", ThinkAnswerFormat(), 0.2), ("correct", AnswerTagEquals(), 1.0)])
    result = rubric(completion, task)
    result.score       # 0.2 * format + 1.0 * correct
    result.components  # {"format": 1.0, "format/well_formed": 1.0, ..., "correct": 0.0}

Component scores are stored unweighted under the item's name; a component's own components
are stored under ``"name/sub"`` (recursively, so nested rubrics give ``"a/b/c"``). A reward
function that raises scores 0 for its component; the error text is recorded in the result's
``error`` (``"name: ValueError: ..."``) and ``reason``, and nothing propagates.

Per-task constraints: reward functions take their parameters at construction (frozen
dataclasses, picklable, comparable) and do not read ``task.metadata``. An env with per-task
constraints builds a ``Rubric`` per task and stores it in ``task.metadata["rubric"]``;
``TaskRubric()`` is the reward function that scores that stored rubric, so a trainer holding
only ``Task`` objects can score without the env.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .types import RewardFn, RewardResult, Task

EPS = 1e-9


def max_score_of(fn: Any) -> float:
    """The best score ``fn`` can give: its ``max_score`` attribute, else 1.0."""
    value = getattr(fn, "max_score", 1.0)
    return float(value) if isinstance(value, int | float) else 1.0


def safe_call(fn: RewardFn, completion: str, task: Task) -> RewardResult:
    """Call ``fn``; an exception or a non-``RewardResult`` return becomes score 0 with ``error``."""
    try:
        result = fn(completion, task)
    except Exception as exc:  # a broken reward function scores 0, never kills a run
        msg = f"{type(exc).__name__}: {exc}"
        return RewardResult(score=0.0, reason=f"raised {msg}", error=msg)
    if not isinstance(result, RewardResult):
        msg = f"returned {type(result).__name__}, not RewardResult"
        return RewardResult(score=0.0, reason=msg, error=msg)
    if not math.isfinite(result.score):
        msg = f"returned non-finite score {result.score!r}"
        return RewardResult(score=0.0, reason=msg, error=msg)
    return result


@dataclass(frozen=True)
class RubricItem:
    """One weighted component of a ``Rubric``."""

    name: str
    fn: RewardFn
    weight: float = 1.0


@dataclass(frozen=True, init=False)
class Rubric:
    """Weighted sum of reward functions (see module docstring).

    Args:
        items: ``RubricItem``s or ``(name, fn, weight)`` / ``(name, fn)`` tuples; names unique
            and free of ``"/"``.
        normalize: divide the weighted sum by ``Σ weight·max_score`` of the positive-weight
            items, so a reply meeting every component scores 1.0.
    """

    items: tuple[RubricItem, ...]
    normalize: bool

    def __init__(
        self, items: Iterable[RubricItem | tuple[Any, ...]], normalize: bool = False
    ) -> None:
        parsed = tuple(it if isinstance(it, RubricItem) else RubricItem(*it) for it in items)
        names = [it.name for it in parsed]
        if not parsed:
            raise ValueError("a Rubric needs at least one item")
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate rubric item names in {names}")
        for it in parsed:
            if not it.name or "/" in it.name:
                raise ValueError(f"bad rubric item name {it.name!r}: non-empty, no '/'")
            if not callable(it.fn):
                raise TypeError(f"rubric item {it.name!r}: fn is not callable")
            if not math.isfinite(it.weight):
                raise ValueError(f"rubric item {it.name!r}: weight must be finite")
        object.__setattr__(self, "items", parsed)
        object.__setattr__(self, "normalize", bool(normalize))
        if self.normalize and self._raw_max() <= 0:
            raise ValueError("normalize=True needs a positive raw max_score")

    def _raw_max(self) -> float:
        return sum(it.weight * max_score_of(it.fn) for it in self.items if it.weight > 0)

    @property
    def max_score(self) -> float:
        """The best total score: 1.0 when normalized, else ``Σ weight·max_score`` (weight > 0)."""
        return 1.0 if self.normalize else self._raw_max()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(it.name for it in self.items)

    def __call__(self, completion: str, task: Task) -> RewardResult:
        total = 0.0
        components: dict[str, float] = {}
        reasons: list[str] = []
        errors: list[str] = []
        extracted: str | None = None
        timed_out = False
        for it in self.items:
            res = safe_call(it.fn, completion, task)
            total += it.weight * res.score
            components[it.name] = float(res.score)
            for key, value in res.components.items():
                components[f"{it.name}/{key}"] = float(value)
            if res.error is not None:
                errors.append(f"{it.name}: {res.error}")
            if res.reason is not None and res.score < max_score_of(it.fn) - EPS:
                reasons.append(f"{it.name}: {res.reason}")
            if extracted is None:
                extracted = res.extracted
            timed_out = timed_out or res.timed_out
        if self.normalize:
            total /= self._raw_max()
        return RewardResult(
            score=total,
            components=components,
            extracted=extracted,
            reason="; ".join(reasons) or None,
            timed_out=timed_out,
            error="; ".join(errors) or None,
        )


@dataclass(frozen=True)
class PassFail:
    """1.0 if ``fn`` reaches its own ``max_score`` (and did not error), else 0.0.

    Keeps ``fn``'s components and reason, so ``Rubric([(n, PassFail(c)) ...], normalize=True)``
    is "fraction of constraints fully satisfied" and ``PassFail(rubric)`` is "all or nothing".
    """

    fn: RewardFn
    max_score: float = 1.0

    def __call__(self, completion: str, task: Task) -> RewardResult:
        res = safe_call(self.fn, completion, task)
        ok = res.error is None and res.score >= max_score_of(self.fn) - EPS
        return RewardResult(
            score=self.max_score if ok else 0.0,
            components=dict(res.components),
            extracted=res.extracted,
            reason=None if ok else (res.reason or "not fully satisfied"),
            timed_out=res.timed_out,
            error=res.error,
        )


@dataclass(frozen=True)
class TaskRubric:
    """Scores the per-task rubric stored at ``task.metadata[key]`` (a reward function)."""

    key: str = "rubric"
    max_score: float = 1.0

    def __call__(self, completion: str, task: Task) -> RewardResult:
        fn = task.metadata.get(self.key) if isinstance(task.metadata, Mapping) else None
        if fn is None or not callable(fn):
            msg = f"task.metadata has no reward function under {self.key!r}"
            return RewardResult(score=0.0, reason=msg, error=msg)
        return safe_call(fn, completion, task)
