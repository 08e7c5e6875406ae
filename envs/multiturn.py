"""Multi-turn math: retries with feedback, reward decaying per attempt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np

from grpo_gym.rewards import RewardResult, Task

from .base import TextEnv


class MultiTurnMath(TextEnv):
    """Any single-turn math env, with up to ``max_turns`` attempts and feedback in between.

    ## Description
    Wraps the task generator and scorer of ``inner`` (a registered env id, default
    ``grpo_gym/LinearEquation-v0``; extra kwargs configure it). After a wrong attempt the
    next observation says the answer was wrong (without revealing it), how many attempts are
    left, and repeats the problem. A task is in the same split (train/test) as in the inner
    env: the split is decided on the inner env's task key.

    ## Observation
    First the inner prompt plus ``"You have 3 attempts."``; after a wrong reply,
    ``"Your answer 7 is not correct (...). 2 attempts left. <problem>"``.

    ## Action
    One reply (str) per attempt.

    ## Reward
    Per step: ``inner_score * decay ** (attempt - 1)``, so a wrong attempt earns 0 (for 0/1
    scorers) and a right answer on attempt k earns ``decay ** (k - 1)`` (1.0, 0.5, 0.25 with
    the default ``decay=0.5``). The episode ends when the inner scorer gives full marks
    (``terminated``) or after ``max_turns`` attempts (also ``terminated``). The episode
    return is therefore ``decay ** (k - 1)`` if solved on attempt k, else 0.
    ``info["components"]`` has the inner components plus ``attempt_discount``.

    ## Arguments
    ``gymnasium.make("grpo_gym/MultiTurnMath-v0", inner="grpo_gym/Arithmetic-v0",
    max_turns=3, decay=0.5, digits=3)``.

    ## Version History
    * v0: initial version. The split of a task is the inner env's (decided on the inner env's
      task key, not on the decorated prompt), so no train task is a test task of the inner env.
    """

    description = "Math with feedback and retries (up to N attempts; reward decays per attempt)"
    reward_kind = "math"
    max_turns = 3  # the constructor default (list_envs reads it to mark the env multi-turn)

    def __init__(
        self,
        render_mode: str | None = None,
        inner: str = "grpo_gym/LinearEquation-v0",
        max_turns: int = 3,
        decay: float = 0.5,
        **inner_kwargs: Any,
    ) -> None:
        super().__init__(render_mode)
        if not 1 <= int(max_turns) <= 20:
            raise ValueError(f"max_turns must be in 1..20, got {max_turns}")
        if not 0.0 < float(decay) <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {decay}")
        inner_env = gym.make(inner, **inner_kwargs).unwrapped
        if not isinstance(inner_env, TextEnv) or inner_env.max_turns != 1:
            raise ValueError(f"inner env {inner!r} must be a single-turn grpo_gym TextEnv")
        self.inner = inner_env
        self.max_turns, self.decay = int(max_turns), float(decay)
        # per instance: the wrapper's maximum, split and levels are its inner env's
        self.max_reward = inner_env.max_reward  # type: ignore[misc]
        self.test_fraction = inner_env.test_fraction  # type: ignore[misc]
        self.difficulty_levels = inner_env.difficulty_levels  # type: ignore[misc]

    # difficulty settings are the inner env's
    @property
    def config(self) -> Any:  # type: ignore[override]
        return self.inner.config

    @config.setter
    def config(self, value: Any) -> None:
        if value is not None:
            self.inner.config = value

    def pose_task(self, rng: np.random.Generator) -> tuple[str, Callable[[], Task]]:
        # the inner env's key, so a task has the same split here as in the inner env; the inner
        # answer is built only for the task that reset keeps
        key, build = self.inner.pose_task(rng)
        return key, lambda: self._decorate(build())

    def _draw(self, split: str, max_tries: int = 10_000) -> Task:
        # the inner env picks the task of ``split`` by its own rule (a hash of its task key, or
        # a dataset's official split files), from this env's seeded generator
        self.inner.np_random = self.np_random
        return self._decorate(self.inner._draw(split, max_tries))

    def _decorate(self, task: Task) -> Task:
        note = f"You have {self.max_turns} attempts." if self.max_turns > 1 else ""
        return replace(
            task,
            prompt=f"{task.prompt} {note}".strip(),
            metadata={**task.metadata, "inner_prompt": task.prompt},
        )

    def task_key(self, task: Task) -> str:
        return self.inner.task_key(self._inner_task(task))

    def _inner_task(self, task: Task) -> Task:
        return replace(task, prompt=task.metadata.get("inner_prompt", task.prompt))

    def score(self, reply: str, task: Task) -> RewardResult:
        return self.inner.score(reply, self._inner_task(task))

    def reference(self, task: Task) -> str:
        return self.inner.reference(self._inner_task(task))

    def feedback(self, reply: str, task: Task, result: RewardResult, turn: int) -> str:
        left = self.max_turns - turn
        said = f"Your answer {result.extracted}" if result.extracted else "Your reply"
        leaks = bool(task.answer) and str(task.answer) in (result.reason or "")
        why = f" ({result.reason})" if result.reason and not leaks else ""
        plural = "s" if left != 1 else ""
        return f"{said} is not correct{why}. {left} attempt{plural} left. {self._inner_task(task).prompt}"

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)
        discount = self.decay ** (info["turn"] - 1)
        info["components"] = {**info["components"], "attempt_discount": discount}
        return obs, reward * discount, terminated, truncated, info
