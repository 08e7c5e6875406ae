"""English number words and scale words: ``five``, ``twenty-one``, ``three hundred and five``,
``3 million``, ``2.5 billion``. Pure string work, exact values (``fractions.Fraction``)."""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["SCALE_WORDS", "expand_scale_words", "words_to_number"]

_UNITS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {
    w: 10 * i
    for i, w in enumerate(
        ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], 2
    )
}
SCALE_WORDS: dict[str, int] = {
    "thousand": 10**3,
    "million": 10**6,
    "billion": 10**9,
    "trillion": 10**12,
}
"""Short-scale multipliers (``2.5 billion`` is 2,500,000,000)."""

_SCALED_RE = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:\\(?:text|mathrm)\s*\{\s*)?("
    + "|".join(SCALE_WORDS)
    + r")s?\b(?:\s*\})?",
    re.I,
)
_MAX_WORDS = 12


def words_to_number(text: str) -> int | None:
    """The integer named by English number words, or None.

    >>> words_to_number("three hundred and twenty-one")
    321
    >>> words_to_number("seven seas") is None
    True
    """
    words = re.split(r"[\s-]+", text.strip().lower().replace(",", " "))
    words = [w for w in words if w and w != "and"]
    if not words or len(words) > _MAX_WORDS:
        return None
    total, group, seen = 0, 0, False
    for w in words:
        if w in _UNITS:
            group += _UNITS[w]
        elif w in _TENS:
            group += _TENS[w]
        elif w == "hundred":
            group = max(group, 1) * 100
        elif w in SCALE_WORDS:
            total += max(group, 1) * SCALE_WORDS[w]
            group = 0
        else:
            return None
        seen = True
    return total + group if seen else None


def expand_scale_words(text: str) -> str:
    """Write ``<number> <scale word>`` as digits: ``2.5 billion`` -> ``2500000000``.

    >>> expand_scale_words("$3 million")
    '$3000000'
    """
    if "illion" not in text and "housand" not in text:
        return text

    def digits(m: re.Match[str]) -> str:
        value = Fraction(m.group(1)) * SCALE_WORDS[m.group(2).lower()]
        if value.denominator == 1:
            return str(value.numerator)
        return m.group(0)  # 1.2345 thousand: not a whole number, leave it

    return _SCALED_RE.sub(digits, text)
