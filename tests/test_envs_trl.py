"""Every registered env as a TRL dataset + reward (grpo_gym.envs.trl), and loud column errors.

The TRL trainer itself is exercised by benchmarks/trl_adapter_proof.py (TRL lives only in the
benchmark venv); here the reward is called exactly as TRL calls it: ``f(prompts=..,
completions=.., **columns)`` with conversational prompts and completions.
"""

from __future__ import annotations

import json
import pickle

import gymnasium as gym
import pytest

import grpo_gym.envs as ge
from grpo_gym.envs.checks import no_known_reference
from grpo_gym.envs.trl import (
    EnvReward,
    TaskMismatchError,
    TaskSpec,
    TaskSpecError,
    to_trl_dataset,
    trl_rows,
)
from grpo_gym.rewards import MissingColumnError, Rubric, ToTrl
from grpo_gym.rewards.layout import BulletCount

datasets = pytest.importorskip("datasets")

# The shipped envs (not the test-only ones other test modules may have registered first), with
# one reasoning-gym env: its per-task ids (reasoning_gym/<task>-v0) are the same class.
ENV_IDS = [r.id for r in ge.list_envs() if r.source in ("built-in", "benchmark")]
ENV_IDS.append("grpo_gym/ReasoningGym-v0")
WRONG = "I do not know."


def _first_split(env_id: str) -> str:
    splits = getattr(gym.make(env_id).unwrapped, "splits", ("train", "test"))
    return str(splits[0])


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _step(env_id: str, spec: TaskSpec, reply: str) -> tuple[float, dict]:
    """The reward of ``reply`` through the env itself (reset + step), independent of the adapter."""
    env = gym.make(env_id, **spec.settings)
    _, info = env.reset(seed=spec.seed, options={"split": spec.split})
    _, reward, _, _, step_info = env.step(reply)
    return float(reward), {**info, **step_info}


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_reference_scores_the_max_through_a_dataset_round_trip(env_id: str, tmp_path) -> None:
    split = _first_split(env_id)
    rows = trl_rows(env_id, 3, split=split, seed=5)
    ds = datasets.Dataset.from_list(rows)  # raised ArrowInvalid on a Rubric before
    assert ds.column_names == ["prompt", "task"]
    ds.to_json(tmp_path / "d.jsonl")
    back = datasets.Dataset.from_json(str(tmp_path / "d.jsonl")).to_list()
    assert back == rows
    reward, top = EnvReward(), gym.make(env_id).unwrapped.max_reward
    for row in back:
        spec = TaskSpec.from_json(row["task"])
        assert spec.env_id == env_id and spec.split == split
        ref = reward.reference(row["task"])
        ref_step, info = _step(env_id, spec, ref)
        assert ref == info["reference"] and row["prompt"][-1]["content"] == info["task"].prompt
        wrong_step, _ = _step(env_id, spec, WRONG)
        scores = reward(
            prompts=[row["prompt"]] * 2,
            completions=[_assistant(ref), _assistant(WRONG)],
            task=[row["task"]] * 2,
            completion_ids=[[1], [2]],  # TRL's extra keyword arguments are ignored
            trainer_state=None,
        )
        assert scores == [ref_step, wrong_step]  # the same reward as env.step
        if no_known_reference(info["task"]):
            continue  # no reply that follows it is known (test_ifeval.py, test_ifbench.py)
        assert scores[0] == pytest.approx(top), (row, ref)
        assert scores[1] < top


def test_settings_and_system_prompt_travel_with_the_rows() -> None:
    rows = trl_rows("Arithmetic-v0", 2, seed=3, digits=3, terms=2)
    spec = TaskSpec.from_json(rows[0]["task"])
    assert spec == TaskSpec("grpo_gym/Arithmetic-v0", 3, "train", {"digits": 3, "terms": 2})
    env = gym.make("grpo_gym/Arithmetic-v0", digits=3, terms=2)
    assert rows[1]["prompt"][-1]["content"] == env.reset(seed=4)[0]
    ds = to_trl_dataset("Arithmetic-v0", 2, seed=3, digits=3, terms=2)
    assert ds.to_list() == rows
    system = "Answer with a number only."
    ge.register("test_trl/System-v0", _with_system(system), force=True)
    try:
        (row,) = trl_rows("test_trl/System-v0", 1)
        assert row["prompt"][0] == {"role": "system", "content": system}
        assert row["prompt"][1]["role"] == "user"
    finally:
        gym.registry.pop("test_trl/System-v0")


