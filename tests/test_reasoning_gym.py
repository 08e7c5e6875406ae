"""grpo_gym/ReasoningGym-v0: the env contract of test_envs.py on several reasoning-gym tasks,
reasoning-gym's own scores, and the errors for a missing package, unknown tasks and options."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import pytest

import grpo_gym.envs as ge
from grpo_gym.envs.reasoning_gym import ENV_ID, ReasoningGym, ReasoningGymUnavailable
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
IDS = [ENV_ID] + [f"test_rg/{task}-v0" for task in TASKS]


@pytest.fixture(scope="module", autouse=True)
def _registered():
    for task in TASKS:
        ge.register(f"test_rg/{task}-v0", ReasoningGym, kwargs={"task": task}, force=True)
    yield
    for task in TASKS:
        gym.registry.pop(f"test_rg/{task}-v0")


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


_WITHOUT = """
import sys
sys.modules["reasoning_gym"] = None  # as if not installed
import grpo_gym.envs as ge
assert "grpo_gym/ReasoningGym-v0" in [r.id for r in ge.list_envs()]
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
