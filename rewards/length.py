"""Length rewards: counts in a range (words, sentences, ...) and DAPO's soft overlong penalty.

Counting helpers return ints (``count_words``, ``count_sentences``, ``count_paragraphs``,
``count_units``); reward constructors are named for the condition they check
(``words_in_range``, ``sentences_in_range``, ``paragraphs_in_range``, ``LengthInRange``).

Units (``count_units``):
    chars       characters of the reply.
    words       runs of letters/digits, with inner ``'`` or ``-`` ("don't", "well-known" = 1).
    sentences   runs of text ended by ``.``, ``!`` or ``?`` (or the end), holding a word.
    paragraphs  blocks separated by one or more blank lines.
    tokens      ``token_counter(reply)``; you pass the counter (e.g. a function calling your
                tokenizer). It must be picklable if the reward is pickled, so use a
                module-level function or a bound method, not a lambda.

When the trainer already has token counts, call ``soft_overlong_penalty(n_tokens, ...)``
directly instead of re-tokenizing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

from .format import EMPTY, is_blank
from .types import RewardResult, Task

Unit = Literal["chars", "words", "sentences", "paragraphs", "tokens"]
_UNITS = ("chars", "words", "sentences", "paragraphs", "tokens")
_WORD_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def count_words(text: str) -> int:
    """How many words ``text`` has (see the module docstring for what a word is)."""
    return len(_WORD_RE.findall(text))


def count_sentences(text: str) -> int:
    """How many sentences ``text`` has."""
    return sum(1 for s in re.split(r"[.!?]+(?=\s|$)", text) if _WORD_RE.search(s))


def count_paragraphs(text: str) -> int:
    """How many paragraphs (blocks separated by blank lines) ``text`` has."""
    return sum(1 for p in re.split(r"\n[ \t]*\n", text) if p.strip())


def count_units(text: str, unit: Unit, token_counter: Callable[[str], int] | None = None) -> int:
    """The length of ``text`` in ``unit`` (see module docstring)."""
    if unit == "tokens":
        if token_counter is None:
            raise ValueError("unit='tokens' needs a token_counter")
        return int(token_counter(text))
    counters: dict[str, Callable[[str], int]] = {
        "chars": len,
        "words": count_words,
        "sentences": count_sentences,
        "paragraphs": count_paragraphs,
    }
    if unit not in counters:
        raise ValueError(f"unknown unit {unit!r}: use one of {_UNITS}")
    return counters[unit](text)


def range_score(count: int, lo: int, hi: int | None) -> float:
    """1.0 inside ``[lo, hi]``; ``count/lo`` below it; ``hi/count`` above it."""
    if count < lo:
        return count / lo
    if hi is not None and count > hi:
        return hi / count
    return 1.0


def _check_unit(unit: str, token_counter: object) -> None:
    if unit not in _UNITS:
        raise ValueError(f"unknown unit {unit!r}: use one of {_UNITS}")
    if unit == "tokens" and token_counter is None:
        raise ValueError("unit='tokens' needs a token_counter")


@dataclass(frozen=True)
class LengthInRange:
    """The reply's length in ``unit`` lies in ``[min_len, max_len]`` (``max_len=None``: no cap).

    Partial credit outside the range: ``count/min_len`` when too short, ``max_len/count`` when
    too long. An empty reply scores 0.
    """

    min_len: int = 0
    max_len: int | None = None
    unit: Unit = "words"
    token_counter: Callable[[str], int] | None = None
    max_score: ClassVar[float] = 1.0

    def __post_init__(self) -> None:
        _check_unit(self.unit, self.token_counter)
        if self.min_len < 0 or (self.max_len is not None and self.max_len < max(self.min_len, 1)):
            raise ValueError(f"bad range [{self.min_len}, {self.max_len}]")

    @property
    def instruction(self) -> str:
        unit = {"chars": "characters"}.get(self.unit, self.unit)
        if self.max_len is None:
            return f"Your response should contain at least {self.min_len} {unit}."
        if self.min_len == 0:
            return f"Your response should contain at most {self.max_len} {unit}."
        extra = " Separate paragraphs with a blank line." if self.unit == "paragraphs" else ""
        return (
            f"Your response should contain between {self.min_len} and {self.max_len} {unit}.{extra}"
        )

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        k = count_units(completion, self.unit, self.token_counter)
        score = range_score(k, self.min_len, self.max_len)
        hi = "inf" if self.max_len is None else self.max_len
        reason = None if score == 1.0 else f"{k} {self.unit}, expected {self.min_len}..{hi}"
        return RewardResult(score=score, components={self.unit: float(k)}, reason=reason)


def words_in_range(min_words: int = 0, max_words: int | None = None) -> LengthInRange:
    """The reward "between ``min_words`` and ``max_words`` words" (``count_words`` counts)."""
    return LengthInRange(min_words, max_words, "words")


def sentences_in_range(min_sentences: int = 0, max_sentences: int | None = None) -> LengthInRange:
    """The reward "between ``min_sentences`` and ``max_sentences`` sentences"."""
    return LengthInRange(min_sentences, max_sentences, "sentences")


def paragraphs_in_range(
    min_paragraphs: int = 0, max_paragraphs: int | None = None
) -> LengthInRange:
    """The reward "between ``min_paragraphs`` and ``max_paragraphs`` paragraphs"."""
    return LengthInRange(min_paragraphs, max_paragraphs, "paragraphs")


def soft_overlong_penalty(length: int, max_len: int, cache: int) -> float:
    """DAPO's soft overlong punishment.

    0 while ``length <= max_len - cache``; then linear from 0 down to -1 at ``length == max_len``;
    -1 beyond ``max_len``.
    """
    if not 0 < cache <= max_len:
        raise ValueError(f"need 0 < cache <= max_len, got cache={cache}, max_len={max_len}")
    start = max_len - cache
    if length <= start:
        return 0.0
    if length > max_len:
        return -1.0
    return (start - length) / cache


@dataclass(frozen=True)
class OverlongPenalty:
    """``soft_overlong_penalty`` of the reply's length in ``unit`` (default characters).

    A penalty: ``max_score`` is 0 and the minimum is -1, so in a ``Rubric`` it adds nothing to
    ``max_score`` and subtracts up to ``weight``. Use ``unit="tokens"`` with a ``token_counter``
    to measure in tokens as DAPO does; an empty reply is not penalized.
    """

    max_len: int
    cache: int
    unit: Unit = "chars"
    token_counter: Callable[[str], int] | None = None
    max_score: ClassVar[float] = 0.0

    def __post_init__(self) -> None:
        _check_unit(self.unit, self.token_counter)
        soft_overlong_penalty(0, self.max_len, self.cache)  # validates

    def __call__(self, completion: str, task: Task) -> RewardResult:
        k = count_units(completion, self.unit, self.token_counter)
        score = soft_overlong_penalty(k, self.max_len, self.cache)
        reason = (
            None
            if score == 0.0
            else f"{k} {self.unit} > {self.max_len - self.cache} (soft limit), hard limit {self.max_len}"
        )
        return RewardResult(score=score, components={self.unit: float(k)}, reason=reason)