def _with_system(text: str) -> type[ge.TextEnv]:
    from grpo_gym.envs.arithmetic import Arithmetic

    return type("SystemArithmetic", (Arithmetic,), {"system_prompt": text})


def test_one_call_scores_a_mixture_of_envs_and_standard_format() -> None:
    rows = trl_rows("Arithmetic-v0", 2) + trl_rows("Keywords-v0", 2)
    reward = EnvReward()
    refs = [reward.reference(r["task"]) for r in rows]
    prompts = [r["prompt"][-1]["content"] for r in rows]  # TRL's standard (string) format
    assert reward(prompts, refs, task=[r["task"] for r in rows]) == [1.0] * 4
    clone = pickle.loads(pickle.dumps(reward))
    assert clone == reward and clone(prompts, refs, task=[r["task"] for r in rows]) == [1.0] * 4


def test_a_missing_or_misnamed_task_column_raises_a_clear_error() -> None:
    (row,) = trl_rows("Keywords-v0", 1)
    reward = EnvReward()
    with pytest.raises(MissingColumnError, match=r"'task', which is missing \(columns: \['spec'\]"):
        reward(prompts=[row["prompt"]], completions=["x"], spec=[row["task"]])
    with pytest.raises(MissingColumnError, match="to_trl_dataset"):
        reward(prompts=[row["prompt"]], completions=["x"], trainer_state=None)
    with pytest.raises(MissingColumnError, match="EnvReward"):
        reward.check_columns(["prompt", "answer"])
    renamed = EnvReward(task_column="spec")
    renamed.check_columns(["prompt", "spec"])
    assert renamed([row["prompt"]], [reward.reference(row["task"])], spec=[row["task"]]) == [1.0]


def test_a_stale_row_or_a_bad_spec_raises() -> None:
    a, b = trl_rows("Arithmetic-v0", 2)
    with pytest.raises(TaskMismatchError, match="Rebuild the dataset"):
        EnvReward()([a["prompt"]], ["x"], task=[b["task"]])
    assert EnvReward(check_prompts=False)([a["prompt"]], ["x"], task=[b["task"]]) == [0.0]
    for bad in ("{not json", '{"seed": 1}', "[1, 2]", None):
        with pytest.raises(TaskSpecError, match="TaskSpec JSON"):
            EnvReward()([a["prompt"]], ["x"], task=[bad])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"env_id": "grpo_gym/Arithmetic-v0", "seed": -1}, "seed must be an int >= 0"),
        ({"env_id": "grpo_gym/Arithmetic-v0", "seed": 1, "split": "dev"}, "split must be"),
        (
            {"env_id": "grpo_gym/Arithmetic-v0", "seed": 1, "settings": {"x": object()}},
            "must be JSON values",
        ),
        ({"env_id": "grpo_gym/Arithmetic-v0", "seed": 1, "settings": {"x": float("nan")}}, "JSON"),
    ],
)
def test_task_spec_validates(kwargs: dict, match: str) -> None:
    with pytest.raises(TaskSpecError, match=match):
        TaskSpec(**kwargs)


def test_task_spec_names_unknown_envs_and_rows_validate_n() -> None:
    with pytest.raises(ge.UnknownEnvError, match="Arithmetic-v0"):
        TaskSpec("Arithmetik-v0", 0)
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        trl_rows("Arithmetic-v0", 0)
    spec = TaskSpec("Arithmetic-v0", 7, "test", {"ops": ["+", "-"]})
    assert TaskSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json())["env_id"] == "grpo_gym/Arithmetic-v0"


def test_to_trl_misnamed_answer_column_raises_instead_of_scoring_zero() -> None:
    """Before: ToTrl scored every reply 0 when the dataset's answer column had another name."""
    rubric = Rubric([("bullets", BulletCount(2), 1.0)])
    reply = "* one\n* two"
    with pytest.raises(MissingColumnError, match=r"'answer'.*\['solution'\].*answer_column"):
        ToTrl(rubric)(prompts=["q"], completions=[reply], solution=["4"])
    with pytest.raises(MissingColumnError, match="answer_column=None"):
        ToTrl(rubric).check_columns(["prompt"])
    assert ToTrl(rubric, answer_column=None)(prompts=["q"], completions=[reply]) == [1.0]
    assert ToTrl(rubric, answer_column="solution")(["q"], [reply], solution=["4"]) == [1.0]
