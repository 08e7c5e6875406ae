"""Types shared by every reward function: the task scored against, and the result.

A reward function is pure: ``fn(completion: str, task: Task) -> RewardResult``. It never
raises on bad model text (that is a score of 0 with a ``reason``) and never runs that text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


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

FinishReason = Literal["stop", "length"]
FINISH_REASONS = ("stop", "length")


class Reply(str):
    """A model reply that knows how its generation ended: the channel from engine to scorer.

    ``finish_reason`` is ``"stop"`` (the model ended its turn: EOS, end-of-turn token or one of
    the env's stop strings), ``"length"`` (cut at the token limit, ``max_new_tokens``) or None
    (unknown: a plain ``str`` reply is treated as ``"stop"``). It is a ``str``, so every env,
    reward function and Gymnasium check takes it unchanged; scorers that care read
    :func:`finish_reason`. Slicing or concatenating returns a plain ``str`` (the reason is lost
    on purpose: a piece of a reply is not the reply); :func:`with_finish_reason` re-attaches it.

    >>> r = Reply("so the answer is 4", "length")
    >>> r == "so the answer is 4", finish_reason(r)
    (True, 'length')
    """

    finish_reason: FinishReason | None

    def __new__(cls, text: str, finish_reason: FinishReason | None = None) -> Reply:
        if finish_reason is not None and finish_reason not in FINISH_REASONS:
            raise ValueError(
                f"finish_reason must be one of {FINISH_REASONS} or None, got {finish_reason!r}"
            )
        obj = super().__new__(cls, text)
        obj.finish_reason = finish_reason
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (async vector envs, worker pools)
        return (Reply, (str(self), self.finish_reason))

    def __repr__(self) -> str:
        return f"Reply({str.__repr__(self)}, finish_reason={self.finish_reason!r})"


def finish_reason(reply: str) -> FinishReason | None:
    """How ``reply`` ended: ``"stop"``, ``"length"``, or None for a plain ``str``."""
    return getattr(reply, "finish_reason", None)


def is_truncated(reply: str) -> bool:
    """True when ``reply`` was cut at the token limit (``finish_reason == "length"``)."""
    return finish_reason(reply) == "length"


def with_finish_reason(text: str, like: str) -> str:
    """``text`` carrying ``like``'s finish reason (a plain ``str`` when ``like`` has none)."""
    reason = finish_reason(like)
    return text if reason is None else Reply(text, reason)
