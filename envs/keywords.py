"""Keyword envs: include keywords, use a keyword a number of times, avoid forbidden words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from grpo_gym.rewards.keywords import ForbiddenWords as ForbiddenWordsCheck
from grpo_gym.rewards.keywords import IncludeKeywords, Relation
from grpo_gym.rewards.keywords import KeywordFrequency as KeywordFrequencyCheck
from grpo_gym.rewards.length import words_in_range
from grpo_gym.rewards.rubric import Rubric
from grpo_gym.rewards.types import Task

from .writing import (
    FORBIDDEN,
    KEYWORDS,
    TOPICS,
    RubricEnv,
    check_range,
    filler_sentences,
    keyword_sentence,
    keyword_sentences,
    mention,
    pick,
    pick_distinct,
)


def keyword_paragraph(topic: str, keywords: tuple[str, ...], min_words: int) -> str:
    """``keyword_sentence`` padded with filler sentences to at least ``min_words`` words."""
    out = [keyword_sentence(topic, keywords)]
    i = 0
    while len(" ".join(out).split()) < min_words:
        out += filler_sentences(topic, 1, start=i)
        i += 1
    return " ".join(out)


# ---- include keywords -------------------------------------------------------------------------
@dataclass(frozen=True)
class KeywordsConfig:
    """Settings of ``Keywords``: the keyword count is drawn from ``min_keywords..max_keywords``
    (at most 8); the reply needs at least ``min_words`` words."""

    min_keywords: int = 2
    max_keywords: int = 4
    min_words: int = 20

    def __post_init__(self) -> None:
        check_range("keywords", self.min_keywords, self.max_keywords, cap=8)
        if self.min_words < 1:
            raise ValueError(f"min_words must be >= 1, got {self.min_words}")


class Keywords(RubricEnv):
    """Write about a topic and include every given keyword.

    ## Description
    Write at least ``min_words`` words about a topic that include each of K keywords.

    ## Observation
    ``"Write a short paragraph about the river. Include the keywords "ember", "compass" in your
    response. Your response should contain at least 20 words."``

    ## Action
    The reply (str). Keywords match as whole words, case-insensitively.

    ## Reward
    0.8 x fraction of keywords present + 0.2 x length credit (``min(1, words/min_words)``).
    Single-turn.

    ## Arguments
    ``min_keywords``, ``max_keywords``, ``min_words`` — see ``KeywordsConfig``.

    ## Version History
    * v0: initial version.
    """

    description = "Write about a topic including every given keyword"
    reward_kind = "keywords"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"min_keywords": 1, "max_keywords": 2, "min_words": 10},
        {"min_keywords": 2, "max_keywords": 4, "min_words": 20},
        {"min_keywords": 4, "max_keywords": 8, "min_words": 40},
    )

    config_class: ClassVar[type] = KeywordsConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        topic = pick(rng, TOPICS)
        kws = pick_distinct(
            rng, KEYWORDS, int(rng.integers(cfg.min_keywords, cfg.max_keywords + 1))
        )
        check, length = IncludeKeywords(kws), words_in_range(cfg.min_words)
        rubric = Rubric([("keywords", check, 0.8), ("length", length, 0.2)])
        prompt = (
            f"Write a short paragraph about the {topic}. {check.instruction} {length.instruction}"
        )
        return Task(
            prompt=prompt,
            metadata={
                "rubric": rubric,
                "topic": topic,
                "keywords": kws,
                "min_words": cfg.min_words,
            },
        )

    def reference(self, task: Task) -> str:
        meta = task.metadata
        return keyword_paragraph(meta["topic"], meta["keywords"], meta["min_words"])


# ---- keyword frequency --------------------------------------------------------------------------
@dataclass(frozen=True)
class KeywordFrequencyConfig:
    """Settings of ``KeywordFrequency``: N is drawn from ``min_count..max_count`` (<= 10)
    and the relation from ``relations`` (``at_least``, ``at_most``, ``exactly``)."""

    min_count: int = 2
    max_count: int = 5
    relations: tuple[Relation, ...] = ("at_least", "exactly")

    def __post_init__(self) -> None:
        object.__setattr__(self, "relations", tuple(self.relations))
        check_range("count", self.min_count, self.max_count, cap=10)
        if not self.relations or set(self.relations) - {"at_least", "at_most", "exactly"}:
            raise ValueError(
                f"relations must be a non-empty subset of at_least/at_most/exactly, got {self.relations}"
            )


class KeywordFrequency(RubricEnv):
    """Write about a topic using a keyword a given number of times.

    ## Description
    Write about a topic, mentioning the topic word, with a keyword appearing at least / at
    most / exactly N times.

    ## Observation
    ``"Write about the garden. In your response, the word "lantern" should appear exactly 3
    times. Mention the word "garden"."``

    ## Action
    The reply (str). Occurrences are whole words, case-insensitive.

    ## Reward
    0.8 x count credit (at least: ``min(1, c/N)``; at most: 1 or ``N/c``; exactly:
    ``min(c, N)/max(c, N)``) + 0.2 x the topic word appears. Single-turn.

    ## Arguments
    ``min_count``, ``max_count``, ``relations`` — see ``KeywordFrequencyConfig``.

    ## Version History
    * v0: initial version.
    """

    description = "Use a keyword at least / at most / exactly N times"
    reward_kind = "keywords"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"min_count": 1, "max_count": 3, "relations": ("at_least",)},
        {"min_count": 2, "max_count": 5, "relations": ("at_least", "exactly")},
        {"min_count": 3, "max_count": 8, "relations": ("at_least", "at_most", "exactly")},
    )

    config_class: ClassVar[type] = KeywordFrequencyConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        topic, kw = pick(rng, TOPICS), pick(rng, KEYWORDS)
        n = int(rng.integers(cfg.min_count, cfg.max_count + 1))
        check = KeywordFrequencyCheck(kw, n, pick(rng, cfg.relations))
        rubric = Rubric([("frequency", check, 0.8), ("topic", mention(topic), 0.2)])
        prompt = f'Write about the {topic}. {check.instruction} Mention the word "{topic}".'
        return Task(prompt=prompt, metadata={"rubric": rubric, "topic": topic, "check": check})

    def reference(self, task: Task) -> str:
        check: KeywordFrequencyCheck = task.metadata["check"]
        topic = task.metadata["topic"]
        uses = 1 if check.relation == "at_most" else check.n
        return " ".join(filler_sentences(topic, 2) + keyword_sentences(topic, check.keyword, uses))


# ---- forbidden words ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ForbiddenWordsConfig:
    """Settings of ``ForbiddenWords``: forbidden and required word counts are drawn from
    ``min_forbidden..max_forbidden`` and ``min_required..max_required``; the reply needs at
    least ``min_words`` words."""

    min_forbidden: int = 2
    max_forbidden: int = 4
    min_required: int = 1
    max_required: int = 2
    min_words: int = 25

    def __post_init__(self) -> None:
        check_range("forbidden", self.min_forbidden, self.max_forbidden, cap=len(FORBIDDEN))
        check_range("required", self.min_required, self.max_required, cap=6)
        if self.min_words < 1:
            raise ValueError(f"min_words must be >= 1, got {self.min_words}")


class ForbiddenWords(RubricEnv):
    """Describe a topic without the forbidden words while using the required ones.

    ## Description
    A taboo-style task: describe a topic in at least ``min_words`` words, never using any of
    the forbidden words (common filler adjectives like "very", "good"), and using each
    required keyword. The required words and length keep "say nothing" from scoring.

    ## Observation
    ``"Describe the harbor. Do not include the words "very", "great" in the response. Include
    the keywords "anchor" in your response. Your response should contain at least 25 words."``

    ## Action
    The reply (str). Words match as whole words, case-insensitively.

    ## Reward
    0.4 x fraction of forbidden words avoided + 0.4 x fraction of required words used + 0.2 x
    length credit (``min(1, words/min_words)``). An empty reply scores 0. Single-turn.

    ## Arguments
    ``min_forbidden``, ``max_forbidden``, ``min_required``, ``max_required``, ``min_words`` — see
    ``ForbiddenWordsConfig``.

    ## Version History
    * v0: initial version.
    """

    description = "Describe a topic without forbidden words, using required ones"
    reward_kind = "keywords"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "min_forbidden": 1,
            "max_forbidden": 2,
            "min_required": 1,
            "max_required": 1,
            "min_words": 10,
        },
        {
            "min_forbidden": 2,
            "max_forbidden": 4,
            "min_required": 1,
            "max_required": 2,
            "min_words": 25,
        },
        {
            "min_forbidden": 4,
            "max_forbidden": 8,
            "min_required": 2,
            "max_required": 4,
            "min_words": 50,
        },
    )

    config_class: ClassVar[type] = ForbiddenWordsConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        topic = pick(rng, TOPICS)
        banned = pick_distinct(
            rng, FORBIDDEN, int(rng.integers(cfg.min_forbidden, cfg.max_forbidden + 1))
        )
        required = pick_distinct(
            rng, KEYWORDS, int(rng.integers(cfg.min_required, cfg.max_required + 1))
        )
        avoid, use, length = (
            ForbiddenWordsCheck(banned),
            IncludeKeywords(required),
            words_in_range(cfg.min_words),
        )
        rubric = Rubric(
            [("forbidden", avoid, 0.4), ("required", use, 0.4), ("length", length, 0.2)]
        )
        prompt = f"Describe the {topic}. {avoid.instruction} {use.instruction} {length.instruction}"
        meta = {"rubric": rubric, "topic": topic, "required": required, "min_words": cfg.min_words}
        return Task(prompt=prompt, metadata=meta)

    def reference(self, task: Task) -> str:
        meta = task.metadata
        return keyword_paragraph(meta["topic"], meta["required"], meta["min_words"])
