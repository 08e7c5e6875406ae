"""Small envs used by agent tests (registered under the ``grpo_gym_test`` namespace)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from grpo_gym.envs.base import TextEnv
from grpo_gym.rewards.types import RewardResult, Task


class LetterEnv(TextEnv):
    """Reward = fraction of the reply's characters that are the letter in the prompt (capped at 1).

    Learnable by a tiny random model in a few GRPO steps; a solved reply is all that letter.
    """

    description = "write only the letter you are given"
    reward_kind = "test"

    def generate_task(self, rng: np.random.Generator) -> Task:
        letter = "a"
        n = int(rng.integers(0, 10_000))
        return Task(prompt=f"Task {n}: write the letter {letter} many times.", answer=letter)

    def score(self, reply: str, task: Task) -> RewardResult:
        text = reply.strip()
        if not text:
            return RewardResult(0.0, {"letters": 0.0}, reason="empty")
        frac = sum(c == task.answer for c in text) / len(text)
        return RewardResult(
            frac, {"letters": frac}, reason=None if frac == 1 else "other characters"
        )

    def reference(self, task: Task) -> str:
        return str(task.answer) * 8


class FlakyEnv(LetterEnv):
    """Raises from step() on replies containing 'b' (an env bug the trainer must survive)."""

    def step(self, action: str):
        if "b" in action:
            raise RuntimeError("flaky env exploded")
        return super().step(action)


class BrokenScorerEnv(LetterEnv):
    """Its scorer raises on every reply (the error TextEnv turns into a 0 reward unless strict)."""

    def score(self, reply: str, task: Task) -> RewardResult:
        raise ZeroDivisionError("scorer bug")


class TwoTurnEnv(LetterEnv):
    """Multi-turn: up to 2 attempts; the episode reward is the sum over attempts."""

    max_turns = 2

    def is_success(self, result: RewardResult, task: Task) -> bool:
        return result.score >= 0.999


def register() -> None:
    for name, cls in (
        ("Letter-v0", LetterEnv),
        ("Flaky-v0", FlakyEnv),
        ("BrokenScorer-v0", BrokenScorerEnv),
        ("TwoTurn-v0", TwoTurnEnv),
    ):
        env_id = f"grpo_gym_test/{name}"
        if env_id not in gym.registry:
            gym.register(env_id, entry_point=cls)


register()
