"""Parse an extracted answer into a sympy object, safely. Nothing here evaluates model text.

An answer is normalised (:mod:`.normalize`), recognised as a text answer (words, choice
letters, clock times) or parsed by the first of three parsers that accepts it:

- the plain-expression parser (:mod:`.plain_parser`: whitelist tokenizer, recursive descent)
  for ``2*x+1``, ``x**2 - 1``, ``sqrt(2)/2``;
- the fast LaTeX subset (:mod:`.latex_fast`): short LaTeX rewritten into the plain syntax with
  latex2sympy's grammar (same objects, 3-8x faster than ANTLR);
- latex2sympy2_extended, the maintained ANTLR parser (:mod:`.latex_adapter`), for everything else
  (sets, tuples, intervals, relations, matrices).

Parsed answers are kept in a per-process LRU cache. Building a sympy object can itself be slow
(``5^{5^{5^{5^5}}}``), so callers in the reward path run these functions in a worker process
(see :mod:`grpo_gym.rewards.pool`).

Public: :func:`parse_math` (one sympy object, raises :class:`MathParseError`),
:func:`parse_answer` (answer with metadata, used by verification), :func:`tokenize_plain`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .latex_adapter import parse_latex, postprocess
from .latex_fast import fast_latex
from .magnitude import check_nesting
from .normalize import normalize, text_answer
from .plain_parser import (
    KNOWN_FUNCTIONS,
    MAX_PARSE_CHARS,
    MathParseError,
    parse_plain,
    tokenize_plain,
)

__all__ = [
    "KNOWN_FUNCTIONS",
    "MathParseError",
    "ParsedAnswer",
    "clear_parse_cache",
    "parse_answer",
    "parse_cache_size",
    "parse_latex",
    "parse_math",
    "parse_plain",
    "tokenize_plain",
]


@dataclass(frozen=True)
class ParsedAnswer:
    """An answer after parsing.

    Attributes:
        expr: the sympy object (None for a text answer).
        text: the normalised text (always set; text answers compare by it).
        percent: the answer was written as a percentage (``expr`` holds the written value).
        is_text: a word/choice/time answer compared as a string, not mathematically.
    """

    expr: Any
    text: str
    percent: bool = False
    is_text: bool = False


def _looks_plain(s: str) -> bool:
    return (
        bool(s)
        and re.fullmatch(r"[0-9A-Za-z+\-*/^().! ]+", s) is not None
        and ("**" in s or re.search(r"[A-Za-z]{2,}\s*\(", s) is not None)
    )


PARSE_CACHE_SIZE = 2048


def parse_answer(text: str) -> ParsedAnswer:
    """Parse an extracted answer (LaTeX or plain) into a :class:`ParsedAnswer`.

    Results (and failures) are kept in an LRU cache of :data:`PARSE_CACHE_SIZE` answers per
    process: in GRPO the same gold answer is checked against every completion of its group.
    The cached objects are immutable sympy trees. :func:`clear_parse_cache` empties it.

    Raises MathParseError if it is neither a text answer nor parseable math.
    """
    if not isinstance(text, str):
        raise MathParseError(f"expected a string, got {type(text).__name__}")
    if len(text) > MAX_PARSE_CHARS:
        raise MathParseError(f"answer longer than {MAX_PARSE_CHARS} characters")
    check_nesting(text)
    parsed, error = _parse_answer_cached(text)
    if parsed is None:
        raise MathParseError(error)
    return parsed


def clear_parse_cache() -> None:
    """Empty this process's parse cache (see :func:`parse_answer`)."""
    _parse_answer_cached.cache_clear()


def parse_cache_size() -> int:
    """How many answers this process's parse cache holds."""
    return int(_parse_answer_cached.cache_info().currsize)


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def _parse_answer_cached(text: str) -> tuple[ParsedAnswer | None, str]:
    try:
        return _parse_answer(text), ""
    except MathParseError as exc:
        return None, str(exc)


def _parse_answer(text: str) -> ParsedAnswer:  # parse_answer checked the length
    s, percent = normalize(text)
    if not s:
        raise MathParseError("empty answer")
    txt = text_answer(s)
    if txt is not None:
        return ParsedAnswer(None, txt, percent, is_text=True)
    if _looks_plain(s):
        try:
            return ParsedAnswer(postprocess(parse_plain(s)), s, percent)
        except MathParseError:
            pass
    fast = fast_latex(s)
    if fast is not None:
        try:
            return ParsedAnswer(postprocess(fast), s, percent)
        except MathParseError:
            pass
    return ParsedAnswer(parse_latex(s), s, percent)


def parse_math(text: str) -> Any:
    """Parse math text into one sympy object, safely (the public helper for other modules).

    Plain expressions (``(x+1)*(x-2)``, ``x**2-1``, ``2x^2``, ``sqrt(2)``) go through the
    whitelist tokenizer and a recursive-descent parser; anything with LaTeX commands, braces,
    relations, commas or brackets goes through latex2sympy2_extended. Symbols are lower-cased
    (``E`` is a symbol; ``e`` is Euler's number; ``i`` is the imaginary unit).

    Building the object may be slow for adversarial input (``5^{5^{5^{5^5}}}``): call this
    inside :func:`grpo_gym.rewards.pool.run_limited` when the text comes from a model.

    Raises:
        MathParseError: the text is not accepted.
    """
    if not isinstance(text, str):
        raise MathParseError(f"expected a string, got {type(text).__name__}")
    s = text.strip()
    if not s:
        raise MathParseError("empty expression")
    if re.fullmatch(r"[0-9A-Za-z+\-*/^().! ]+", s):
        try:
            return postprocess(parse_plain(s))
        except MathParseError:
            pass
    return parse_answer(s).expr if not text_answer(s) else _raise_text(s)


def _raise_text(s: str) -> Any:
    raise MathParseError(f"{s[:80]!r} is text, not math")
