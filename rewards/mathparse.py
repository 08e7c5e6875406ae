"""Safe parsing of answer text into sympy objects. Nothing here ever evaluates model text.

Two parsers:

- Plain expressions (``2*x+1``, ``x**2 - 1``, ``sqrt(2)/2``, ``(x+1)^2``): a whitelist
  tokenizer (numbers, ``+ - * / ^ ** ( ) !``, known function names, single-letter symbols)
  then a small recursive-descent parser that builds sympy objects directly (no ``eval``,
  no ``sympify``/``parse_expr`` on the text).
- LaTeX (and everything structured: sets, tuples, intervals, relations, matrices): the
  maintained ANTLR parser ``latex2sympy2_extended``, after a light normalisation here
  (units, percent, degrees, ``\\text{}``, spacing, scientific notation, chained ``=``).

A fast path sits in front of the ANTLR parser: the common LaTeX subset (numbers, letters,
``\\frac``, ``\\sqrt``, ``^{}``, ``\\cdot``, ``\\pi``, ``\\infty``, comma lists, ``\\{..\\}``, intervals,
one relation) is rewritten macro by macro into the plain syntax and parsed by the same
whitelist tokenizer, with latex2sympy's grammar (same objects, 3-8x faster than ANTLR); anything
else falls back to ANTLR. Parsed answers are kept in a per-process LRU cache.

Building a sympy object can itself be slow (``5^{5^{5^{5^5}}}``), so callers in the reward
path run these functions in a worker process (see :mod:`grpo_gym.rewards.pool`).

Public: :func:`parse_math` (one sympy object, raises :class:`MathParseError`),
:func:`parse_answer` (answer with metadata, used by verification), :func:`tokenize_plain`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy
from sympy import Expr
from sympy.matrices import MatrixBase

from .numbers import TEXT_COMMANDS, strip_tails

__all__ = [
    "KNOWN_FUNCTIONS",
    "MathParseError",
    "ParsedAnswer",
    "clear_parse_cache",
    "parse_answer",
    "parse_cache_size",
    "parse_latex",
    "parse_math",
    "parse_plain",
    "tokenize_plain",
]

MAX_PARSE_CHARS = 2_000


class MathParseError(ValueError):
    """The text is not a math expression this module accepts."""


# --------------------------------------------------------------------------- plain parser

KNOWN_FUNCTIONS: dict[str, Any] = {
    "sqrt": sympy.sqrt,
    "cbrt": sympy.cbrt,
    "exp": sympy.exp,
    "log": sympy.log,
    "ln": sympy.log,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "cot": sympy.cot,
    "sec": sympy.sec,
    "csc": sympy.csc,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "arcsin": sympy.asin,
    "arccos": sympy.acos,
    "arctan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "abs": sympy.Abs,
    "floor": sympy.floor,
    "ceil": sympy.ceiling,
    "factorial": sympy.factorial,
}
"""Function names the plain tokenizer accepts (anything else multi-letter is rejected)."""

_CONSTANTS: dict[str, Any] = {
    "pi": sympy.pi,
    "e": sympy.E,
    "oo": sympy.oo,
    "inf": sympy.oo,
    "infinity": sympy.oo,
}

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z]+)"
    r"|(?P<op>\*\*|[-+*/^()!,]))"
)


def tokenize_plain(text: str) -> list[tuple[str, str]]:
    """Whitelist tokenizer: ``[(kind, text)]`` with kind ``num``/``name``/``op``.

    Raises MathParseError on any character or word outside the whitelist (so ``__import__``,
    ``lambda``, quotes, dots after names, brackets other than ``()`` never get through).
    """
    if len(text) > MAX_PARSE_CHARS:
        raise MathParseError(f"expression longer than {MAX_PARSE_CHARS} characters")
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise MathParseError(f"character {text[pos]!r} is not allowed in a plain expression")
        pos = m.end()
        kind = m.lastgroup or ""
        tok = m.group(kind)
        if kind == "name":
            low = tok.lower()
            if low in KNOWN_FUNCTIONS or low in _CONSTANTS:
                tok = low
            elif len(tok) != 1:
                raise MathParseError(
                    f"unknown name {tok!r}: only single-letter symbols and known functions"
                )
        tokens.append((kind, tok))
    if not tokens:
        raise MathParseError("empty expression")
    return tokens


def _symbol(name: str) -> Any:
    if name in _CONSTANTS:
        return _CONSTANTS[name]
    if name in ("i", "I"):
        return sympy.I
    # Mirrors latex2sympy2_extended: symbols are lower-cased ("E" is a symbol, "e" is Euler's e).
    return sympy.Symbol(name.lower())


class _PlainParser:
    """expr := term (('+'|'-') term)* ; term := unary (('*'|'/'|implicit) unary)* ;
    unary := ('+'|'-') unary | power ; power := postfix (('^'|'**') unary)? ;
    postfix := atom '!'* ; atom := num | func '(' expr ')' | name | '(' expr ')'."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.toks = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, op: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (op is not None and tok != ("op", op)):
            raise MathParseError(f"expected {op or 'a token'} at token {self.i}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        expr = self.expr()
        if self.peek() is not None:
            raise MathParseError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return expr

    def expr(self) -> Any:
        out = self.term()
        while (tok := self.peek()) in (("op", "+"), ("op", "-")):
            self.i += 1
            rhs = self.term()
            out = out + rhs if tok[1] == "+" else out - rhs  # type: ignore[index]
        return out

    def term(self) -> Any:
        out = self.unary()
        while True:
            tok = self.peek()
            if tok in (("op", "*"), ("op", "/")):
                self.i += 1
                rhs = self.unary()
                out = out * rhs if tok[1] == "*" else out / rhs  # type: ignore[index]
            elif tok is not None and (tok[0] in ("num", "name") or tok == ("op", "(")):
                out = out * self.power()  # implicit multiplication: 2x, 2(x+1), x y
            else:
                return out

    def unary(self) -> Any:
        tok = self.peek()
        if tok in (("op", "-"), ("op", "+")):
            self.i += 1
            val = self.unary()
            return -val if tok[1] == "-" else val  # type: ignore[index]
        return self.power()

    def power(self) -> Any:
        base = self.postfix()
        if self.peek() in (("op", "^"), ("op", "**")):
            self.i += 1
            return sympy.Pow(base, self.unary())
        return base

    def postfix(self) -> Any:
        val = self.atom()
        while self.peek() == ("op", "!"):
            self.i += 1
            val = sympy.factorial(val)
        return val

    def atom(self) -> Any:
        kind, tok = self.take()
        if kind == "num":
            if "." in tok or "e" in tok.lower():
                return sympy.Float(tok, max(15, len(tok)))
            return sympy.Integer(tok)
        if kind == "name":
            if tok in KNOWN_FUNCTIONS:
                self.take("(")
                arg = self.expr()
                self.take(")")
                return KNOWN_FUNCTIONS[tok](arg)
            return _symbol(tok)
        if tok == "(":
            val = self.expr()
            self.take(")")
            return val
        raise MathParseError(f"unexpected {tok!r}")


def parse_plain(text: str) -> Any:
    """Parse a plain expression (``2*x+1``, ``x^2``, ``sqrt(2)/2``) through the whitelist.

    Raises MathParseError if a token is not whitelisted or the grammar does not match.
    """
    tokens = tokenize_plain(text)
    if any(t == ("op", ",") for t in tokens):
        raise MathParseError("commas are not part of a plain expression")
    return _PlainParser(tokens).parse()


# --------------------------------------------------------------------------- LaTeX parser

_TEXT_CMD = TEXT_COMMANDS
# "and"/"or" between answers: a word, \text{ or }, or glued between a value and the next
# answer ("x=1orx=-1", "W(x)=1orW(x)=-1"). A glued one must follow a digit or a closing
# bracket and precede one letter (not a word), a command, a bracket or a number, so words
# that contain "or"/"and" ("color", "north", "random", "\operatorname{ord}") never split.
_GLUED_AND_OR = (
    r"(?:(?<=[\d)}\]])|(?<=[\d)}\]]\s))(?:and|or)(?=\s*(?:[A-Za-z](?![A-Za-z])|\\|[-+(\[\d]))"
)
_AND_OR_RE = re.compile(
    rf"\s*,?\s*(?:{_TEXT_CMD}\s*\{{\s*(?:and|or)\s*\}}|\b(?:and|or)\b|{_GLUED_AND_OR})\s*", re.I
)
_WORD_TEXT_RE = re.compile(rf"{_TEXT_CMD}\s*\{{([^{{}}]*)\}}")
_SCI_RE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([+-]?\d+)(?![\w.])")
_CHOICE_RE = re.compile(r"^\(?\s*([A-Ha-h])\s*\)?$")
_WORDS_RE = re.compile(r"^[A-Za-z][A-Za-z' \-]*[A-Za-z]$")
_SPACES_RE = re.compile(r"(?<!\\)\\[,;: ]|\\q?quad|~")
_FUNC_WORDS = set(KNOWN_FUNCTIONS) | {"pi", "infty", "and", "or"}


@dataclass(frozen=True)
class ParsedAnswer:
    """An answer after parsing.

    Attributes:
        expr: the sympy object (None for a text answer).
        text: the normalised text (always set; text answers compare by it).
        percent: the answer was written as a percentage (``expr`` holds the written value).
        is_text: a word/choice/time answer compared as a string, not mathematically.
    """

    expr: Any
    text: str
    percent: bool = False
    is_text: bool = False


def _normalize(text: str) -> tuple[str, bool]:
    """Light LaTeX clean-up before latex2sympy; returns (text, is_percent)."""
    s = text.strip().replace("−", "-").replace("\n", " ")
    s = re.sub(r"(?<!\\)\$|\\\(|\\\)|\\\[|\\\]|\\displaystyle", " ", s)
    if "matrix" not in s and "array" not in s:
        s = re.sub(r"\\\\(?=[a-zA-Z])", r"\\", s)  # doubled backslashes: \\frac -> \frac
    s = re.sub(r"\\!\s*|\\\$", "", s)
    s = re.sub(r"(?<=\d)\s*(?:\\,|\{\s*,\s*\})\s*(?=\d{3}(?!\d))", ",", s)  # 14{,}916
    s = re.sub(r"\\(?:mathrm|text|mathit)\s*\{\s*e\s*\}", " e ", s)  # \mathrm{e}: Euler's number
    s = re.sub(r"\\(?:dfrac|tfrac|cfrac)", r"\\frac", s)
    s = _SPACES_RE.sub(" ", s)
    s = s.strip().rstrip(".").strip()
    s, percent = strip_tails(s)
    s = _AND_OR_RE.sub(", ", s).strip(" ,")
    s = _SCI_RE.sub(r"\1 \\times 10^{\2}", s)
    if "\\approx" in s:
        head, _, tail = s.partition("\\approx")
        s = head if "=" in head else f"{head} = {tail}" if head.strip() else tail
    if "," not in s and ";" not in s:
        parts = _split_top_level_eq(s)
        if len(parts) > 2:  # a = b = c: the last value of a chain of equalities
            s = parts[-1]
    return s.strip(), percent


def _split_top_level_eq(s: str) -> list[str]:
    """Split on ``=`` outside braces/brackets (not ``<=``, ``>=``, ``!=``, ``\\=``)."""
    parts, depth, start = [], 0, 0
    for m in re.finditer(r"[{}()\[\]]|(?<![<>!\\=:])=(?!=)", s):
        c = m.group(0)
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif depth == 0:
            parts.append(s[start : m.start()])
            start = m.end()
    parts.append(s[start:])
    return parts


def _text_answer(s: str) -> str | None:
    """Normalised text if ``s`` is a word, multiple-choice letter or clock time, else None."""
    inner = s.strip()
    m = re.fullmatch(rf"{_TEXT_CMD}\s*\{{(.*)\}}", inner)
    wrapped = m is not None
    if m:
        inner = m.group(1).strip()
    inner = _WORD_TEXT_RE.sub(lambda mm: mm.group(1), inner).strip()
    c = _CHOICE_RE.match(inner)
    if c and (wrapped or "(" in inner):
        return "choice:" + c.group(1).lower()
    if _WORDS_RE.match(inner) and (wrapped or " " in inner or len(inner) > 2):
        words = inner.lower().split()
        if wrapped or not all(w in _FUNC_WORDS or len(w) == 1 for w in words):
            return "text:" + " ".join(words)
    return None


_NUMBER_TOKEN_RE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _number_from_token(text: str) -> Any:
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
    reports an error. Both build number tokens directly (:func:`_number_from_token`)."""
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
            num = _number_from_token(text)
            return super().parse_number(text) if num is None else num

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
            return e.func(*args)
        if isinstance(e, sympy.Tuple):
            return sympy.Tuple(*args)
        return e.func(*args, evaluate=False)  # relations, sets, logic: keep their form
    except Exception:
        return e


def _postprocess(expr: Any) -> Any:
    """Map the symbol ``i`` to the imaginary unit; evaluate; reject undefined results."""
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
        return _postprocess(_convert_latex(text))
    except MathParseError:
        raise
    except Exception as exc:  # the parser raises bare Exception on syntax errors
        raise MathParseError(
            f"cannot parse {text[:80]!r}: {str(exc).splitlines()[0][:120]}"
        ) from None


# --------------------------------------------------------------------------- fast LaTeX subset
#
# Most answers are short LaTeX in a small subset: numbers, single-letter symbols, + - * / ^,
# \frac, \sqrt, \sqrt[n], \cdot, \times, \pi, \infty, \left( \right), comma lists, \{..\}
# sets, intervals/tuples and one relation. That subset is rewritten, macro by macro, into the
# plain-expression syntax above, tokenized by the same whitelist tokenizer and parsed by a
# subclass of the plain parser whose grammar follows latex2sympy's (implicit products bind
# tighter than ``/``; ``2\frac{1}{2}`` is a mixed number), so both parsers give the same
# objects. Anything outside the subset returns None and goes to the ANTLR parser.

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


class _LatexSubsetParser(_PlainParser):
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
            val, lit = sympy.Pow(val, exp), None
        while self.peek() == ("op", "!"):
            self.i += 1
            val, lit = sympy.factorial(val), None
        return val, lit

    def l_atom(self) -> tuple[Any, Any]:
        kind, tok = self.take()
        if kind == "num":
            num = _number_from_token(tok)
            if num is None:
                raise MathParseError(f"bad number {tok!r}")
            return num, num
        if kind == "name":
            if tok in KNOWN_FUNCTIONS:
                self.take("(")
                arg, _ = self.l_expr()
                self.take(")")
                return KNOWN_FUNCTIONS[tok](arg), None
            return _symbol(tok), None
        if tok == "(":
            val = self.l_expr()
            self.take(")")
            return val
        raise MathParseError(f"unexpected {tok!r}")


def _fast_latex(s: str) -> Any:
    """The sympy object for ``s`` if it is in the fast subset, else None (use ANTLR)."""
    if len(s) > _FAST_MAX_CHARS or _COMMA_NUMBER_RE.match(s):
        return None
    try:
        toks = _fast_tokens(s)
        if not toks:
            return None
        from latex2sympy2_extended.sets import FiniteSet as L2SFiniteSet

        return _FastLatex(L2SFiniteSet).top(toks)
    except Exception:  # outside the fast subset (_NotFast), too deep, or sympy refused: ANTLR decides
        return None


def _looks_plain(s: str) -> bool:
    return (
        bool(s)
        and re.fullmatch(r"[0-9A-Za-z+\-*/^().! ]+", s) is not None
        and ("**" in s or re.search(r"[A-Za-z]{2,}\s*\(", s) is not None)
    )


PARSE_CACHE_SIZE = 2048


def parse_answer(text: str) -> ParsedAnswer:
    """Parse an extracted answer (LaTeX or plain) into a :class:`ParsedAnswer`.

    Results (and failures) are kept in an LRU cache of :data:`PARSE_CACHE_SIZE` answers per
    process: in GRPO the same gold answer is checked against every completion of its group.
    The cached objects are immutable sympy trees. :func:`clear_parse_cache` empties it.

    Raises MathParseError if it is neither a text answer nor parseable math.
    """
    if not isinstance(text, str):
        raise MathParseError(f"expected a string, got {type(text).__name__}")
    if len(text) > MAX_PARSE_CHARS:
        raise MathParseError(f"answer longer than {MAX_PARSE_CHARS} characters")
    parsed, error = _parse_answer_cached(text)
    if parsed is None:
        raise MathParseError(error)
    return parsed


def clear_parse_cache() -> None:
    """Empty this process's parse cache (see :func:`parse_answer`)."""
    _parse_answer_cached.cache_clear()


def parse_cache_size() -> int:
    """How many answers this process's parse cache holds."""
    return int(_parse_answer_cached.cache_info().currsize)


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def _parse_answer_cached(text: str) -> tuple[ParsedAnswer | None, str]:
    try:
        return _parse_answer(text), ""
    except MathParseError as exc:
        return None, str(exc)


def _parse_answer(text: str) -> ParsedAnswer:  # parse_answer checked the length
    s, percent = _normalize(text)
    if not s:
        raise MathParseError("empty answer")
    txt = _text_answer(s)
    if txt is not None:
        return ParsedAnswer(None, txt, percent, is_text=True)
    if _looks_plain(s):
        try:
            return ParsedAnswer(_postprocess(parse_plain(s)), s, percent)
        except MathParseError:
            pass
    fast = _fast_latex(s)
    if fast is not None:
        try:
            return ParsedAnswer(_postprocess(fast), s, percent)
        except MathParseError:
            pass
    return ParsedAnswer(parse_latex(s), s, percent)


def parse_math(text: str) -> Any:
    """Parse math text into one sympy object, safely (the public helper for other modules).

    Plain expressions (``(x+1)*(x-2)``, ``x**2-1``, ``2x^2``, ``sqrt(2)``) go through the
    whitelist tokenizer and a recursive-descent parser; anything with LaTeX commands, braces,
    relations, commas or brackets goes through latex2sympy2_extended. Symbols are lower-cased
    (``E`` is a symbol; ``e`` is Euler's number; ``i`` is the imaginary unit).

    Building the object may be slow for adversarial input (``5^{5^{5^{5^5}}}``): call this
    inside :func:`grpo_gym.rewards.pool.run_limited` when the text comes from a model.

    Raises:
        MathParseError: the text is not accepted.
    """
    if not isinstance(text, str):
        raise MathParseError(f"expected a string, got {type(text).__name__}")
    s = text.strip()
    if not s:
        raise MathParseError("empty expression")
    if re.fullmatch(r"[0-9A-Za-z+\-*/^().! ]+", s):
        try:
            return _postprocess(parse_plain(s))
        except MathParseError:
            pass
    return parse_answer(s).expr if not _text_answer(s) else _raise_text(s)


def _raise_text(s: str) -> Any:
    raise MathParseError(f"{s[:80]!r} is text, not math")
