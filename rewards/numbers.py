"""The fast path: plain numbers parsed and compared in-process with ``fractions.Fraction``.

Most arithmetic answers are integers, decimals or simple fractions; they never need sympy
or a worker round-trip. :func:`parse_number` accepts integers, decimals (``.5``, ``1,000.5``,
``1 000``, decimal comma ``2,74``), scientific notation (``1.5e3``, ``1.5 \\times 10^{3}``),
fractions (``3/4``, ``\\frac{3}{4}``, ``\\dfrac34``), mixed numbers (``2\\frac{1}{2}``, ``2 1/2``),
signs, percentages (``45\\%``, ``45 percent``), degree signs, currency symbols and trailing
units or ``\\text{...}`` (:func:`strip_tails`, shared with the LaTeX path), digit groupings
(``1,000``, ``1.000.000``, ``1 000 000``, ``1\\,000``, ``1{,}000``), repeating decimals
(``0.\\overline{142857}``, ``0.1\\dot{6}``), number words (``twelve``) and scale words
(``3 million``, ``2.5 billion``). Anything else returns None and goes to the symbolic path.

Two numbers are compared under the precision policy of :mod:`.precision`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .number_words import expand_scale_words, words_to_number
from .precision import Stated, is_terminating, rounding_matches, stated_precision

__all__ = [
    "TEXT_COMMANDS",
    "Num",
    "decimal_equal",
    "numbers_equal",
    "parse_number",
    "repeating_decimal",
    "strip_tails",
    "values_close",
]

_MAX_DIGITS = 2_000
_MAX_EXP = 400


@dataclass(frozen=True)
class Num:
    """A parsed plain number.

    Attributes:
        value: the exact value written (a percentage keeps its written value: ``45%`` -> 45).
        decimal: written with a decimal point or in scientific notation: the value is as
            precise as ``stated`` says (see :mod:`.precision`).
        percent: written as a percentage.
        stated: the precision a decimal states (None for an exact number).
    """

    value: Fraction
    decimal: bool = False
    percent: bool = False
    stated: Stated | None = None


# ---- what trails a value: percent, degrees, currency, units -------------------------------

TEXT_COMMANDS = r"\\(?:text|textbf|textit|textrm|textnormal|mbox|mathrm|mathit|mathbf|operatorname)"
"""A regex for the LaTeX commands whose argument is text (a unit, a word)."""

_POWER = r"(?:\s*\^\s*\{?\d\}?|[²³])"  # m^2, m^{3}, m², m³
_PERCENT_TAIL_RE = re.compile(
    r"\s*(?:\\%|%|\\text\{\s*\\?%\s*\}|\bpercentage\b|\bpercent\b|\bpct\b)\s*$", re.I
)
_DEGREE_RE = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\{\s*\\circ\s*$|\^\s*\\circ|°|\\degree|\\circ")
_DEGREE_BRACE_RE = re.compile(r"\^\s*\\circ\s*\}")  # "5^\circ}" where the brace closes nothing
_CURRENCY_TAIL_RE = re.compile(r"\s*(?:\\\$|\$|€|£|¥|₹)\s*$")
_UNIT_TAIL_RE = re.compile(
    rf"(?<=[\d}}).\s²³])\s*(?:{TEXT_COMMANDS}\s*\{{[^{{}}]*\}}{_POWER}?"
    rf"|[a-zA-Z]{{2,}}{_POWER}?|[a-zA-Z][²³])\s*\.?$"
)
_NOT_UNITS = ("pi", "infty")  # "2 pi", "3 \text{pi}": a constant, not a unit


def _drop_degrees(s: str) -> str:
    """Remove degree signs (``^\\circ``, ``^{\\circ}``, ``°``, ``\\degree``) anywhere in ``s``."""
    unmatched = s.count("}") - s.count("{")
    if unmatched > 0:
        s = _DEGREE_BRACE_RE.sub("", s, count=unmatched)
    return _DEGREE_RE.sub("", s)


def _drop_unit(s: str) -> str:
    """``s`` without one trailing unit or ``\\text{...}`` after a value (``5 cm``, ``3\\text{ m}^2``).

    The unit must follow a digit, ``}``, ``)``, ``.``, ``²``/``³`` or a space, something must
    remain before it, and ``pi``/``infty`` are never units.
    """
    m = _UNIT_TAIL_RE.search(s)
    if m is None:
        return s
    value = s[: m.start()].strip()
    letters = re.sub(r"[^a-z]", "", m.group(0).lower())
    return value if value and not letters.endswith(_NOT_UNITS) else s


def strip_tails(text: str) -> tuple[str, bool]:
    """Strip what trails a written value: ``(value text, was a percentage)``.

    Removes, in any order and up to three rounds: a percent sign or word (``45\\%``,
    ``45 percent``), degree signs (``90^\\circ``, ``90°``; anywhere, as in ``30^\\circ, 60^\\circ``),
    a trailing currency symbol (``5€``) and a trailing unit (``5 cm``, ``5cm``, ``12 m²``,
    ``4\\text{ cm}^2``, ``12 dollars.``). Shared by :func:`parse_number` and the LaTeX
    normaliser of :mod:`.mathparse`, so both paths read the same value.

    >>> strip_tails("45\\\\% ")
    ('45', True)
    >>> strip_tails("4 \\\\text{cm}^2")
    ('4', False)
    """
    s, percent = text.strip(), False
    for _ in range(3):
        before = s
        if _PERCENT_TAIL_RE.search(s):
            s, percent = _PERCENT_TAIL_RE.sub("", s).strip(), True
        s = _drop_degrees(s).strip()
        s = _CURRENCY_TAIL_RE.sub("", s).strip()
        s = _drop_unit(s)
        if s == before:
            break
    return s, percent


_CURRENCY_RE = re.compile(r"^(?:\\\$|\$|€|£|¥|₹|\\euro|\\pounds|usd|eur|rs\.?)\s*", re.I)
_SPACING_RE = re.compile(r"\\[,;: ]|\\quad|\\qquad|~|\\left|\\right|\\displaystyle")
_DIGIT_GROUP_RE = re.compile(r"(?<=\d)\s*(?:\\,|\\!|\{\s*,\s*\}|,\s*\\!)\s*(?=\d{3}(?!\d))")

_INT = r"\d+"
_DEC = r"(?:\d+\.\d*|\.\d+|\d+)"
_FULL_DEC_RE = re.compile(rf"^({_DEC})(?:[eE]([+-]?\d+))?$")
_SCI_TIMES_RE = re.compile(rf"^({_DEC})\s*\\(?:times|cdot)\s*10\s*\^\s*\{{?\s*([+-]?\d+)\s*\}}?$")
_POW10_RE = re.compile(r"^10\s*\^\s*\{?\s*([+-]?\d+)\s*\}?$")
_THOUSANDS_RE = re.compile(r"^[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?$")
_SPACE_THOUSANDS_RE = re.compile(r"^[1-9]\d{0,2}(?: \d{3})+(?:\.\d+)?$")
# 1.000.000 and 1'000'000: two or more groups (a single "1.000" is a decimal)
_DOT_THOUSANDS_RE = re.compile(r"^[1-9]\d{0,2}(?:\.\d{3}){2,}$|^[1-9]\d{0,2}(?:['’]\d{3})+$")
_BASE_RE = re.compile(r"^([0-9A-Za-z]{1,40})_\{?\s*(\d{1,2})\s*\}?$")  # 1011_2, 4210_{5}
_REPEATING_RE = re.compile(
    r"^(\d*)\.(\d*)(?:\\overline|\\dot)\s*(?:\{\s*(\d+)\s*\}|(\d))$|^(\d*)\.(\d*)\((\d+)\)$"
)
_DEC_COMMA_RE = re.compile(r"^\d+,\d+$")
_SLASH_RE = re.compile(rf"^({_INT})\s*/\s*({_INT})$")
_FRAC_RE = re.compile(
    rf"^\\[dtc]?frac\s*(?:\{{\s*(-?{_INT})\s*\}}|(\d))\s*(?:\{{\s*({_INT})\s*\}}|(\d))$"
)
_MIXED_RE = re.compile(rf"^({_INT})\s*(\\[dtc]?frac.*|{_INT}\s*/\s*{_INT})$")


def repeating_decimal(whole: str, fixed: str, period: str) -> Fraction:
    """The value of ``whole.fixed(period)(period)...``: ``("0", "1", "6")`` is 1/6."""
    head = Fraction(int(whole or "0")) + (Fraction(int(fixed), 10 ** len(fixed)) if fixed else 0)
    return head + Fraction(int(period), (10 ** len(period) - 1) * 10 ** len(fixed))


def _repeating(text: str) -> Num | None:
    m = _REPEATING_RE.match(text)
    if m is None:
        return None
    g = m.groups()
    whole, fixed, period = (g[0], g[1], g[2] or g[3]) if g[2] or g[3] else (g[4], g[5], g[6])
    if len(fixed) + len(period) > 60:
        return None
    return Num(repeating_decimal(whole, fixed, period))


def _decimal(text: str) -> Num | None:
    """``12``, ``1.5``, ``.5``, ``1e-3``, ``1,000``, ``1 000``, ``1.000.000`` (no sign)."""
    if _THOUSANDS_RE.match(text) or _SPACE_THOUSANDS_RE.match(text):
        text = text.replace(",", "").replace(" ", "")
    elif _DOT_THOUSANDS_RE.match(text):
        text = re.sub(r"[.'’]", "", text)
    m = _FULL_DEC_RE.match(text)
    if m is None:
        return None
    mant, exp = m.group(1), m.group(2)
    if len(mant) > _MAX_DIGITS:
        return None
    value = Fraction(mant)
    e = int(exp) if exp is not None else 0
    if abs(e) > _MAX_EXP:
        return None
    value *= Fraction(10) ** e
    if "." not in mant and exp is None:
        return Num(value)
    return Num(value, decimal=True, stated=stated_precision(mant, e))


def _unsigned(text: str) -> Num | None:
    num = _decimal(text)
    if num is not None:
        return num
    m = _SCI_TIMES_RE.match(text)
    if m:
        e = int(m.group(2))
        if abs(e) > _MAX_EXP or len(m.group(1)) > _MAX_DIGITS:
            return None
        mant = m.group(1)
        return Num(Fraction(mant) * Fraction(10) ** e, True, stated=stated_precision(mant, e))
    m = _POW10_RE.match(text)
    if m:
        e = int(m.group(1))
        return None if abs(e) > _MAX_EXP else Num(Fraction(10) ** e)
    m = _SLASH_RE.match(text)
    if m:
        den = int(m.group(2))
        return Num(Fraction(int(m.group(1)), den)) if den else None
    m = _FRAC_RE.match(text)
    if m:
        numerator = int(m.group(1) or m.group(2))
        den = int(m.group(3) or m.group(4))
        return Num(Fraction(numerator, den)) if den else None
    m = _MIXED_RE.match(text)
    if m:
        frac = _unsigned(m.group(2))
        if frac is not None and not frac.decimal and 0 < frac.value < 1:
            return Num(int(m.group(1)) + frac.value)
    m = _DEC_COMMA_RE.match(text)
    if m and not _THOUSANDS_RE.match(text):  # "2,74" / "0,111": decimal comma
        mant = text.replace(",", ".")
        return Num(Fraction(mant), decimal=True, stated=stated_precision(mant))
    m = _BASE_RE.match(text)
    if m and 2 <= int(m.group(2)) <= 36:  # 52_8: digits in base 8
        try:
            return Num(Fraction(int(m.group(1), int(m.group(2)))))
        except ValueError:  # a digit too large for the base
            return None
    return _repeating(text)


_TEXT_WRAPPER_RE = re.compile(rf"^{TEXT_COMMANDS}\s*\{{([^{{}}]*)\}}$")


def _in_words(text: str) -> Num | None:
    """``twelve``, ``\\text{twelve}``, ``twenty-one`` (exact values)."""
    s = re.sub(rf"{TEXT_COMMANDS}\s*\{{([^{{}}]*)\}}", r" \1 ", text).strip()
    if not s or len(s) > 120:
        return None
    n = words_to_number(s)
    return None if n is None else Num(Fraction(n))


def _strip_wrappers(text: str) -> str:
    text = _DIGIT_GROUP_RE.sub(",", text)
    text = _SPACING_RE.sub(" ", text.replace("\\!", "")).strip()
    while len(text) >= 2 and text[0] + text[-1] in ("()", "{}") and "," not in text:
        inner = text[1:-1]
        if inner.count("(") != inner.count(")") or inner.count("{") != inner.count("}"):
            break
        text = inner.strip()
    return text


def parse_number(text: str) -> Num | None:
    """Parse ``text`` as one plain number, or return None (then the symbolic path decides).

    >>> parse_number("$1,000.50").value
    Fraction(2001, 2)
    >>> parse_number("-\\\\frac{3}{4}").value
    Fraction(-3, 4)
    """
    if not text or len(text) > _MAX_DIGITS + 100:
        return None
    s = text.strip().replace("−", "-")
    if s.startswith("\\boxed{") and s.endswith("}"):
        s = s[7:-1]
    s = re.sub(r"(?<!\\)\$|\\\(|\\\)|\\\[|\\\]", " ", s)
    s = expand_scale_words(_strip_wrappers(s))
    s, percent = strip_tails(s)
    sign = 1
    s = _CURRENCY_RE.sub("", s).strip()
    if s.startswith(("+", "-")):
        sign = -1 if s[0] == "-" else 1
        s = s[1:].strip()
    s = _CURRENCY_RE.sub("", s).strip()
    s = _strip_wrappers(s)
    if s.startswith("\\frac{-"):
        sign, s = -sign, "\\frac{" + s[7:]
    if s[:1].isalpha() or _TEXT_WRAPPER_RE.match(s):
        num = _in_words(s)
    elif not s or not (s[0].isdigit() or s[0] in ".\\"):
        return None
    else:
        num = _unsigned(s)
    if num is None:
        return None
    return Num(sign * num.value, num.decimal, percent, num.stated)


def values_close(a: Fraction, b: Fraction, rel_tol: float, float_rounding: int | None) -> bool:
    """The opt-in tolerances (rule 3 of :mod:`.precision`): relative tolerance ``rel_tol``
    (0 disables it) or agreement after rounding both to ``float_rounding`` places."""
    if a == b:
        return True
    scale = max(abs(a), abs(b))
    if rel_tol and abs(a - b) <= Fraction(rel_tol) * scale:
        return True
    return float_rounding is not None and round(a, float_rounding) == round(b, float_rounding)


def decimal_equal(
    a: Fraction, a_stated: Stated | None, b: Fraction, b_stated: Stated | None, min_sig: int
) -> bool:
    """Rules 1 and 2 of :mod:`.precision` for two exact values, either written as a decimal."""
    if a == b:
        return True
    if (a_stated is None) == (b_stated is None):
        return False  # both exact or both decimals: only equal values match
    exact, dec, stated = (a, b, b_stated) if b_stated is not None else (b, a, a_stated)
    assert stated is not None
    return not is_terminating(exact) and rounding_matches(exact, dec, stated, min_sig)


def numbers_equal(
    gold: Num,
    pred: Num,
    rel_tol: float,
    float_rounding: int | None,
    percent_as_fraction: bool = True,
    min_significant_digits: int = 4,
) -> bool:
    """Whether two plain numbers are equal under the precision policy (:mod:`.precision`).

    A percentage matches its written value (``28%`` vs ``28``) and, with
    ``percent_as_fraction``, its fraction (``28%`` vs ``0.28``).
    """
    tolerant = gold.decimal or pred.decimal
    g_vals = [(gold.value, gold.stated)]
    p_vals = [(pred.value, pred.stated)]
    if percent_as_fraction and gold.percent != pred.percent:
        if gold.percent:
            g_vals.append((gold.value / 100, gold.stated and gold.stated.scaled(2)))
        else:
            p_vals.append((pred.value / 100, pred.stated and pred.stated.scaled(2)))
    for g, gs in g_vals:
        for p, ps in p_vals:
            if decimal_equal(g, gs, p, ps, min_significant_digits):
                return True
            if tolerant and values_close(g, p, rel_tol, float_rounding):
                return True
    return False
