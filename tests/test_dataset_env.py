"""Any dataset as an env: local JSONL / Parquet / CSV files, a local folder through ``datasets``,
column mapping, gold extraction, reward kinds and split modes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import grpo_gym.envs  # noqa: F401
from grpo_gym.envs.dataset import DatasetEnv
from grpo_gym.envs.dataset_rewards import choice_letter, exact_reward
from grpo_gym.envs.dataset_source import DatasetLoadError, load_rows
from grpo_gym.rewards import Task

ROWS = [
    {"problem": f"What is {i} times 3?", "solution": f"{i} * 3 = {3 * i}\n#### {3 * i}", "id": i}
    for i in range(40)
]


def _write(tmp_path: Path, kind: str) -> Path:
    if kind == "jsonl":
        path = tmp_path / "data.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    elif kind == "csv":
        path = tmp_path / "data.csv"
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(ROWS[0]))
            writer.writeheader()
            writer.writerows(ROWS)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = tmp_path / "data.parquet"
        pq.write_table(pa.Table.from_pylist(ROWS), path)
    return path


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet"])
def test_a_local_file_is_an_env_in_one_call(tmp_path: Path, kind: str) -> None:
    path = _write(tmp_path, kind)
    env = gym.make(
        "grpo_gym/Dataset-v0", source=str(path), prompt_key="problem", answer_key="solution"
    )
    assert env.unwrapped.split_sizes()["train"] + env.unwrapped.split_sizes()["test"] == 40
    for split in ("train", "test"):
        prompt, info = env.reset(seed=1, options={"split": split})
        i = int(prompt.split()[2])
        assert info["task"].answer == str(3 * i) and prompt.endswith("\\boxed{}.")
        assert info["solution"].startswith(f"{i} * 3")
        assert env.step(f"It is \\boxed{{{3 * i}}}")[1] == 1.0


def test_a_local_folder_loads_through_datasets(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    _write(folder, "jsonl").rename(folder / "train.jsonl")
    env = gym.make(
        "grpo_gym/Dataset-v0",
        source=str(folder),
        prompt_key="problem",
        answer_key="solution",
        split="train",
    )
    assert env.unwrapped.split_sizes() == {"train": 40, "test": 0}
    _, info = env.reset(seed=0)
    assert env.step(info["reference"])[1] == 1.0
    with pytest.raises(ValueError, match="no 'test' split"):
        env.reset(seed=0, options={"split": "test"})


def test_a_hub_id_offline_names_the_local_file_route() -> None:
    code = (
        "from grpo_gym.envs.dataset_source import load_rows\n"
        "try:\n    load_rows('openai/gsm8k', config='main', split='test')\n"
        "except ValueError as exc:\n    print(exc)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert "could not load 'openai/gsm8k'" in proc.stdout and "local file" in proc.stdout


def test_gold_regex_callable_template_and_whole_file_splits(tmp_path: Path) -> None:
    path = _write(tmp_path, "jsonl")
    common = {"source": str(path), "prompt_key": "problem", "answer_key": "solution"}
    env = gym.make(
        "grpo_gym/Dataset-v0",
        **common,
        gold_regex=r"= (\d+)",
        template="Item {id}: {prompt}",
        split="test",
    )
    prompt, info = env.reset(seed=2)
    assert prompt.startswith(f"Item {info['task'].answer and int(info['task'].answer) // 3}: ")
    assert env.unwrapped.splits == ("test",)
    env = DatasetEnv(**common, gold_fn=lambda text: text.split()[0], split="train")
    _, info = env.reset(seed=3)
    assert info["task"].prompt.split()[2] == info["task"].answer  # the "i" of "i * 3"
    with pytest.raises(ValueError, match="test_fraction"):
        DatasetEnv(**common, test_fraction=1.5)
    with pytest.raises(ValueError, match="must contain '\\{prompt\\}'"):
        DatasetEnv(**common, template="no placeholder")
    with pytest.raises(ValueError, match="names a field the row lacks"):
        DatasetEnv(**common, template="{prompt} {nope}")
    with pytest.raises(ValueError, match="missing or empty string field 'question'"):
        DatasetEnv(source=str(path))
    smaller = DatasetEnv(**common, test_fraction=0.5).split_sizes()
    larger = DatasetEnv(**common, test_fraction=0.1).split_sizes()
    assert smaller["test"] > larger["test"]


def test_reward_kinds_exact_choice_and_callable(tmp_path: Path) -> None:
    rows = [
        {"q": "Capital of France?", "options": ["Rome", "Paris", "Oslo"], "gold": 1},
        {"q": "Largest planet?", "options": ["Jupiter", "Mars", "Venus"], "gold": "A"},
        {"q": "Frozen water?", "options": ["Steam", "Ice", "Fog"], "gold": "Ice"},
    ] * 10
    rows = [{**r, "q": f"{r['q']} (#{i})"} for i, r in enumerate(rows)]
    env = DatasetEnv(
        source=rows, prompt_key="q", answer_key="gold", reward="choice", choices_key="options"
    )
    _, info = env.reset(seed=0)
    gold = info["task"].answer
    assert "A. " in info["task"].prompt and gold in "ABC"
    assert env.score(f"The answer is ({gold}).", info["task"]).score == 1.0
    wrong = "B" if gold != "B" else "C"
    assert env.score(f"\\boxed{{{wrong}}}", info["task"]).score == 0.0
    assert env.score("I don't know.", info["task"]).score == 0.0
    assert choice_letter("Answer: D", n_choices=3) is None

    task = Task(prompt="?", answer="Paris")
    assert exact_reward("The answer is \\boxed{paris}.", task).score == 1.0
    assert exact_reward("Lyon", task).score == 0.0

    exact = DatasetEnv(source=rows, prompt_key="q", answer_key="gold", reward="exact")
    _, info = exact.reset(seed=4)
    assert exact.step(info["reference"])[1] == 1.0

    def length_reward(reply: str, task: Task) -> float:
        return float(len(reply) < 10)

    mine = DatasetEnv(source=rows, prompt_key="q", answer_key="gold", reward=length_reward)
    _, info = mine.reset(seed=0)
    assert mine.step("short")[1] == 1.0
    with pytest.raises(ValueError, match="reward='fuzzy': use one of"):
        DatasetEnv(source=rows, prompt_key="q", answer_key="gold", reward="fuzzy")


def test_load_rows_errors_are_one_line_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_rows(str(tmp_path / "missing.parquet"))
    bad = tmp_path / "bad.txt"
    bad.write_text("x")
    with pytest.raises(DatasetLoadError, match="unknown file type"):
        load_rows(bad)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"a": 1}\n\n{"a": \n')
    with pytest.raises(DatasetLoadError, match=r"broken\.jsonl:3: not valid JSON"):
        load_rows(broken)


def test_a_csv_rows_error_names_its_line_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("question,answer\nWhat is 1+1?,2\nWhat is 2+2?,\n")  # line 3: no answer
    with pytest.raises(DatasetLoadError, match=r"data\.csv:3: missing or empty string field"):
        gym.make("grpo_gym/Dataset-v0", source=str(path), prompt_key="question")
