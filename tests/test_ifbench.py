"""IFBench: the official checkers offline (nltk data from PyPI, no nltk.download), verdicts on
hand-written replies, the env (288/294 prompts, eval only, references), determinism."""

from __future__ import annotations

import hashlib

import gymnasium as gym
import pytest

import grpo_gym.envs  # noqa: F401
from grpo_gym.envs import ifbench as ifbench_env
from grpo_gym.envs.benchmark_data import shipped_rows
from grpo_gym.envs.ifbench_checks import NEEDS_TAGGER, registry, tagger_available
from grpo_gym.envs.ifeval_checks import NLTK_FILES, check_reply, ensure_nltk
from grpo_gym.envs.instruction_env import aggregate_ifeval
from tests.helpers import verdicts_in_two_processes

ROWS = shipped_rows("ifbench_test.jsonl")
#: instruction id -> (kwargs as IFBench writes them, a reply that follows, one that violates)
CASES = {
    "count:numbers": ({"N": 2.0}, "We bought 3 apples and 4 pears today.", "We bought 3 apples, 4 pears and 5 plums."),
    "count:word_count_range": ({"min_words": 4.0, "max_words": 6.0}, "Five words are right here.", "Two words."),
    "format:no_whitespace": ({}, "Nowhitespaceatallinthisreply.", "Some whitespace here."),
    "format:title_case": ({}, "The Quick Brown Fox Jumps Over The Lazy Dog", "the quick brown fox jumps over the lazy dog"),
    "format:newline": ({}, "Each\nword\nalone.", "Two words\non lines."),
    "words:palindrome": ({}, "level kayak civic radar refer rotor stats tenet madam racecar", "level kayak only."),
    "ratio:stop_words": ({"percentage": 27.0}, "Green apples taste sweet. Farmers harvest crops early.", "It is what it is and it was the one for me."),
    "sentence:keyword": ({"N": 2.0, "word": "river"}, "We walked far. The river was wide. We rested.", "The river was wide. We walked far. We rested."),
}  # fmt: skip


def test_the_checkers_cover_every_prompt_and_load_offline() -> None:
    used = {i for r in ROWS for i in r["instruction_id_list"]}
    assert len(ROWS) == 294 and len(used) == 57 and used <= set(registry())
    import nltk

    assert nltk.download.__module__ == "nltk.downloader"  # the offline patch was undone
    folder = ensure_nltk("corpora/stopwords")
    english = (folder / "english").read_bytes()
    assert hashlib.sha256(english).hexdigest() == NLTK_FILES["corpora/stopwords"]["english"]
    assert len(nltk.corpus.stopwords.words("english")) == 198


@pytest.mark.parametrize("iid", sorted(CASES))
def test_checker_verdicts_on_hand_written_replies(iid: str) -> None:
    kwargs, follows, violates = CASES[iid]
    (good,) = check_reply(follows, [iid], [kwargs], "Write something.", instructions=registry())
    (bad,) = check_reply(violates, [iid], [kwargs], "Write something.", instructions=registry())
    assert good.strict and good.loose, follows
    assert not bad.strict, violates


def test_prompts_that_need_the_tagger_are_left_out_without_it(monkeypatch) -> None:
    env = gym.make("grpo_gym/IFBench-v0").unwrapped
    tagged = sum(bool(NEEDS_TAGGER.intersection(r["instruction_id_list"])) for r in ROWS)
    assert tagged == 6
    size = env.split_sizes()["test"]
    assert size == (294 if tagger_available() else 288)
    monkeypatch.setattr(ifbench_env, "tagger_available", lambda: True)
    assert gym.make("grpo_gym/IFBench-v0").unwrapped.split_sizes()["test"] == 294


def test_ifbench_env_is_eval_only_and_scores_every_instruction() -> None:
    env = gym.make("grpo_gym/IFBench-v0").unwrapped
    assert env.splits == ("test",)
    with pytest.raises(ValueError, match="IFEvalLike"):
        env.reset(seed=0, options={"split": "train"})
    follows = 0
    components = []
    for problem in env.problems_of("test"):
        task = env._to_task(problem)
        result = env.score(env.reference(task), task)
        assert task.metadata["reference_follows"] == (result.score == 1.0)
        follows += task.metadata["reference_follows"]
        n = len(task.metadata["instruction_id_list"])
        assert result.components["instructions"] == n
        assert sum(1 for k in result.components if k.endswith(":strict")) == n
        components.append(result.components)
    assert follows == 65  # the wheel's sample replies that follow every instruction (>= 8 words)
    metrics = aggregate_ifeval(components, 1)
    assert set(metrics) == {
        "prompt_level_strict_acc",
        "inst_level_strict_acc",
        "prompt_level_loose_acc",
        "inst_level_loose_acc",
    }
    strict, loose = metrics["prompt_level_strict_acc"][0], metrics["prompt_level_loose_acc"][0]
    assert 0.2 < strict <= loose < 1.0


_VERDICTS = """
import json
from grpo_gym.envs.benchmark_data import shipped_rows
from grpo_gym.envs.ifbench_checks import registry, NEEDS_TAGGER
from grpo_gym.envs.ifeval_checks import check_reply
replies = {r["prompt"]: r["response"] for r in shipped_rows("ifbench_sample_output.jsonl")}
rows = [r for r in shipped_rows("ifbench_test.jsonl")
        if not NEEDS_TAGGER.intersection(r["instruction_id_list"])][::4]
print(json.dumps([[v.strict for v in check_reply(replies[r["prompt"]], r["instruction_id_list"],
                   r["kwargs"], r["prompt"], instructions=registry())] for r in rows]))
"""


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_verdicts_are_the_same_in_every_process() -> None:
    assert len(verdicts_in_two_processes(_VERDICTS)) == 72
