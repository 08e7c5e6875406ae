"""grpo_gym/ReasoningGym-v0 and the reasoning_gym/<task>-v0 ids: the env contract of
test_envs.py on several reasoning-gym tasks, every task's own answer scoring 1, reasoning-gym's
own scores and curricula, and the errors for a missing package, unknown tasks and options."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import pytest

from grpo_gym.envs.reasoning_gym import ENV_ID, ReasoningGymUnavailable
from grpo_gym.envs.reasoning_gym_tasks import EXCLUDED, task_category, task_env_id
from tests import test_envs as contract

rg = pytest.importorskip("reasoning_gym")

# one task per reasoning-gym category, cheap to generate
TASKS = {
    "chain_sum": "arithmetic",
    "leg_counting": "arithmetic",
    "letter_counting": "algorithmic",
    "family_relationships": "graphs",
    "number_sequence": "induction",
    "base_conversion": "algorithmic",
}
IDS = [ENV_ID] + [task_env_id(task) for task in TASKS]


@pytest.mark.parametrize("env_id", IDS)
def test_the_env_contract_holds(env_id: str) -> None:
    contract.test_gymnasium_check_env(env_id)
    contract.test_seed_alone_determines_the_task(env_id)
    contract.test_reference_scores_max_and_bad_replies_score_lower(env_id)
    contract.test_step_before_reset_and_after_the_end_raise(env_id)


def test_train_and_test_splits_are_disjoint() -> None:
    contract.test_train_and_test_splits_are_disjoint(ENV_ID)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_the_prompt_and_score_are_reasoning_gyms(task: str) -> None:
    env = gym.make(ENV_ID, task=task).unwrapped
    _, info = env.reset(seed=11)
    meta = info["task"].metadata
    entry = rg.create_dataset(task, seed=meta["item_seed"], size=1)[0]
    assert info["task"].prompt.startswith(entry["question"].strip())
    assert info["task"].prompt.endswith("<answer></answer> tags.")
    dataset = rg.create_dataset(task, seed=meta["item_seed"], size=1)
    for reply, answer in [
        (f"So:\n<answer> {entry['answer']} </answer>", entry["answer"]),
        (f"\\boxed{{{entry['answer']}}}", entry["answer"]),  # no tag: the last box
        ("<answer>zzz</answer> \\boxed{1}", "zzz"),  # the tag wins over a box
    ]:
        res = env.score(reply, info["task"])
        assert res.extracted == answer
        assert res.score == pytest.approx(dataset.score_answer(answer, entry))
    none = env.score("no idea", info["task"])
    assert none.score == 0.0 and "no <answer> tag" in (none.reason or "")


def test_options_reach_reasoning_gym() -> None:
    env = gym.make(ENV_ID, task="chain_sum", min_terms=5, max_terms=5, min_digits=1, max_digits=1)
    for seed in range(5):
        prompt, _ = env.reset(seed=seed)
        expression = prompt.split(":", 1)[1].split("=")[0]
        assert len(expression.split()) == 9, prompt  # 5 one-digit terms and 4 operators


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"task": "chain_sun"}, "unknown reasoning-gym task 'chain_sun': did you mean chain_sum"),
        ({"task": "chain_sum", "colour": 1}, r"no option\(s\) \['colour'\].*max_terms"),
        ({"task": "chain_sum", "seed": 3}, "set by the env"),
        ({"task": "chain_sum", "min_terms": 0}, "rejected the options"),
        ({"task": "graph_color"}, "no single gold answer"),
        ({"task": "chain_sum", "score_timeout": 0}, "score_timeout must be > 0"),
    ],
)
def test_bad_settings_fail_with_the_fix(kwargs: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        gym.make(ENV_ID, **kwargs)


def test_a_hostile_answer_is_stopped_by_the_time_limit() -> None:
    """countdown's own scorer evaluates the answer: ``9**9**9**9`` would run for ever."""
    env = gym.make(ENV_ID, task="countdown", score_timeout=2.0).unwrapped
    _, info = env.reset(seed=0)
    res = env.score("<answer>9**9**9**9</answer>", info["task"])
    assert res.score == 0.0 and res.timed_out and res.error is None
    assert env.score(info["reference"], info["task"]).score == 1.0  # a fresh worker scores


