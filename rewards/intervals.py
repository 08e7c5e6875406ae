"""Relations that describe an interval of one variable, read without a solver.

``x \\geq c`` (one bound: ``[c, \\infty)``), ``a < x < b`` (a chain), ``|a x + b| < r`` (an
absolute-value bound), and ``x < a`` or ``x > b`` (a union of such intervals); and names of quantities
(``k``, ``f(x)``, ``|AB|``) used on the left of an equation.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Expr

__all__ = ["as_interval", "as_union", "is_name"]


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


def _bound_to_interval(e: Any) -> tuple[Any, Any] | None:
    """``x >= c`` (also ``>``, ``<``, ``<=``, either side) with a number ``c`` -> (x, Interval)."""
    if not isinstance(
        e, sympy.StrictLessThan | sympy.LessThan | sympy.StrictGreaterThan | sympy.GreaterThan
    ):
        return None
    lhs, rhs = e.lhs, e.rhs
    if isinstance(e, sympy.StrictGreaterThan | sympy.GreaterThan):
        lhs, rhs = rhs, lhs  # now lhs < rhs
    strict = isinstance(e, sympy.StrictLessThan | sympy.StrictGreaterThan)
    for var, bound, upper in ((lhs, rhs, True), (rhs, lhs, False)):
        if (
            isinstance(var, sympy.Symbol)
            and isinstance(bound, Expr)
            and not bound.free_symbols
            and bound.is_extended_real
        ):
            if upper:  # x < c: (-oo, c)
                return var, sympy.Interval(-sympy.oo, bound, True, strict)
            return var, sympy.Interval(bound, sympy.oo, strict, True)
    return None


def as_interval(e: Any) -> tuple[Any, Any] | None:
    """A relation that says "x lies in an interval": ``x >= c``, ``a < x < b``, ``|x - c| < r``."""
    return _bound_to_interval(e) or _chain_to_interval(e) or _abs_to_interval(e)


def as_union(e: Any) -> tuple[Any, Any] | None:
    """``x < a or x > b`` (a FiniteSet of interval relations on one variable) -> (x, Union)."""
    if not isinstance(e, sympy.FiniteSet) or len(e.args) < 2:
        return None
    found = [as_interval(r) for r in e.args]
    pairs = [f for f in found if f is not None]
    if len(pairs) != len(found) or len({f[0] for f in pairs}) != 1:
        return None
    return pairs[0][0], sympy.Union(*[f[1] for f in pairs])
