"""The shipped benchmark data (sha256, licences) and the GSM8K / MATH-500 envs."""

from __future__ import annotations

import re
from pathlib import Path

import gymnasium as gym
import pytest

import grpo_gym.envs  # noqa: F401
from grpo_gym.agent.evaluate import evaluate
from grpo_gym.envs.benchmark_data import SHIPPED, data_dir, sha256_of, shipped_rows
from grpo_gym.envs.benchmarks import MATH500_SUBJECTS, gsm8k_gold
from grpo_gym.rewards import math_reward

README = Path(__file__).resolve().parents[1] / "envs" / "data" / "benchmarks" / "README.md"


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_file_is_byte_exact(name: str) -> None:
    """sha256 of the decompressed content equals the upstream value in the data README."""
    shipped = SHIPPED[name]
    row = next(line for line in README.read_text().splitlines() if line.startswith(f"| {name}.gz"))
    assert shipped.sha256 in row
    assert sha256_of(name) == shipped.sha256
    assert len(shipped_rows(name)) == shipped.rows
    assert (data_dir() / shipped.licence).is_file()


def test_licences_ship_in_the_package() -> None:
    text = {p.name: p.read_text() for p in data_dir().glob("LICENSE.*")}
    assert set(text) == {"LICENSE.gsm8k", "LICENSE.prm800k-math500"}
    assert all("MIT License" in t for t in text.values())
    assert "Apache License, Version 2.0" in (data_dir() / "NOTICE.ifeval").read_text()
    assert "Apache License, Version 2.0" in (data_dir() / "NOTICE.ifbench").read_text()


# ---- GSM8K --------------------------------------------------------------------------------------
def test_gsm8k_split_selects_the_official_file() -> None:
    env = gym.make("grpo_gym/GSM8K-v0").unwrapped
    assert env.split_sizes() == {"train": 7473, "test": 1319}
    train_q = {r["question"] for r in shipped_rows("gsm8k_train.jsonl")}
    test_q = {r["question"] for r in shipped_rows("gsm8k_test.jsonl")}
    assert not train_q & test_q  # the official splits are disjoint
    for seed in range(20):
        _, info = env.reset(seed=seed, options={"split": "test"})
        question = info["task"].prompt.split("\n\n")[0]
        assert question in test_q and question not in train_q
        assert info["solution"].endswith(f"#### {info['task'].answer}")


def test_gsm8k_gold_and_scoring() -> None:
    assert gsm8k_gold("3 + 4 = <<3+4=7>>7\n#### 7") == "7"
    env = gym.make("grpo_gym/GSM8K-v0")
    prompt, info = env.reset(seed=3, options={"split": "test"})
    assert prompt.endswith("Put the final answer in \\boxed{}.")
    gold = info["task"].answer
    assert env.step(f"So it is ${int(gold):,} dollars: \\boxed{{{gold}}}")[1] == 1.0
    env.reset(seed=3, options={"split": "test"})
    assert env.step(f"\\boxed{{{int(gold) + 1}}}")[1] == 0.0


def test_gsm8k_template_and_few_shot_from_train_only() -> None:
    train = {r["question"].strip() for r in shipped_rows("gsm8k_train.jsonl")}
    env = gym.make("grpo_gym/GSM8K-v0", n_shot=4, template="Q: {question}\nA:").unwrapped
    for split in ("train", "test"):
        prompt, info = env.reset(seed=0, options={"split": split})
        shots = re.findall(r"Question: (.*?)\nAnswer: ", prompt, flags=re.S)
        assert len(shots) == 4 and all(q.strip() in train for q in shots)
        assert prompt.count("\\boxed{") == 4 and prompt.endswith("\nA:")
        assert info["task"].prompt.split("Question: ")[-1].startswith("Q: ")
        assert not any(q.strip() in prompt.split("Question: ")[-1] for q in shots)
    with pytest.raises(ValueError, match="question"):
        gym.make("grpo_gym/GSM8K-v0", template="no placeholder")
    with pytest.raises(ValueError, match="n_shot"):
        gym.make("grpo_gym/GSM8K-v0", n_shot=-1)


# ---- MATH-500 -----------------------------------------------------------------------------------
def test_math500_is_evaluation_only_with_a_clear_error() -> None:
    env = gym.make("grpo_gym/MATH500-v0")
    prompt, info = env.reset(seed=0)  # the default split is its only one
    assert info["split"] == "test" and prompt
    with pytest.raises(ValueError, match=r"no 'train' split.*GSM8K-v0"):
        env.reset(seed=0, options={"split": "train"})


def test_math500_filters_and_difficulty_levels() -> None:
    env = gym.make("grpo_gym/MATH500-v0").unwrapped
    assert env.split_sizes()["test"] == 500
    env.configure(subject="Geometry", level=(4, 5))
    for seed in range(10):
        meta = env.reset(seed=seed)[1]["task"].metadata
        assert meta["subject"] == "Geometry" and meta["level"] in (4, 5)
    sizes = []
    for level in range(5):
        env.configure(subject=None)
        env.set_difficulty(level)
        sizes.append(env.split_sizes()["test"])
        assert env.reset(seed=1)[1]["task"].metadata["level"] == level + 1
    assert sum(sizes) == 500
    with pytest.raises(ValueError, match="unknown subject"):
        env.configure(subject="Alchemy")
    with pytest.raises(ValueError, match="level"):
        env.configure(level=6)
    assert len(MATH500_SUBJECTS) == 7


def test_math500_every_gold_answer_verifies_against_itself() -> None:
    env = gym.make("grpo_gym/MATH500-v0").unwrapped
    failed = [
        p.answer
        for p in env.problems_of("test")
        if math_reward(env.reference(env._to_task(p)), env._to_task(p)).score != 1.0
    ]
    assert not failed, failed


def test_evaluation_sees_each_problem_once() -> None:
    env = gym.make("grpo_gym/MATH500-v0").unwrapped
    seeds = env.evaluation_seeds(0, 10_000)
    assert len(seeds) == 500 and env.evaluation_seeds(0, 40) == seeds[:40]
    prompts = {env.reset(seed=s)[0] for s in seeds}
    assert len(prompts) == 500

    refs = {p.prompt: f"\\boxed{{{p.answer}}}" for p in env.problems_of("test")}

    class Oracle:  # a scripted policy that answers from the env's own gold answers
        def __call__(self, conversations, n=1):
            return [refs.get(c[-1]["content"], "") for c in conversations for _ in range(n)]

    report = evaluate(Oracle(), ["grpo_gym/MATH500-v0"], problems=30, n=1, temperature=0)
    result = report.result("MATH500-v0")
    assert result.problems == result.distinct_prompts == 30 and result.pass_at_k[1] == 1.0
