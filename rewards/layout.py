"""Layout rewards (IFEval-style): bullet counts, letter case, no commas, fixed start or end,
placeholders, a postscript, a title and numbered sections.

Same contract as :mod:`.format`: frozen dataclasses called as ``fn(completion, task)``, scores
0..1, an ``instruction`` property, and an empty reply satisfies nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from .format import EMPTY, binary_result, is_blank, ratio_score
from .types import RewardResult, Task

_BULLET_RE = re.compile(r"^[ \t]*[*-][ \t]+\S", re.MULTILINE)


def count_bullets(text: str) -> int:
    """Lines starting with ``* `` or ``- `` (``**bold**`` and ``---`` are not bullets)."""
    return len(_BULLET_RE.findall(text))


@dataclass(frozen=True)
class BulletCount:
    """Exactly ``n`` Markdown bullet lines. Partial credit ``max(0, 1 - |k - n| / n)``."""

    n: int
    max_score: ClassVar[float] = 1.0

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError("BulletCount needs n >= 1")

    @property
    def instruction(self) -> str:
        return f"Your answer must contain exactly {self.n} bullet points, each on its own line starting with '* ' (no other lines may start with '* ' or '- ')."

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        k = count_bullets(completion)
        score = max(0.0, 1.0 - abs(k - self.n) / self.n)
        return RewardResult(
            score=score,
            components={"bullets": float(k)},
            reason=None if k == self.n else f"{k} bullet points, expected {self.n}",
        )


def _has_cased(text: str) -> bool:
    return any(c.lower() != c.upper() for c in text)


def _single_case(completion: str, *, upper: bool) -> RewardResult:
    """1.0 if every letter is in one case (and there is at least one letter)."""
    if is_blank(completion):
        return EMPTY
    bad = [c for c in completion if c != (c.upper() if upper else c.lower())]
    ok = _has_cased(completion) and not bad
    name, other = ("uppercase", "lowercase") if upper else ("lowercase", "uppercase")
    return binary_result(
        ok, name, f"{other} letters {''.join(bad[:10])!r}" if bad else "no letters"
    )


@dataclass(frozen=True)
class AllLowercase:
    """No uppercase letters, and at least one letter."""

    max_score: ClassVar[float] = 1.0
    instruction: ClassVar[str] = (
        "Your entire response must be in lowercase letters; no capital letters are allowed."
    )

    def __call__(self, completion: str, task: Task) -> RewardResult:
        return _single_case(completion, upper=False)


@dataclass(frozen=True)
class AllUppercase:
    """No lowercase letters, and at least one letter."""

    max_score: ClassVar[float] = 1.0
    instruction: ClassVar[str] = (
        "Your entire response must be in English and in capital letters only; no lowercase letters are allowed."
    )

    def __call__(self, completion: str, task: Task) -> RewardResult:
        return _single_case(completion, upper=True)


@dataclass(frozen=True)
class NoCommas:
    """No commas (ASCII ``,`` or full-width ``，``)."""

    max_score: ClassVar[float] = 1.0
    instruction: ClassVar[str] = "Do not use any commas in your entire response."

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        n = completion.count(",") + completion.count("，")
        return binary_result(n == 0, "no_commas", f"{n} commas")


def _check_phrase(phrase: str) -> None:
    if not phrase.strip():
        raise ValueError("the phrase must be non-empty")


@dataclass(frozen=True)
class _Affix:
    """The stripped reply starts (``at_start``) or ends with ``phrase``, case-insensitively."""

    phrase: str
    max_score: ClassVar[float] = 1.0
    at_start: ClassVar[bool]

    def __post_init__(self) -> None:
        _check_phrase(self.phrase)

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        text, phrase = completion.strip().lower(), self.phrase.strip().lower()
        ok = text.startswith(phrase) if self.at_start else text.endswith(phrase)
        where = "start" if self.at_start else "end"
        return binary_result(ok, f"{where}s_with", f"does not {where} with {self.phrase!r}")


@dataclass(frozen=True)
class EndsWith(_Affix):
    """The reply, stripped, ends with ``phrase`` (case-insensitive); nothing may follow."""

    at_start: ClassVar[bool] = False

    @property
    def instruction(self) -> str:
        return f'Finish your response with this exact phrase: "{self.phrase}". No other words or characters should follow it.'


@dataclass(frozen=True)
class StartsWith(_Affix):
    """The reply, stripped, starts with ``phrase`` (case-insensitive)."""

    at_start: ClassVar[bool] = True

    @property
    def instruction(self) -> str:
        return f'Start your response with this exact phrase: "{self.phrase}".'


_PLACEHOLDER_RE = re.compile(r"\[([^\[\]\n]*)\]")


@dataclass(frozen=True)
class Placeholders:
    """At least ``n`` placeholders in square brackets, e.g. ``[address]``. Credit ``min(1, k/n)``."""

    n: int
    max_score: ClassVar[float] = 1.0

    @property
    def instruction(self) -> str:
        return f"The response must contain at least {self.n} placeholders in square brackets, such as [address]."

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        k = sum(1 for inner in _PLACEHOLDER_RE.findall(completion) if inner.strip())
        return RewardResult(
            score=ratio_score(k, self.n),
            components={"placeholders": float(k)},
            reason=None if k >= self.n else f"{k} placeholders, need {self.n}",
        )


@dataclass(frozen=True)
class Postscript:
    """A line starting with ``marker`` (default ``P.S.``, case-insensitive, ``P. S.`` too) and text after it."""

    marker: str = "P.S."
    max_score: ClassVar[float] = 1.0

    def __post_init__(self) -> None:
        _check_phrase(self.marker)

    @property
    def instruction(self) -> str:
        return f"At the end of your response, add a postscript: a separate line starting with {self.marker}"

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        marker = r"\.\s?".join(re.escape(p) for p in self.marker.strip().split("."))
        ok = (
            re.search(rf"^[ \t]*{marker}[ \t]*\S", completion, re.IGNORECASE | re.MULTILINE)
            is not None
        )
        return binary_result(
            ok, "postscript", f"no line starting with {self.marker!r} followed by text"
        )


_TITLE_RE = re.compile(r"<<([^\n<>]*)>>")


@dataclass(frozen=True)
class Title:
    """A non-empty title wrapped in double angular brackets, e.g. ``<<poem of joy>>``."""

    max_score: ClassVar[float] = 1.0
    instruction: ClassVar[str] = (
        "Your answer must contain a title, wrapped in double angular brackets, such as <<poem of joy>>."
    )

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        titles = [t.strip() for t in _TITLE_RE.findall(completion) if t.strip()]
        return binary_result(
            bool(titles), "title", "no <<title>>", extracted=titles[0] if titles else None
        )


@dataclass(frozen=True)
class Sections:
    """Exactly ``n`` sections headed ``{word} 1`` .. ``{word} n`` in order, each with text.

    A header is a line starting with ``word`` and a number (case-insensitive, optional leading
    ``#``s). Credit: sections numbered correctly with a non-empty body, divided by
    ``max(n, headers found)``.
    """

    n: int
    word: str = "Section"
    max_score: ClassVar[float] = 1.0

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError("Sections needs n >= 1")
        _check_phrase(self.word)

    @property
    def instruction(self) -> str:
        return (
            f"Your response must have exactly {self.n} sections. Start each section with a line "
            f"'{self.word} X' where X is its number ({self.word} 1, {self.word} 2, ...)."
        )

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        header = re.compile(
            rf"^[ \t]*(?:#+[ \t]*)?{re.escape(self.word)}[ \t]+(\d+)\b.*$",
            re.IGNORECASE | re.MULTILINE,
        )
        heads = list(header.finditer(completion))
        ends = [h.start() for h in heads[1:]] + [len(completion)] if heads else []
        good = sum(
            1
            for i, (h, end) in enumerate(zip(heads, ends, strict=True))
            if i < self.n and int(h.group(1)) == i + 1 and completion[h.end() : end].strip()
        )
        score = good / max(self.n, len(heads))
        nums = [int(h.group(1)) for h in heads]
        reason = (
            None
            if score == 1.0
            else f"section headers {nums[:10]} ({good} well formed), expected 1..{self.n} each with text"
        )
        return RewardResult(score=score, components={"sections": float(len(heads))}, reason=reason)
