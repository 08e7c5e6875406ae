"""``Instructions``: IFEval-style prompts with 1 to 3 random verifiable constraints on a topic."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from grpo_gym.rewards.keywords import ForbiddenWords, IncludeKeywords, KeywordFrequency, Relation
from grpo_gym.rewards.layout import (
    AllLowercase,
    AllUppercase,
    BulletCount,
    EndsWith,
    NoCommas,
    Placeholders,
    Postscript,
    Sections,
    StartsWith,
    Title,
)
from grpo_gym.rewards.length import LengthInRange, count_words
from grpo_gym.rewards.rubric import PassFail, Rubric
from grpo_gym.rewards.types import RewardFn, Task

from .writing import (
    FORBIDDEN,
    KEYWORDS,
    TOPICS,
    RubricEnv,
    filler_sentences,
    keyword_sentence,
    keyword_sentences,
    mention,
    pick,
    pick_distinct,
)

Family = Literal[
    "lowercase", "uppercase", "no_commas", "starts_with", "ends_with", "placeholders",
    "postscript", "title", "sections", "bullets", "word_count", "keywords",
    "keyword_frequency", "forbidden_words",
]  # fmt: skip
FAMILIES: tuple[Family, ...] = (
    "lowercase", "uppercase", "no_commas", "starts_with", "ends_with", "placeholders",
    "postscript", "title", "sections", "bullets", "word_count", "keywords",
    "keyword_frequency", "forbidden_words",
)  # fmt: skip
#: Families that cannot be asked together.
CONFLICTS: tuple[frozenset[str], ...] = (frozenset({"lowercase", "uppercase"}),)

START_PHRASES = ("Here is my answer", "Let me explain", "To begin with", "Dear reader", "In short")
END_PHRASES = (
    "Any other questions?",
    "Is there anything else I can help with?",
    "Thank you for reading.",
    "That is all for today.",
)
PLACEHOLDERS = ("[address]", "[date]", "[name]", "[time]")


@dataclass(frozen=True)
class Plan:
    """What the reference reply must contain (derived from the constraints; 0/None = absent)."""

    topic: str
    case: Literal["lower", "upper"] | None = None
    start: str | None = None
    end: str | None = None
    title: bool = False
    sections: int = 0
    bullets: int = 0
    placeholders: int = 0
    postscript: bool = False
    keywords: tuple[str, ...] = ()
    repeat: tuple[str, int] | None = None
    min_words: int = 0


def render(plan: Plan, pad: int = 0) -> str:
    """The reference text for ``plan`` with ``pad`` extra filler sentences."""
    t = plan.topic
    blocks = [" ".join(filler_sentences(t, 2))]
    if plan.keywords:
        blocks.append(keyword_sentence(t, plan.keywords))
    if plan.repeat:
        blocks.append(" ".join(keyword_sentences(t, *plan.repeat)))
    if plan.placeholders:
        blocks.append(
            f"Fill in the details here: {' and '.join(PLACEHOLDERS[: plan.placeholders])}."
        )
    if plan.bullets:
        blocks.append("\n".join(f"* {s}" for s in filler_sentences(t, plan.bullets, start=4)))
    if pad:
        blocks.append(" ".join(filler_sentences(t, pad, start=2)))
    if plan.sections:
        groups: list[list[str]] = [[] for _ in range(plan.sections)]
        for i, block in enumerate(blocks):
            groups[i % plan.sections].append(block)
        for i, group in enumerate(groups):
            if not group:
                group.extend(filler_sentences(t, 1, start=6 + i))
        blocks = [f"Section {i + 1}\n" + "\n\n".join(g) for i, g in enumerate(groups)]
    head = ([f"{plan.start}."] if plan.start else []) + (
        [f"<<notes on the {t}>>"] if plan.title else []
    )
    tail = []
    if plan.postscript:
        tail.append(
            f"P.S. Thanks for reading about the {t}." + (f" {plan.end}" if plan.end else "")
        )
    elif plan.end:
        tail.append(plan.end)
    text = "\n\n".join(head + blocks + tail)
    if plan.case == "lower":
        return text.lower()
    return text.upper() if plan.case == "upper" else text


def reference_text(plan: Plan) -> str:
    """``render(plan)`` padded with filler sentences to at least ``plan.min_words`` words."""
    pad = 0
    while count_words(render(plan, pad)) < plan.min_words:
        pad += 1
    return render(plan, pad)


@dataclass(frozen=True)
class InstructionsConfig:
    """Settings of ``Instructions``.

    Attributes:
        min_constraints, max_constraints: how many constraints a prompt gets (on top of
            "mention the topic").
        mode: ``"strict"`` (1 if every constraint holds, else 0) or ``"partial"`` (the fraction
            of constraints that hold; a constraint with partial credit counts only when full).
        families: the constraint kinds to draw from (see ``FAMILIES``).
    """

    min_constraints: int = 1
    max_constraints: int = 3
    mode: Literal["strict", "partial"] = "strict"
    families: tuple[Family, ...] = FAMILIES

    def __post_init__(self) -> None:
        object.__setattr__(self, "families", tuple(self.families))
        if self.mode not in ("strict", "partial"):
            raise ValueError(f"mode must be 'strict' or 'partial', got {self.mode!r}")
        unknown = sorted(set(self.families) - set(FAMILIES))
        if unknown or len(set(self.families)) != len(self.families):
            raise ValueError(f"families must be distinct names from {FAMILIES}; bad: {unknown}")
        usable = len(self.families) - sum(c <= set(self.families) for c in CONFLICTS)
        if not 1 <= self.min_constraints <= self.max_constraints <= usable:
            raise ValueError(
                f"need 1 <= min_constraints <= max_constraints <= {usable} (compatible families), "
                f"got {self.min_constraints}, {self.max_constraints}"
            )


def choose_families(rng: np.random.Generator, cfg: InstructionsConfig) -> tuple[Family, ...]:
    k = int(rng.integers(cfg.min_constraints, cfg.max_constraints + 1))
    chosen: list[Family] = []
    for i in rng.permutation(len(cfg.families)):
        fam = cfg.families[int(i)]
        if not any(c <= {*chosen, fam} for c in CONFLICTS):
            chosen.append(fam)
        if len(chosen) == k:
            break
    return tuple(sorted(chosen, key=FAMILIES.index))


def _cased(text: str, plan: Plan) -> str:
    """``text`` in the plan's letter case, so a prompt never asks for "Hi" in all lowercase."""
    if plan.case == "lower":
        return text.lower()
    return text.upper() if plan.case == "upper" else text


