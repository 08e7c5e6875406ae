"""Mathematical equivalence of two parsed answers (runs inside a worker process).

Rules, most specific first:

- Text answers (words, choice letters, clock times) compare as normalised strings.
- Numbers and expressions: exact proofs, and the precision policy for decimals
  (:mod:`.expr_equal`, :mod:`.precision`).
- Sets are order-insensitive (``x = 2 or x = -3`` vs ``\\{-3, 2\\}``), tuples ordered,
  intervals compare ends and open/closed flags, matrices element-wise.
- Equations: ``x = 3`` matches ``3`` when the left side only names a quantity (``k``,
  ``f(x)``, ``|AB|``, ``A:B``); two equations match when ``lhs - rhs`` differ by a non-zero
  constant factor. Inequalities match when they describe the same half-space
  (``x > 5`` vs ``5 < x`` vs ``-x < -5``); chains like ``0 < x < 1`` and absolute-value
  bounds like ``|x - 1| < 2`` (linear inside, positive number bound) match their interval.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from typing import Any

import sympy
from sympy import Expr
from sympy.core.relational import Relational
from sympy.matrices import MatrixBase

from .expr_equal import ExprEquality, has_float, written_decimals
from .intervals import as_interval, as_union, is_name
from .math_config import MathVerifyConfig
from .mathparse import MathParseError, ParsedAnswer, parse_answer
from .precision import Stated

__all__ = ["answers_equal", "check_pair", "sym_equal"]

_MAX_DEPTH = 8
_MAX_ELEMS = 64


def check_pair(gold: str, pred: str, config: MathVerifyConfig) -> tuple[bool, str | None]:
    """Parse two extracted answers and compare them: ``(equal, reason_if_not)``.

    This is the job the worker pool runs for every answer the fast number path cannot decide.
    """
    try:
        g = parse_answer(gold)
    except MathParseError:
        g = None
    try:
        p = parse_answer(pred)
    except MathParseError:
        p = None
    if p is None or g is None:
        if _loose(gold) == _loose(pred):
            return True, None
        return False, "unparseable" if p is None else "gold unparseable"
    return (True, None) if answers_equal(g, p, config) else (False, "not equivalent")


def _loose(s: str) -> str:
    return "".join(s.split()).lower().replace("\\left", "").replace("\\right", "")


def answers_equal(g: ParsedAnswer, p: ParsedAnswer, config: MathVerifyConfig) -> bool:
    """Whether two parsed answers are equivalent under ``config``."""
    if g.is_text or p.is_text:
        return g.text == p.text or _loose(g.text.split(":", 1)[-1]) == _loose(
            p.text.split(":", 1)[-1]
        )
    if g.text == p.text and g.percent == p.percent:
        return True
    g_alts, p_alts = [g.expr], [p.expr]
    if g.percent != p.percent and config.percent_as_fraction:
        if g.percent and isinstance(g.expr, Expr):
            g_alts.append(g.expr / 100)
        if p.percent and isinstance(p.expr, Expr):
            p_alts.append(p.expr / 100)
    comparer = _Comparer(config, written_decimals(g, p))
    return any(comparer.equal(a, b) for a in g_alts for b in p_alts)


def sym_equal(a: Any, b: Any, config: MathVerifyConfig | None = None) -> bool:
    """Whether two sympy objects are equivalent (gold ``a``, prediction ``b``)."""
    return _Comparer(config or MathVerifyConfig(workers=1)).equal(a, b)


class _Comparer(ExprEquality):
    def __init__(
        self, config: MathVerifyConfig, written: dict[Fraction, Stated] | None = None
    ) -> None:
        self.cfg = config
        self.depth = 0
        self.written = written or {}

    # ---------------------------------------------------------------- dispatch
    def equal(self, a: Any, b: Any) -> bool:
        if self.depth > _MAX_DEPTH:
            return False
        self.depth += 1
        try:
            return self._equal(a, b)
        finally:
            self.depth -= 1

    def _equal(self, a: Any, b: Any) -> bool:
        try:
            if a == b and type(a) is type(b):
                return True
        except Exception:
            pass
        if not self.cfg.strict and self.depth == 1:  # rename once, for the whole answer
            a, b = self._rename(a, b)
        if isinstance(a, MatrixBase) or isinstance(b, MatrixBase):
            return self._matrix(a, b)
        if isinstance(a, Relational | sympy.And) or isinstance(b, Relational | sympy.And):
            return self._relation(a, b)
        if isinstance(a, sympy.Set | sympy.Tuple) or isinstance(b, sympy.Set | sympy.Tuple):
            return self._collection(a, b)
        if isinstance(a, Expr) and isinstance(b, Expr):
            return self._expr(a, b)
        return False

    def _rename(self, a: Any, b: Any) -> tuple[Any, Any]:
        fa = sorted(getattr(a, "free_symbols", set()), key=str)
        fb = sorted(getattr(b, "free_symbols", set()), key=str)
        if fa and len(fa) == len(fb) and fa != fb:
            with contextlib.suppress(Exception):
                b = b.xreplace(dict(zip(fb, fa, strict=True)))
        return a, b

    # ---------------------------------------------------------------- structures
    def _matrix(self, a: Any, b: Any) -> bool:
        if isinstance(a, sympy.Tuple):
            a = sympy.Matrix(list(a.args))
        if isinstance(b, sympy.Tuple):
            b = sympy.Matrix(list(b.args))
        if not (isinstance(a, MatrixBase) and isinstance(b, MatrixBase)):
            return False
        if a.shape != b.shape:
            if 1 in a.shape and 1 in b.shape and len(a) == len(b):  # row vs column vector
                return all(self.equal(x, y) for x, y in zip(a, b, strict=True))
            return False
        return all(self.equal(x, y) for x, y in zip(a, b, strict=True))

    def _match_all(self, xs: list[Any], ys: list[Any]) -> bool:
        """A perfect matching between xs and ys under ``equal`` (order-insensitive)."""
        if len(xs) != len(ys) or len(xs) > _MAX_ELEMS:
            return False
        ok = [[self.equal(x, y) for y in ys] for x in xs]
        match: dict[int, int] = {}

        def assign(i: int, seen: set[int]) -> bool:
            for j in range(len(ys)):
                if ok[i][j] and j not in seen:
                    seen.add(j)
                    if j not in match or assign(match[j], seen):
                        match[j] = i
                        return True
            return False

        return all(assign(i, set()) for i in range(len(xs)))

    def _collection(self, a: Any, b: Any) -> bool:
        fs = sympy.FiniteSet
        if isinstance(a, fs) and isinstance(b, fs):
            return self._match_all(list(a.args), list(b.args))
        if isinstance(a, fs) and len(a.args) == 1 and not isinstance(b, sympy.Set):
            return self.equal(a.args[0], b)
        if isinstance(b, fs) and len(b.args) == 1 and not isinstance(a, sympy.Set):
            return self.equal(a, b.args[0])
        if isinstance(a, sympy.Tuple) and isinstance(b, sympy.Tuple):
            return len(a) == len(b) and all(
                self.equal(x, y) for x, y in zip(a.args, b.args, strict=True)
            )
        if isinstance(a, sympy.Interval) and isinstance(b, sympy.Interval):
            return (
                a.left_open == b.left_open
                and a.right_open == b.right_open
                and self.equal(a.start, b.start)
                and self.equal(a.end, b.end)
            )
        # "(1, 2)" is an open interval or an ordered pair: both readings are the same text
        for x, y in ((a, b), (b, a)):
            if isinstance(x, sympy.Interval) and isinstance(y, sympy.Tuple) and len(y) == 2:
                if x.left_open and x.right_open:
                    return self.equal(x.start, y.args[0]) and self.equal(x.end, y.args[1])
                return False
        for x, y in ((a, b), (b, a)):  # "x < -1 or x > 2" vs (-oo, -1) U (2, oo)
            if isinstance(y, sympy.Union | sympy.Interval) and (found := as_union(x)) is not None:
                return self._same_numeric_set(found[1], y)
        if (
            isinstance(a, sympy.Union)
            and isinstance(b, sympy.Union)
            and self._match_all(list(a.args), list(b.args))
        ):
            return True
        if isinstance(a, sympy.Set) and isinstance(b, sympy.Set):
            return self._same_numeric_set(a, b)
        return False

    def _same_numeric_set(self, a: sympy.Set, b: sympy.Set) -> bool:
        if a.free_symbols or b.free_symbols or has_float(a) or has_float(b):
            return False
        try:
            return bool(sympy.SymmetricDifference(a, b).simplify() == sympy.S.EmptySet) or bool(
                a.symmetric_difference(b) == sympy.S.EmptySet
            )
        except Exception:
            return False

    # ---------------------------------------------------------------- relations
    def _relation(self, a: Any, b: Any) -> bool:
        a_rel = isinstance(a, Relational | sympy.And)
        b_rel = isinstance(b, Relational | sympy.And)
        if a_rel and not b_rel:
            return self._relation_vs_value(a, b)
        if b_rel and not a_rel:
            return self._relation_vs_value(b, a)
        if isinstance(a, sympy.And) and isinstance(b, sympy.And):
            if self._match_all(list(a.args), list(b.args)):
                return True
            return self._as_sets_equal(a, b)
        if type(a) in (sympy.Eq, sympy.Ne) and type(b) is type(a):
            return self._equation(a, b)
        if (
            isinstance(b, sympy.Eq)
            and is_name(b.lhs)
            and isinstance(b.rhs, sympy.Set)
            and not isinstance(a, sympy.Eq)
            and self._relation_vs_value(a, b.rhs)
        ):  # gold "-2 <= x <= 7", prediction "x \in [-2, 7]": the prediction names a set
            return True
        if isinstance(a, sympy.Eq) or isinstance(b, sympy.Eq):
            if self.cfg.allow_set_relation:
                return self._as_sets_equal(a, b)
            return False
        ia, ib = self._inequality(a), self._inequality(b)
        if ia is not None and ib is not None:
            (ea, sa), (eb, sb) = ia, ib
            if sa != sb:
                return False
            return self._proportional(ea, eb, positive=True)
        ca, cb = as_interval(a), as_interval(b)  # "-1 < x < 3" vs "|x - 1| < 2"
        if ca is not None and cb is not None:  # decided: no set solver needed
            return self.equal(ca[0], cb[0]) and self.equal(ca[1], cb[1])
        return self._as_sets_equal(a, b)

    def _relation_vs_value(self, rel: Any, value: Any) -> bool:
        if isinstance(rel, sympy.Eq) and is_name(rel.lhs):
            return self.equal(rel.rhs, value)
        if isinstance(rel, sympy.Eq) and is_name(rel.rhs) and not is_name(rel.lhs):
            return self.equal(rel.lhs, value)
        if (
            isinstance(rel, sympy.Eq)
            and isinstance(rel.lhs, Expr)
            and not rel.lhs.free_symbols
            and not getattr(rel.rhs, "free_symbols", True)
        ):
            return self.equal(rel.rhs, value)  # "3 \cdot 4 = 12": a computation ending in its value
        if isinstance(value, sympy.Interval):
            found = as_interval(rel)
            if found is not None:
                return self.equal(found[1], value)
        return False

    def _as_sets_equal(self, a: Any, b: Any) -> bool:
        """With allow_set_relation: ``x \\in [-2, 7]`` vs ``-2 <= x <= 7`` (one variable)."""
        if not self.cfg.allow_set_relation:
            return False
        sa, sb = self._as_set(a), self._as_set(b)
        if sa is None or sb is None:
            return False
        return self.equal(sa[0], sb[0]) and self.equal(sa[1], sb[1])

    def _as_set(self, r: Any) -> tuple[Any, Any] | None:
        if (
            isinstance(r, sympy.Eq)
            and isinstance(r.rhs, sympy.Set)
            and isinstance(r.lhs, sympy.Symbol)
        ):
            return r.lhs, r.rhs
        found = as_interval(r)
        if found is not None:
            return found
        syms: set[Any] = getattr(r, "free_symbols", set())
        if len(syms) == 1:
            try:
                return next(iter(syms)), r.as_set()
            except Exception:
                return None
        return None

    def _equation(self, a: Any, b: Any) -> bool:
        if (self.equal(a.lhs, b.lhs) and self.equal(a.rhs, b.rhs)) or (
            self.equal(a.lhs, b.rhs) and self.equal(a.rhs, b.lhs)
        ):
            return True
        if not all(isinstance(x, Expr) for x in (a.lhs, a.rhs, b.lhs, b.rhs)):
            return False
        if is_name(a.lhs) and is_name(b.lhs) and a.lhs != b.lhs:
            return False
        return self._proportional(a.lhs - a.rhs, b.lhs - b.rhs, positive=False)

    @staticmethod
    def _inequality(r: Any) -> tuple[Any, bool] | None:
        """``l < r`` -> (r - l, strict): the relation says expr > 0 (or >= 0)."""
        if not all(isinstance(x, Expr) for x in getattr(r, "args", ())):
            return None
        if isinstance(r, sympy.StrictLessThan | sympy.LessThan):
            return r.rhs - r.lhs, isinstance(r, sympy.StrictLessThan)
        if isinstance(r, sympy.StrictGreaterThan | sympy.GreaterThan):
            return r.lhs - r.rhs, isinstance(r, sympy.StrictGreaterThan)
        return None

    def _proportional(self, da: Expr, db: Expr, positive: bool) -> bool:
        """da == c * db for a constant c != 0 (c > 0 if ``positive``)."""
        if da == db:
            return True
        if da == 0 or db == 0:
            return False
        try:
            ratio = sympy.simplify(da / db)
        except Exception:
            return False
        if ratio.free_symbols or not ratio.is_number or ratio == 0 or not ratio.is_finite:
            return False
        return bool(ratio.is_positive) if positive else bool(ratio.is_nonzero)
