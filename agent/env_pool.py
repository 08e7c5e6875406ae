"""Where replies meet envs: a pool of env instances, each ``reset``/``step`` under a watchdog.

``EnvPool`` makes envs with ``gymnasium.make`` (the run's env settings, curriculum level and strict
mode applied) and reuses them across batches; ``run`` calls ``reset``/``step`` on worker threads
(agent/watchdog.py), so a call that hangs past ``timeout_s`` is reported with its env id, seed and
stack and either scores 0 (``on_stuck="skip"``) or aborts. ``StepOutcome`` is the typed view of
what one ``env.step`` returned (Gymnasium's ``info`` stays a dict).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import gymnasium as gym

from grpo_gym.envs import make as make_env  # also registers the built-in and plugin envs
from grpo_gym.envs import resolve_id

from .errors import EnvStuckError
from .watchdog import CallResult, run_bounded

if TYPE_CHECKING:
    from .rollout import Episode

log = logging.getLogger(__name__)
T = TypeVar("T")
_LOUD = 100_000  # characters printed by one env call above which the run's log says so


@dataclass(frozen=True)
class StepOutcome:
    """A typed view of what one ``env.step`` returned (Gymnasium's ``info`` stays a dict).

    Read in one place (``from_step``), so the keys an env reports are named once.
    """

    reward: float
    done: bool  # terminated or truncated
    observation: str  # the next prompt of a multi-turn episode ('' when done)
    success: bool = False  # info["is_success"]
    components: dict[str, float] = field(default_factory=dict)
    extracted: str | None = None
    error: str | None = None
    timed_out: bool = False

    @classmethod
    def from_step(
        cls, obs: Any, reward: Any, terminated: bool, truncated: bool, info: dict[str, Any]
    ) -> StepOutcome:
        return cls(
            reward=float(reward),
            done=bool(terminated or truncated),
            observation=str(obs),
            success=bool(info.get("is_success", False)),
            components={k: float(v) for k, v in (info.get("components") or {}).items()},
            extracted=None if info.get("extracted") is None else str(info["extracted"]),
            error=str(info["error"]) if info.get("error") else None,
            timed_out=bool(info.get("timed_out", False)),
        )


class EnvPool:
    """Env instances by (env id, slot), created with ``gymnasium.make`` and reused across batches."""

    def __init__(
        self,
        env_kwargs: dict[str, dict[str, Any]] | None = None,
        system_prompt: str | None = None,
        *,
        strict: bool = False,
        timeout_s: float = 0.0,
        on_stuck: Literal["skip", "abort"] = "skip",
        threads: int = 4,
        truncated_policy: str | None = None,
    ) -> None:
        self.env_kwargs = env_kwargs or {}
        # how replies cut at the token limit score (TextEnv.set_truncated_policy); None: the env's
        self.truncated_policy = truncated_policy
        self.system_prompt_override = system_prompt or None
        self.strict = strict  # scorer errors raise (TextEnv.set_strict) instead of scoring 0
        self.timeout_s = timeout_s  # watchdog bound on one reset/step call (0 = none)
        self.on_stuck = on_stuck
        self.threads = threads  # concurrent env calls
        self.stuck_calls = 0  # calls the watchdog abandoned, over the pool's life
        self.output_chars = 0  # characters the envs printed, over the pool's life
        self.levels: dict[str, int] = {}  # curriculum level per env id (applied to every slot)
        self._envs: dict[tuple[str, int], gym.Env] = {}

    def get(self, env_id: str, slot: int) -> gym.Env:
        key = (env_id, slot)
        if key not in self._envs:
            env = make_env(env_id, **self.kwargs_for(env_id))
            inner: Any = env.unwrapped  # a TextEnv (or a plugin's text env)
            if self.strict and hasattr(inner, "set_strict"):
                inner.set_strict(True)
            if self.truncated_policy and hasattr(inner, "set_truncated_policy"):
                inner.set_truncated_policy(self.truncated_policy)
            if env_id in self.levels:
                inner.set_difficulty(self.levels[env_id])
            self._envs[key] = env
        return self._envs[key]

    def kwargs_for(self, env_id: str) -> dict[str, Any]:
        """The settings given for ``env_id``, under that id or another naming the same env
        (``Arithmetic-v0`` / ``grpo_gym/Arithmetic-v0`` / ``module:Name-v0`` / ``Name-v0``)."""
        if env_id in self.env_kwargs:
            return self.env_kwargs[env_id]
        target = resolve_id(env_id)
        return next((v for k, v in self.env_kwargs.items() if resolve_id(k) == target), {})

    def adjust_difficulty(self, env_id: str, pass_rate: float) -> int | None:
        """Curriculum: move ``env_id`` one difficulty level up/down by its pass rate (TextEnv hook).

        Returns the level now in force, or None if the env defines no difficulty levels.
        """
        probe: Any = self.get(env_id, 0).unwrapped
        if not getattr(probe, "difficulty_levels", ()):
            return None
        level = probe.adjust_difficulty(pass_rate)
        if level is None:
            return None
        self.levels[env_id] = level
        for (eid, _), env in self._envs.items():
            if eid == env_id:
                env.unwrapped.set_difficulty(level)  # type: ignore[attr-defined]
        return level

    def discard(self, env_id: str, slot: int) -> None:
        """Forget an env instance (one stuck in a call): the next ``get`` makes a fresh one."""
        self._envs.pop((env_id, slot), None)

    def run(
        self, phase: str, calls: list[tuple[Episode, int, Callable[[], T]]]
    ) -> list[CallResult[T]]:
        """Run env calls (episode, slot, call) under the watchdog; report stuck and loud ones."""
        results = run_bounded(
            [c for _, _, c in calls], threads=self.threads, timeout_s=self.timeout_s
        )
        for (ep, slot, _), res in zip(calls, results, strict=True):
            self.output_chars += res.output_bytes
            self.stuck_calls += res.stuck_stack is not None
            if res.output_bytes > _LOUD:
                log.warning(
                    "%s of %s seed=%d printed %d characters (first: %r)",
                    phase,
                    ep.env_id,
                    ep.seed,
                    res.output_bytes,
                    res.output_head[:200],
                )
            if res.stuck_stack is None:
                continue
            self.discard(ep.env_id, slot)
            where = (
                f"{phase} of {ep.env_id} (seed {ep.seed}) is still running after {res.seconds:.0f}s"
            )
            log.error("%s; its thread's stack:\n%s", where, res.stuck_stack)
            if self.on_stuck == "abort":
                raise EnvStuckError(
                    f"{where} (stack logged above): fix the env, raise score_timeout_s, "
                    "or set on_stuck='skip' to score such calls 0 and go on"
                )
        return results

    def system_prompt(self, env_id: str) -> str | None:
        if self.system_prompt_override:
            return self.system_prompt_override
        return getattr(self.get(env_id, 0).unwrapped, "system_prompt", None)

    def stop_strings(self, env_ids: Iterable[str]) -> tuple[str, ...]:
        """The stop strings of these envs (``TextEnv.stop_strings``), each once, in order: an
        engine stops a batch's replies at any of them; each env's scorer cuts at its own."""
        found: dict[str, None] = {}
        for env_id in env_ids:
            for s in getattr(self.get(env_id, 0).unwrapped, "stop_strings", ()) or ():
                found[s] = None
        return tuple(found)

    def close(self) -> None:
        for env in self._envs.values():
            env.close()
        self._envs.clear()