def _constraint(fam: Family, rng: np.random.Generator, plan: Plan) -> tuple[RewardFn, Plan]:
    """The check for ``fam`` and the plan updated so the reference satisfies it."""
    rep = dataclasses.replace
    if fam in ("lowercase", "uppercase"):
        return (AllLowercase() if fam == "lowercase" else AllUppercase()), rep(plan, case=fam[:5])  # type: ignore[arg-type]
    if fam == "no_commas":
        return NoCommas(), plan
    if fam == "starts_with":
        phrase = pick(rng, START_PHRASES)
        return StartsWith(_cased(phrase, plan)), rep(plan, start=phrase)
    if fam == "ends_with":
        phrase = pick(rng, END_PHRASES)
        return EndsWith(_cased(phrase, plan)), rep(plan, end=phrase)
    if fam == "placeholders":
        n = int(rng.integers(1, len(PLACEHOLDERS) + 1))
        return Placeholders(n), rep(plan, placeholders=n)
    if fam == "postscript":
        return Postscript(_cased("P.S.", plan)), rep(plan, postscript=True)
    if fam == "title":
        return Title(), rep(plan, title=True)
    if fam == "sections":
        n = int(rng.integers(2, 5))
        return Sections(n, _cased("Section", plan)), rep(plan, sections=n)
    if fam == "bullets":
        n = int(rng.integers(2, 6))
        return BulletCount(n), rep(plan, bullets=n)
    if fam == "keywords":
        kws = pick_distinct(
            rng,
            [k for k in KEYWORDS if not plan.repeat or k != plan.repeat[0]],
            int(rng.integers(1, 4)),
        )
        return IncludeKeywords(kws), rep(plan, keywords=kws)
    if fam == "keyword_frequency":
        kw = pick(rng, [k for k in KEYWORDS if k not in plan.keywords])
        relation: Relation = pick(rng, ("at_least", "at_most", "exactly"))
        n = int(rng.integers(2, 5)) if relation == "at_least" else int(rng.integers(1, 4))
        uses = 1 if relation == "at_most" else n
        return KeywordFrequency(kw, n, relation), rep(plan, repeat=(kw, uses))
    if fam == "forbidden_words":
        return ForbiddenWords(pick_distinct(rng, FORBIDDEN, int(rng.integers(1, 4)))), plan
    raise ValueError(f"unknown family {fam!r}")  # word_count is handled last, by the caller


