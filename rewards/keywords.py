"""Keyword rewards: include keywords, keyword / letter frequency, forbidden words.

Words match as whole words, case-insensitively: ``cat`` matches "Cat," but not "category";
a keyword may be a phrase ("ice cream"). Same conventions as ``format.py``: frozen
dataclasses with fixed parameters, scores 0..1 with partial credit, an empty reply scores 0,
and an ``instruction`` property for prompts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Literal

from .format import EMPTY, is_blank
from .types import RewardResult, Task

Relation = Literal["at_least", "at_most", "exactly"]
_RELATIONS = ("at_least", "at_most", "exactly")
_RELATION_WORDS = {"at_least": "at least", "at_most": "at most", "exactly": "exactly"}


def count_occurrences(text: str, word: str) -> int:
    """Whole-word, case-insensitive occurrences of ``word`` (or phrase) in ``text``."""
    pattern = r"\s+".join(re.escape(w) for w in word.split())
    return len(re.findall(rf"(?<!\w){pattern}(?!\w)", text, re.IGNORECASE))


def relation_score(count: int, n: int, relation: Relation) -> float:
    """Partial credit for ``count`` against ``relation n``.

    at_least: ``min(1, count/n)``; at_most: 1 if ``count <= n`` else ``n/count``;
    exactly: ``min(count, n) / max(count, n)`` (1 when both are 0).
    """
    if relation == "at_least":
        return 1.0 if n <= 0 else min(1.0, count / n)
    if relation == "at_most":
        return 1.0 if count <= n else n / count
    return 1.0 if count == n else min(count, n) / max(count, n)


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _check(relation: str, n: int) -> None:
    if relation not in _RELATIONS:
        raise ValueError(f"unknown relation {relation!r}: use one of {_RELATIONS}")
    if n < 0:
        raise ValueError("n must be >= 0")


def _check_words(words: tuple[str, ...]) -> None:
    if not words or not all(isinstance(w, str) and w.strip() for w in words):
        raise ValueError("give at least one non-empty word")


@dataclass(frozen=True)
class IncludeKeywords:
    """Every keyword appears. Credit: fraction of keywords present."""

    keywords: tuple[str, ...]
    max_score: ClassVar[float] = 1.0

    def __post_init__(self) -> None:
        _check_words(self.keywords)

    @property
    def instruction(self) -> str:
        return (
            "Include the keywords "
            + ", ".join(f'"{k}"' for k in self.keywords)
            + " in your response."
        )

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        comps = {f"kw:{k}": float(count_occurrences(completion, k) > 0) for k in self.keywords}
        missing = [k for k in self.keywords if not comps[f"kw:{k}"]]
        score = 1.0 - len(missing) / len(self.keywords)
        return RewardResult(
            score=score, components=comps, reason=f"missing keywords {missing}" if missing else None
        )


@dataclass(frozen=True)
class KeywordFrequency:
    """``keyword`` appears ``relation`` ``n`` times (see ``relation_score`` for partial credit)."""

    keyword: str
    n: int
    relation: Relation = "at_least"
    max_score: ClassVar[float] = 1.0

    def __post_init__(self) -> None:
        _check(self.relation, self.n)
        _check_words((self.keyword,))

    @property
    def instruction(self) -> str:
        return f'In your response, the word "{self.keyword}" should appear {_RELATION_WORDS[self.relation]} {_times(self.n)}.'

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        c = count_occurrences(completion, self.keyword)
        score = relation_score(c, self.n, self.relation)
        reason = (
            None
            if score == 1.0
            else f"{self.keyword!r} appears {c} times, need {_RELATION_WORDS[self.relation]} {self.n}"
        )
        return RewardResult(score=score, components={"count": float(c)}, reason=reason)


@dataclass(frozen=True)
class ForbiddenWords:
    """None of ``words`` appears. Credit: fraction of the forbidden words avoided."""

    words: tuple[str, ...]
    max_score: ClassVar[float] = 1.0

    def __post_init__(self) -> None:
        _check_words(self.words)

    @property
    def instruction(self) -> str:
        return (
            "Do not include the words "
            + ", ".join(f'"{w}"' for w in self.words)
            + " in the response."
        )

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        used = [w for w in self.words if count_occurrences(completion, w)]
        score = 1.0 - len(used) / len(self.words)
        return RewardResult(
            score=score,
            components={"forbidden_used": float(len(used))},
            reason=f"used forbidden words {used}" if used else None,
        )


@dataclass(frozen=True)
class LetterFrequency:
    """The letter ``letter`` (case-insensitive) appears ``relation`` ``n`` times."""

    letter: str
    n: int
    relation: Relation = "at_least"
    max_score: ClassVar[float] = 1.0

    def __post_init__(self) -> None:
        _check(self.relation, self.n)
        if len(self.letter) != 1 or not self.letter.isalpha():
            raise ValueError(f"letter must be a single letter, got {self.letter!r}")

    @property
    def instruction(self) -> str:
        return f"In your response, the letter {self.letter} should appear {_RELATION_WORDS[self.relation]} {_times(self.n)}."

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        c = completion.lower().count(self.letter.lower())
        score = relation_score(c, self.n, self.relation)
        reason = (
            None
            if score == 1.0
            else f"letter {self.letter!r} appears {c} times, need {_RELATION_WORDS[self.relation]} {self.n}"
        )
        return RewardResult(score=score, components={"count": float(c)}, reason=reason)
