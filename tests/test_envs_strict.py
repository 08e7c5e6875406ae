"""Strict mode: a broken scorer raises its own exception with the env id, seed and reply noted;
by default it scores 0 with ``info["error"]`` set."""

from __future__ import annotations

import math

import gymnasium as gym
import pytest

import grpo_gym.envs as ge


class ScorerBug(Exception):
    """The exception the broken scorer raises (a type no library code raises)."""


class Broken(ge.TextEnv):
    """Scores a reply by what it says: ``raise``, ``nan``, ``none``, or a number."""

    def generate_task(self, rng):
        n = int(rng.integers(1000))
        return ge.Task(prompt=f"Say {n}.", answer=str(n))

    def reference(self, task):
        return task.answer

    def score(self, reply, task):
        if reply.startswith("raise"):
            raise ScorerBug(f"cannot score {len(reply)} chars")
        if reply == "nan":
            return ge.RewardResult(score=math.nan)
        if reply == "none":
            return None
        return ge.RewardResult(score=float(reply == task.answer))


@pytest.fixture
def broken_id():
    ge.register("test_envs/Broken-v0", Broken, force=True)
    yield "test_envs/Broken-v0"
    gym.registry.pop("test_envs/Broken-v0")


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("raise", "ScorerBug: cannot score 5 chars"),
        ("nan", "non-finite reward nan"),
        ("none", "score() returned NoneType, not RewardResult"),
    ],
)
def test_by_default_a_scorer_error_scores_zero_and_is_reported(broken_id, reply, error) -> None:
    env = gym.make(broken_id)
    assert env.unwrapped.strict is False
    env.reset(seed=3)
    _, reward, terminated, _, info = env.step(reply)
    assert reward == 0.0 and terminated and info["error"] == error and not info["is_success"]


def test_strict_mode_raises_the_scorers_own_exception_with_a_note(broken_id) -> None:
    env = gym.make(broken_id)
    env.unwrapped.set_strict(True)
    env.reset(seed=7)
    with pytest.raises(ScorerBug, match="cannot score 5 chars") as caught:
        env.step("raise")
    assert caught.value.__notes__ == [
        "scoring a reply in env test_envs/Broken-v0 (seed 7): 'raise'"
    ]
    assert any(entry.name == "score" for entry in caught.traceback)  # the scorer's traceback
    # a good reply is still scored normally, and strict mode can be turned off again
    _, info = env.reset(seed=8)
    assert env.step(info["reference"])[1] == 1.0
    env.unwrapped.set_strict(False)
    env.reset(seed=8)
    assert env.step("raise")[4]["error"].startswith("ScorerBug")


@pytest.mark.parametrize(
    ("reply", "exc", "message"),
    [
        ("nan", ValueError, "score\\(\\) returned a non-finite reward nan"),
        ("none", TypeError, "score\\(\\) returned NoneType, not RewardResult"),
    ],
)
def test_strict_mode_raises_on_a_result_that_is_not_a_finite_reward(
    broken_id, reply, exc, message
) -> None:
    env = gym.make(broken_id)
    env.unwrapped.set_strict(True)
    env.reset(seed=0)
    with pytest.raises(exc, match=message) as caught:
        env.step(reply)
    assert caught.value.__notes__ == [
        f"scoring a reply in env test_envs/Broken-v0 (seed 0): {reply!r}"
    ]


def test_the_note_names_the_class_without_a_spec_and_clips_a_long_reply() -> None:
    env = Broken()
    env.set_strict()
    env.reset()  # no seed
    reply = "raise " + "x" * 5000 + " THE END"
    with pytest.raises(ScorerBug) as caught:
        env.step(reply)
    (note,) = caught.value.__notes__
    assert note.startswith("scoring a reply in env Broken (seed None): 'raise xxx")
    assert note.endswith("xxx THE END'") and len(note) < 300


def test_strict_mode_covers_an_inner_env_of_a_wrapper(broken_id) -> None:
    env = gym.make("grpo_gym/MultiTurnMath-v0", inner=broken_id)
    env.unwrapped.set_strict(True)
    env.reset(seed=5)
    with pytest.raises(ScorerBug) as caught:
        env.step("raise")
    assert caught.value.__notes__ == [
        "scoring a reply in env grpo_gym/MultiTurnMath-v0 (seed 5): 'raise'"
    ]


def test_strict_mode_reaches_every_env_of_a_vector_env(broken_id) -> None:
    envs = gym.make_vec(broken_id, num_envs=2, vectorization_mode="sync")
    try:
        envs.call("set_strict", True)
        envs.reset(seed=[1, 1])
        with pytest.raises(ScorerBug):
            envs.step(["raise", "1"])
    finally:
        envs.close()


def test_set_strict_takes_a_bool() -> None:
    with pytest.raises(TypeError, match="True or False"):
        Broken().set_strict("yes")  # type: ignore[arg-type]
