"""How ``TextEnv.score_reply`` turns a reply into a reward: what the scorer sees, what a reply cut
at the token limit may earn, and a scorer that can never raise or return a non-finite reward."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from grpo_gym.rewards.math_reward import TRUNCATED_NO_ANSWER
from grpo_gym.rewards.truncation import scorable_prefix
from grpo_gym.rewards.types import Reply, RewardResult, Task, with_finish_reason

if TYPE_CHECKING:
    from .base import TextEnv

MAX_REPLY_CHARS = 32768


def visible_reply(reply: str, stop_strings: tuple[str, ...]) -> str:
    """The part of ``reply`` a scorer reads: up to the first stop string (which then ends the
    reply: its finish reason becomes ``"stop"``), and at most the last ``MAX_REPLY_CHARS`` (the
    final answer is at the end)."""
    for stop in stop_strings:
        cut = reply.find(stop)
        if cut >= 0:
            reply = Reply(reply[:cut], "stop")
    return with_finish_reason(reply[-MAX_REPLY_CHARS:], reply)


def truncated_result(reply: str, policy: str, reward_kind: str) -> RewardResult | str:
    """A reply cut at the token limit: its reward already (0), or the text to score instead.

    ``policy`` ``"zero"`` scores it 0; ``"explicit"`` in a math env scores only its explicit,
    finished final answer (``rewards/truncation.py``), whatever extractor the env's scorer uses;
    other envs score it as it is.
    """
    if policy == "zero":
        return RewardResult(score=0.0, reason="cut at the token limit (truncated_policy='zero')")
    if reward_kind != "math":
        return reply
    how = scorable_prefix(reply)
    if how is None:
        return RewardResult(score=0.0, reason=TRUNCATED_NO_ANSWER)
    # what is left holds a finished explicit answer and may be scored as a finished reply (so
    # math_reward does not run the truncation rule on it a second time)
    return Reply(how[0], "stop")


def safe_score(env: TextEnv, reply: str, task: Task) -> RewardResult:
    """``env.score`` that never returns a non-finite or non-numeric reward, and never raises
    unless the env is strict (then the error carries a note naming the env, seed and reply)."""
    try:
        result = env.score(reply, task)
    except Exception as exc:  # a broken scorer scores 0, never kills a run
        if env.strict:
            add_note(env, exc, reply)
            raise  # the scorer's own exception, with its traceback
        return RewardResult(score=0.0, reason="scorer raised", error=f"{type(exc).__name__}: {exc}")
    if not isinstance(result, RewardResult):
        error = f"score() returned {type(result).__name__}, not RewardResult"
        if env.strict:
            raise add_note(env, TypeError(error), reply)
        return RewardResult(score=0.0, reason="scorer error", error=error)
    try:
        value = float(result.score)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        error = f"non-finite reward {result.score!r}"
        if env.strict:
            raise add_note(env, ValueError(f"score() returned a {error}"), reply)
        return RewardResult(score=0.0, reason="scorer error", error=error)
    return result


def add_note(env: TextEnv, exc: Exception, reply: str) -> Exception:
    """``exc`` with a note saying where it happened: env id, seed of the last reset, reply."""
    env_id = env.spec.id if env.spec is not None else type(env).__name__
    shown = reply if len(reply) <= 200 else f"{reply[:100]} ... {reply[-100:]}"
    exc.add_note(f"scoring a reply in env {env_id} (seed {env._seed}): {shown!r}")
    return exc
