"""Cheap size estimates that refuse to build numbers too large to compare exactly.

Sympy evaluates ``9^{9^{9^9}}``, ``(10^{10})!`` or ``\\binom{10^9}{10^8}`` eagerly and would spend
minutes (and gigabytes) on one answer. Every parser builds powers, factorials and binomials
through :func:`checked_pow`, :func:`checked_factorial` and :func:`checked_binomial`, which
estimate the number of digits of the result from the operands' sizes (bit lengths, logarithms
in floating point: no big-number work) and raise :class:`~.plain_parser.MathParseError` when it
is over :data:`MAX_EXACT_DIGITS`. An answer naming such a number is unparseable and scores 0
within milliseconds instead of running into the time limit. Also: :func:`expand_bounded_sums`
(sums and products with more than :data:`MAX_TERMS` terms are not expanded) and
:func:`check_nesting` (deeply nested text is refused before the LaTeX parser sees it).
"""

from __future__ import annotations

import math
from typing import Any

import sympy

from .parse_error import MathParseError

__all__ = [
    "MAX_DEGREE",
    "MAX_EXACT_DIGITS",
    "MAX_FUNCTION_NESTING",
    "MAX_NESTING",
    "MAX_TERMS",
    "check_function_nesting",
    "check_nesting",
    "checked_binomial",
    "checked_factorial",
    "checked_pow",
    "expand_bounded_sums",
]

MAX_EXACT_DIGITS = 20_000
"""The most decimal digits of an exact number an answer may name (2^66000 or 5000!)."""
MAX_DEGREE = 2_000
"""The highest integer power of a sum with variables (``(x+1)^{2000}``)."""
MAX_TERMS = 10_000
"""The most terms of a sum or product with numeric bounds."""
MAX_NESTING = 24
"""The deepest nesting of braces, brackets and parentheses in one answer's text."""
MAX_FUNCTION_NESTING = 5
"""The deepest nesting of function applications (``\\log(\\log(x))`` is 2)."""


def _log10_int(n: int) -> float:
    n = abs(n)
    if n == 0:
        return 0.0
    return math.log10(n) if n.bit_length() < 1000 else n.bit_length() * math.log10(2)


def _log10_abs(x: Any) -> float | None:
    """log10|x| for a sympy number, from its size (no big-number arithmetic); None if unknown."""
    if isinstance(x, sympy.Rational):
        return _log10_int(int(x.p)) - _log10_int(int(x.q))
    if isinstance(x, sympy.Pow) and isinstance(x.exp, sympy.Rational):  # sqrt(2), 2^(1/3)
        lb = _log10_abs(x.base)
        return None if lb is None or abs(x.exp) > 10**15 else lb * float(x.exp)
    if isinstance(x, sympy.Mul):
        logs = [_log10_abs(a) for a in x.args]
        return None if any(v is None for v in logs) else sum(v for v in logs if v is not None)
    return None


def _too_big(digits: float, what: str) -> None:
    if digits > MAX_EXACT_DIGITS:
        raise MathParseError(
            f"{what} has about 10^{math.log10(max(digits, 1)):.0f} digits, over the "
            f"{MAX_EXACT_DIGITS} an exact answer may have"
        )


def checked_pow(base: Any, exp: Any) -> Any:
    """``sympy.Pow(base, exp)``, refusing an exact result of more than MAX_EXACT_DIGITS digits
    and a power of a sum (``(x+1)^{10^6}``) above degree MAX_DEGREE, which expands into more
    terms than any comparison can handle."""
    if (
        isinstance(exp, sympy.Integer)
        and abs(exp) > MAX_DEGREE
        and isinstance(base, sympy.Add)
        and base.free_symbols
    ):
        raise MathParseError(f"a power of a sum of degree {exp}, over {MAX_DEGREE}")
    lb, le = _log10_abs(base), _log10_abs(exp)
    if lb is not None and le is not None and le > 0:
        if le > 15:  # an exponent of more than 15 digits: only 0, 1 and -1 stay small
            if abs(base) not in (0, 1):
                _too_big(math.inf, "a power")
        else:
            _too_big(abs(float(exp)) * abs(lb), "a power")
    return sympy.Pow(base, exp)


def checked_factorial(n: Any) -> Any:
    """``sympy.factorial(n)``, refusing a factorial of more than MAX_EXACT_DIGITS digits."""
    if isinstance(n, sympy.Integer) and n > 1:
        _too_big(float(n) * math.log10(float(n)) if n < 10**300 else math.inf, "a factorial")
    return sympy.factorial(n)


def checked_binomial(n: Any, k: Any) -> Any:
    """``sympy.binomial(n, k)``, refusing a coefficient of more than MAX_EXACT_DIGITS digits."""
    if isinstance(n, sympy.Integer) and isinstance(k, sympy.Integer) and 0 <= k <= n:
        small = min(int(k), int(n - k))
        _too_big(small * math.log10(float(n)) if n < 10**300 else math.inf, "a binomial")
    return sympy.binomial(n, k)


def expand_bounded_sums(e: Any) -> Any:
    """Refuse a Sum/Product whose numeric bounds span more than MAX_TERMS terms; write out
    the others with numeric bounds (``\\sum_{k=0}^{50} \\binom{50}{k} x^k`` becomes 51 terms, which
    numeric evaluation handles at once, unlike an unevaluated sum)."""
    if not e.has(sympy.Sum, sympy.Product):
        return e
    for node in sympy.preorder_traversal(e):
        if isinstance(node, sympy.Sum | sympy.Product):
            for _, lo, hi in node.limits:
                span = hi - lo
                if span.is_number and (not span.is_finite or abs(span) > MAX_TERMS):
                    raise MathParseError(f"a sum or product of more than {MAX_TERMS} terms")
    return e.replace(
        lambda n: (
            isinstance(n, sympy.Sum | sympy.Product)
            and all((hi - lo).is_number for _, lo, hi in n.limits)
        ),
        lambda n: n.doit(),
    )


def check_function_nesting(e: Any) -> None:
    """Refuse more than MAX_FUNCTION_NESTING nested function applications (``\\log\\log\\log...``):
    sympy's automatic simplification of such towers can take seconds."""

    def depth(node: Any, level: int) -> int:
        if level > MAX_FUNCTION_NESTING:
            return level
        inner = isinstance(node, sympy.Function)
        kids = [depth(a, level + inner) for a in getattr(node, "args", ())]
        return max(kids, default=level + inner)

    if depth(e, 0) > MAX_FUNCTION_NESTING:
        raise MathParseError(f"more than {MAX_FUNCTION_NESTING} nested functions")


def check_nesting(text: str) -> None:
    """Refuse text nested deeper than MAX_NESTING (braces, brackets, parentheses)."""
    depth = deepest = 0
    for c in text:
        if c in "{[(":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "}])":
            depth -= 1
    if deepest > MAX_NESTING:
        raise MathParseError(f"nested {deepest} levels deep, over {MAX_NESTING}")
