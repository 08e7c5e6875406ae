"""Find the final answer in a model completion (or a gold answer): pure string work, no sympy.

Modes (see ``EXTRACTION_MODES``), tried in the configured order; the first mode that finds
something wins and, within a mode, the LAST match wins (thinking models restate wrong
candidates before the final one):

- ``boxed``: ``\\boxed{...}`` / ``\\fbox{...}`` with nested braces. The box rule: the final box
  is the answer. Boxes merge only when they are adjacent, that is, nothing but separators
  stands between them (spaces, math delimiters, spacing commands, one comma or semicolon,
  ``and``/``or``, ``&``): ``\\boxed{1}, \\boxed{2}`` is the answer ``1, 2``. Any other text
  between boxes (``a = \\boxed{2} and b = \\boxed{5}, hence a + b = \\boxed{7}``) separates
  them, and the final box (``7``) is the answer. An unclosed box (a reply cut off after
  ``\\boxed{``) is no answer: the closed boxes before it count, and without one the other
  modes run as if it were not there.
- ``answer_tag``: ``<answer>...</answer>`` (a box inside the tag is unwrapped).
- ``final_answer``: ``... final answer is X`` / ``Final Answer: X``.
- ``answer_colon``: ``Answer: X`` (also ``**Answer:** X``).
- ``latex``: the last math span ``$...$``, ``$$...$$``, ``\\(...\\)`` or ``\\[...\\]``
  (a short completion that is a bare formula counts as one span).
- ``last_number``: the last number in the text (``1,000.5``, ``-3``, ``.5``, ``2/3``, ``1e-3``, ``45%``).

Consecutive modes of the same kind form a tier: the explicit markers (boxed, answer_tag,
final_answer, answer_colon) and the fallbacks (latex, last_number). Within a tier the match
that ends latest in the text wins (``\\boxed{255} ... The final answer is $10,455$`` gives
``10,455``); an earlier tier beats a later one. A "final answer" sentence in prose
(``The largest $n$ is 34.``) gives the value after its last "is".

All regular expressions here are linear-time (no nested quantifiers), and inputs are capped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .math_config import DEFAULT_MODES, EXTRACTION_MODES
from .number_words import words_to_number

__all__ = ["extract_answer", "extract_gold", "find_boxed", "strip_math_delimiters"]

_BOX_RE = re.compile(r"\\(?:boxed|fbox)\b")
_BOX_TOKEN_RE = re.compile(r"[^\s$.,;]+")  # the argument of a brace-less "\boxed 5"
_BRACE_RE = re.compile(r"\\.|[{}]", re.S)  # an escaped character, or a brace
_ANSWER_TAG_RE = re.compile(r"<answer>(.*?)(?:</answer>|\Z)", re.S | re.I)
_FINAL_RE = re.compile(r"final\s+answer\s*(?:is|:|=)\s*:?\s*", re.I)
_COLON_RE = re.compile(r"\banswer\s*\**\s*[:：]\s*\**\s*", re.I)
_MATH_RE = re.compile(
    r"\$\$(?P<dd>.+?)\$\$"
    r"|\\\[(?P<br>.+?)\\\]"
    r"|\\\((?P<pa>[^\n]+?)\\\)"
    r"|(?<![\\$])\$(?P<d>(?:[^$\n\\]|\\.)+?)(?<!\\)\$",
    re.S,
)
_NUMBER_RE = re.compile(
    r"(?<![\w.])-?(?:"
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # 1,000,000.5
    r"|[1-9]\d{0,2}(?: \d{3})+(?![\d,.])"  # 1 000 000
    r"|\d+,\d{1,2}(?![\d,])"  # 2,74 (decimal comma; the parser decides)
    r"|\d+/\d+"  # 2/3
    r"|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"  # 12, 1.5, 1e-3
    r"|\.\d+"  # .5
    r")(?:\s?%|\s(?:thousand|million|billion|trillion)\b)?"
)
_FRAC_RE = re.compile(r"-?\\[dt]?frac\{\d+\}\{\d+\}")
_SENTENCE_END_RE = re.compile(r"(?<!\d)\.(?:\s|$)|\.\s+[A-Z]|\s+I hope\b", re.I)
# The box rule (module docstring): what may stand between two boxes of one answer.
_BETWEEN_NOISE_RE = re.compile(
    r"\$|\\[()\[\]]|\\[,;:! ]|\\q?quad\b|~|\\text\s*\{|\\mathrm\s*\{|[{}]"
)
_BETWEEN_TOKEN_RE = re.compile(
    r"\s+|[,;&]|\((?:[a-z]|i{1,3}|iv|v)\)"  # separators, part labels (a), (ii)
    r"|(?:[A-Za-z](?:_\{?\w{1,3}\}?)?|[A-Za-z]\(\w\))\s*=(?!=)"  # a name with "=": y_2 =, f(x) =
    r"|[A-Za-z]{1,12}"  # a word: and, or, for, part, cm, papers
)
_CONCLUSION_WORDS = frozenset(
    [
        "hence",
        "so",
        "thus",
        "therefore",
        "then",
        "get",
        "gives",
        "giving",
        "obtain",
        "obtains",
        "yields",
        "final",
        "finally",
        "answer",
        "total",
        "sum",
        "result",
        "which",
        "means",
        "wait",
        "actually",
        "no",
        "not",
        "correct",
        "wrong",
        "instead",
        "but",
        "mistake",
        "hmm",
        "check",
        "gets",
    ]
)


def _closing_braces(text: str, start: int) -> dict[int, int]:
    """Where the ``}`` closing each ``{`` at or after ``start`` is (``\\{``, ``\\}`` skipped).

    One linear pass with a stack; an unclosed ``{`` has no entry.
    """
    stack: list[int] = []
    closing: dict[int, int] = {}
    for m in _BRACE_RE.finditer(text, start):
        if m.group(0) == "{":
            stack.append(m.start())
        elif m.group(0) == "}" and stack:
            closing[stack.pop()] = m.start()
    return closing


def find_boxed(text: str, *, closed_only: bool = False) -> list[tuple[int, int, str]]:
    """All ``\\boxed{...}``/``\\fbox{...}`` as ``(start, end, content)``, in text order.

    Braces are matched (nested braces work; a box inside a box is part of the outer one's
    content). ``\\boxed 5`` (no brace) takes the next token. An unclosed box takes the rest of
    the text, or with ``closed_only`` is skipped (boxes inside it are still found). Linear time.
    """
    out: list[tuple[int, int, str]] = []
    m = _BOX_RE.search(text)
    if m is None:
        return out
    closing = _closing_braces(text, m.start())
    n = len(text)
    while m is not None:
        i = m.end()
        while i < n and text[i].isspace():
            i += 1
        pos = i
        if i < n and text[i] == "{":
            j = closing.get(i)
            if j is not None:
                out.append((m.start(), j + 1, text[i + 1 : j].strip()))
                pos = j + 1
            elif not closed_only:  # unclosed: rest of the text
                out.append((m.start(), n, text[i + 1 :].strip()))
                return out
        elif tok := _BOX_TOKEN_RE.match(text, i):
            out.append((m.start(), tok.end(), tok.group(0)))
            pos = tok.end()
        m = _BOX_RE.search(text, pos)
    return out


def _boxes_adjacent(between: str) -> bool:
    """True when two boxes are parts of one answer (the box rule, module docstring): only
    separators, part labels (``y_2 =``, ``part (b)``) and a few plain words (units, ``and``)
    stand between them; no conclusion word (``hence``, ``so``, ``total``) and no operator."""
    if len(between) > 60:
        return False
    rest = _BETWEEN_NOISE_RE.sub(" ", between)
    words = 0
    pos = 0
    while pos < len(rest):
        m = _BETWEEN_TOKEN_RE.match(rest, pos)
        if m is None:
            return False
        tok = m.group(0)
        if tok.isalpha():
            words += 1
            if tok.lower() in _CONCLUSION_WORDS or words > 4:
                return False
        pos = m.end()
    return True


def _extract_boxed(text: str, join_adjacent: bool) -> str | None:
    """The last closed box (joined with the boxes right before it when they belong together)."""
    boxes = find_boxed(text, closed_only=True)
    if not boxes:
        return None
    group = [boxes[-1]]
    if join_adjacent:
        for box in reversed(boxes[:-1]):
            nxt = group[0]
            if not _boxes_adjacent(text[box[1] : nxt[0]]):
                break
            group.insert(0, box)
    parts: list[str] = []
    for _, _, content in group:
        if not parts or parts[-1] != content:  # "\boxed{5} ... \boxed{5}" restated
            parts.append(content)
    return ", ".join(p for p in parts if p) or None


def strip_math_delimiters(s: str) -> str:
    """Remove ``$``, ``\\(``/``\\)`` and ``\\[``/``\\]`` delimiters and trailing punctuation."""
    s = s.strip()
    s = re.sub(r"(?<!\\)\$|\\[()\[\]]", " ", s)
    s = s.strip()
    while s and s[-1] in ".,;:" and not s.endswith("\\,") and not s.endswith("\\;"):
        s = s[:-1].rstrip()
    return s


_LEADING_FINAL_RE = re.compile(r"^\s*(?:the\s+)?final\s+answer\s*(?:is|:|=)\s*:?\s*", re.I)
_WORDS_RE = re.compile(r"[A-Za-z]{3,}")
_IS_RE = re.compile(r"\s(?:is|are|was|equals|=)\s", re.I)


def _prose_words(s: str) -> int:
    """Number of plain words (3+ letters) outside LaTeX commands and math spans."""
    bare = _MATH_RE.sub(" ", s)
    bare = re.sub(r"\\[A-Za-z]+(?:\{[^{}]*\})?", " ", bare)
    return len(_WORDS_RE.findall(bare))


def _clean_sentence(s: str) -> str:
    """The answer part of 'The final answer is X. I hope it is correct.'"""
    s = s.strip()
    while True:
        m = _LEADING_FINAL_RE.match(s)
        if not m:
            break
        s = s[m.end() :]
    m = _SENTENCE_END_RE.search(_MATH_RE.sub(lambda mm: "x" * len(mm.group(0)), s))
    if m:  # cut at the end of the sentence (not inside a math span)
        s = s[: m.start()]
    boxed = _extract_boxed(s, True)
    if boxed is not None:
        return boxed
    s = s.replace('\\"', '"').strip().strip("\"'`*").strip()
    if words_to_number(s) is not None:  # "twenty-one": a number in words
        return s
    if _prose_words(s) >= 2:  # "The largest $n$ is 34": the value after the last "is"
        parts = _IS_RE.split(s)
        tail = parts[-1] if len(parts) > 1 else s
        if _prose_words(tail) >= 2 or len(parts) == 1:
            found = _fallback(tail, ("latex", "last_number"))
            return found[1] if found else ""
        s = tail
    return strip_math_delimiters(s)


def _last_number(text: str) -> tuple[int, int, str] | None:
    best: tuple[int, int, str] | None = None
    for rx in (_NUMBER_RE, _FRAC_RE):
        for m in rx.finditer(text):
            if best is None or m.start() >= best[0]:
                best = (m.start(), m.end(), m.group(0).strip())
    return best


def _whole_math(text: str) -> str | None:
    """A short completion that is a bare formula (``\\frac{10}{9}``) is its own answer."""
    s = text.strip()
    if 0 < len(s) <= 200 and "\\" in s and _prose_words(s) == 0 and not _BOX_RE.search(s):
        return strip_math_delimiters(s)
    return None


def _fallback(text: str, modes: Sequence[str]) -> tuple[int, str] | None:
    """The ``latex`` and ``last_number`` modes together: the one ending later in the text wins.

    A number inside the last math span belongs to that span.
    """
    span = None
    if "latex" in modes:
        for m in reversed(list(_MATH_RE.finditer(text))):
            inner = next(g for g in m.groups() if g is not None).strip()
            if inner:
                span = (m.start(), m.end(), strip_math_delimiters(inner))
                break
        if span is None and (whole := _whole_math(text)):
            return len(text), whole
    num = _last_number(text) if "last_number" in modes else None
    if span and (num is None or num[0] < span[1]):
        return span[1], span[2]
    if num:
        return num[1], num[2]
    return None


def _mode(text: str, mode: str, join_adjacent: bool) -> tuple[int, str] | None:
    """``(end position, answer)`` of the last match of ``mode`` in ``text``."""
    if mode == "boxed":
        boxes = find_boxed(text, closed_only=True)  # an unclosed trailing box is no answer
        ans = _extract_boxed(text, join_adjacent) if boxes else None
        return (boxes[-1][1], ans) if ans else None
    if mode == "answer_tag":
        found = list(_ANSWER_TAG_RE.finditer(text))
        if not found:
            return None
        inner = found[-1].group(1)
        boxed = _extract_boxed(inner, join_adjacent)
        ans = boxed if boxed is not None else strip_math_delimiters(inner)
        return (found[-1].end(), ans) if ans else None
    if mode in ("final_answer", "answer_colon"):
        rx = _FINAL_RE if mode == "final_answer" else _COLON_RE
        for m in reversed(list(rx.finditer(text))):  # markers only: the last one wins
            eol = text.find("\n", m.end())
            line = text[m.end() : eol if eol >= 0 else len(text)]
            ans = _clean_sentence(line)
            if ans:
                return m.end() + len(line), ans
        return None
    if mode in ("latex", "last_number"):
        return _fallback(text, (mode,))
    raise ValueError(f"unknown extraction mode {mode!r}: choose from {EXTRACTION_MODES}")


_EXPLICIT = frozenset({"boxed", "answer_tag", "final_answer", "answer_colon"})


def _tiers(modes: Sequence[str]) -> list[list[str]]:
    """Consecutive modes of the same kind (explicit markers / fallbacks) form one tier."""
    tiers: list[list[str]] = []
    for m in modes:
        if tiers and (m in _EXPLICIT) == (tiers[-1][0] in _EXPLICIT):
            tiers[-1].append(m)
        else:
            tiers.append([m])
    return tiers


def extract_answer(
    text: str,
    *,
    modes: Sequence[str] = DEFAULT_MODES,
    join_adjacent_boxed: bool = True,
    max_chars: int = 20_000,
) -> str | None:
    """The final answer in ``text`` as a string, or None if no mode finds one.

    Args:
        text: a model completion.
        modes: extraction modes in priority order (see module docstring).
        join_adjacent_boxed: join boxes that sit next to each other into one answer.
        max_chars: only the last ``max_chars`` characters are searched.

    >>> extract_answer("so 2+2 = \\\\boxed{4}. Final check: \\\\boxed{\\\\frac{1}{2}}")
    '\\\\frac{1}{2}'
    """
    if not isinstance(text, str) or not text:
        return None
    if len(text) > max_chars:
        text = text[-max_chars:]
    for mode in modes:
        if mode not in EXTRACTION_MODES:
            raise ValueError(f"unknown extraction mode {mode!r}: choose from {EXTRACTION_MODES}")
    for tier in _tiers(modes):
        if tier[0] in _EXPLICIT:
            found = [f for m in tier if (f := _mode(text, m, join_adjacent_boxed))]
        else:
            f = _fallback(text, tier)
            found = [f] if f else []
        if found:
            return max(found, key=lambda f: f[0])[1]
    return None


def extract_gold(
    gold: str, *, join_adjacent_boxed: bool = True, max_chars: int = 20_000
) -> str | None:
    """The answer inside a gold string: plain (``3/4``), ``$...$``-wrapped or boxed.

    A boxed or tagged answer wins; a short gold is taken whole (delimiters removed, so
    ``$1$ and $2$`` gives ``1 and 2``); a long gold solution goes through ``extract_answer``.
    """
    if not isinstance(gold, str) or not gold.strip():
        return None
    if len(gold) > max_chars:
        gold = gold[-max_chars:]
    for mode in ("boxed", "answer_tag"):
        found = _mode(gold, mode, join_adjacent_boxed)
        if found:
            return found[1]
    if len(gold) <= 300:
        ans = strip_math_delimiters(gold)
        return ans or None
    return extract_answer(gold, join_adjacent_boxed=join_adjacent_boxed, max_chars=max_chars)
