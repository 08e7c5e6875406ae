"""Normalisation of an extracted answer before parsing, and the test for text answers.

:func:`normalize` cleans LaTeX (delimiters, spacing, ``\\dfrac``, units, percent, degrees,
``and``/``or`` between answers, scientific notation, ``\\approx``, chained ``=``);
:func:`text_answer` recognises words, multiple-choice letters and clock times.
"""

from __future__ import annotations

import re

from .number_words import expand_scale_words
from .numbers import TEXT_COMMANDS, repeating_decimal, strip_tails
from .plain_parser import KNOWN_FUNCTIONS
from .unicode_math import ascii_math

__all__ = ["normalize", "text_answer"]


# "and"/"or" between answers: a word, \text{ or }, or glued between a value and the next
# answer ("x=1orx=-1", "W(x)=1orW(x)=-1"). A glued one must follow a digit or a closing
# bracket and precede one letter (not a word), a command, a bracket or a number, so words
# that contain "or"/"and" ("color", "north", "random", "\operatorname{ord}") never split.
_GLUED_AND_OR = (
    r"(?:(?<=[\d)}\]])|(?<=[\d)}\]]\s))(?:and|or)(?=\s*(?:[A-Za-z](?![A-Za-z])|\\|[-+(\[\d]))"
)
_AND_OR_RE = re.compile(
    rf"\s*,?\s*(?:{TEXT_COMMANDS}\s*\{{\s*(?:and|or)\s*\}}|\b(?:and|or)\b|{_GLUED_AND_OR})\s*", re.I
)
_WORD_TEXT_RE = re.compile(rf"{TEXT_COMMANDS}\s*\{{([^{{}}]*)\}}")
_SCI_RE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([+-]?\d+)(?![\w.])")
_CHOICE_RE = re.compile(r"^\(?\s*([A-Ha-h])\s*\)?$")
_WORDS_RE = re.compile(r"^[A-Za-z][A-Za-z' \-]*[A-Za-z]$")
_SPACES_RE = re.compile(r"(?<!\\)\\[,;: ]|\\q?quad|~")
_FUNC_WORDS = set(KNOWN_FUNCTIONS) | {"pi", "infty", "and", "or"}
# digit groups: 1 000 000, 1\,000, 14{,}916, 1.000.000 (two or more dot groups), 1'000
_GROUPED_RE = re.compile(
    r"(?<![\d.,])\d{1,3}(?:(?: |\s*\\,\s*|\s*\{\s*,\s*\}\s*)\d{3})+(?![\d.]|,\d)"
    r"|(?<![\d.,])\d{1,3}(?:\.\d{3}){2,}(?![\d.])|(?<![\d.,'])\d{1,3}(?:'\d{3})+(?![\d.'])"
)
_REPEATING_RE = re.compile(
    r"(?<![\d.])(\d*)\.(\d*)(?:\\overline|\\dot)\s*(?:\{\s*(\d{1,40})\s*\}|(\d))"
)
_DEGREE = r"\s*(?:\^\s*\{?\s*\\circ\s*\}?|°)"
_TRIG = r"\\(?:sin|cos|tan|cot|sec|csc)(?:\s*\^\s*\{?-?\d\}?)?"
_NUM = r"-?\d+(?:\.\d+)?"
# \sin 30^\circ, \cos(60^\circ), \tan{45°}: the argument in degrees becomes radians
_TRIG_DEGREES_RE = re.compile(
    rf"({_TRIG})\s*(?:\\left\s*\(\s*({_NUM}){_DEGREE}\s*\\right\s*\)"
    rf"|\(\s*({_NUM}){_DEGREE}\s*\)|\{{\s*({_NUM}){_DEGREE}\s*\}}|({_NUM}){_DEGREE})"
)


def _repeating(m: re.Match[str]) -> str:
    value = repeating_decimal(m.group(1), m.group(2), m.group(3) or m.group(4))
    return rf"\frac{{{value.numerator}}}{{{value.denominator}}}"


def _trig_degrees(m: re.Match[str]) -> str:
    deg = next(g for g in m.groups()[1:] if g is not None)
    return rf"{m.group(1)}\left(\frac{{{deg}\pi}}{{180}}\right)"


def normalize(text: str) -> tuple[str, bool]:
    """Light LaTeX clean-up before latex2sympy; returns (text, is_percent)."""
    s = ascii_math(text).strip().replace("\n", " ")
    s = re.sub(r"(?<!\\)\$|\\\(|\\\)|\\\[|\\\]|\\displaystyle", " ", s)
    if "matrix" not in s and "array" not in s:
        s = re.sub(r"\\\\(?=[a-zA-Z])", r"\\", s)  # doubled backslashes: \\frac -> \frac
    s = re.sub(r"\\!\s*|\\\$", "", s)
    s = _GROUPED_RE.sub(lambda m: re.sub(r"[^\d]", "", m.group(0)), s)
    if "\\overline" in s or "\\dot" in s:
        s = _REPEATING_RE.sub(_repeating, s)
    if "circ" in s or "°" in s:
        s = _TRIG_DEGREES_RE.sub(_trig_degrees, s)
    s = expand_scale_words(s)
    s = re.sub(r"\\(?:mathrm|text|mathit)\s*\{\s*e\s*\}", " e ", s)  # \mathrm{e}: Euler's number
    s = re.sub(r"\\(?:dfrac|tfrac|cfrac)", r"\\frac", s)
    s = _SPACES_RE.sub(" ", s)
    s = s.strip().rstrip(".").strip()
    s, percent = strip_tails(s)
    s = _AND_OR_RE.sub(", ", s).strip(" ,")
    s = _SCI_RE.sub(r"\1 \\times 10^{\2}", s)
    if "\\approx" in s:
        head, _, tail = s.partition("\\approx")
        s = head if "=" in head else f"{head} = {tail}" if head.strip() else tail
    if "," not in s and ";" not in s:
        parts = _split_top_level_eq(s)
        if len(parts) > 2:  # a = b = c: the last value of a chain of equalities
            s = parts[-1]
    return s.strip(), percent


def _split_top_level_eq(s: str) -> list[str]:
    """Split on ``=`` outside braces/brackets (not ``<=``, ``>=``, ``!=``, ``\\=``)."""
    parts, depth, start = [], 0, 0
    for m in re.finditer(r"[{}()\[\]]|(?<![<>!\\=:])=(?!=)", s):
        c = m.group(0)
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif depth == 0:
            parts.append(s[start : m.start()])
            start = m.end()
    parts.append(s[start:])
    return parts


def text_answer(s: str) -> str | None:
    """Normalised text if ``s`` is a word, multiple-choice letter or clock time, else None."""
    inner = s.strip()
    m = re.fullmatch(rf"{TEXT_COMMANDS}\s*\{{(.*)\}}", inner)
    wrapped = m is not None
    if m:
        inner = m.group(1).strip()
    inner = _WORD_TEXT_RE.sub(lambda mm: mm.group(1), inner).strip()
    c = _CHOICE_RE.match(inner)
    if c and (wrapped or "(" in inner):
        return "choice:" + c.group(1).lower()
    if _WORDS_RE.match(inner) and (wrapped or " " in inner or len(inner) > 2):
        words = inner.lower().split()
        if wrapped or not all(w in _FUNC_WORDS or len(w) == 1 for w in words):
            return "text:" + " ".join(words)
    return None
