"""Envs that misbehave on purpose (registered under ``grpo_gym_hostile``), for the reliability tests.

``Hostile-v0`` picks its misbehaviour from the task seed: ``seed % 5`` = 0 behaves, 1 raises in
``reset``, 2 returns a NaN reward, 3 returns a string reward, 4 prints two million characters
(and behaves otherwise). ``Sleepy-v0`` never returns from ``step``.
"""

from __future__ import annotations

import threading
from typing import Any

import gymnasium as gym

from tests.fixture_envs import LetterEnv

HANG = threading.Event()  # never set: a step that waits on it hangs for good


class HostileEnv(LetterEnv):
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self.mode = (seed or 0) % 5
        if self.mode == 1:
            raise RuntimeError("reset exploded")
        return super().reset(seed=seed, options=options)

    def step(self, action: str):
        obs, reward, terminated, truncated, info = super().step(action)
        if self.mode == 2:
            reward = float("nan")
        elif self.mode == 3:
            reward = "lots"
        elif self.mode == 4:
            print("x" * 2_000_000)
        return obs, reward, terminated, truncated, info


class SleepyEnv(LetterEnv):
    def step(self, action: str):
        HANG.wait()
        return super().step(action)


def register() -> None:
    for name, cls in (("Hostile-v0", HostileEnv), ("Sleepy-v0", SleepyEnv)):
        env_id = f"grpo_gym_hostile/{name}"
        if env_id not in gym.registry:
            gym.register(env_id, entry_point=cls)


register()
