"""Example grpo-gym plugin: one env, registered by the ``register_envs`` entry point."""

from __future__ import annotations

import numpy as np

from grpo_gym.envs import TextEnv, register
from grpo_gym.rewards import RewardResult, Task

WORDS = ("gymnasium", "reward", "policy", "gradient", "token", "sample", "verify", "plugin")


class Reverse(TextEnv):
    """Write a word backwards (exact match of the last line)."""

    description = "Write a word backwards (plugin example)"
    reward_kind = "exact"

    def generate_task(self, rng: np.random.Generator) -> Task:
        word = "".join(rng.choice(list(WORDS))[: int(rng.integers(3, 10))] for _ in range(2))
        return Task(
            prompt=f"Write '{word}' backwards. Reply with the reversed word only.",
            answer=word[::-1],
        )

    def score(self, reply: str, task: Task) -> RewardResult:
        lines = reply.strip().splitlines()
        ok = bool(lines) and lines[-1].strip().strip("'\".") == task.answer
        return RewardResult(
            score=float(ok),
            components={"correct": float(ok)},
            reason=None if ok else "not the reversed word",
        )

    def reference(self, task: Task) -> str:
        return str(task.answer)


def register_envs() -> None:
    """Entry point: register this package's envs."""
    register("plugin_example/Reverse-v0", Reverse)
