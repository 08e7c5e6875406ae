"""The echo rule: a final answer that restates the expression the problem asks to transform.

"Simplify $\\sqrt{242}$." answered with "$\\sqrt{242}$ is $\\sqrt{242}$." equals the gold
``11\\sqrt{2}`` mathematically, but it is not an answer: the problem asked for another form of
that very expression. :func:`restates_problem` finds such replies. It is pure string work in
linear time: the prompt is scanned once for its math spans (``$...$``, ``$$...$$``, ``\\(...\\)``,
``\\[...\\]``) and its instruction verbs (simplify, rewrite, write, express, expand, factor,
rationalise, compute, evaluate, calculate, convert, reduce, find, determine, "what is"); the
math spans in a verb's sentence after the verb (and the plain text after the verb when the
sentence has no math span, as in "Calculate 12 + 35.") are the expressions the problem asks to
transform. The answer is an echo when its :func:`echo_key` equals one of theirs. Nothing is
parsed or evaluated.

Not echoes: a plain number (a number in the problem is no expression to transform, and a
reply of it is judged on its value as usual), and any answer whose key equals the gold's own
key ("Is $7$ prime? ... What is the smallest such prime?" with gold ``7``): the gold is always
an answer, even where the problem states it.
"""

from __future__ import annotations

import re

from .unicode_math import ascii_math

__all__ = ["ECHO_REASON", "echo_key", "problem_expressions", "restates_problem"]

ECHO_REASON = "answer restates the problem's expression"
MAX_PROMPT_CHARS = 20_000  # prompts are task text (8192 chars at most in a TextEnv)
MAX_ANSWER_CHARS = 2_000

_DELIM_RE = re.compile(r"\\\$|\$\$|\$|\\\[|\\\]|\\\(|\\\)")
_CLOSER = {"$$": "$$", "$": "$", "\\[": "\\]", "\\(": "\\)"}
_VERBS = (
    r"simplify|simplified|rewrite|write|express|expand|factori[sz]e|factor|rationali[sz]e"
    r"|compute|evaluate|calculate|convert|reduce|find|determine|what\s+is|what's"
)
# an instruction verb, or the end of a sentence (outside math: math spans are cut out first)
_EVENT_RE = re.compile(rf"(?P<verb>\b(?:{_VERBS})\b)|(?P<end>[.?!;](?=\s|$)|\n[ \t]*\n)", re.I)
_SIZING_RE = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)(?![A-Za-z])"
)
_SPACING_RE = re.compile(
    r"\\(?:displaystyle|textstyle|qquad|quad)(?![A-Za-z])|\\[,;:! ]|~|\\(?=\s)"
)
_FRAC_CMD_RE = re.compile(r"\\[dtc]frac(?![A-Za-z])")
_BINOM_CMD_RE = re.compile(r"\\[dt]binom(?![A-Za-z])")
_DIGIT_FRAC_RE = re.compile(r"\\frac\{(\d+)\}\{(\d+)\}|\\frac(\d)(\d)")
_ONE_CHAR_GROUP_RE = re.compile(r"\{(\w)\}")
_WORD_RE = re.compile(r"[A-Za-z]{2,}")
_PLAIN_NUMBER_RE = re.compile(r"[-+]?(?:\d+(?:[.,]\d+)*|\.\d+)%?")


def echo_key(text: str) -> str:
    """``text`` reduced to what decides whether two answers are written alike: math
    delimiters, spaces, sizing (``\\left``), spacing commands and trailing punctuation go;
    ``\\dfrac`` is ``\\frac``, ``\\frac{3}{4}`` is ``3/4``, ``{x}`` is ``x``. Linear time.

    >>> echo_key(r"$\\dfrac {4 \\pi}{15}$.") == echo_key(r"\\frac{4\\pi}{15}")
    True
    """
    s = ascii_math(text)
    s = re.sub(r"(?<!\\)\$|\\[()\[\]]", " ", s)
    s = _SIZING_RE.sub(" ", s)
    s = _SPACING_RE.sub(" ", s)
    s = _FRAC_CMD_RE.sub(r"\\frac", s)
    s = _BINOM_CMD_RE.sub(r"\\binom", s)
    s = "".join(s.split())
    s = s.rstrip(".,;:")
    s = _DIGIT_FRAC_RE.sub(lambda m: f"{m.group(1) or m.group(3)}/{m.group(2) or m.group(4)}", s)
    return _ONE_CHAR_GROUP_RE.sub(r"\1", s)


def _segments(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into ``(is_math, piece)`` in order, with one pass over its delimiters.
    An unclosed span is text."""
    out: list[tuple[bool, str]] = []
    pos = start = 0
    opener: str | None = None
    for m in _DELIM_RE.finditer(text):
        tok = m.group(0)
        if tok == "\\$":
            continue
        if opener is None:
            if tok in _CLOSER:
                out.append((False, text[pos : m.start()]))
                opener, start = tok, m.end()
        elif tok == _CLOSER[opener]:
            out.append((True, text[start : m.start()]))
            opener, pos = None, m.end()
    out.append((False, text[pos:]))
    return out


def _plain_candidates(text: str) -> list[str]:
    """The text after a verb in a sentence without math spans: whole, and its tail after the
    last word of two or more letters ("the value of 2+3" gives ``2+3`` too)."""
    text = text.strip()
    if not text:
        return []
    end = 0
    for word in _WORD_RE.finditer(text):
        end = word.end()
    tail = text[end:].strip() if end else ""
    return [text, tail] if tail and tail != text else [text]


def problem_expressions(prompt: str) -> list[str]:
    """The expressions ``prompt`` asks to transform: the math spans after an instruction verb
    in the verb's sentence, or, in a sentence with no math span after its verb, the text after
    the verb ("Calculate 12 + 35." gives ``12 + 35``). In text order. Linear time."""
    if not isinstance(prompt, str):
        return []
    found: list[str] = []
    state: str | None = None  # None: no verb yet in this sentence; "plain"; "math"
    plain: list[str] = []  # the text after the verb while no math span has followed

    def close(next_state: str | None) -> None:
        nonlocal state, plain
        if state == "plain":
            found.extend(_plain_candidates("".join(plain)))
        state, plain = next_state, []

    for is_math, piece in _segments(prompt[:MAX_PROMPT_CHARS]):
        if is_math:
            if state is not None:
                found.append(piece)
                state, plain = "math", []
            continue
        pos = 0
        for m in _EVENT_RE.finditer(piece):
            if state == "plain":
                plain.append(piece[pos : m.start()])
            close("plain" if m.group("verb") else None)
            pos = m.end()
        if state == "plain":
            plain.append(piece[pos:])
    close(None)
    return found


def restates_problem(answer: str, prompt: str, gold: str | None = None) -> bool:
    """Whether ``answer`` (an extracted final answer) is, after :func:`echo_key`, one of the
    expressions ``prompt`` asks to transform (:func:`problem_expressions`), or the value after
    its last ``=`` is. Never for a plain number, nor when the answer's key is ``gold``'s.
    Linear time; nothing is parsed or evaluated."""
    if not isinstance(answer, str) or not isinstance(prompt, str):
        return False
    key = echo_key(answer[:MAX_ANSWER_CHARS])
    if not key:
        return False
    keys = {key}
    if "=" in key:
        keys.add(key.rsplit("=", 1)[1])
    if gold is not None and echo_key(gold[:MAX_ANSWER_CHARS]) in keys:
        return False
    keys = {k for k in keys if k and not _PLAIN_NUMBER_RE.fullmatch(k)}
    if not keys:
        return False
    return any(echo_key(expr) in keys for expr in problem_expressions(prompt))
