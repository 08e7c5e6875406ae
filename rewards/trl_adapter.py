"""Adapters between TRL-style reward functions and grpo-gym ``RewardFn``s.

A TRL reward function is ``f(prompts, completions, **columns) -> list[float | None]``: one
call per batch, dataset columns passed as keyword lists aligned with ``completions``.

``FromTrl(f)`` makes one a ``RewardFn`` (``FromTrl(f)(completion, task)``) and has a batch
form (``FromTrl(f).batch(completions, tasks)``, one call to ``f``). Columns come from the task:
``task.answer`` as ``answer_column`` (default ``"answer"``; it wins over a metadata key of the
same name) and each ``task.metadata`` item under its own key (None for tasks lacking it).

``ToTrl(rubric)`` goes the other way, so a grpo-gym rubric can be handed to TRL's
``GRPOTrainer(reward_funcs=[ToTrl(rubric, name="rubric")])``. Its ``answer_column`` must be a
column of the dataset: a missing (misnamed) one raises ``MissingColumnError`` naming the columns
there are, instead of scoring every reply 0; pass ``answer_column=None`` for a rubric that needs
no answer. ``check_columns(dataset.column_names)`` runs the same check before training. To train
on a grpo-gym env in TRL, use ``grpo_gym.envs.trl`` (its tasks carry objects a dataset cannot
store; that module stores a task as its env id, settings, seed and split).

Formats: the *standard* (string) format is the one supported: prompts and completions are
``str``. With ``FromTrl(f, conversational=True)`` they are sent to ``f`` as chat message lists
(``[{"role": "user", "content": prompt}]``, ``[{"role": "assistant", "content": completion}]``).
``ToTrl`` accepts both: a message list is reduced to its last message's ``content``.

``None`` means "not applicable" (e.g. a code reward on a math sample). As in TRL (which sums
the weighted rewards ignoring NaN/None), it contributes nothing: the result has score 0,
``components={"applicable": 0.0}`` and reason "not applicable". NaN is treated like None. A
raising ``f``, a result list of the wrong length or a non-numeric entry gives score 0 with
``error`` set; nothing propagates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .rubric import safe_call
from .types import RewardFn, RewardResult, Task

TrlRewardFunc = Callable[..., Sequence[float | None]]

NOT_APPLICABLE = RewardResult(score=0.0, components={"applicable": 0.0}, reason="not applicable")

# Keyword arguments TRL passes that are not per-sample dataset columns.
_NOT_COLUMNS = frozenset(
    {"prompts", "completions", "completion_ids", "trainer_state", "log_extra", "log_metric"}
    | {"environments"}  # TRL's own env instances (its ``environment_factory``)
)


class MissingColumnError(KeyError):
    """A TRL reward function needs a dataset column that is not there (the message says which,
    which columns there are, and how to fix it)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def missing_column(
    column: str, present: Sequence[str], reward: str, fix: str
) -> MissingColumnError:
    """The error for a reward ``reward`` that needs ``column`` among ``present``."""
    shown = sorted(c for c in present if c not in _NOT_COLUMNS)
    return MissingColumnError(
        f"{reward} needs the dataset column {column!r}, which is missing (columns: {shown}): {fix}"
    )


def _error(msg: str) -> RewardResult:
    return RewardResult(score=0.0, reason=msg, error=msg)


def _value_result(value: Any) -> RewardResult:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOT_APPLICABLE
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:  # numpy / torch scalars
            value = float(value)
        except (TypeError, ValueError):
            return _error(f"reward is {type(value).__name__}, not a number")
        if math.isnan(value):
            return NOT_APPLICABLE
    if not math.isfinite(value):
        return _error(f"reward is {value!r}")
    return RewardResult(score=float(value), components={"applicable": 1.0})


