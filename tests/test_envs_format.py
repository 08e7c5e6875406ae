"""Formatting, keyword and instruction envs: API, determinism, references, anti-hacking."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import grpo_gym.envs  # noqa: F401  (registers the ids)
from grpo_gym.envs.base import task_split
from grpo_gym.envs.formatting import BulletList, LetterCase, Sections, WordCount
from grpo_gym.envs.instructions import FAMILIES, Instructions
from grpo_gym.envs.keywords import ForbiddenWords, KeywordFrequency, Keywords
from grpo_gym.envs.structured import AnswerTags, JsonObject
from grpo_gym.envs.writing import FILLER, FORBIDDEN, KEYWORDS, TOPICS
from grpo_gym.rewards import Task, TaskRubric
from grpo_gym.rewards.keywords import count_occurrences

IDS = [
    "grpo_gym/AnswerTags-v0",
    "grpo_gym/JsonObject-v0",
    "grpo_gym/BulletList-v0",
    "grpo_gym/WordCount-v0",
    "grpo_gym/Lowercase-v0",
    "grpo_gym/Uppercase-v0",
    "grpo_gym/Sections-v0",
    "grpo_gym/Keywords-v0",
    "grpo_gym/KeywordFrequency-v0",
    "grpo_gym/ForbiddenWords-v0",
    "grpo_gym/Instructions-v0",
    "grpo_gym/InstructionsPartial-v0",
]
CLASSES = [
    AnswerTags,
    JsonObject,
    BulletList,
    WordCount,
    LetterCase,
    Sections,
    Keywords,
    KeywordFrequency,
    ForbiddenWords,
    Instructions,
]
TRIVIAL = [
    "",
    "   ",
    "I don't know.",
    "i don't know",
    "OK",
    "{}",
    "* a\n* b",
    "<think></think><answer></answer>",
]


@pytest.mark.parametrize("env_id", IDS)
def test_check_env(env_id: str) -> None:
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_reference_solves_and_trivial_replies_do_not(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    for seed in range(60):
        prompt, info = env.reset(seed=seed)
        _, reward, terminated, truncated, step_info = env.step(info["reference"])
        assert reward == pytest.approx(env.max_reward), (prompt, info["reference"], step_info)
        assert step_info["is_success"] and terminated and not truncated
        for junk in TRIVIAL:
            env.reset(seed=seed)
            _, bad, *_ = env.step(junk)
            assert bad < reward, (env_id, seed, junk)


@pytest.mark.parametrize("env_id", IDS)
def test_deterministic_in_seed_and_varied_across_seeds(env_id: str) -> None:
    a, b = gym.make(env_id).unwrapped, gym.make(env_id).unwrapped
    prompts = []
    for seed in range(20):
        pa, ia = a.reset(seed=seed)
        pb, ib = b.reset(seed=seed)
        assert (pa, ia["reference"]) == (pb, ib["reference"])
        assert ia["task"] == ib["task"]
        prompts.append(pa)
    assert len(set(prompts)) >= 15


@pytest.mark.parametrize("env_id", IDS)
def test_splits_are_disjoint_and_tasks_pickle(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    for split in ("train", "test"):
        for seed in range(10):
            prompt, info = env.reset(seed=seed, options={"split": split})
            assert task_split(prompt, env.test_fraction) == split
            task = pickle.loads(pickle.dumps(info["task"]))
            assert task == info["task"]
            assert TaskRubric()(info["reference"], task).score == pytest.approx(1.0)


@pytest.mark.parametrize("cls", CLASSES)
def test_every_difficulty_level_has_solvable_tasks(cls) -> None:
    assert cls.difficulty_levels, "give difficulty presets"
    assert all(
        s in (cls.__doc__ or "")
        for s in (
            "## Description",
            "## Observation",
            "## Action",
            "## Reward",
            "## Version History",
        )
    )
    env = cls()
    for level in range(len(cls.difficulty_levels)):
        env.set_difficulty(level)
        for seed in range(15):
            _, info = env.reset(seed=seed)
            assert env.score(info["reference"], info["task"]).score == pytest.approx(1.0), (
                cls,
                level,
                seed,
            )
            assert env.score("", info["task"]).score == 0.0


@pytest.mark.parametrize(
    ("cls", "settings"),
    [
        (AnswerTags, {"kinds": ()}),
        (AnswerTags, {"kinds": ("multiply",)}),
        (AnswerTags, {"format_weight": 1.0}),
        (JsonObject, {"min_fields": 3, "max_fields": 2}),
        (JsonObject, {"max_fields": 9}),
        (BulletList, {"min_bullets": 0}),
        (WordCount, {"width": 5}),
        (LetterCase, {"case": "title"}),
        (Sections, {"word": "Part 1"}),
        (Keywords, {"max_keywords": 9}),
        (KeywordFrequency, {"relations": ("about",)}),
        (ForbiddenWords, {"max_forbidden": 99}),
        (Instructions, {"mode": "lenient"}),
        (Instructions, {"families": ("lowercase", "uppercase"), "max_constraints": 2}),
        (Instructions, {"families": ("nope",)}),
        (Instructions, {"min_constraints": 0}),
    ],
)
def test_bad_settings_raise(cls, settings) -> None:
    with pytest.raises(ValueError):
        cls(**settings)


# ---- env-specific behaviour -------------------------------------------------------------------
def _task(env, seed: int = 0) -> Task:
    env.reset(seed=seed)
    return env.task


def test_answer_tags_scores_format_and_answer_separately() -> None:
    env = AnswerTags(kinds=("add",))
    task = _task(env)
    ans = task.answer
    cases = {
        f"<think>sum</think><answer>{ans}</answer>": 1.0,
        f"<think>sum</think><answer>{int(ans) + 1}</answer>": 0.5,
        f"<think>sum</tool><answer>{ans}</answer>": 0.5,  # verifiers' XMLParser bug: format must fail
        f"<answer>{ans}</answer>": 0.5,
        f"The answer is {ans}.": 0.0,
    }
    for reply, expected in cases.items():
        assert env.score(reply, task).score == pytest.approx(expected), reply


def test_json_env_prompt_names_every_key_and_type() -> None:
    env = JsonObject(min_fields=3, max_fields=3)
    for seed in range(10):
        task = _task(env, seed)
        example = dict(task.metadata["example"])
        for key in example:
            assert f'"{key}" (' in task.prompt
        assert env.score(json.dumps(example), task).score == 1.0
        assert env.score("```json\n" + json.dumps(example) + "\n```", task).score == 1.0
        first = next(iter(example))
        broken = {k: v for k, v in example.items() if k != first}
        assert env.score(json.dumps(broken), task).score == pytest.approx(2 / 3)


def test_bullet_list_counts_exactly() -> None:
    env = BulletList(min_bullets=3, max_bullets=3)
    task = _task(env)
    topic = task.metadata["topic"]
    assert env.score(f"* {topic}\n* b\n* c", task).score == pytest.approx(1.0)
    assert env.score(f"* {topic}\n* b\n* c\n* d", task).score == pytest.approx(0.8 * 2 / 3 + 0.2)
    assert env.score("* a\n* b\n* c", task).score == pytest.approx(0.8)


def test_word_count_prompt_bounds_match_the_check() -> None:
    env = WordCount()
    for seed in range(10):
        task = _task(env, seed)
        lo, hi = task.metadata["range"]
        assert f"between {lo} and {hi} words" in task.prompt
        topic = task.metadata["topic"]
        assert env.score(" ".join([topic] * lo), task).score == 1.0
        assert env.score(" ".join([topic] * (hi + 1)), task).score < 1.0
        assert env.score(" ".join([topic] * (lo - 1)), task).score < 1.0


def test_letter_case_rejects_one_capital() -> None:
    env = LetterCase(case="lower")
    task = _task(env)
    ref = env.reference(task)
    assert env.score(ref, task).score == 1.0
    assert env.score(ref[:-1] + ref[-1].upper() + "X", task).score == pytest.approx(0.4)


def test_sections_order_matters() -> None:
    env = Sections(min_sections=2, max_sections=2)
    task = _task(env)
    topic = task.metadata["topic"]
    assert env.score(f"Section 1\n{topic}\nSection 2\nmore", task).score == 1.0
    assert env.score(f"Section 2\n{topic}\nSection 1\nmore", task).score == pytest.approx(0.2)


def test_forbidden_words_need_required_content() -> None:
    env = ForbiddenWords()
    task = _task(env)
    rubric = task.metadata["rubric"]
    banned = rubric.items[0].fn.words
    ref = env.reference(task)
    assert env.score(ref, task).score == 1.0
    assert env.score(ref + f" It is {banned[0]}.", task).score < 1.0
    assert (
        env.score(
            "A calm reply with none of those words at all but no keywords either here.", task
        ).score
        < 0.7
    )


def test_keyword_frequency_exactly() -> None:
    env = KeywordFrequency(relations=("exactly",), min_count=2, max_count=2)
    task = _task(env)
    ref = env.reference(task)
    kw = task.metadata["check"].keyword
    assert count_occurrences(ref, kw) == 2
    assert env.score(ref + f" {kw}.", task).score < 1.0


def test_pools_are_disjoint_and_filler_is_clean() -> None:
    assert not set(TOPICS) & set(KEYWORDS) and not set(FORBIDDEN) & (set(TOPICS) | set(KEYWORDS))
    for sentence in FILLER:
        text = sentence.format(t="topic")
        assert "," not in text and re.fullmatch(r"[A-Za-z .]+", text)
        for word in KEYWORDS + FORBIDDEN:
            assert count_occurrences(text, word) == 0, (word, sentence)


# ---- Instructions ---------------------------------------------------------------------------------
def test_instructions_prompt_states_every_check() -> None:
    env = Instructions(min_constraints=3, max_constraints=3)
    for seed in range(40):
        task = _task(env, seed)
        constraints = task.metadata["constraints"]
        assert len(constraints) == 3 and not {"lowercase", "uppercase"} <= set(constraints)
        for fn in _checks(task)[1:]:
            assert fn.instruction in task.prompt


def _checks(task: Task) -> list:
    rubric = task.metadata["rubric"]
    inner = getattr(rubric, "fn", rubric)  # strict: PassFail(Rubric); partial: Rubric of PassFail
    return [getattr(it.fn, "fn", it.fn) for it in inner.items]


@pytest.mark.parametrize("family", FAMILIES)
def test_instructions_each_family_alone(family: str) -> None:
    strict = Instructions(families=(family,), max_constraints=1)
    partial = Instructions(families=(family,), max_constraints=1, mode="partial")
    for seed in range(8):
        task = _task(strict, seed)
        assert task.metadata["constraints"] == (family,)
        ref = strict.reference(task)
        assert strict.score(ref, task).score == 1.0
        # a reply that mentions the topic but ignores the constraint: strict 0, partial 1/2
        topic = task.prompt.split('"')[1]
        lazy = f"Section 1\n{topic} is fine\n* one"
        res = strict.score(lazy, task)
        part = partial.score(lazy, _task(partial, seed))
        assert res.score in (0.0, 1.0) and part.score in (0.5, 1.0)
        assert (res.score == 1.0) == (part.score == 1.0)


def test_instructions_strict_vs_partial() -> None:
    strict = Instructions(families=("no_commas", "title"), min_constraints=2, max_constraints=2)
    partial = Instructions(
        families=("no_commas", "title"), min_constraints=2, max_constraints=2, mode="partial"
    )
    ts, tp = _task(strict), _task(partial)
    assert ts.prompt == tp.prompt
    topic = ts.prompt.split('"')[1]
    reply = f"<<about {topic}>>\nA {topic}, which is lovely."  # title ok, comma breaks no_commas
    assert strict.score(reply, ts).score == 0.0
    res = partial.score(reply, tp)
    assert res.score == pytest.approx(2 / 3)
    assert res.components["no_commas"] == 0.0 and res.components["title"] == 1.0
    assert "no_commas" in (res.reason or "")


def test_instructions_do_not_depend_on_hash_seed() -> None:
    code = (
        "import grpo_gym.envs, gymnasium as gym\n"
        "e = gym.make('grpo_gym/Instructions-v0').unwrapped\n"
        "print([e.reset(seed=s)[0] for s in range(5)])"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": h},
        ).stdout
        for h in ("1", "2")
    }
    assert len(outs) == 1