def test_the_task_table_is_the_installed_reasoning_gyms() -> None:
    """Every reasoning-gym task has an id or a documented reason why not (an upgrade that adds
    or drops a task fails here), and at least 90 tasks have ids."""
    ids = task_category()
    assert len(ids) >= 90 and not set(ids) & set(EXCLUDED)
    assert set(ids) | set(EXCLUDED) == set(rg.factory.DATASETS)
    for task, category in ids.items():
        assert rg.factory.DATASETS[task][0].__module__.split(".")[1] == category, task


#: A handful of tasks, one per kind of scorer, run in the fast suite; the sweep over every task
#: runs in the slow suite (`make test-slow`).
FAST_TASKS = frozenset({"chain_sum", "leg_counting", "basic_arithmetic", "word_sorting", "codeio"})


@pytest.mark.parametrize(
    "task",
    [
        t if t in FAST_TASKS else pytest.param(t, marks=pytest.mark.slow)
        for t in sorted(task_category())
    ],
)
def test_each_tasks_own_answer_scores_one_and_garbage_less(task: str) -> None:
    env = gym.make(task_env_id(task))
    _, info = env.reset(seed=1)
    assert info["task"].metadata["task"] == task
    _, top, *_ = env.step(info["reference"])
    env.reset(seed=1)
    _, low, *_ = env.step("<answer>zzz</answer>")
    assert top == 1.0 and low < 1.0, (info["reference"], top, low)


def test_a_curriculum_sets_the_difficulty() -> None:
    """chain_sum's curriculum: level L allows up to L+2 terms of up to L+1 digits; the user's
    other options stay; the level moves with the pass rate."""
    env = gym.make(task_env_id("chain_sum"), allow_negation=True).unwrapped
    assert len(env.difficulty_levels) == 11  # reasoning-gym's num_terms levels
    env.set_difficulty(0)
    assert env.config.options == dict(
        allow_negation=True, min_terms=2, max_terms=2, min_digits=1, max_digits=1
    )
    prompt, _ = env.reset(seed=4)
    assert len(prompt.split(":", 1)[1].split("=")[0].split()) == 3  # a op b
    env.set_difficulty(3)
    assert env.config.options["max_terms"] == 5 and env.config.options["max_digits"] == 4
    assert env.adjust_difficulty(0.9) == 4 and env.adjust_difficulty(0.1) == 3
    _, info = env.reset(seed=4)
    assert env.score(info["reference"], info["task"]).score == 1.0
    no_curriculum = gym.make(task_env_id("gsm_symbolic")).unwrapped
    with pytest.raises(ValueError, match="defines no difficulty levels"):
        no_curriculum.set_difficulty(0)


def test_curriculum_levels_the_task_rejects_are_left_out() -> None:
    """caesar_cipher's curriculum reaches a rotation its own config rejects (> 25)."""
    env = gym.make(task_env_id("caesar_cipher")).unwrapped
    assert 0 < len(env.difficulty_levels) < 4
    for level in range(len(env.difficulty_levels)):
        env.set_difficulty(level)
        assert env.config.options["max_rotation"] <= 25


_LIST = """
import sys
import grpo_gym.envs as ge
rows = [r for r in ge.list_envs() if r.id.startswith("reasoning_gym/")]
print(len(rows), {r.source for r in rows}, "reasoning_gym" in sys.modules)
print([r.family for r in rows if r.id == "reasoning_gym/chain_sum-v0"])
"""


def test_the_task_ids_are_listed_without_importing_reasoning_gym() -> None:
    out = subprocess.run([sys.executable, "-c", _LIST], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == [
        f"{len(task_category())} {{'reasoning-gym'}} False",
        "['arithmetic']",
    ]


_WITHOUT = """
import sys
sys.modules["reasoning_gym"] = None  # as if not installed (find_spec then says None too)
import grpo_gym.envs as ge
ids = [r.id for r in ge.list_envs()]
assert "grpo_gym/ReasoningGym-v0" in ids
assert not [i for i in ids if i.startswith("reasoning_gym/")]  # no ids that cannot be made
try:
    ge.make("grpo_gym/ReasoningGym-v0")
except ImportError as exc:
    print(type(exc).__name__, exc)
"""


def test_without_reasoning_gym_it_is_listed_and_making_it_names_the_extra() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _WITHOUT], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert ReasoningGymUnavailable.__name__ in out.stdout
    assert "pip install 'grpo-gym[reasoning-gym]'" in out.stdout