@dataclass(frozen=True)
class FromTrl:
    """A TRL reward function as a grpo-gym ``RewardFn`` (see module docstring)."""

    fn: TrlRewardFunc
    answer_column: str | None = "answer"
    conversational: bool = False
    max_score: float = 1.0

    def columns(self, tasks: Sequence[Task]) -> dict[str, list[Any]]:
        keys: list[str] = []
        for task in tasks:
            keys.extend(k for k in task.metadata if k not in keys)
        cols = {k: [t.metadata.get(k) for t in tasks] for k in keys}
        if self.answer_column:
            cols[self.answer_column] = [t.answer for t in tasks]
        return cols

    def batch(self, completions: Sequence[str], tasks: Sequence[Task]) -> list[RewardResult]:
        if len(completions) != len(tasks):
            raise ValueError(f"{len(completions)} completions for {len(tasks)} tasks")
        prompts: list[Any] = [t.prompt for t in tasks]
        comps: list[Any] = list(completions)
        if self.conversational:
            prompts = [[{"role": "user", "content": p}] for p in prompts]
            comps = [[{"role": "assistant", "content": c}] for c in comps]
        try:
            values = list(self.fn(prompts=prompts, completions=comps, **self.columns(tasks)))
        except Exception as exc:  # a broken reward function scores 0, never kills a run
            return [_error(f"{type(exc).__name__}: {exc}")] * len(tasks)
        if len(values) != len(tasks):
            return [_error(f"returned {len(values)} rewards for {len(tasks)} completions")] * len(
                tasks
            )
        return [_value_result(v) for v in values]

    def __call__(self, completion: str, task: Task) -> RewardResult:
        return self.batch([completion], [task])[0]


def completion_text(item: Any) -> str:
    """A standard-format string, or the last message's content of a conversational item."""
    if isinstance(item, str):
        return item
    if isinstance(item, Sequence) and item and isinstance(item[-1], dict):
        return str(item[-1].get("content", ""))
    return ""


@dataclass(frozen=True)
class ToTrl:
    """A grpo-gym ``RewardFn`` as a TRL reward function ``(prompts, completions, **columns)``.

    Builds ``Task(prompt, answer=columns[answer_column][i], metadata=other columns[i])`` per
    sample. Errors inside ``fn`` score 0 (see ``rubric.safe_call``); a missing ``answer_column``
    raises ``MissingColumnError`` (``answer_column=None``: the rubric needs no answer).
    ``__name__`` is ``name`` (TRL logs rewards under it).
    """

    fn: RewardFn
    name: str = "grpo_gym_reward"
    answer_column: str | None = "answer"

    @property
    def __name__(self) -> str:  # type: ignore[override]
        return self.name

    def check_columns(self, columns: Sequence[str]) -> None:
        """Raise ``MissingColumnError`` unless ``answer_column`` is among ``columns`` (e.g. a
        dataset's ``column_names``; call it before training to fail before any model loads)."""
        if self.answer_column is not None and self.answer_column not in columns:
            raise missing_column(
                self.answer_column,
                columns,
                f"ToTrl reward {self.name!r}",
                "rename the gold-answer column, pass ToTrl(..., answer_column=<its name>), "
                "or answer_column=None if the reward needs no answer",
            )

    def tasks(self, prompts: Sequence[Any], **columns: Any) -> list[Task]:
        self.check_columns(list(columns))
        cols = {
            k: v
            for k, v in columns.items()
            if k not in _NOT_COLUMNS
            and isinstance(v, Sequence)
            and not isinstance(v, str)
            and len(v) == len(prompts)
        }
        none: list[Any] = [None] * len(prompts)
        answers = cols.pop(self.answer_column, none) if self.answer_column else none
        return [
            Task(
                prompt=completion_text(p),
                answer=None if answers[i] is None else str(answers[i]),
                metadata={k: v[i] for k, v in cols.items()},
            )
            for i, p in enumerate(prompts)
        ]

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
    ) -> list[float]:
        tasks = self.tasks(prompts, **columns)
        return [
            float(safe_call(self.fn, completion_text(c), t).score)
            for c, t in zip(completions, tasks, strict=True)
        ]
