"""IFEval and IFEvalLike: the official checkers on hand-written replies (every instruction type,
follows and violates), determinism, the four official metrics, and IFEvalLike's new prompts."""

from __future__ import annotations

import gymnasium as gym
import pytest

import grpo_gym.envs  # noqa: F401
from grpo_gym.envs.benchmark_data import shipped_rows
from grpo_gym.envs.ifeval import UNFOLLOWABLE
from grpo_gym.envs.ifeval_checks import check_reply, registry
from grpo_gym.envs.instruction_env import aggregate_ifeval
from tests.helpers import verdicts_in_two_processes

LONG = " ".join(["The quiet river runs past the old mill every morning."] * 40)
#: instruction id -> (kwargs, a reply that follows it, a reply that violates it)
CASES = {
    "keywords:existence": ({"keywords": ["apple", "river"]}, "An apple fell in the river.", "A pear fell."),
    "keywords:frequency": ({"keyword": "sun", "frequency": 3, "relation": "at least"}, "sun sun sun", "sun once"),
    "keywords:forbidden_words": ({"forbidden_words": ["cat"]}, "A dog barks.", "A cat sleeps."),
    "keywords:letter_frequency": ({"letter": "z", "let_frequency": 3, "let_relation": "at least"}, "zzz buzz", "no such letter"),
    "language:response_language": ({"language": "de"}, "Heute ist das Wetter sehr schön und wir gehen alle auf den Markt.", "Today the weather is very nice and we all go to the market."),
    "length_constraints:number_sentences": ({"num_sentences": 3, "relation": "less than"}, "One. Two.", "One. Two. Three. Four."),
    "length_constraints:number_paragraphs": ({"num_paragraphs": 2}, "First part.\n***\nSecond part.", "Only one part."),
    "length_constraints:number_words": ({"num_words": 100, "relation": "at least"}, LONG, "Too short."),
    "length_constraints:nth_paragraph_first_word": ({"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"}, "Start here.\n\nThen we end.", "Start here.\n\nAnd we end."),
    "detectable_content:number_placeholders": ({"num_placeholders": 2}, "Dear [name] at [address].", "Dear friend."),
    "detectable_content:postscript": ({"postscript_marker": "P.S."}, "Hello.\nP.S. See you.", "Hello. See you."),
    "detectable_format:number_bullet_lists": ({"num_bullets": 2}, "* one\n* two", "* one\n* two\n* three"),
    "detectable_format:constrained_response": ({}, "My answer is yes.", "Maybe, who knows."),
    "detectable_format:number_highlighted_sections": ({"num_highlights": 2}, "*first* and *second*", "*first* only"),
    "detectable_format:multiple_sections": ({"section_spliter": "Section", "num_sections": 2}, "Section 1\nA.\nSection 2\nB.", "Section 1\nA."),
    "detectable_format:json_format": ({}, '{"a": 1}', "a: 1"),
    "detectable_format:title": ({}, "<<My Title>>\nText.", "My Title\nText."),
    "combination:two_responses": ({}, "First answer.\n******\nSecond answer.", "Just one answer."),
    "combination:repeat_prompt": ({"prompt_to_repeat": "Say hi."}, "Say hi. Hi!", "Hi!"),
    "startend:end_checker": ({"end_phrase": "Any other questions?"}, "Done. Any other questions?", "Any other questions? Done."),
    "change_case:capital_word_frequency": ({"capital_frequency": 2, "capital_relation": "at least"}, "VERY GOOD work.", "Very good work."),
    "change_case:english_capital": ({}, "THIS IS ALL IN CAPITAL LETTERS FOR YOU.", "This is not all in capital letters."),
    "change_case:english_lowercase": ({}, "this is all in lowercase letters for you.", "This is Not all lowercase."),
    "punctuation:no_comma": ({}, "No commas here.", "Commas, here."),
    "startend:quotation": ({}, '"Wrapped in quotes."', "Not wrapped."),
}  # fmt: skip


def test_every_instruction_type_is_covered() -> None:
    assert set(CASES) == set(registry())
    assert len(CASES) == 25


