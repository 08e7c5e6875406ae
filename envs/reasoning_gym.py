"""``grpo_gym/ReasoningGym-v0``: any reasoning-gym task generator as a text env.

reasoning-gym (``pip install 'grpo-gym[reasoning-gym]'``) generates procedural tasks (arithmetic
chains, puzzles, logic, graphs, ...) and scores answers with each task's own ``score_answer``.
This module imports it only when the env is made, so ``grpo-gym envs list`` works without it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import io
import logging
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from grpo_gym.rewards.extract import find_boxed
from grpo_gym.rewards.format import extract_tag
from grpo_gym.rewards.pool import CheckTimeout, WorkerError, get_pool, run_limited
from grpo_gym.rewards.types import RewardResult, Task

from .base import MAX_PROMPT_CHARS, EnvSettingsError, TextEnv
from .reasoning_gym_tasks import register_task_envs
from .registry import register

ENV_ID = "grpo_gym/ReasoningGym-v0"
ANSWER_FORMAT = "Give your final answer inside <answer></answer> tags."
_RESERVED = ("seed", "size")  # set per task by the env: the reset seed decides the task
_ITEMS: dict[tuple[str, str, int], tuple[Any, dict[str, Any], str]] = {}  # a few recent items
_ITEMS_LIMIT = 256
#: Item seeds drawn for one task at most: a task whose prompt does not fit the observation
#: space (``MAX_PROMPT_CHARS``) is redrawn (codeio: 8 of 300 seeds; 1 in 3000 is still too long
#: after 3 draws at that rate, so 64 draws never run out in practice).
MAX_REDRAWS = 64
_QUIET = threading.RLock()  # one generation at a time inside the stdout/stderr redirection
log = logging.getLogger(__name__)


@contextlib.contextmanager
def _captured() -> Iterator[io.StringIO]:
    """Everything reasoning-gym's generators print or warn inside the block goes into the yielded
    buffer, not to the user's terminal (codeio prints "Error generating I/O pair: No module named
    'scipy'" and its generated code raises SyntaxWarnings). stdout, stderr and the warnings
    filters are process-wide, so generations are serialised by a lock: two overlapping
    redirections could otherwise leave ``sys.stdout`` pointing at a buffer."""
    buf = io.StringIO()
    with (
        _QUIET,
        contextlib.redirect_stdout(buf),
        contextlib.redirect_stderr(buf),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        yield buf
    for w in caught:
        buf.write(f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})\n")


class ReasoningGymUnavailable(ImportError):
    """reasoning-gym is not installed (the message says which extra to install)."""


def _reasoning_gym() -> Any:
    try:
        with _captured():  # importing it compiles every generator: SyntaxWarnings
            import reasoning_gym
    except ImportError:
        raise ReasoningGymUnavailable(
            f"{ENV_ID} needs reasoning-gym: pip install 'grpo-gym[reasoning-gym]'"
        ) from None
    return reasoning_gym


def _item(task: str, options: Mapping[str, Any], seed: int) -> tuple[Any, dict[str, Any]]:
    """reasoning-gym's dataset of ``task`` seeded with ``seed`` (one item) and that item."""
    dataset, entry, _ = _generated(task, options, seed)
    return dataset, entry


def _generated(task: str, options: Mapping[str, Any], seed: int) -> tuple[Any, dict[str, Any], str]:
    """``_item`` and what the generator printed or warned while making it ("" if nothing)."""
    key = (task, repr(sorted(options.items())), seed)
    hit = _ITEMS.get(key)
    if hit is None:
        rg = _reasoning_gym()
        with _captured() as out:
            dataset = rg.create_dataset(task, seed=seed, size=1, **options)
            entry = dataset[0]
        noise = out.getvalue().strip()
        if noise:
            log.debug("reasoning-gym %s (item seed %d) said: %s", task, seed, noise)
        if len(_ITEMS) >= _ITEMS_LIMIT:
            _ITEMS.clear()
        hit = _ITEMS[key] = (dataset, entry, noise)
    return hit


def score_item(
    task: str, options: Mapping[str, Any], seed: int, entry: Mapping[str, Any], answer: str
) -> float:
    """reasoning-gym's own score of ``answer`` on ``entry`` (run in the worker pool).

    ``entry`` is the item the prompt was made from, passed in rather than generated again here:
    a few of reasoning-gym's generators depend on the process's hash seed
    (``reasoning_gym_tasks.HASH_SEED_DEPENDENT``), so the worker could otherwise score against
    another item.
    """
    dataset, _ = _item(task, options, seed)
    return float(dataset.score_answer(answer, dict(entry)))


