"""``TextEnv``: the Gymnasium base class for text environments with verifiable rewards.

A subclass supplies two things — a task generator and a scorer (usually a ``Rubric``):

    class Parity(TextEnv):
        def generate_task(self, rng):               # rng is self.np_random
            n = int(rng.integers(0, 1000))
            return Task(prompt=f"Is {n} even? Answer yes or no.", answer="yes" if n % 2 == 0 else "no")

        def score(self, reply, task):
            ok = reply.strip().lower().startswith(task.answer)
            return RewardResult(score=float(ok), components={"correct": float(ok)})

Contract (Gymnasium 1.x):
    reset(*, seed=None, options=None) -> (prompt, info)
        options={"split": "train" | "test"}; the default split is "train".
    step(reply) -> (observation, reward, terminated, truncated, info)
        Single-turn envs terminate after one step (observation ""). Multi-turn envs
        (``max_turns > 1``) return a feedback message as the next observation until solved or
        out of turns.

Splits are disjoint by construction: a task belongs to the test split iff a stable hash of
its prompt falls in the test bucket (``test_fraction``), and ``reset`` redraws from
``self.np_random`` until the task is in the requested split. So no test prompt can occur in
training, whatever the seed, and results never depend on PYTHONHASHSEED.

``info`` after ``reset``: task, reference, split. After ``step``: additionally reward
components, extracted answer, reason, is_success, timed_out, error, turn.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from grpo_gym.rewards.types import RewardResult, Task

from .spaces import UnicodeText

SPLITS = ("train", "test")
MAX_PROMPT_CHARS = 8192
MAX_REPLY_CHARS = 32768


def task_split(prompt: str, test_fraction: float) -> str:
    """The split a prompt belongs to: a stable function of its text (blake2b, not ``hash``)."""
    digest = hashlib.blake2b(prompt.encode("utf-8"), digest_size=8).digest()
    bucket = int.from_bytes(digest, "big") / 2**64
    return "test" if bucket < test_fraction else "train"


class EnvUsageError(RuntimeError):
    """The env was called out of order (``step`` before ``reset`` or after the episode ended)."""


class TextEnv(gym.Env[str, str]):
    """Base class: observation = prompt (str), action = reply (str). See module docstring."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"]}

    #: One-line description shown by ``grpo-gym envs list``.
    description: ClassVar[str] = ""
    #: What the reward measures, shown by ``grpo-gym envs list`` ("math", "format", ...).
    reward_kind: ClassVar[str] = "custom"
    #: The highest score ``score`` can return; a reply reaching it counts as solved.
    max_reward: ClassVar[float] = 1.0
    #: Fraction of the task space reserved for the test split.
    test_fraction: ClassVar[float] = 0.1
    #: Optional system prompt for the agent's chat template.
    system_prompt: str | None = None
    #: Number of attempts in an episode (1 = single-turn).
    max_turns: int = 1

    def __init__(self, render_mode: str | None = None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} not supported: use one of {self.metadata['render_modes']} or None")
        self.render_mode = render_mode
        self.observation_space = UnicodeText(MAX_PROMPT_CHARS)
        self.action_space = UnicodeText(MAX_REPLY_CHARS)
        self._task: Task | None = None
        self._split = "train"
        self._turn = 0
        self._done = True
        self._last = ""

    # ---- to override -------------------------------------------------------------------
    def generate_task(self, rng: np.random.Generator) -> Task:
        """Draw one task using only ``rng`` (so the seed alone decides the task)."""
        raise NotImplementedError(f"{type(self).__name__} must implement generate_task(rng) -> Task")

    def score(self, reply: str, task: Task) -> RewardResult:
        """Score a reply (pure; must not raise on any reply)."""
        raise NotImplementedError(f"{type(self).__name__} must implement score(reply, task) -> RewardResult")

    def reference(self, task: Task) -> str:
        """A reply that earns ``max_reward``. Default: the gold answer in ``\\boxed{}``."""
        if task.answer is None:
            raise NotImplementedError(f"{type(self).__name__} must implement reference(task)")
        return f"The answer is \\boxed{{{task.answer}}}."

    def feedback(self, reply: str, task: Task, result: RewardResult, turn: int) -> str:
        """The next observation of a multi-turn episode after an unsolved attempt."""
        return f"That is not right ({result.reason or 'incorrect'}). Try again: {task.prompt}"

    def is_success(self, result: RewardResult, task: Task) -> bool:
        return result.error is None and result.score >= self.max_reward - 1e-9

    # ---- Gymnasium API -----------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        split = options.pop("split", "train")
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}: use 'train' or 'test'")
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}: the only option is 'split'")
        self._task = self._draw(split)
        self._split, self._turn, self._done = split, 0, False
        self._last = self._task.prompt
        return self._task.prompt, {"task": self._task, "reference": self.reference(self._task), "split": split}

    def _draw(self, split: str, max_tries: int = 10_000) -> Task:
        for _ in range(max_tries):
            task = self.generate_task(self.np_random)
            if task_split(task.prompt, self.test_fraction) == split:
                return task
        raise RuntimeError(
            f"{type(self).__name__}: no {split!r} task found in {max_tries} draws; the task space is "
            f"too small for test_fraction={self.test_fraction}. Raise the difficulty settings."
        )

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._task is None:
            raise EnvUsageError("step() called before reset(): call env.reset(seed=...) first")
        if self._done:
            raise EnvUsageError("step() called after the episode ended: call env.reset() to start a new one")
        if not isinstance(action, str):
            raise TypeError(f"the action must be the reply text (str), got {type(action).__name__}")
        task = self._task
        result = self._safe_score(action[:MAX_REPLY_CHARS], task)
        self._turn += 1
        solved = self.is_success(result, task)
        terminated = solved or self._turn >= self.max_turns
        obs = "" if terminated else self.feedback(action, task, result, self._turn)
        self._done, self._last = terminated, obs
        info = {
            "task": task,
            "reference": self.reference(task),
            "split": self._split,
            "turn": self._turn,
            "components": dict(result.components),
            "extracted": result.extracted,
            "reason": result.reason,
            "is_success": solved,
            "timed_out": result.timed_out,
            "error": result.error,
        }
        return obs, float(result.score), terminated, False, info

    def _safe_score(self, reply: str, task: Task) -> RewardResult:
        try:
            return self.score(reply, task)
        except Exception as exc:  # a broken scorer scores 0, never kills a run
            return RewardResult(score=0.0, reason="scorer raised", error=f"{type(exc).__name__}: {exc}")

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._last
        return None

    @property
    def task(self) -> Task | None:
        """The current task (None before the first reset)."""
        return self._task
