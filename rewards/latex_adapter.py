"""The adapter to latex2sympy2_extended, the ANTLR LaTeX parser, and the post-processing that
every parser's output goes through (written order rebuilt, ``i`` as the imaginary unit,
undefined results rejected)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import sympy
from sympy import Expr
from sympy.matrices import MatrixBase

from .magnitude import (
    check_function_nesting,
    checked_binomial,
    checked_factorial,
    checked_pow,
    expand_bounded_sums,
)
from .plain_parser import MAX_PARSE_CHARS, MathParseError

__all__ = ["number_from_token", "parse_latex", "postprocess"]

_NUMBER_TOKEN_RE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def number_from_token(text: str) -> Any:
    """A number token of the LaTeX grammar as a sympy number, built directly.

    latex2sympy calls ``sympy.Number(text)``, which goes through ``sympify`` -> ``parse_expr``
    (about 1 ms per number, most of the time of a short parse). The token is digits only, so
    ``Integer``/``Float`` give the same objects (same value and precision) without that detour.
    """
    t = text.replace(",", "")
    if _NUMBER_TOKEN_RE.fullmatch(t) is None or len(t) > 4000:
        return None
    if t.isdigit():
        return sympy.Integer(int(t))
    return sympy.Float(t)


@lru_cache(maxsize=1)
def _latex2sympy() -> tuple[Any, Any, Any, Any]:
    """latex2sympy2_extended's normaliser and two converters: a fast one whose ANTLR parser
    predicts in SLL mode, and one with the library's own full LL prediction, used when SLL
    reports an error. Both build number tokens directly (:func:`number_from_token`), check the
    size of binomials before building them, and refuse integrals and limits (an answer states
    their value; evaluating them can take longer than any time limit)."""
    from latex2sympy2_extended import latex2sympy2 as l2s

    config = l2s.NormalizationConfig(
        basic_latex=True,
        units=False,
        malformed_operators=True,
        nits=False,
        boxed="none",
        equations=False,
    )
    base = getattr(l2s, "_Latex2Sympy", None)
    if base is None or not hasattr(base, "create_parser") or not hasattr(base, "parse_number"):
        return l2s, config, None, None

    from antlr4.atn.PredictionMode import PredictionMode

    class _LLConverter(base):  # type: ignore[misc, valid-type]
        def parse_number(self, text: str) -> Any:
            num = number_from_token(text)
            return super().parse_number(text) if num is None else num

        def convert_binom(self, binom: Any) -> Any:  # the library builds it evaluated
            return checked_binomial(self.convert_expr(binom.upper), self.convert_expr(binom.lower))

        def handle_integral(self, func: Any) -> Any:
            raise MathParseError("an integral is not a final answer: evaluate it")

        def handle_limit(self, func: Any) -> Any:
            raise MathParseError("a limit is not a final answer: evaluate it")

    class _SLLConverter(_LLConverter):
        def create_parser(self, latex_str: str) -> Any:
            parser = super().create_parser(latex_str)
            parser._interp.predictionMode = PredictionMode.SLL
            return parser

    return l2s, config, _SLLConverter, _LLConverter


def _convert_latex(text: str) -> Any:
    l2s, config, fast, full = _latex2sympy()
    if fast is None:
        return l2s.latex2sympy(text, normalization_config=config)
    norm = l2s.normalize_latex(text, config)
    try:
        return fast().parse(norm)
    except Exception:  # SLL can fail on inputs that full LL prediction parses
        return full().parse(norm)


_CHECKED: dict[Any, Any] = {
    sympy.Pow: checked_pow,
    sympy.factorial: checked_factorial,
    sympy.binomial: checked_binomial,
}


def _rebuild(e: Any) -> Any:
    """Re-create an unevaluated tree (latex2sympy keeps the written order of ``15 + 2\\sqrt{33}``)
    so that equal expressions become structurally equal."""
    if isinstance(e, MatrixBase):
        return e.applyfunc(_rebuild)
    if not isinstance(e, sympy.Basic) or not e.args or isinstance(e, sympy.Atom):
        return e
    args = [_rebuild(a) for a in e.args]
    if all(x is y for x, y in zip(args, e.args, strict=True)) and not isinstance(e, Expr):
        return e
    try:
        if isinstance(e, Expr):
            return _CHECKED.get(e.func, e.func)(*args)
        if isinstance(e, sympy.Tuple):
            return sympy.Tuple(*args)
        return e.func(*args, evaluate=False)  # relations, sets, logic: keep their form
    except MathParseError:
        raise
    except Exception:
        return e


def postprocess(expr: Any) -> Any:
    """Map the symbol ``i`` to the imaginary unit; evaluate; reject undefined results."""
    if isinstance(expr, sympy.Basic):
        check_function_nesting(expr)
        expr = expand_bounded_sums(expr)
    if isinstance(expr, sympy.Basic | MatrixBase):
        expr = _rebuild(expr)
    if isinstance(expr, sympy.Basic):
        if expr.has(sympy.UnevaluatedExpr):  # latex2sympy writes 5\% as 5*UnevaluatedExpr(1/100)
            expr = expr.replace(lambda e: isinstance(e, sympy.UnevaluatedExpr), lambda e: e.args[0])
        if not isinstance(expr, MatrixBase) and any(isinstance(a, MatrixBase) for a in expr.args):
            expr = expr.doit()  # "A + B" of two matrices: evaluate the sum
        if expr.has(sympy.zoo, sympy.nan):
            raise MathParseError("the expression is undefined (division by zero?)")
        i_sym = sympy.Symbol("i")
        if expr.has(i_sym):
            expr = expr.xreplace({i_sym: sympy.I})
    return expr


def parse_latex(text: str) -> Any:
    """Parse LaTeX with latex2sympy2_extended (no normalisation beyond its basic one)."""
    if len(text) > MAX_PARSE_CHARS:
        raise MathParseError(f"expression longer than {MAX_PARSE_CHARS} characters")
    try:
        return postprocess(_convert_latex(text))
    except MathParseError:
        raise
    except Exception as exc:  # the parser raises bare Exception on syntax errors
        raise MathParseError(
            f"cannot parse {text[:80]!r}: {str(exc).splitlines()[0][:120]}"
        ) from None
