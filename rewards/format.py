"""Format rewards: answer tags, ``\\boxed{}`` and JSON objects (layout checks: :mod:`.layout`).

Every reward here is a frozen dataclass (picklable, comparable, usable in a ``Rubric``) called
as ``fn(completion, task) -> RewardResult`` that takes its parameters at construction and
never reads ``task``. Scores are 0..1 (``max_score`` 1.0); counts give partial credit, yes/no
checks give 0 or 1; ``reason`` says what failed. Each has an ``instruction`` property: the
sentence a prompt uses to ask for exactly what the check accepts.

An empty or whitespace-only completion satisfies no constraint (score 0, reason "empty reply"),
so "say nothing" never earns credit from checks like "no commas".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from .extract import find_boxed
from .types import RewardResult, Task

EMPTY = RewardResult(score=0.0, reason="empty reply")


def is_blank(text: str) -> bool:
    return not isinstance(text, str) or not text.strip()


def ratio_score(got: int, want: int) -> float:
    """Partial credit for "at least ``want``": ``min(1, got / want)`` (1.0 when want <= 0)."""
    return 1.0 if want <= 0 else min(1.0, got / want)


def binary_result(ok: bool, name: str, reason: str, extracted: str | None = None) -> RewardResult:
    return RewardResult(
        score=float(ok),
        components={name: float(ok)},
        extracted=extracted,
        reason=None if ok else reason,
    )


# ---- tags ---------------------------------------------------------------------------------
_TAG_RE = re.compile(r"<(/?)([A-Za-z][\w-]*)\s*>")


@dataclass(frozen=True)
class TagSpan:
    """A top-level ``<name>content</name>`` element of a reply."""

    name: str
    content: str


@dataclass(frozen=True)
class TagParse:
    """The top-level elements of a reply, or why it is not well formed."""

    spans: tuple[TagSpan, ...]
    outside_text: str
    error: str | None


def parse_tags(text: str) -> TagParse:
    """Parse HTML-like tags strictly: every tag (known or not) must be closed, in nesting order.

    ``<think>hm</tool><answer>5</answer>`` is an error (``</tool>`` closes ``<think>``). Text such
    as ``x < y`` is not a tag (a tag is ``<`` then a letter, ending in ``>``).
    """
    stack: list[tuple[str, int]] = []
    spans: list[TagSpan] = []
    outside: list[str] = []
    pos = 0
    for m in _TAG_RE.finditer(text):
        closing, name = m.group(1) == "/", m.group(2).lower()
        if not stack:
            outside.append(text[pos : m.start()])
        if not closing:
            stack.append((name, m.end()))
        elif not stack:
            return TagParse((), "", f"</{name}> closes nothing")
        elif stack[-1][0] != name:
            return TagParse((), "", f"</{name}> closes <{stack[-1][0]}>")
        else:
            open_name, start = stack.pop()
            if not stack:
                spans.append(TagSpan(open_name, text[start : m.start()]))
        pos = m.end()
    if stack:
        return TagParse((), "", f"<{stack[-1][0]}> is never closed")
    outside.append(text[pos:])
    return TagParse(tuple(spans), "".join(outside), None)


def extract_tag(text: str, tag: str = "answer") -> str | None:
    """The stripped content of the last ``<tag>...</tag>`` in ``text`` (None if absent)."""
    found = re.findall(
        rf"<{re.escape(tag)}\s*>(.*?)</{re.escape(tag)}\s*>", text, re.DOTALL | re.IGNORECASE
    )
    return found[-1].strip() if found else None


@dataclass(frozen=True)
class TagFormat:
    """The reply is exactly the given top-level tags, in order, each once, each non-empty.

    Default: ``<think>...</think><answer>...</answer>``. Mismatched, unclosed or misnested
    tags score 0; so do missing, repeated or reordered tags and (unless
    ``allow_outside_text``) any non-whitespace text outside them. Other tags may appear
    *inside* an element if they are balanced. ``extracted`` is the last element's content.
    """

    tags: tuple[str, ...] = ("think", "answer")
    allow_outside_text: bool = False
    max_score: ClassVar[float] = 1.0

    @property
    def instruction(self) -> str:
        shape = "".join(f"<{t}>...</{t}>" for t in self.tags)
        first = " ".join(f"<{t}>" for t in self.tags)
        outside = "" if self.allow_outside_text else " and write nothing outside them"
        return f"Format your reply exactly as {shape}: use each of the tags {first} once, in this order,{outside}."

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        parse = parse_tags(completion)
        if parse.error is not None:
            return RewardResult(
                score=0.0, components={"well_formed": 0.0}, reason=f"malformed tags: {parse.error}"
            )
        names = tuple(s.name for s in parse.spans)
        wanted = tuple(t.lower() for t in self.tags)
        opened = [m.group(2).lower() for m in _TAG_RE.finditer(completion) if not m.group(1)]
        # also nested: <think><think>..</think></think>
        repeated = [t for t in wanted if opened.count(t) != 1]
        comps = {
            "well_formed": 1.0,
            "tags_in_order": float(names == wanted),
            "each_once": float(not repeated),
            "nonempty": float(all(s.content.strip() for s in parse.spans)),
            "no_outside_text": float(self.allow_outside_text or not parse.outside_text.strip()),
        }
        extracted = parse.spans[-1].content.strip() if names == wanted else None
        if names != wanted:
            reason = f"top-level tags are {list(names)}, expected {list(wanted)}"
        elif repeated:
            reason = f"tags not used exactly once: {repeated}"
        elif not comps["nonempty"]:
            reason = "a tag is empty"
        elif not comps["no_outside_text"]:
            reason = f"text outside the tags: {parse.outside_text.strip()[:40]!r}"
        else:
            return RewardResult(score=1.0, components=comps, extracted=extracted)
        return RewardResult(score=0.0, components=comps, extracted=extracted, reason=reason)


def normalize_answer(text: str) -> str:
    """Lowercase, collapse whitespace, drop surrounding quotes and a trailing period."""
    text = " ".join(text.strip().lower().split())
    return text.strip("\"'`").rstrip(".").strip()


@dataclass(frozen=True)
class TagAnswerEquals:
    """The content of the last ``<tag>`` element equals ``task.answer`` (``normalize_answer``)."""

    tag: str = "answer"
    max_score: ClassVar[float] = 1.0

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if task.answer is None:
            raise ValueError("TagAnswerEquals needs task.answer")
        got = extract_tag(completion, self.tag) if isinstance(completion, str) else None
        if got is None:
            return RewardResult(
                score=0.0, components={"correct": 0.0}, reason=f"no <{self.tag}> element"
            )
        ok = normalize_answer(got) == normalize_answer(task.answer)
        return binary_result(
            ok, "correct", f"answer {got[:40]!r} is not {task.answer!r}", extracted=got
        )


# ---- boxed ----------------------------------------------------------------------------------
def extract_boxed(text: str) -> str | None:
    """The content of the last closed ``\\boxed{...}``/``\\fbox{...}`` (or ``\\boxed 5``), or None.

    The same boxes as math answer extraction (:func:`.extract.find_boxed`): nested braces,
    ``\\fbox``, brace-less ``\\boxed 5``; a box inside a box is part of the outer one. An
    unclosed box does not count (boxes inside it do). Linear time, so adversarial
    ``\\boxed{\\boxed{...`` input stays fast.
    """
    boxes = find_boxed(text, closed_only=True) if isinstance(text, str) else []
    return boxes[-1][2] if boxes else None


@dataclass(frozen=True)
class BoxedAnswer:
    """A non-empty closed ``\\boxed{...}`` is present (see :func:`extract_boxed`); extracts the last one."""

    max_score: ClassVar[float] = 1.0
    instruction: ClassVar[str] = "Put your final answer inside \\boxed{}."

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        got = extract_boxed(completion)
        return binary_result(bool(got), "boxed", "no non-empty \\boxed{...}", extracted=got or None)


# ---- JSON -------------------------------------------------------------------------------------
JsonType = Literal["string", "integer", "number", "boolean", "array", "object", "null"]
_JSON_CHECKS: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}
_FENCE_RE = re.compile(
    r"^\s*```[ \t]*(?:json)?[ \t]*\n(.*?)\n?[ \t]*```\s*$", re.DOTALL | re.IGNORECASE
)


@dataclass(frozen=True)
class JsonField:
    """A required key of a JSON object and its JSON type (``integer`` excludes booleans)."""

    name: str
    type: JsonType

    def __post_init__(self) -> None:
        if self.type not in _JSON_CHECKS:
            raise ValueError(f"unknown JSON type {self.type!r}: use one of {sorted(_JSON_CHECKS)}")


def strip_code_fence(text: str) -> str:
    """``text`` without one surrounding Markdown code fence (```` ```json ... ``` ````)."""
    m = _FENCE_RE.match(text)
    return m.group(1) if m else text.strip()


@dataclass(frozen=True)
class JsonObject:
    """The whole reply (one surrounding code fence allowed) is a JSON object with the fields.

    Score: 0 if it does not parse as an object; else the fraction of ``fields`` present with
    the right type (1.0 with no fields), times 0 if ``allow_extra`` is False and extra keys exist.
    """

    fields: tuple[JsonField, ...] = ()
    allow_extra: bool = True
    max_score: ClassVar[float] = 1.0

    @property
    def instruction(self) -> str:
        keys = ", ".join(f'"{f.name}" ({f.type})' for f in self.fields)
        extra = "" if self.allow_extra else " and no other keys"
        body = f" with the keys {keys}{extra}" if self.fields else ""
        return f"Reply with only a JSON object{body}; no text before or after it (a ```json code fence is allowed)."

    def __call__(self, completion: str, task: Task) -> RewardResult:
        if is_blank(completion):
            return EMPTY
        try:
            obj = json.loads(strip_code_fence(completion))
        except (ValueError, RecursionError) as exc:
            return RewardResult(
                score=0.0, components={"parses": 0.0}, reason=f"not valid JSON: {exc}"[:120]
            )
        if not isinstance(obj, dict):
            return RewardResult(
                score=0.0,
                components={"parses": 1.0, "is_object": 0.0},
                reason=f"JSON is a {type(obj).__name__}, not an object",
            )
        comps = {"parses": 1.0, "is_object": 1.0}
        missing = []
        for f in self.fields:
            ok = f.name in obj and _JSON_CHECKS[f.type](obj[f.name])
            comps[f"key:{f.name}"] = float(ok)
            if not ok:
                missing.append(
                    f'"{f.name}" ({f.type})'
                    + (" has the wrong type" if f.name in obj else " is missing")
                )
        score = (len(self.fields) - len(missing)) / len(self.fields) if self.fields else 1.0
        extra = sorted(set(obj) - {f.name for f in self.fields})
        if not self.allow_extra:
            comps["no_extra_keys"] = float(not extra)
            score = 0.0 if extra else score
        reasons = missing + ([f"extra keys {extra[:5]}"] if extra and not self.allow_extra else [])
        return RewardResult(score=score, components=comps, reason="; ".join(reasons) or None)
