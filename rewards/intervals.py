"""Relations that describe an interval of one variable, read without a solver.

``a < x < b`` (a chain), ``|a x + b| < r`` (an absolute-value bound) and names of quantities
(``k``, ``f(x)``, ``|AB|``) used on the left of an equation.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Expr

__all__ = ["as_interval", "is_name"]


def is_name(e: Any) -> bool:
    """An expression that only names a quantity: symbols, f(x), |AB|, A/B, (p, q)."""
    if isinstance(e, sympy.Symbol):
        return True
    if isinstance(e, sympy.Tuple):
        return all(is_name(x) for x in e.args)
    if isinstance(e, sympy.core.function.AppliedUndef):
        return all(isinstance(x, sympy.Symbol | sympy.Number) for x in e.args)
    if isinstance(e, sympy.Abs):
        return is_name(e.args[0])
    if isinstance(e, sympy.Mul):
        return all(is_name(x) for x in e.args)
    if isinstance(e, sympy.Pow):
        return is_name(e.base) and e.exp == -1
    return False


def _chain_to_interval(e: Any) -> tuple[Any, Any] | None:
    """``a < m < b`` (an And of two inequalities on one middle term) -> (m, Interval)."""
    if not isinstance(e, sympy.And) or len(e.args) != 2:
        return None
    lows = []
    for r in e.args:
        if not isinstance(
            r, sympy.StrictLessThan | sympy.LessThan | sympy.StrictGreaterThan | sympy.GreaterThan
        ):
            return None
        small, big = (
            (r.lhs, r.rhs)
            if isinstance(r, sympy.StrictLessThan | sympy.LessThan)
            else (r.rhs, r.lhs)
        )
        strict = isinstance(r, sympy.StrictLessThan | sympy.StrictGreaterThan)
        lows.append((small, big, strict))
    (s1, b1, st1), (s2, b2, st2) = lows
    if b1 == s2:  # s1 < m < b2
        return b1, sympy.Interval(s1, b2, st1, st2)
    if s1 == b2:  # s2 < m < b1
        return s1, sympy.Interval(s2, b1, st2, st1)
    return None


def _abs_to_interval(e: Any) -> tuple[Any, Any] | None:
    """``|a x + b| < r`` (also ``<=``, ``r > |a x + b|``) with a number ``r > 0`` -> (x, Interval).

    Only a linear expression in one variable inside ``|.|``: the solution is one interval
    (``|x - 1| < 2`` is ``(-1, 3)``), computed directly, no solver.
    """
    if isinstance(e, sympy.StrictLessThan | sympy.LessThan):
        absval, bound = e.lhs, e.rhs
    elif isinstance(e, sympy.StrictGreaterThan | sympy.GreaterThan):
        absval, bound = e.rhs, e.lhs
    else:
        return None
    if not isinstance(absval, sympy.Abs) or not isinstance(bound, Expr) or bound.free_symbols:
        return None
    inner = absval.args[0]
    if len(inner.free_symbols) != 1 or not bound.is_positive:
        return None
    x = next(iter(inner.free_symbols))
    try:
        poly = sympy.Poly(inner, x)
    except Exception:  # not a polynomial in x (sqrt(x), 1/x, ...)
        return None
    if poly.degree() != 1:
        return None
    a, b = poly.all_coeffs()
    if not (a.is_real and b.is_real and a.is_nonzero):
        return None
    lo, hi = (-bound - b) / a, (bound - b) / a
    if a.is_negative:
        lo, hi = hi, lo
    strict = isinstance(e, sympy.StrictLessThan | sympy.StrictGreaterThan)
    return x, sympy.Interval(lo, hi, strict, strict)


def as_interval(e: Any) -> tuple[Any, Any] | None:
    """A relation that says "x lies in an interval": ``a < x < b`` or ``|x - c| < r``."""
    return _chain_to_interval(e) or _abs_to_interval(e)
