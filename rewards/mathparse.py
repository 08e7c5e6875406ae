"""Safe parsing of answer text into sympy objects. Nothing here ever evaluates model text.

Two parsers:

- Plain expressions (``2*x+1``, ``x**2 - 1``, ``sqrt(2)/2``, ``(x+1)^2``): a whitelist
  tokenizer (numbers, ``+ - * / ^ ** ( ) !``, known function names, single-letter symbols)
  then a small recursive-descent parser that builds sympy objects directly (no ``eval``,
  no ``sympify``/``parse_expr`` on the text).
- LaTeX (and everything structured: sets, tuples, intervals, relations, matrices): the
  maintained ANTLR parser ``latex2sympy2_extended``, after a light normalisation here
  (units, percent, degrees, ``\\text{}``, spacing, scientific notation, chained ``=``).

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

__all__ = [
    "KNOWN_FUNCTIONS",
    "MathParseError",
    "ParsedAnswer",
    "parse_answer",
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

_CONSTANTS: dict[str, Any] = {"pi": sympy.pi, "e": sympy.E, "oo": sympy.oo, "inf": sympy.oo, "infinity": sympy.oo}

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
                raise MathParseError(f"unknown name {tok!r}: only single-letter symbols and known functions")
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

_TEXT_CMD = r"\\(?:text|textbf|textit|textrm|textnormal|mbox|mathrm|mathit|mathbf|operatorname)"
_UNIT_TAIL_RE = re.compile(
    rf"(?<=[\d}}).\s])\s*(?:{_TEXT_CMD}\s*\{{[^{{}}]*\}}(?:\s*\^\s*\{{?\d\}}?)?|[a-zA-Z]{{2,}}(?:\s*\^\s*\{{?\d\}}?|[²³])?)\s*\.?$"
)
_PERCENT_TAIL_RE = re.compile(r"\s*(?:\\%|%|\\text\{\s*\\?%\s*\}|\bpercentage\b|\bpercent\b|\bpct\b)\s*$", re.I)
_DEGREE_RE = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|°|\\degree|\\circ")
_AND_OR_RE = re.compile(rf"\s*,?\s*(?:{_TEXT_CMD}\s*\{{\s*(?:and|or)\s*\}}|\b(?:and|or)\b)\s*", re.I)
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
    percent = False
    for _ in range(3):
        before = s
        if _PERCENT_TAIL_RE.search(s):
            s, percent = _PERCENT_TAIL_RE.sub("", s).strip(), True
        s = _DEGREE_RE.sub("", s).strip()
        stripped = _UNIT_TAIL_RE.sub("", s).strip()
        if stripped and stripped != s:
            tail = s[len(stripped) :].strip().lower().strip("\\{}")
            if not any(tail.endswith(w) for w in ("pi", "infty")):
                s = stripped
        if s == before:
            break
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


@lru_cache(maxsize=1)
def _latex2sympy() -> tuple[Any, Any, Any]:
    """latex2sympy2_extended's normaliser and two converters: a fast one whose ANTLR parser
    predicts in SLL mode, and the library's own (full LL) used when SLL reports an error."""
    from latex2sympy2_extended import latex2sympy2 as l2s

    config = l2s.NormalizationConfig(
        basic_latex=True, units=False, malformed_operators=True, nits=False, boxed="none", equations=False
    )
    base = getattr(l2s, "_Latex2Sympy", None)
    fast = None
    if base is not None and hasattr(base, "create_parser"):
        from antlr4.atn.PredictionMode import PredictionMode

        class _SLLConverter(base):  # type: ignore[misc, valid-type]
            def create_parser(self, latex_str: str) -> Any:
                parser = super().create_parser(latex_str)
                parser._interp.predictionMode = PredictionMode.SLL
                return parser

        fast = _SLLConverter
    return l2s, config, fast


def _convert_latex(text: str) -> Any:
    l2s, config, fast = _latex2sympy()
    if fast is None:
        return l2s.latex2sympy(text, normalization_config=config)
    norm = l2s.normalize_latex(text, config)
    try:
        return fast().parse(norm)
    except Exception:  # SLL can fail on inputs that full LL prediction parses
        return l2s._Latex2Sympy().parse(norm)


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
        raise MathParseError(f"cannot parse {text[:80]!r}: {str(exc).splitlines()[0][:120]}") from None


def _looks_plain(s: str) -> bool:
    return bool(s) and re.fullmatch(r"[0-9A-Za-z+\-*/^().! ]+", s) is not None and (
        "**" in s or re.search(r"[A-Za-z]{2,}\s*\(", s) is not None
    )


def parse_answer(text: str) -> ParsedAnswer:
    """Parse an extracted answer (LaTeX or plain) into a :class:`ParsedAnswer`.

    Raises MathParseError if it is neither a text answer nor parseable math.
    """
    if len(text) > MAX_PARSE_CHARS:
        raise MathParseError(f"answer longer than {MAX_PARSE_CHARS} characters")
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
