"""Any grpo-gym env as a TRL dataset and reward: ``to_trl_dataset`` and ``EnvReward``.

A task's scorer often needs Python objects (the ``Rubric`` of a format or instruction task,
an IFEval checker), which a Hugging Face ``Dataset`` cannot store. So a task is stored by what
rebuilds it exactly: its ``TaskSpec`` (env id, settings, seed, split), a JSON string. The seed
alone decides an env's task (the env contract), so ``EnvReward`` resets the env with that seed
and scores a completion with the env's own scorer (``TextEnv.score_reply``): the reward equals
what ``env.step(reply)`` returns after ``env.reset(seed=seed, options={"split": split})``::

    from trl import GRPOConfig, GRPOTrainer
    from grpo_gym.envs.trl import EnvReward, to_trl_dataset

    dataset = to_trl_dataset("grpo_gym/Keywords-v0", 1000, split="train", seed=0)
    trainer = GRPOTrainer(model=..., reward_funcs=[EnvReward()], train_dataset=dataset,
                          args=GRPOConfig(...))

``EnvReward(max_completion_length=N, eos_token_id=tokenizer.eos_token_id)`` (N as in TRL's
config) also tells the env which completions TRL cut at the token limit, so they score as the
env's ``truncated_policy`` says (an answer scorer then takes only an explicit final answer).

The dataset has two columns: ``prompt`` in TRL's conversational format (the env's system
prompt, if any, then the user message) and ``task`` (the ``TaskSpec`` JSON). Datasets of
several envs concatenate (``datasets.concatenate_datasets``): each row names its env.
``EnvReward`` raises ``MissingColumnError`` if the ``task`` column is missing (a renamed or
dropped column would otherwise score every reply 0), and ``TaskMismatchError`` if a row's
prompt is not the prompt its spec rebuilds (the env or its settings changed since the dataset
was built). A multi-turn env is scored on its first attempt (TRL's trainer is single-turn).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grpo_gym.rewards.trl_adapter import completion_text, missing_column
from grpo_gym.rewards.types import Reply, RewardResult, Task

from .base import SPLITS, TextEnv
from .registry import make, resolve_id

TASK_COLUMN = "task"
_CACHE_LIMIT = 4096  # rebuilt tasks kept per EnvReward (a GRPO group shares one task)


class TaskSpecError(ValueError):
    """A ``TaskSpec`` (or its JSON text) is not valid; the message says what to fix."""


class TaskMismatchError(ValueError):
    """A row's prompt is not the prompt its ``TaskSpec`` rebuilds."""


def _json_value(value: Any, where: str) -> Any:
    """``value`` as it comes back from JSON; an error if JSON cannot carry it exactly."""
    try:
        text = json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TaskSpecError(
            f"{where} must be JSON values (str, int, float, bool, None, lists, dicts): {exc}"
        ) from None
    return json.loads(text)


