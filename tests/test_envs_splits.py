"""Held-out tasks stay held out: over every registered env, every wrapper and derived envs, no
task of a test split is reachable from a train split, by split key or by prompt text."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable

import gymnasium as gym
import pytest

import grpo_gym.envs as ge
from grpo_gym.envs.arithmetic import Arithmetic
from grpo_gym.envs.base import task_split
from tests.helpers import env_params


def _has_both_splits(env_id: str) -> bool:
    """Evaluation-only benchmarks (MATH-500, IFEval) have no train split to compare."""
    return set(getattr(gym.make(env_id).unwrapped, "splits", ("train", "test"))) == {
        "train",
        "test",
    }


# The shipped envs and one reasoning-gym env (its per-task ids are the same class).
SHIPPED = [
    r
    for r in ge.list_envs()
    if r.source in ("built-in", "benchmark") or r.id == "grpo_gym/ReasoningGym-v0"
]
ENV_IDS = [r.id for r in SHIPPED if _has_both_splits(r.id)]
SINGLE_TURN_IDS = [r.id for r in SHIPPED if not r.multi_turn and r.id in ENV_IDS]
#: Every env that wraps another registered env, and the keyword that names the inner env.
WRAPPERS = {"grpo_gym/MultiTurnMath-v0": "inner"}
#: (inner id, inner settings) pairs each wrapper is checked over: every single-turn env, and
#: the small task space where contamination was found (31 of 300 train prompts).
INNERS = [(env_id, {}) for env_id in SINGLE_TURN_IDS] + [
    ("grpo_gym/Arithmetic-v0", {"digits": 1, "terms": 2})
]
TRAIN_SEEDS, TEST_SEEDS = range(120), range(40)


@functools.cache
def _tasks(env_id: str, settings: str, split: str) -> tuple[ge.TextEnv, tuple[ge.Task, ...]]:
    """The env and the tasks it poses on ``split`` for the seeds above."""
    env = gym.make(env_id, **json.loads(settings)).unwrapped
    seeds = TRAIN_SEEDS if split == "train" else TEST_SEEDS
    tasks = tuple(env.reset(seed=s, options={"split": split})[1]["task"] for s in seeds)
    return env, tasks


def _keys(env_id: str, split: str, **settings: object) -> set[str]:
    env, tasks = _tasks(env_id, json.dumps(settings, sort_keys=True), split)
    return {env.task_key(t) for t in tasks}


def _prompts(env_id: str, split: str, **settings: object) -> set[str]:
    return {t.prompt for t in _tasks(env_id, json.dumps(settings, sort_keys=True), split)[1]}


def _contains_any(texts: Iterable[str], needles: Iterable[str]) -> list[tuple[str, str]]:
    """(text, needle) pairs where a needle occurs inside a text."""
    needles = list(needles)
    return [(t, n) for t in texts for n in needles if n in t]


@pytest.mark.parametrize("env_id", env_params(ENV_IDS))
def test_every_task_is_in_the_split_of_its_key(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    # official split files decide for a dataset's rows (split_of); a hash of the key elsewhere
    split_of = getattr(env, "split_of", None) or (lambda k: task_split(k, env.test_fraction))
    for split in ("train", "test"):
        keys = _keys(env_id, split)
        assert keys and all(split_of(k) == split for k in keys), (env_id, split)
    assert not _keys(env_id, "train") & _keys(env_id, "test")
    assert not _prompts(env_id, "train") & _prompts(env_id, "test")


def test_no_key_or_prompt_is_train_in_one_env_and_test_in_another() -> None:
    """Envs that pose the same tasks (ArithmeticEasy and Arithmetic, Instructions and its
    partial variant, a wrapper and its default inner env) agree on each task's split. The generic
    Dataset-v0 takes the user's split settings, so its demo defaults are not compared."""
    ids = [e for e in ENV_IDS if e != "grpo_gym/Dataset-v0"]
    train_keys = set().union(*(_keys(e, "train") for e in ids))
    test_keys = set().union(*(_keys(e, "test") for e in ids))
    assert not train_keys & test_keys
    train_prompts = set().union(*(_prompts(e, "train") for e in ids))
    test_prompts = set().union(*(_prompts(e, "test") for e in ids))
    assert not train_prompts & test_prompts


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
@pytest.mark.parametrize(("inner", "settings"), env_params(INNERS), ids=lambda x: str(x or ""))
def test_a_wrapper_never_trains_on_its_inner_envs_test_prompts(
    wrapper: str, inner: str, settings: dict
) -> None:
    """By prompt text: no test prompt of the inner env occurs inside a train prompt of the
    wrapper (which decorates it), nor a test prompt of the wrapper inside an inner train one."""
    outer = {WRAPPERS[wrapper]: inner, **settings}
    leaks = _contains_any(_prompts(wrapper, "train", **outer), _prompts(inner, "test", **settings))
    assert not leaks, f"{len(leaks)} inner test prompts inside {wrapper} train prompts: {leaks[:2]}"
    leaks = _contains_any(_prompts(wrapper, "test", **outer), _prompts(inner, "train", **settings))
    assert not leaks, f"{len(leaks)} inner train prompts inside {wrapper} test prompts: {leaks[:2]}"


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
@pytest.mark.parametrize(("inner", "settings"), env_params(INNERS), ids=lambda x: str(x or ""))
def test_a_wrapper_splits_on_its_inner_envs_key(wrapper: str, inner: str, settings: dict) -> None:
    """By key: a wrapper's task has the inner env's key and lands in the inner env's split."""
    outer = {WRAPPERS[wrapper]: inner, **settings}
    inner_env = gym.make(inner, **settings).unwrapped
    split_of = getattr(inner_env, "split_of", None) or (
        lambda k: task_split(k, inner_env.test_fraction)
    )
    for split in ("train", "test"):
        keys = _keys(wrapper, split, **outer)
        assert all(split_of(k) == split for k in keys), (wrapper, inner, split)
    assert not _keys(wrapper, "train", **outer) & _keys(inner, "test", **settings)
    assert not _keys(wrapper, "test", **outer) & _keys(inner, "train", **settings)
    # the key is the inner env's: every inner prompt the wrapper poses is its key
    env = gym.make(wrapper, **outer).unwrapped
    for seed in range(10):
        _, info = env.reset(seed=seed)
        assert env.task_key(info["task"]) == info["task"].metadata["inner_prompt"]


