"""Types shared by every reward function: the task scored against, and the result.

A reward function is pure: ``fn(completion: str, task: Task) -> RewardResult``. It never
raises on bad model text (that is a score of 0 with a ``reason``) and never runs that text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Task:
    """What a completion is scored against.

    Attributes:
        prompt: the user message the model answered.
        answer: the gold answer as text (plain, ``$...$`` or ``\\boxed{}``), or None for
            tasks with no single answer (formatting tasks).
        metadata: task-specific data for the reward functions (constraints, keywords, ...).
    """

    prompt: str = ""
    answer: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RewardResult:
    """A score with the evidence behind it.

    Attributes:
        score: the reward (a float; most functions give 0..1, penalties may be negative).
        components: per-component scores, e.g. ``{"correct": 1.0, "format": 0.5}``.
        extracted: the answer extracted from the completion, if the function extracts one.
        reason: why the score is below the maximum (None when it is full marks).
        timed_out: a symbolic check ran past its time limit (the score is then 0).
        error: the error text if the function itself failed (the score is then 0).
    """

    score: float
    components: Mapping[str, float] = field(default_factory=dict)
    extracted: str | None = None
    reason: str | None = None
    timed_out: bool = False
    error: str | None = None


RewardFn = Callable[[str, Task], RewardResult]