@pytest.mark.parametrize("iid", sorted(CASES))
def test_checker_verdicts_on_hand_written_replies(iid: str) -> None:
    kwargs, follows, violates = CASES[iid]
    prompt = kwargs.get("prompt_to_repeat", "Write something.")
    (good,) = check_reply(follows, [iid], [kwargs], prompt)
    (bad,) = check_reply(violates, [iid], [kwargs], prompt)
    assert good.strict and good.loose, follows
    assert not bad.strict, violates


def test_loose_accepts_a_markdown_wrapper_that_strict_rejects() -> None:
    reply = "Here you go:\n**Hello world. No commas here.**\nThanks, bye."
    (verdict,) = check_reply(reply, ["punctuation:no_comma"], [{}], "p")
    assert not verdict.strict and verdict.loose  # the last line (with its comma) dropped


_VERDICTS = """
import json, grpo_gym.envs.ifeval_checks as c
rows = [r for r in __import__("grpo_gym.envs.benchmark_data", fromlist=["x"]).shipped_rows(
    "ifeval_input_data.jsonl") if "language:response_language" in r["instruction_id_list"]
    or r["key"] == 1122]
reply = "Ceci est une phrase courte. Wir gehen nach Hause. Esto es todo."
print(json.dumps([[v.strict for v in c.check_reply(reply, r["instruction_id_list"], r["kwargs"],
                   r["prompt"])] for r in rows]))
"""


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_verdicts_are_the_same_in_every_process() -> None:
    assert len(verdicts_in_two_processes(_VERDICTS)) > 20


def test_ifeval_env_scores_verdicts_and_the_official_metrics() -> None:
    env = gym.make("grpo_gym/IFEval-v0").unwrapped
    assert env.split_sizes()["test"] == 541 and env.splits == ("test",)
    with pytest.raises(ValueError, match="IFEvalLike"):
        env.reset(seed=0, options={"split": "train"})
    _, info = env.reset(seed=5)
    task = info["task"]
    result = env.score(info["reference"], task)
    n = len(task.metadata["instruction_id_list"])
    assert result.components["instructions"] == n
    assert sum(1 for k in result.components if k.endswith(":strict")) == n
    short = env.score("I don't know.", task)
    assert short.score == 0.0 and "too short" in short.reason
    comps = [
        {"instructions": 2, "followed_strict": 2, "followed_loose": 2, "prompt_strict": 1, "prompt_loose": 1},
        {"instructions": 1, "followed_strict": 0, "followed_loose": 1, "prompt_strict": 0, "prompt_loose": 1},
        {"instructions": 3, "followed_strict": 1, "followed_loose": 2, "prompt_strict": 0, "prompt_loose": 0},
    ]  # fmt: skip
    metrics = aggregate_ifeval(comps, 1)
    assert metrics["prompt_level_strict_acc"][0] == pytest.approx(1 / 3)
    assert metrics["inst_level_strict_acc"][0] == pytest.approx(3 / 6)
    assert metrics["prompt_level_loose_acc"][0] == pytest.approx(2 / 3)
    assert metrics["inst_level_loose_acc"][0] == pytest.approx(5 / 6)
    assert all(se is not None and se > 0 for _, se in metrics.values())


def test_references_follow_every_followable_ifeval_prompt() -> None:
    env = gym.make("grpo_gym/IFEval-v0").unwrapped
    missed = set()
    for problem in env.problems_of("test"):
        task = env._to_task(problem)
        if env.score(env.reference(task), task).score < 1.0:
            missed.add(problem.metadata["key"])
    assert missed <= UNFOLLOWABLE | {1122}, missed - UNFOLLOWABLE
    assert len(missed) <= 6


def test_ifevallike_prompts_are_new_and_checked_by_the_same_checkers() -> None:
    ifeval = {r["prompt"] for r in shipped_rows("ifeval_input_data.jsonl")}
    env = gym.make("grpo_gym/IFEvalLike-v0")
    seen = set()
    for seed in range(60):
        prompt, info = env.reset(seed=seed, options={"split": "train" if seed % 3 else "test"})
        assert prompt not in ifeval
        ids = info["task"].metadata["instruction_id_list"]
        assert 1 <= len(ids) <= 3 and set(ids) <= set(registry())
        seen |= set(ids)
        assert env.step(info["reference"])[1] == 1.0
    assert len(seen) >= 15  # many instruction types are drawn