@dataclass(frozen=True)
class TaskSpec:
    """A task of any env as plain data: make ``env_id`` with ``settings``, reset it with
    ``seed`` and ``split``, and the task is there again (the seed alone decides it).

    Attributes:
        env_id: the registered id (namespace optional; stored resolved).
        seed: the ``reset`` seed (an int >= 0).
        split: ``"train"`` or ``"test"``.
        settings: the env's constructor kwargs beyond its registered defaults (JSON values).
    """

    env_id: str
    seed: int
    split: str = "train"
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.env_id, str) or not self.env_id:
            raise TaskSpecError(f"env_id must be a registered env id, got {self.env_id!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise TaskSpecError(f"seed must be an int >= 0, got {self.seed!r}")
        if self.split not in SPLITS:
            raise TaskSpecError(f"split must be one of {SPLITS}, got {self.split!r}")
        if not isinstance(self.settings, Mapping) or not all(
            isinstance(k, str) for k in self.settings
        ):
            raise TaskSpecError(f"settings must be a dict with str keys, got {self.settings!r}")
        settings = _json_value(dict(self.settings), f"settings of {self.env_id}")
        object.__setattr__(self, "env_id", resolve_id(self.env_id))
        object.__setattr__(self, "settings", settings)

    def to_json(self) -> str:
        """The spec as one compact JSON object (the ``task`` column of ``to_trl_dataset``)."""
        data = {"env_id": self.env_id, "seed": self.seed, "split": self.split}
        return json.dumps({**data, "settings": self.settings}, sort_keys=True)

    @classmethod
    def from_json(cls, text: Any) -> TaskSpec:
        """The spec that ``to_json`` wrote; ``TaskSpecError`` for anything else."""
        try:
            data = json.loads(text) if isinstance(text, str | bytes) else None
        except json.JSONDecodeError as exc:
            data, why = None, str(exc)
        else:
            why = "not a JSON object"
        keys = {"env_id", "seed", "split", "settings"}
        if not isinstance(data, dict) or not {"env_id", "seed"} <= set(data) <= keys:
            raise TaskSpecError(
                f"not a TaskSpec JSON ({why}; keys: env_id, seed, split, settings): "
                f"{str(text)[:120]!r}; build the column with grpo_gym.envs.trl.to_trl_dataset"
            )
        return cls(**data)


def _unwrapped(env_id: str, settings: Mapping[str, Any]) -> TextEnv:
    env = make(env_id, **settings).unwrapped
    if not isinstance(env, TextEnv):
        raise TypeError(f"{env_id} is not a grpo_gym TextEnv (it makes {type(env).__name__})")
    return env


def chat_prompt(env: TextEnv, prompt: str) -> list[dict[str, str]]:
    """``prompt`` in TRL's conversational format, after the env's system prompt if it has one."""
    system = [{"role": "system", "content": env.system_prompt}] if env.system_prompt else []
    return [*system, {"role": "user", "content": prompt}]


def trl_rows(
    env_id: str, n: int, *, split: str = "train", seed: int = 0, **settings: Any
) -> list[dict[str, Any]]:
    """``n`` rows ``{"prompt": messages, "task": TaskSpec JSON}`` of env ``env_id`` made with
    ``settings``, reset with seeds ``seed .. seed + n - 1`` in ``split`` (see
    ``to_trl_dataset``; this one needs no ``datasets``)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1 (the number of rows), got {n!r}")
    first = TaskSpec(env_id, seed, split, settings)  # validates everything before the env
    env = _unwrapped(first.env_id, first.settings)
    rows = []
    for i in range(n):
        spec = TaskSpec(first.env_id, seed + i, split, first.settings)
        prompt, _ = env.reset(seed=spec.seed, options={"split": split})
        rows.append({"prompt": chat_prompt(env, prompt), TASK_COLUMN: spec.to_json()})
    return rows


def to_trl_dataset(
    env_id: str, n: int, *, split: str = "train", seed: int = 0, **settings: Any
) -> Any:
    """A ``datasets.Dataset`` of ``n`` tasks of ``env_id`` for TRL's ``GRPOTrainer``.

    Columns: ``prompt`` (conversational: ``[{"role": "user", "content": ...}]``, after a
    ``system`` message if the env has a system prompt) and ``task`` (the ``TaskSpec`` JSON that
    ``EnvReward`` scores against). Row ``i`` is the task of ``reset(seed=seed + i)`` in ``split``;
    ``settings`` are the env's kwargs (JSON values, e.g. ``digits=3``). Needs the ``datasets``
    package (``pip install 'grpo-gym[datasets]'``).
    """
    rows = trl_rows(env_id, n, split=split, seed=seed, **settings)
    try:
        from datasets import Dataset
    except ImportError:
        raise ImportError(
            "to_trl_dataset needs the 'datasets' package: pip install 'grpo-gym[datasets]' "
            "(or use trl_rows, which returns plain dicts)"
        ) from None
    return Dataset.from_list(rows)


def _prompt_text(prompt: Any) -> str | None:
    """The user message of a TRL prompt (a string, or the last user message of a chat)."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        users = [m for m in prompt if isinstance(m, Mapping) and m.get("role") == "user"]
        return str(users[-1].get("content", "")) if users else None
    return None


@dataclass(frozen=True)
class EnvReward:
    """A TRL reward function scoring each completion with its row's env (see module docstring).

    ``EnvReward()(prompts, completions, task=[TaskSpec JSON, ...])`` -> one float per
    completion, the env's own reward. Pass it as ``GRPOTrainer(reward_funcs=[EnvReward()])``.

    Attributes:
        task_column: the column holding the ``TaskSpec`` JSON (``to_trl_dataset``: ``"task"``).
        check_prompts: raise ``TaskMismatchError`` if a row's prompt differs from the prompt
            its spec rebuilds (a stale dataset), instead of scoring against another task.
        name: the name TRL logs the reward under.
        max_completion_length: TRL's ``max_completion_length``. With it (and ``eos_token_id``),
            a completion whose ``completion_ids`` (which TRL passes to reward functions) fill
            the limit without ending in EOS is scored as cut at the token limit
            (``Reply(finish_reason="length")``: only an explicit final answer counts). None:
            every completion is scored as finished.
        eos_token_id: the tokenizer's EOS id (or ids) that end a finished completion.
    """

    task_column: str = TASK_COLUMN
    check_prompts: bool = True
    name: str = "env_reward"
    max_completion_length: int | None = None
    eos_token_id: int | tuple[int, ...] | None = None
    _envs: dict[str, TextEnv] = field(default_factory=dict, init=False, repr=False, compare=False)
    _tasks: dict[str, tuple[TextEnv, Task, str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.task_column, str) or not self.task_column:
            raise ValueError(f"task_column must be a column name, got {self.task_column!r}")

    @property
    def __name__(self) -> str:
        return self.name

    def __getstate__(self) -> dict[str, Any]:  # envs and tasks are rebuilt, never pickled
        return {
            "task_column": self.task_column,
            "check_prompts": self.check_prompts,
            "name": self.name,
            "max_completion_length": self.max_completion_length,
            "eos_token_id": self.eos_token_id,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in {**state, "_envs": {}, "_tasks": {}}.items():
            object.__setattr__(self, key, value)

    def check_columns(self, columns: Sequence[str]) -> None:
        """Raise ``MissingColumnError`` unless ``task_column`` is among ``columns`` (e.g. a
        dataset's ``column_names``; call it before training to fail before any model loads)."""
        if self.task_column not in columns:
            raise missing_column(
                self.task_column,
                columns,
                f"EnvReward (task_column={self.task_column!r})",
                "build the dataset with grpo_gym.envs.trl.to_trl_dataset, or pass "
                "EnvReward(task_column=<the column holding the TaskSpec JSON>)",
            )

    def task(self, spec_json: str) -> tuple[TextEnv, Task, str]:
        """The env, task and reference reply that a ``TaskSpec`` JSON rebuilds (cached)."""
        hit = self._tasks.get(spec_json)
        if hit is not None:
            return hit
        spec = TaskSpec.from_json(spec_json)
        env_key = json.dumps([spec.env_id, spec.settings], sort_keys=True)
        env = self._envs.get(env_key)
        if env is None:
            env = self._envs[env_key] = _unwrapped(spec.env_id, spec.settings)
        _, info = env.reset(seed=spec.seed, options={"split": spec.split})
        if len(self._tasks) >= _CACHE_LIMIT:
            self._tasks.clear()
        hit = self._tasks[spec_json] = (env, info["task"], info["reference"])
        return hit

    def reference(self, spec_json: str) -> str:
        """A reply that earns the env's maximum on this task (the env's reference reply)."""
        return self.task(spec_json)[2]

    def truncated(self, ids: Sequence[int] | None) -> bool:
        """Whether TRL's ``completion_ids`` of one completion were cut at the token limit."""
        if ids is None or self.max_completion_length is None or self.eos_token_id is None:
            return False
        eos = {self.eos_token_id} if isinstance(self.eos_token_id, int) else set(self.eos_token_id)
        return len(ids) >= self.max_completion_length and (not ids or ids[-1] not in eos)

    def score(
        self, completion: Any, spec_json: str, prompt: Any = None, *, truncated: bool = False
    ) -> RewardResult:
        """The env's full ``RewardResult`` for one completion (str or chat messages)."""
        env, task, _ = self.task(spec_json)
        if self.check_prompts and prompt is not None and _prompt_text(prompt) != task.prompt:
            raise TaskMismatchError(
                f"the row's prompt is not the one its {self.task_column!r} column rebuilds "
                f"({spec_json}): the env or its settings changed since the dataset was built. "
                "Rebuild the dataset with to_trl_dataset (or pass check_prompts=False)"
            )
        text = completion_text(completion)
        return env.score_reply(Reply(text, "length" if truncated else "stop"), task)

    def __call__(
        self, prompts: Sequence[Any] | None, completions: Sequence[Any], **columns: Any
    ) -> list[float]:
        self.check_columns(list(columns))
        specs = columns[self.task_column]
        if len(specs) != len(completions):
            raise ValueError(f"{len(completions)} completions for {len(specs)} task specs")
        rows = prompts if prompts is not None else [None] * len(completions)
        ids = columns.get("completion_ids") or [None] * len(completions)
        return [
            float(self.score(c, s, p, truncated=self.truncated(i)).score)  # finite: score_reply
            for c, s, p, i in zip(completions, specs, rows, ids, strict=True)
        ]