def _word_count(rng: np.random.Generator, plan: Plan) -> tuple[LengthInRange, Plan]:
    """A word range the reference can meet: bounds are set from its unpadded length."""
    w = count_words(reference_text(plan))
    kind = pick(rng, ("at_least", "at_most", "between"))
    if kind == "at_most":
        return LengthInRange(0, w + int(rng.integers(5, 41))), plan
    lo = w + int(rng.integers(5, 41))
    hi = lo + int(rng.integers(15, 41)) if kind == "between" else None
    return LengthInRange(lo, hi), dataclasses.replace(plan, min_words=lo)


class Instructions(RubricEnv):
    """Write about a topic while following 1 to 3 random verifiable instructions (IFEval-style).

    ## Description
    A short piece about a topic (it must mention the topic word) with up to three constraints
    drawn from: all lowercase, all uppercase, no commas, start / end with a phrase, at least N
    ``[placeholders]``, a ``P.S.``, a ``<<title>>``, N numbered sections, exactly N bullet
    points, a word-count bound, include keywords, a keyword at least / at most / exactly N
    times, forbidden words. Conflicting pairs (lowercase + uppercase) are never drawn together.

    ## Observation
    ``"Write a short piece about the violin. Mention the word "violin".\\nFollow these
    instructions:\\n1. Do not use any commas in your entire response.\\n2. Your answer must
    contain a title, wrapped in double angular brackets, such as <<poem of joy>>."``

    ## Action
    The reply (str).

    ## Reward
    ``mode="strict"``: 1.0 if the topic is mentioned and every constraint is fully satisfied,
    else 0.0. ``mode="partial"``: the fraction of checks (topic + constraints) fully satisfied.
    ``info["components"]`` has each check's score under its family name. Single-turn.

    ## Arguments
    ``min_constraints``, ``max_constraints``, ``mode``, ``families`` — see
    ``InstructionsConfig``.

    ## Version History
    * v0: initial version.
    """

    description = "Follow 1-3 random IFEval-style constraints while writing about a topic"
    reward_kind = "instructions"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"min_constraints": 1, "max_constraints": 1},
        {"min_constraints": 1, "max_constraints": 2},
        {"min_constraints": 2, "max_constraints": 3},
        {"min_constraints": 3, "max_constraints": 4},
    )

    config_class: ClassVar[type] = InstructionsConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        topic = pick(rng, TOPICS)
        families = choose_families(rng, cfg)
        plan = Plan(topic=topic)
        checks: list[tuple[str, RewardFn]] = [("topic", mention(topic))]
        for fam in families:
            if fam != "word_count":
                check, plan = _constraint(fam, rng, plan)
                checks.append((fam, check))
        if "word_count" in families:
            length, plan = _word_count(rng, plan)
            checks.append(("word_count", length))
        if cfg.mode == "strict":
            rubric: RewardFn = PassFail(Rubric(checks, normalize=True))
        else:
            rubric = Rubric([(name, PassFail(fn)) for name, fn in checks], normalize=True)
        lines = "\n".join(f"{i + 1}. {fn.instruction}" for i, (_, fn) in enumerate(checks[1:]))  # type: ignore[attr-defined]
        prompt = f'Write a short piece about the {topic}. Mention the word "{topic}".\nFollow these instructions:\n{lines}'
        return Task(
            prompt=prompt, metadata={"rubric": rubric, "plan": plan, "constraints": families}
        )

    def reference(self, task: Task) -> str:
        return reference_text(task.metadata["plan"])
