"""The plain-expression parser: a whitelist tokenizer and a recursive-descent parser.

Plain expressions (``2*x+1``, ``x**2 - 1``, ``sqrt(2)/2``, ``(x+1)^2``) are tokenized against a
whitelist (numbers, ``+ - * / ^ ** ( ) !``, known function names, single-letter symbols) and
parsed into sympy objects directly: no ``eval``, no ``sympify``/``parse_expr`` on the text.
The fast LaTeX subset (:mod:`.latex_fast`) reuses the tokenizer and subclasses the parser.
"""

from __future__ import annotations

import re
from typing import Any

import sympy

from .magnitude import checked_factorial, checked_pow
from .parse_error import MathParseError

__all__ = [
    "KNOWN_FUNCTIONS",
    "MAX_PARSE_CHARS",
    "MathParseError",
    "PlainParser",
    "parse_plain",
    "symbol_for",
    "tokenize_plain",
]

MAX_PARSE_CHARS = 2_000


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
    "factorial": checked_factorial,
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


def symbol_for(name: str) -> Any:
    if name in _CONSTANTS:
        return _CONSTANTS[name]
    if name in ("i", "I"):
        return sympy.I
    # Mirrors latex2sympy2_extended: symbols are lower-cased ("E" is a symbol, "e" is Euler's e).
    return sympy.Symbol(name.lower())


class PlainParser:
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
            return checked_pow(base, self.unary())
        return base

    def postfix(self) -> Any:
        val = self.atom()
        while self.peek() == ("op", "!"):
            self.i += 1
            val = checked_factorial(val)
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
            return symbol_for(tok)
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
    return PlainParser(tokens).parse()