class Hinted(Arithmetic):
    """A derived env: its parent's task with a hint appended (keeps the parent's key)."""

    def pose_task(self, rng):
        key, build = super().pose_task(rng)

        def build_hinted():
            task = build()
            return ge.Task(prompt=task.prompt + " Hint: go left to right.", answer=task.answer)

        return key, build_hinted

    def task_key(self, task):
        return task.prompt.removesuffix(" Hint: go left to right.")


def test_a_derived_env_that_decorates_the_prompt_keeps_its_parents_split() -> None:
    parent, child = Arithmetic(digits=1, terms=2), Hinted(digits=1, terms=2)
    for split in ("train", "test"):
        for seed in range(60):
            prompt, _ = parent.reset(seed=seed, options={"split": split})
            hinted, info = child.reset(seed=seed, options={"split": split})
            assert hinted == prompt + " Hint: go left to right."  # the same task, decorated
            assert task_split(child.task_key(info["task"]), child.test_fraction) == split


def test_a_key_other_than_the_prompt_must_be_declared() -> None:
    """Without ``task_key`` the key must be the prompt: a build that changes it is refused."""

    class Undeclared(Hinted):
        def task_key(self, task):
            return task.prompt  # forgets that its prompt is decorated

    with pytest.raises(RuntimeError, match="task_key"):
        Undeclared().reset(seed=0)
