"""Normalisation of an extracted answer before parsing, and the test for text answers.

:func:`normalize` cleans LaTeX (delimiters, spacing, ``\\dfrac``, units, percent, degrees,
``and``/``or`` between answers, scientific notation, ``\\approx``, chained ``=``);
:func:`text_answer` recognises words, multiple-choice letters and clock times.
"""

from __future__ import annotations

import re

from .numbers import TEXT_COMMANDS, strip_tails
from .plain_parser import KNOWN_FUNCTIONS

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


def normalize(text: str) -> tuple[str, bool]:
    """Light LaTeX clean-up before latex2sympy; returns (text, is_percent)."""
    s = text.strip().replace("−", "-").replace("\n", " ")
    s = re.sub(r"(?<!\\)\$|\\\(|\\\)|\\\[|\\\]|\\displaystyle", " ", s)
    if "matrix" not in s and "array" not in s:
        s = re.sub(r"\\\\(?=[a-zA-Z])", r"\\", s)  # doubled backslashes: \\frac -> \frac
    s = re.sub(r"\\!\s*|\\\$", "", s)
    s = re.sub(r"(?<=\d)\s*(?:\\,|\{\s*,\s*\})\s*(?=\d{3}(?!\d))", ",", s)  # 14{,}916
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
