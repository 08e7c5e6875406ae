"""Equality of two expressions or numbers (runs inside a worker process, under its time limit).

- Exact values: equal rationals, else a cheap numeric rejection at bounded precision (random
  points with 30-digit floats), then an exact proof (``simplify(a - b) == 0``, trigonometric
  simplification, or the minimal polynomial of an algebraic number). A numeric evaluation only
  ever rejects; it is never the evidence for equality.
- Decimals follow the precision policy of :mod:`.precision`: a whole side that is one decimal
  matches an exact value exactly (terminating) or as its correct rounding (irrational or
  recurring); decimals inside a larger expression (``0.5x``) are exact values; the opt-in
  ``rel_tol`` / ``float_rounding`` only add matches.
"""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sympy
from sympy import Expr

from .math_config import MathVerifyConfig
from .mathparse import ParsedAnswer
from .numbers import decimal_equal, parse_number, values_close
from .precision import Stated, rounding_matches

__all__ = ["ExprEquality", "has_float", "to_fraction", "written_decimals"]


def written_decimals(*answers: ParsedAnswer) -> dict[Fraction, Stated]:
    """The stated precision of each answer that is one written decimal, by its value (a
    parsed Float has lost trailing zeros: ``0.8660`` states 4 places, its Float says 3)."""
    out: dict[Fraction, Stated] = {}
    for ans in answers:
        num = parse_number(ans.text)
        if num is not None and num.stated is not None:
            out[num.value] = num.stated
            out[num.value / 100] = num.stated.scaled(2)  # the same decimal read as a percentage
    return out


def has_float(e: Any) -> bool:
    return isinstance(e, sympy.Basic) and bool(e.atoms(sympy.Float))


_MAX_DECIMAL_EXPONENT = 1000


class _HugeDecimal(Exception):
    """A Float too large or too small to turn into an exact fraction cheaply."""


def _float_decimal(f: sympy.Float) -> tuple[Fraction, Stated]:
    """The decimal a parsed Float was written as, and the precision it states.

    Floats here come from answer text (at least 15 digits of precision), so their shortest
    string is the written decimal (trailing zeros are not kept: ``2.50`` reads as ``2.5``).
    Raises _HugeDecimal beyond 10^±1000 (``1.5^{10^8}``): such a decimal equals no exact answer
    this verifier builds.
    """
    text = str(f)
    exp = int(text.partition("e")[2] or 0)
    if abs(exp) > _MAX_DECIMAL_EXPONENT:
        raise _HugeDecimal(text)
    d = Decimal(text).normalize()
    _, digits, places = d.as_tuple()
    assert isinstance(places, int)
    return Fraction(d), Stated(places=-places, significant=len(digits))


def _exact_decimals(e: Any) -> Any:
    """``e`` with every Float replaced by the exact rational it was written as."""
    floats = e.atoms(sympy.Float)
    return e.xreplace({f: sympy.Rational(*_float_decimal(f)[0].as_integer_ratio()) for f in floats})


def to_fraction(x: Any) -> Fraction:
    r = sympy.Rational(x)
    return Fraction(int(r.p), int(r.q))