def curriculum_levels(task: str, options: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    """Difficulty presets from ``task``'s reasoning-gym curriculum, easiest first: level L sets
    every curriculum attribute to its level ``min(L, last)`` (reasoning-gym's
    ``set_global_level``); ``options`` keeps the user's other settings. () without one."""
    factory = _reasoning_gym().factory
    if not factory.has_curriculum(task):
        return ()
    curriculum = factory.create_curriculum(task)
    attributes = curriculum.attributes.values()
    names = [
        name
        for attr in attributes
        for name in (
            (attr.lower_field_name, attr.upper_field_name)
            if hasattr(attr, "lower_field_name")
            else (attr.field_name,)
        )
    ]
    presets = []
    for level in range(max((len(attr.levels) for attr in attributes), default=0)):
        curriculum.set_global_level(level)
        try:  # some curricula reach settings their own task rejects: those levels are left out
            config = curriculum.generate_configuration({**options, "seed": 0, "size": 1})
            if hasattr(config, "validate"):  # 2 of reasoning-gym's configs have none
                config.validate()
        except (AssertionError, ValueError, TypeError):
            continue
        presets.append({"options": {**options, **{n: getattr(config, n) for n in names}}})
    return tuple(presets)


def task_names() -> list[str]:
    """Every reasoning-gym task name (needs reasoning-gym)."""
    return sorted(_reasoning_gym().factory.DATASETS)


@dataclass(frozen=True)
class ReasoningGymConfig:
    """Settings of ``ReasoningGym``: the reasoning-gym ``task`` name, its config ``options``
    (fields of its reasoning-gym config class, except ``seed`` and ``size``) and the time limit
    of one ``score_answer`` call in seconds."""

    task: str = "chain_sum"
    options: Mapping[str, Any] = field(default_factory=dict)
    score_timeout: float = 10.0

    def __post_init__(self) -> None:
        names = task_names()
        if self.task not in names:
            close = difflib.get_close_matches(str(self.task), names, n=5, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else f"choose one of {names}"
            raise ValueError(f"unknown reasoning-gym task {self.task!r}: {hint}")
        _, config_class = _reasoning_gym().factory.DATASETS[self.task]
        known = sorted({f.name for f in dataclasses.fields(config_class)} - set(_RESERVED))
        bad = sorted(set(self.options) - set(known))
        if bad:
            raise EnvSettingsError(
                f"reasoning-gym task {self.task!r} has no option(s) {bad} ('seed' and 'size' are "
                f"set by the env): its options are {known}"
            )
        if not float(self.score_timeout) > 0:
            raise ValueError(f"score_timeout must be > 0 seconds, got {self.score_timeout}")
        try:
            _, entry = _item(self.task, self.options, 0)
        except (AssertionError, ValueError, TypeError) as exc:
            raise ValueError(
                f"reasoning-gym rejected the options {dict(self.options)} of {self.task!r}: {exc}"
            ) from None
        if not isinstance(entry.get("answer"), str):
            raise ValueError(
                f"reasoning-gym task {self.task!r} has no single gold answer (its checker accepts "
                "several), so this env cannot build a reply that scores the maximum: choose "
                "another task"
            )


class ReasoningGym(TextEnv):
    """Any reasoning-gym task: its question as the prompt, scored by its own ``score_answer``.

    ## Description
    ``task`` names a reasoning-gym dataset (``"chain_sum"``, ``"leg_counting"``, ... : see
    ``reasoning_gym.factory.DATASETS``); other kwargs are that dataset's config options
    (``gymnasium.make("grpo_gym/ReasoningGym-v0", task="chain_sum", min_terms=3)``). The reset
    seed draws an item seed from ``np_random``, and the item is reasoning-gym's item 0 of the
    dataset with that seed, so the seed alone decides the task. Train and test are disjoint by
    the hash of the question (10 % test), as in the other envs.

    ## Observation
    reasoning-gym's question, then ``"Give your final answer inside <answer></answer> tags."``
    Always within the observation space (``MAX_PROMPT_CHARS`` characters): an item whose prompt
    is longer (codeio: 8 of 300 seeds) is redrawn from the same ``np_random``, so the seed still
    decides the task (``metadata["redraws"]`` counts the redraws). What the generator prints or
    warns (codeio: "Error generating I/O pair: ...", SyntaxWarnings) is kept out of the
    terminal: it is in ``metadata["generator_output"]`` and logged at DEBUG level.

    ## Action
    The reply (str). The answer is the content of its last ``<answer>...</answer>`` tag (else
    of its last ``\\boxed{...}``), whitespace-stripped.

    ## Reward
    reasoning-gym's ``score_answer(answer, entry)`` (in [0, 1]; 1 for the gold answer, partial
    credit for some tasks), 0 with a reason if no answer is found. The call runs in the worker
    pool with a hard time limit (``score_timeout``, default 10 s): some scorers parse or
    evaluate the model's answer. Single-turn.

    ## Arguments
    ``task``, ``score_timeout`` and the task's options (``ReasoningGymConfig``). Tasks whose
    items have no single gold answer (``graph_color``, ``boxnet``, ...) are refused.
    ``reasoning_gym/<task>-v0`` is this env with ``task`` set (``reasoning_gym_tasks.py``).

    ## Difficulty
    A task with a reasoning-gym curriculum has one difficulty level per curriculum level
    (``set_difficulty(level)``, ``adjust_difficulty(pass_rate)``): level L puts every curriculum
    attribute at its level L (or its last), as reasoning-gym's ``set_global_level`` does.
    Levels whose settings the task itself rejects (a few curricula reach them) are left out.

    ## Version History
    * v0: initial version (reasoning-gym >= 0.1.25). Later fixed: a seed whose item's prompt
      exceeded the observation space (breaking Gymnasium's contract) now poses a redrawn item;
      every other seed poses the same task as before.
    """

    description = "Any reasoning-gym task (task=NAME), scored by reasoning-gym's score_answer"
    reward_kind: ClassVar[str] = "reasoning"
    family: ClassVar[str] = "reasoning-gym"

    def __init__(
        self,
        render_mode: str | None = None,
        task: str = "chain_sum",
        score_timeout: float = 10.0,
        **options: Any,
    ) -> None:
        super().__init__(render_mode)
        self.config = ReasoningGymConfig(task, dict(options), score_timeout)
        # the task's own curriculum (set_difficulty / adjust_difficulty), made per instance
        self.difficulty_levels = curriculum_levels(task, options)  # type: ignore[misc]

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        redraws = 0
        while True:
            seed = int(rng.integers(0, 2**31 - 1))
            _, entry, noise = _generated(cfg.task, cfg.options, seed)
            prompt = f"{entry['question'].strip()}\n\n{ANSWER_FORMAT}"
            if len(prompt) <= MAX_PROMPT_CHARS:  # else outside the observation space: redraw
                break
            redraws += 1
            if redraws == MAX_REDRAWS:
                raise RuntimeError(
                    f"reasoning-gym task {cfg.task!r} made {MAX_REDRAWS} prompts in a row longer "
                    f"than the observation space's {MAX_PROMPT_CHARS} characters: lower its size "
                    "options"
                )
        meta = {
            "task": cfg.task,
            "options": dict(cfg.options),
            "item_seed": seed,
            "timeout": float(cfg.score_timeout),
            "redraws": redraws,
        }
        if noise:
            meta["generator_output"] = noise
        return Task(prompt=prompt, answer=entry["answer"], metadata=meta)

    def reference(self, task: Task) -> str:
        return f"<answer>{task.answer}</answer>"

    def score(self, reply: str, task: Task) -> RewardResult:
        answer = extract_tag(reply)
        if answer is None:
            boxes = find_boxed(reply, closed_only=True)
            answer = boxes[-1][2].strip() if boxes else None
        if not answer:
            return RewardResult(0.0, {"correct": 0.0}, reason="no <answer> tag or \\boxed{} found")
        meta = task.metadata
        _, entry = _item(meta["task"], meta["options"], meta["item_seed"])
        args = (meta["task"], meta["options"], meta["item_seed"], entry, answer)
        try:
            get_pool().preload("reasoning_gym", __name__)  # imports outside the time limit
            value = run_limited(score_item, *args, timeout=meta["timeout"])
        except CheckTimeout as exc:
            return RewardResult(0.0, {"correct": 0.0}, answer, str(exc), timed_out=True)
        except WorkerError as exc:  # the task's scorer raised on this answer
            why = str(exc).splitlines()[0]
            return RewardResult(0.0, {"correct": 0.0}, answer, f"reasoning-gym scorer: {why}")
        value = min(max(value, 0.0), 1.0)
        reason = None if value >= 1.0 else f"reasoning-gym scored {value:g}"
        return RewardResult(value, {"correct": value}, answer, reason)


def register_reasoning_gym() -> None:
    """Register ``grpo_gym/ReasoningGym-v0`` and, where reasoning-gym is installed, the
    ``reasoning_gym/<task>-v0`` ids (idempotent; reasoning-gym is imported on make only)."""
    register_task_envs()
    if ENV_ID not in gym.registry:
        register(
            ENV_ID,
            "grpo_gym.envs.reasoning_gym:ReasoningGym",
            source="reasoning-gym",
            family="reasoning-gym",
        )
