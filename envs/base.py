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
its split key (by default its prompt; see ``TextEnv``) falls in the test bucket
(``test_fraction``), and ``reset`` redraws from ``self.np_random`` until the task is in the
requested split. So no test task can occur in training, whatever the seed, in this env or in an
env that wraps or derives from it, and results never depend on PYTHONHASHSEED. An env whose
answer is expensive to build (sympy) overrides ``pose_task`` instead of ``generate_task``: the
redraws then draw only keys, and the answer is built once, for the task that is kept.

``info`` after ``reset``: task, reference, split. After ``step``: additionally reward
components, extracted answer, reason, is_success, timed_out, error, turn.

Difficulty and curriculum: an env keeps its difficulty settings in ``self.config`` (a frozen
dataclass validated in ``__post_init__``; the constructor kwargs are its fields) and lists
presets in ``difficulty_levels`` (easiest first). A trainer calls

    env.unwrapped.set_difficulty(level)          # apply preset ``level`` (0 = easiest)
    env.unwrapped.adjust_difficulty(pass_rate)   # one level up above 0.8, down below 0.2
    env.unwrapped.configure(digits=3)            # or change single settings

Changes take effect at the next ``reset``; the split of a task never changes (it is a hash
of its key), so train/test stay disjoint at every level.

GRPO groups: ``G`` copies reset with the same seed see the same prompt, so
``gymnasium.make_vec(id, num_envs=G, vectorization_mode="sync" | "async")`` with
``reset(seed=[s] * G)`` is one group; ``step(replies)`` scores the G replies (in G processes
with ``"async"``). Observations come back as a tuple of G strings in both modes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from grpo_gym.rewards.types import RewardResult, Task, is_truncated

from .scoring import MAX_REPLY_CHARS, safe_score, truncated_result, visible_reply
from .spaces import UnicodeText

SPLITS = ("train", "test")
TRUNCATED_POLICIES = ("explicit", "zero")
MAX_PROMPT_CHARS = 8192


