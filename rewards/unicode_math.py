"""Unicode math written as the ASCII LaTeX the parsers read: ``√2`` -> ``\\sqrt{2}``,
``２×３`` -> ``2 \\times 3``, ``−5`` -> ``-5``, ``x²`` -> ``x^{2}``, ``½`` -> ``\\frac{1}{2}``.

Applied to the gold and the reply before extraction (pure string work; a text that is already
ASCII is returned as it is).
"""

from __future__ import annotations

import re

__all__ = ["ascii_math"]

_SYMBOLS = {
    "−": "-",  # U+2212 minus sign
    "﹣": "-",
    "×": r" \times ",
    "✕": r" \times ",
    "÷": r" \div ",
    "·": r" \cdot ",
    "⋅": r" \cdot ",
    "∞": r"\infty ",
    "π": r"\pi ",
    "≤": r" \le ",
    "⩽": r" \le ",
    "≥": r" \ge ",
    "⩾": r" \ge ",
    "≠": r" \ne ",
    "±": r"\pm ",
    "∓": r"\mp ",
    "∈": r" \in ",
    "∪": r" \cup ",
    "∩": r" \cap ",
    "°": r"^{\circ}",
    "∘": r"^{\circ}",
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
    "\u00a0": " ",  # no-break space
    "\u2007": " ",  # figure space
    "\u3000": " ",  # ideographic space
    "½": r"\frac{1}{2}",
    "⅓": r"\frac{1}{3}",
    "⅔": r"\frac{2}{3}",
    "¼": r"\frac{1}{4}",
    "¾": r"\frac{3}{4}",
    "⅕": r"\frac{1}{5}",
    "⅙": r"\frac{1}{6}",
    "⅛": r"\frac{1}{8}",
}
# full-width ASCII (U+FF01..U+FF5E: ４２, （, ＋) maps to ASCII by a fixed offset
_TABLE = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)} | {
    ord(k): v for k, v in _SYMBOLS.items()
}
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"
_SUPER_RE = re.compile(f"[{_SUPERSCRIPTS}]+")
_SUPER_MAP = str.maketrans(_SUPERSCRIPTS, "0123456789-")
_ROOT_RE = re.compile(r"([√∛∜])\s*")
_ROOT_INDEX = {"√": "", "∛": "[3]", "∜": "[4]"}
_ROOT_ATOM_RE = re.compile(r"\d+(?:\.\d+)?|[A-Za-z]|\\[A-Za-z]+")


def _root_argument(s: str, i: int) -> tuple[str, int]:
    """The radicand starting at ``i``: a bracketed group, a number, a letter or a command."""
    if i < len(s) and s[i] in "({":
        close = {"(": ")", "{": "}"}[s[i]]
        depth = 0
        for j in range(i, len(s)):
            depth += s[j] == s[i]
            depth -= s[j] == close
            if depth == 0:
                inner = s[i + 1 : j]
                return inner, j + 1
        return s[i + 1 :], len(s)
    m = _ROOT_ATOM_RE.match(s, i)
    if m is None:
        return "", i
    return m.group(0), m.end()


def _roots(s: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _ROOT_RE.finditer(s):
        if m.start() < pos:
            continue
        arg, end = _root_argument(s, m.end())
        out.append(s[pos : m.start()])
        out.append(rf"\sqrt{_ROOT_INDEX[m.group(1)]}{{{_roots(arg)}}}" if arg else m.group(0))
        pos = end if arg else m.end()
    out.append(s[pos:])
    return "".join(out)


def _superscript(m: re.Match[str]) -> str:
    """``x²`` -> ``x^{2}``; a lone ² or ³ closing a word is a unit (``12 m²``) and stays for
    :func:`~grpo_gym.rewards.numbers.strip_tails`."""
    s, run, end = m.string, m.group(0), m.end()
    after_letter = m.start() > 0 and s[m.start() - 1].isalpha()
    if after_letter and run in "²³" and (end == len(s) or s[end] in " \t\n.,;)}$"):
        return run
    return "^{" + run.translate(_SUPER_MAP) + "}"


def ascii_math(text: str) -> str:
    """``text`` with Unicode math symbols, full-width characters, superscript digits, vulgar
    fractions and roots written in ASCII LaTeX.

    >>> ascii_math("√(x+1) − ４²")
    '\\\\sqrt{x+1} - 4^{2}'
    """
    if text.isascii():
        return text
    s = _SUPER_RE.sub(_superscript, text)
    s = s.translate(_TABLE)
    if "√" in s or "∛" in s or "∜" in s:
        s = _roots(s)
    return s
