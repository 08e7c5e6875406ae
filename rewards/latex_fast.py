"""The fast LaTeX subset: common short answers parsed without the ANTLR parser.

Most answers are short LaTeX in a small subset: numbers, single-letter symbols, ``+ - * / ^``,
``\\frac``, ``\\sqrt``, ``\\sqrt[n]``, ``\\cdot``, ``\\times``, ``\\pi``, ``\\infty``,
``\\left( \\right)``, comma lists, ``\\{..\\}`` sets, intervals/tuples and one relation. That
subset is rewritten, macro by macro, into the plain-expression syntax of :mod:`.plain_parser`,
tokenized by the same whitelist tokenizer and parsed by a subclass of the plain parser whose
grammar follows latex2sympy's (implicit products bind tighter than ``/``; ``2\\frac{1}{2}`` is a
mixed number), so both parsers give the same objects. Anything outside the subset returns None
and goes to the ANTLR parser (:mod:`.latex_adapter`).
"""

from __future__ import annotations

import re
from typing import Any

import sympy

from .latex_adapter import number_from_token
from .magnitude import checked_factorial, checked_pow
from .plain_parser import KNOWN_FUNCTIONS, MathParseError, PlainParser, symbol_for, tokenize_plain

__all__ = ["fast_latex"]

_FAST_MAX_CHARS = 400
_FAST_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>[0-9]+(?:\.[0-9]+)?(?![0-9.])|\.[0-9]+(?![0-9.]))|(?P<letters>[A-Za-z]+)"
    r"|(?P<cmd>\\(?:[A-Za-z]+|[{}]))|(?P<op><=|>=|!=|[-+*/^()\[\]{},=<>!]))"
)
_FAST_MACROS = {r"\pi": " pi ", r"\infty": " oo ", r"\cdot": " * ", r"\times": " * "}
_FAST_RELATIONS: dict[str, Any] = {
    "=": sympy.Eq, "<": sympy.StrictLessThan, ">": sympy.StrictGreaterThan, "<=": sympy.LessThan,
    ">=": sympy.GreaterThan, "!=": sympy.Ne, r"\le": sympy.LessThan, r"\leq": sympy.LessThan,
    r"\ge": sympy.GreaterThan, r"\geq": sympy.GreaterThan, r"\lt": sympy.StrictLessThan,
    r"\gt": sympy.StrictGreaterThan, r"\neq": sympy.Ne, r"\ne": sympy.Ne,
}  # fmt: skip
_OPENERS = {"(": ")", "[": "]", "{": "}", r"\{": r"\}"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
_AFTER_OPERATOR = frozenset(
    ["(", "+", "-", "*", "/", "^", "{", "[", ",", r"\{", r"\cdot", r"\times", *_FAST_RELATIONS]
)
# latex2sympy reads "1,000" as a number
_COMMA_NUMBER_RE = re.compile(r"^\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*$")


class _NotFast(Exception):
    """The text is outside the fast subset (the ANTLR parser decides)."""


def _fast_tokens(s: str) -> list[str]:
    toks: list[str] = []
    pos, s = 0, s.rstrip()
    while pos < len(s):
        m = _FAST_TOKEN_RE.match(s, pos)
        if m is None or m.end() == pos:
            raise _NotFast
        pos = m.end()
        kind = m.lastgroup or ""
        tok = m.group(kind)
        # latex2sympy reads letter runs as products, but "dx", "or", "gcd" are tokens
        if kind == "letters":
            if (
                len(tok) > 2
                or (len(tok) == 2 and (tok[0] in "dD" or tok.lower() == "or"))
                or "E" in tok
            ):
                raise _NotFast
            glued_to_number = bool(toks) and toks[-1][0].isdigit() and m.start(kind) == m.start()
            if (pos < len(s) and (s[pos].isdigit() or s[pos] == "(")) or (
                glued_to_number and tok[0] in "eE"
            ):
                raise _NotFast  # "x(": maybe f(x); "x2", "2e3": E-notation; "E" is a symbol, "e" Euler's
            toks.extend(tok)
            continue
        if tok in (r"\left", r"\right"):
            nxt = _FAST_TOKEN_RE.match(s, pos)
            if nxt is None or nxt.group("op") not in ("(", ")", "[", "]"):
                raise _NotFast
            continue  # \left( is (
        toks.append(tok)
    return toks


def _matching(toks: list[str], i: int) -> int:
    """Index of the bracket closing the one at ``i`` (any kind nests; kinds must match)."""
    stack = []
    for j in range(i, len(toks)):
        t = toks[j]
        if t in _OPENERS:
            stack.append(_OPENERS[t])
        elif t in _CLOSERS:
            if not stack:
                raise _NotFast
            want = stack.pop()
            if t != want and not (want in ")]" and t in ")]"):  # intervals mix ( and ]
                raise _NotFast
            if not stack:
                return j
    raise _NotFast


def _split_top(toks: list[str], seps: Any) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    depth = 0
    for t in toks:
        if t in _OPENERS:
            depth += 1
        elif t in _CLOSERS:
            depth -= 1
        if depth == 0 and t in seps:
            parts.append([])
            parts[-1].append(t)  # the separator heads the next part
            continue
        parts[-1].append(t)
    return parts


class _FastLatex:
    """Builds the answer for a token list of the fast subset (raises _NotFast otherwise)."""

    def __init__(self, finite_set: Any) -> None:
        self.finite_set = finite_set  # latex2sympy's FiniteSet (keeps written order)

    def top(self, toks: list[str]) -> Any:
        if toks and toks[0] == r"\{" and _matching(toks, 0) == len(toks) - 1:
            items = self.commas(toks[1:-1])
            return self.finite_set(*[self.expr(p) for p in items])
        parts = self.commas(toks)
        if len(parts) == 1:
            return self.element(parts[0])
        elems = [self.element(p) for p in parts]
        rel = [isinstance(e, sympy.core.relational.Relational) for e in elems]
        if any(rel) and not all(rel):
            raise _NotFast  # "x = 1, 2": latex2sympy reads a set relation
        return self.finite_set(*elems)

    def commas(self, toks: list[str]) -> list[list[str]]:
        parts = _split_top(toks, (",",))
        out = [p[1:] if i else p for i, p in enumerate(parts)]
        if any(not p for p in out):
            raise _NotFast
        return out

    def element(self, toks: list[str]) -> Any:
        if toks[0] in ("(", "[") and _matching(toks, 0) == len(toks) - 1:
            items = self.commas(toks[1:-1])
            if len(items) == 2:
                return self.interval(toks[0], toks[-1], *(self.expr(p) for p in items))
            if len(items) > 2:
                if toks[0] + toks[-1] not in ("()", "[]"):
                    raise _NotFast
                return sympy.Tuple(*[self.expr(p) for p in items])
        parts = _split_top(toks, _FAST_RELATIONS)
        if len(parts) == 1:
            return self.expr(toks)
        if len(parts) != 2 or len(parts[1]) < 2 or not parts[0]:
            raise _NotFast
        rel = _FAST_RELATIONS[parts[1][0]]
        return rel(self.expr(parts[0]), self.expr(parts[1][1:]), evaluate=False)

    @staticmethod
    def interval(left_tok: str, right_tok: str, left: Any, right: Any) -> Any:
        left_open, right_open = left_tok == "(", right_tok == ")"
        try:  # as latex2sympy: an "empty interval" is a pair
            if (left_open and right_open and right <= left) or (
                not left_open and not right_open and right < left
            ):
                return sympy.Tuple(left, right)
        except Exception:
            pass
        return sympy.Interval(left, right, left_open=left_open, right_open=right_open)

    def expr(self, toks: list[str]) -> Any:
        if not toks:
            raise _NotFast
        text = self.plain(toks, 0, len(toks))[0]
        try:
            return _LatexSubsetParser(tokenize_plain(text)).parse()
        except MathParseError:
            raise _NotFast from None

    def arg(self, toks: list[str], i: int, end: int) -> tuple[str, int]:
        """One macro argument at ``i``: ``{...}`` or a single digit/letter; (plain text, next index)."""
        if i >= end:
            raise _NotFast
        t = toks[i]
        if t == "{":
            j = _matching(toks, i)
            if j >= end or j == i + 1:
                raise _NotFast
            return self.plain(toks, i + 1, j)[0], j + 1
        if (t.isdigit() and len(t) == 1) or (t.isalpha() and len(t) == 1):
            if i + 1 < end and toks[i + 1][:1].isdigit():
                raise _NotFast  # \frac123: latex2sympy reads 1/23
            return f" {t} ", i + 1
        raise _NotFast

    def plain(self, toks: list[str], i: int, end: int) -> tuple[str, int]:
        out: list[str] = []
        while i < end:
            t = toks[i]
            i += 1
            if t[0].isdigit() or t[0] == ".":
                if i > 1 and toks[i - 2] not in _AFTER_OPERATOR:
                    raise _NotFast  # "x 2", "\\sqrt{8}0.5", "(a) 3": latex2sympy reads numbers there its own way
                out.append(f" {t} ")
            elif t.isalpha():
                out.append(f" {t} ")
            elif t in _FAST_MACROS:
                out.append(_FAST_MACROS[t])
            elif t == r"\frac":
                # \frac94 is 9/4 (as latex2sympy)
                if i < end and toks[i].isdigit() and len(toks[i]) == 2:
                    num, den, i = toks[i][0], toks[i][1], i + 1
                else:
                    num, i = self.arg(toks, i, end)
                    den, i = self.arg(toks, i, end)
                out.append(f"(({num})/({den}))")
            elif t == r"\sqrt":
                if i < end and toks[i] == "[":
                    j = _matching(toks, i)
                    if toks[j] != "]" or j >= end:
                        raise _NotFast
                    n = self.plain(toks, i + 1, j)[0]
                    base, i = self.arg(toks, j + 1, end)
                    out.append(f"(({base})^(1/({n})))")
                else:
                    base, i = self.arg(toks, i, end)
                    out.append(f"sqrt({base})")
            elif t == "^":
                exp, i = self.arg(toks, i, end)
                if i < end and toks[i] in ("^", "!", "("):
                    raise _NotFast  # x^2^3, x^2!, x^{2}(y): latex2sympy may read a function call
                out.append(f"^({exp})")
            elif t in ("(", ")", "+", "-", "*", "/", "!"):
                out.append(t)
            else:  # [ ] { } , relations, other commands
                raise _NotFast
        return "".join(out), i


class _LatexSubsetParser(PlainParser):
    """The plain grammar with latex2sympy's structure for the fast LaTeX subset:

    expr := mp (('+'|'-') mp)* ; mp := unary (('*'|'/') unary)* ;
    unary := ('+'|'-') unary | postfix+   (juxtaposition: ``x/2y`` is x/(2y)) ;
    postfix := power '!'* ; power := atom ('^' atom)? ; atom := num | name | func(expr) | (expr).

    Values are built evaluated; alongside each value the parser tracks what latex2sympy's
    unevaluated object would be when that is a plain number (``lit``), because latex2sympy
    turns ``2 \\frac{1}{2}`` (an integer then a positive rational) into a mixed number.
    """

    def parse(self) -> Any:
        value, _ = self.l_expr()
        if self.peek() is not None:
            raise MathParseError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return value

    def l_expr(self) -> tuple[Any, Any]:
        val, lit = self.l_mp()
        while (tok := self.peek()) in (("op", "+"), ("op", "-")):
            self.i += 1
            rhs, _ = self.l_mp()
            val, lit = (val + rhs if tok[1] == "+" else val - rhs), None  # type: ignore[index]
        return val, lit

    def l_mp(self) -> tuple[Any, Any]:
        val, lit = self.l_unary()
        while (tok := self.peek()) in (("op", "*"), ("op", "/")):
            self.i += 1
            rhs, rlit = self.l_unary()
            if tok[1] == "*":  # type: ignore[index]
                val, lit = val * rhs, None
            elif lit is not None and rlit is not None and lit.is_Integer and rlit.is_Integer:
                lit = val = sympy.Rational(lit, rlit)
            else:
                val, lit = val / rhs, None
        return val, lit

    def l_unary(self) -> tuple[Any, Any]:
        tok = self.peek()
        if tok in (("op", "-"), ("op", "+")):
            self.i += 1
            val, lit = self.l_unary()
            if tok[1] == "+":  # type: ignore[index]
                return val, lit
            return -val, (-lit if lit is not None else None)
        items = [self.l_postfix()]
        while (tok := self.peek()) is not None and (
            tok[0] in ("num", "name") or tok == ("op", "(")
        ):
            items.append(self.l_postfix())
        val, lit = items[-1]
        for v, lv in reversed(items[:-1]):  # latex2sympy folds products from the right
            if (
                lv is not None
                and lv.is_Integer
                and lit is not None
                and lit.is_Rational
                and lit.p > 0
            ):
                q, p = int(lit.q), int(lit.p)
                lit = val = sympy.Rational(lv * q - p if lv < 0 else lv * q + p, q)
            else:
                val, lit = v * val, None
        return val, lit

    def l_postfix(self) -> tuple[Any, Any]:
        val, lit = self.l_atom()
        if self.peek() in (("op", "^"), ("op", "**")):
            self.i += 1
            exp, _ = self.l_atom()
            val, lit = checked_pow(val, exp), None
        while self.peek() == ("op", "!"):
            self.i += 1
            val, lit = checked_factorial(val), None
        return val, lit

    def l_atom(self) -> tuple[Any, Any]:
        kind, tok = self.take()
        if kind == "num":
            num = number_from_token(tok)
            if num is None:
                raise MathParseError(f"bad number {tok!r}")
            return num, num
        if kind == "name":
            if tok in KNOWN_FUNCTIONS:
                self.take("(")
                arg, _ = self.l_expr()
                self.take(")")
                return KNOWN_FUNCTIONS[tok](arg), None
            return symbol_for(tok), None
        if tok == "(":
            val = self.l_expr()
            self.take(")")
            return val
        raise MathParseError(f"unexpected {tok!r}")


def fast_latex(s: str) -> Any:
    """The sympy object for ``s`` if it is in the fast subset, else None (use ANTLR)."""
    if len(s) > _FAST_MAX_CHARS or _COMMA_NUMBER_RE.match(s):
        return None
    try:
        toks = _fast_tokens(s)
        if not toks:
            return None
        from latex2sympy2_extended.sets import FiniteSet as L2SFiniteSet

        return _FastLatex(L2SFiniteSet).top(toks)
    except (
        Exception
    ):  # outside the fast subset (_NotFast), too deep, or sympy refused: ANTLR decides
        return None