def task_split(key: str, test_fraction: float) -> str:
    """The split of the task with split key ``key`` (see ``TextEnv``): a stable function of the
    key's text (blake2b, not ``hash``)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    bucket = int.from_bytes(digest, "big") / 2**64
    return "test" if bucket < test_fraction else "train"


class EnvSettingsError(TypeError, ValueError):
    """An env was made with a setting it does not have (the message lists the ones it has)."""


class EnvUsageError(RuntimeError):
    """The env was called out of order (``step`` before ``reset`` or after the episode ended)."""


class TextEnv(gym.Env[str, str]):
    """Base class: observation = prompt (str), action = reply (str). See module docstring.

    Split keys: the FIRST element returned by ``pose_task(rng)`` is the task's split key, a
    stable string identifying the task's content (by default, and for most envs, the prompt);
    ``reset`` decides the split by ``task_split(key, test_fraction)``. ``task_key(task)`` gives
    the key of a built task. A wrapper or derived env that decorates another env's prompt
    (``MultiTurnMath``) returns the inner env's key from ``pose_task`` unchanged, takes its
    ``test_fraction``, and overrides ``task_key`` to recover that key, so a task is on the same
    side of the split in both envs and training on one never shows the other's test tasks.

    Strict mode (``set_strict(True)``; for people debugging an env): a scorer that raises, or
    returns something other than a finite ``RewardResult``, makes ``step`` raise, with a note
    naming the env id, the seed of the last reset and the reply. By default such a reply
    scores 0 with ``info["error"]`` set, so one broken reward never stops a run.
    """

    metadata: ClassVar[dict[str, Any]] = {  # type: ignore[misc]  # gymnasium declares it per instance
        "render_modes": ["ansi"],
        "render_fps": 1,
    }  # fps: keeps check_env quiet

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
    #: Difficulty presets for ``set_difficulty``: settings for ``configure``, easiest first.
    difficulty_levels: ClassVar[tuple[Mapping[str, Any], ...]] = ()
    #: The frozen dataclass of the env's settings; its fields are the constructor's kwargs.
    config_class: ClassVar[type | None] = None
    #: The difficulty settings (an instance of ``config_class``), or None for an env without settings.
    config: Any = None
    #: Whether a scorer error raises in ``step`` (see ``set_strict``) instead of scoring 0.
    strict: bool = False
    #: Facts about the env's data that every evaluation report of it states (``provenance.notes``).
    report_notes: ClassVar[tuple[str, ...]] = ()
    #: Strings that end the model's turn (lm-eval's ``until``): engines stop sampling there, and
    #: the scorer reads the reply only up to the first of them. Empty: EOS alone ends a reply.
    stop_strings: tuple[str, ...] = ()
    #: How a reply cut at the token limit (``Reply.finish_reason == "length"``) is scored:
    #: ``"explicit"`` (default): in an env whose ``reward_kind`` is ``"math"`` only an explicit,
    #: finished final answer counts (``rewards/truncation.py``), never the last number, whatever
    #: extractor the env's scorer uses; other envs score it as they score any reply (their
    #: checks are about structure). ``"zero"`` scores it 0 whatever it says (DAPO's overlong
    #: filtering). See ``set_truncated_policy``.
    truncated_policy: str = "explicit"

    def __init__(self, render_mode: str | None = None, **settings: Any) -> None:
        name = type(self).__name__
        if self.config_class is not None:
            known = {f.name for f in dataclasses.fields(self.config_class)}
            unknown = sorted(set(settings) - known)
            if unknown:
                raise EnvSettingsError(
                    f"{name} has no setting(s) {unknown}: its settings are {sorted(known)}"
                )
            from .settings import check_settings  # here: settings.py imports this module

            check_settings(self.config_class, settings, name)  # types, one line each
            self.config = self.config_class(**settings)  # validated in its __post_init__
        elif settings:
            raise EnvSettingsError(f"{name} takes no settings, got {sorted(settings)}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode {render_mode!r} not supported: use one of {self.metadata['render_modes']} or None"
            )
        self.render_mode = render_mode
        self.observation_space = UnicodeText(MAX_PROMPT_CHARS)
        self.action_space = UnicodeText(MAX_REPLY_CHARS)
        self._task: Task | None = None
        self._reference = ""
        self._split = "train"
        self._turn = 0
        self._done = True
        self._last = ""
        self._level: int | None = None
        self._seed: int | None = None

    # ---- to override (generate_task or pose_task) ----------------------------------------
    def generate_task(self, rng: np.random.Generator) -> Task:
        """Draw one task using only ``rng`` (so the seed alone decides the task)."""
        if type(self).pose_task is TextEnv.pose_task:
            raise NotImplementedError(
                f"{type(self).__name__} must implement generate_task(rng) -> Task"
            )
        _, build = self.pose_task(rng)
        return build()

    def pose_task(self, rng: np.random.Generator) -> tuple[str, Callable[[], Task]]:
        """Draw a task's split key, and a function that builds the whole task.

        The key is a stable string identifying the task's content, by default its prompt (see
        the class docstring). ``reset`` decides the split from the key alone and builds only
        the task it keeps, so an env whose answer is expensive overrides this instead of
        ``generate_task``: draw everything from ``rng`` here, and leave the answer to ``build``
        (which must not touch ``rng``, so a seed yields the same task however often it is
        built). Default: the whole ``generate_task``, keyed by its prompt.
        """
        task = self.generate_task(rng)
        return task.prompt, lambda: task

    def task_key(self, task: Task) -> str:
        """The split key of a built task: the key ``pose_task`` returned for it.

        Default: the prompt. An env whose key is not its prompt (a wrapper decorating an inner
        env's prompt) overrides this; ``reset`` checks that a built task keeps its posed key.
        """
        return task.prompt

    def score(self, reply: str, task: Task) -> RewardResult:
        """Score a reply (pure; must not raise on any reply)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement score(reply, task) -> RewardResult"
        )

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

    # ---- difficulty / curriculum -------------------------------------------------------
    def configure(self, **settings: Any) -> None:
        """Change difficulty settings (fields of ``self.config``); applies from the next reset."""
        if self.config is None or not dataclasses.is_dataclass(self.config):
            raise ValueError(f"{type(self).__name__} has no difficulty settings to configure")
        names = {f.name for f in dataclasses.fields(self.config)}
        unknown = sorted(set(settings) - names)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: unknown settings {unknown}; valid: {sorted(names)}"
            )
        self.config = dataclasses.replace(self.config, **settings)  # type: ignore[type-var]

    def set_difficulty(self, level: int) -> None:
        """Apply preset ``difficulty_levels[level]`` (0 = easiest); applies from the next reset."""
        n = len(self.difficulty_levels)
        if n == 0:
            raise ValueError(f"{type(self).__name__} defines no difficulty levels")
        if not 0 <= int(level) < n:
            raise ValueError(
                f"difficulty level {level} out of range: {type(self).__name__} has levels 0..{n - 1}"
            )
        self.configure(**self.difficulty_levels[int(level)])
        self._level = int(level)

    @property
    def difficulty(self) -> int | None:
        """The last preset applied by ``set_difficulty`` (None if settings were never set)."""
        return self._level

    def adjust_difficulty(
        self, pass_rate: float, *, up: float = 0.8, down: float = 0.2
    ) -> int | None:
        """Curriculum step: one level harder if ``pass_rate >= up``, easier if ``< down``.

        With no level set yet (the user's own settings), a pass rate between the thresholds
        changes nothing and returns None; otherwise moving starts from level 0. Returns the
        level now in force.
        """
        if not self.difficulty_levels:
            raise ValueError(f"{type(self).__name__} defines no difficulty levels")
        if self._level is None and down <= pass_rate < up:
            return None  # settings chosen by the user and no reason to move: leave them alone
        level = 0 if self._level is None else self._level
        if pass_rate >= up:
            level = min(level + 1, len(self.difficulty_levels) - 1)
        elif pass_rate < down:
            level = max(level - 1, 0)
        self.set_difficulty(level)
        return level

    # ---- Gymnasium API -----------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        self._seed = seed
        options = dict(options or {})
        split = options.pop("split", "train")
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}: use 'train' or 'test'")
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}: the only option is 'split'")
        self._task = self._draw(split)
        self._split, self._turn, self._done = split, 0, False
        self._last = self._task.prompt
        self._reference = self.reference(self._task)  # built once per episode, reused by step
        return self._task.prompt, {"task": self._task, "reference": self._reference, "split": split}

    def _draw(self, split: str, max_tries: int = 10_000) -> Task:
        for _ in range(max_tries):
            key, build = self.pose_task(self.np_random)
            if task_split(key, self.test_fraction) == split:
                task = build()
                if self.task_key(task) != key:  # the split was decided on ``key``
                    raise RuntimeError(
                        f"{type(self).__name__}.pose_task built a task with another prompt than "
                        f"its split key {key[:80]!r}: build the posed task, or override task_key "
                        "to return the key of a task whose prompt is not its key"
                    )
                return task
        raise RuntimeError(
            f"{type(self).__name__}: no {split!r} task found in {max_tries} draws; the task space is "
            f"too small for test_fraction={self.test_fraction}. Raise the difficulty settings."
        )

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._task is None:
            raise EnvUsageError("step() called before reset(): call env.reset(seed=...) first")
        if self._done:
            raise EnvUsageError(
                "step() called after the episode ended: call env.reset() to start a new one"
            )
        if not isinstance(action, str):
            raise TypeError(f"the action must be the reply text (str), got {type(action).__name__}")
        task = self._task
        result = self.score_reply(action, task)
        self._turn += 1
        solved = self.is_success(result, task)
        terminated = solved or self._turn >= self.max_turns
        obs = "" if terminated else self.feedback(action, task, result, self._turn)
        self._done, self._last = terminated, obs
        info = {
            "task": task,
            "reference": self._reference,
            "split": self._split,
            "turn": self._turn,
            "components": dict(result.components),
            "extracted": result.extracted,
            "reason": result.reason,
            "is_success": solved,
            "timed_out": result.timed_out,
            "error": result.error,
            "finish_reason": getattr(action, "finish_reason", None),
        }
        return obs, float(result.score), terminated, False, info

    def set_strict(self, strict: bool = True) -> None:
        """Strict mode on or off: in strict mode a scorer error raises in ``step`` (see the
        class docstring); by default it scores 0 with ``info["error"]`` set."""
        if not isinstance(strict, bool):
            raise TypeError(f"set_strict takes True or False, got {strict!r}")
        self.strict = strict

    def set_truncated_policy(self, policy: str) -> None:
        """How replies cut at the token limit score: ``"explicit"`` or ``"zero"`` (see
        ``truncated_policy``)."""
        if policy not in TRUNCATED_POLICIES:
            raise ValueError(
                f"unknown truncated policy {policy!r}: use one of {list(TRUNCATED_POLICIES)}"
            )
        self.truncated_policy = policy

    def visible_reply(self, reply: str) -> str:
        """The part of ``reply`` the scorer reads (``envs/scoring.visible_reply``)."""
        return visible_reply(reply, self.stop_strings)

    def score_reply(self, reply: str, task: Task) -> RewardResult:
        """What the first ``step`` with ``reply`` scores on ``task``: ``score`` on the
        ``visible_reply``, never raising unless strict (see ``set_strict``), never returning a
        non-finite reward. A ``Reply`` cut at the token limit follows ``truncated_policy``. For
        scoring outside an episode (``grpo_gym.envs.trl.EnvReward``)."""
        reply = self.visible_reply(reply)
        if is_truncated(reply):
            early = truncated_result(reply, self.truncated_policy, self.reward_kind)
            if isinstance(early, RewardResult):
                return early
            reply = early
        return safe_score(self, reply, task)

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._last
        return None

    @property
    def task(self) -> Task | None:
        """The current task (None before the first reset)."""
        return self._task