class ExprEquality:
    """The expression and number comparisons of the comparer (``cfg``: the settings; ``written``:
    the stated precision of answers that are one written decimal, see :func:`written_decimals`)."""

    cfg: MathVerifyConfig
    written: dict[Fraction, Stated]

    def _expr(self, a: Expr, b: Expr) -> bool:
        try:
            return self._expr_exact(a, b)
        except _HugeDecimal:
            return False

    def _expr_exact(self, a: Expr, b: Expr) -> bool:
        if has_float(a) or has_float(b):
            if self._opt_in_tolerance(a, b):
                return True
            rounded = self._rounded_decimal(a, b)
            if rounded is not None:
                return rounded
            a, b = _exact_decimals(a), _exact_decimals(b)
        if not a.free_symbols and not b.free_symbols and a.is_Rational and b.is_Rational:
            return a == b
        if self._numerically_different(a, b):
            return False
        return self._exactly_zero(a - b)

    def _opt_in_tolerance(self, a: Expr, b: Expr) -> bool:
        """Rule 3 of the precision policy: ``rel_tol`` / ``float_rounding``, when set."""
        if not self.cfg.rel_tol and self.cfg.float_rounding is None:
            return False
        if not a.free_symbols and not b.free_symbols:
            return self._close(a, b)
        return self._numeric_everywhere(a, b)

    def _rounded_decimal(self, a: Expr, b: Expr) -> bool | None:
        """Rules 1-2 of the precision policy when a whole side is one decimal; None otherwise."""
        if isinstance(b, sympy.Float):
            a, b = b, a
        if not isinstance(a, sympy.Float) or b.free_symbols or not b.is_number:
            return None
        dec, stated = _float_decimal(a)
        stated = self.written.get(dec, stated)
        min_sig = self.cfg.min_significant_digits
        if isinstance(b, sympy.Float):
            b_dec, b_stated = _float_decimal(b)
            b_stated = self.written.get(b_dec, b_stated)
            return decimal_equal(dec, stated, b_dec, b_stated, min_sig)
        if isinstance(b, sympy.Rational):
            return decimal_equal(dec, stated, to_fraction(b), None, min_sig)
        if has_float(b) or stated.significant < min_sig or stated.places > 300:
            return None if has_float(b) else False
        try:  # an irrational value, to enough digits to round it at the stated place
            digits = stated.places + max(len(str(abs(int(dec)))), 1) + 20
            value = sympy.N(b, digits)
            if not (value.is_real and value.is_finite):
                return False
            return rounding_matches(to_fraction(value), dec, stated, min_sig)
        except Exception:
            return False

    def _close(self, a: Expr, b: Expr) -> bool:
        try:
            va, vb = sympy.N(a, 30), sympy.N(b, 30)
            ra, ia = va.as_real_imag()
            rb, ib = vb.as_real_imag()
            return all(
                x.is_number
                and y.is_number
                and x.is_finite
                and y.is_finite
                and values_close(
                    to_fraction(x), to_fraction(y), self.cfg.rel_tol, self.cfg.float_rounding
                )
                for x, y in ((ra, rb), (ia, ib))
            )
        except Exception:
            return False

    def _numerically_different(self, a: Expr, b: Expr) -> bool:
        """Cheap rejection: values at a few random points clearly differ."""
        syms = sorted(a.free_symbols | b.free_symbols, key=str)
        rng = random.Random(0)
        for _ in range(2 if syms else 1):
            # bounded-precision points: (x+1)^{2000} at a rational point is a huge exact number
            point = {s: sympy.Float(rng.randint(11, 97) / rng.randint(7, 31), 30) for s in syms}
            try:
                da = sympy.N(a.xreplace(point), 20)
                db = sympy.N(b.xreplace(point), 20)
                if not (da.is_number and db.is_number and da.is_finite and db.is_finite):
                    return False
                diff = abs(da - db)
                scale = max(abs(da), abs(db), 1)
                if diff > scale * sympy.Float("1e-9"):
                    return True
            except Exception:
                return False
        return False

    @staticmethod
    def _exactly_zero(d: Expr) -> bool:
        if d == 0:
            return True
        try:
            if sympy.simplify(d) == 0:
                return True
            if sympy.expand(sympy.trigsimp(d)) == 0:
                return True
            if not d.free_symbols and d.is_algebraic:
                x = sympy.Dummy("x")
                return sympy.minimal_polynomial(d, x) == x
        except Exception:
            return False
        return False

    def _numeric_everywhere(self, a: Expr, b: Expr) -> bool:
        """A decimal side with variables: equal as numbers at several points (tolerance)."""
        syms = sorted(a.free_symbols | b.free_symbols, key=str)
        rng = random.Random(1)
        for _ in range(4):
            point = {s: sympy.Rational(rng.randint(11, 97), rng.randint(7, 31)) for s in syms}
            if not self._close(a.xreplace(point), b.xreplace(point)):
                return False
        return True
