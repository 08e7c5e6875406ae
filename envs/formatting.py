"""Formatting envs: answer tags, JSON objects, bullet lists, word counts, lowercase, sections.

Also the shared pieces of the format / keyword / instruction envs: ``RubricEnv`` (a
``TextEnv`` whose per-task ``Rubric`` lives in ``task.metadata["rubric"]``), the topic and
word pools, and ``filler`` (deterministic sentences about a topic, used by references).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
from grpo_gym.rewards.format import JsonField, JsonObject, TagAnswerEquals, TagFormat
from grpo_gym.rewards.keywords import IncludeKeywords
from grpo_gym.rewards.layout import AllLowercase, AllUppercase, BulletCount, Sections
from grpo_gym.rewards.length import LengthInRange, count_words, sentences_in_range
from grpo_gym.rewards.rubric import Rubric, TaskRubric
from grpo_gym.rewards.types import RewardResult, Task

from .base import TextEnv

# ---- shared pools -------------------------------------------------------------------------------
#: Single-word topics; every filler sentence names the topic, so "mention the topic" holds.
TOPICS: tuple[str, ...] = (
    "ocean", "bicycle", "coffee", "library", "garden", "robot", "river", "mountain", "piano",
    "city", "forest", "winter", "bread", "chess", "train", "moon", "desert", "island", "market",
    "museum", "camera", "bridge", "school", "football", "kitchen", "planet", "rainbow", "castle",
    "festival", "harbor", "telescope", "orchard", "lighthouse", "village", "glacier", "violin",
    "satellite", "volcano", "canyon", "airport",
)  # fmt: skip
#: Keywords to include; none occurs in ``FILLER`` or in the other pools.
KEYWORDS: tuple[str, ...] = (
    "harmony", "lantern", "whisper", "velvet", "compass", "marble", "echo", "ember", "puzzle",
    "ribbon", "thunder", "saffron", "pebble", "crystal", "anchor", "feather", "orbit", "canvas",
    "riddle", "tulip", "meadow", "copper", "horizon", "maple",
)  # fmt: skip
#: Words to forbid: common filler words a model reaches for; none occurs in ``FILLER``.
FORBIDDEN: tuple[str, ...] = (
    "very", "really", "good", "nice", "great", "beautiful", "important", "interesting",
    "amazing", "wonderful", "famous", "popular", "big", "small", "old", "best",
)  # fmt: skip
#: Sentences about ``{t}``: no commas, no pool words, plain words only (so counts are exact).
FILLER: tuple[str, ...] = (
    "The {t} has a long and rich history.",
    "Many people learn about the {t} when they are young.",
    "A visit to the {t} can teach you a lot.",
    "Writers often describe the {t} in their stories.",
    "The {t} changes from season to season.",
    "Some experts spend their whole careers studying the {t}.",
    "Children often ask questions about the {t}.",
    "There is always something new to learn about the {t}.",
    "Photos of the {t} are shared all over the world.",
    "People have many opinions about the {t}.",
    "The {t} plays a part in daily life for many families.",
    "Local guides can tell you stories about the {t}.",
)

_T = TypeVar("_T")


def pick(rng: np.random.Generator, items: Sequence[_T]) -> _T:
    """One item of ``items`` chosen by ``rng``."""
    return items[int(rng.integers(len(items)))]


def sample(rng: np.random.Generator, items: Sequence[_T], k: int) -> tuple[_T, ...]:
    """``k`` distinct items of ``items`` in random order."""
    return tuple(items[int(i)] for i in rng.choice(len(items), size=k, replace=False))


def filler(topic: str, n: int, start: int = 0) -> list[str]:
    """``n`` sentences about ``topic`` (cycling through ``FILLER`` from ``start``)."""
    return [FILLER[(start + i) % len(FILLER)].format(t=topic) for i in range(n)]


def words_between(topic: str, lo: int, hi: int, start: int = 0) -> str:
    """Filler text about ``topic`` with a word count in ``[lo, hi]`` (the last sentence may be cut)."""
    out: list[str] = []
    i = 0
    while count_words(" ".join(out)) < lo:
        out.append(FILLER[(start + i) % len(FILLER)].format(t=topic))
        i += 1
    words = " ".join(out).split()
    if len(words) > hi:
        words = words[:hi]
        words[-1] = words[-1].rstrip(".") + "."
    return " ".join(words)


def mention(topic: str) -> IncludeKeywords:
    """The "mention the topic" check paired with format constraints (empty replies fail it)."""
    return IncludeKeywords((topic,))


class RubricEnv(TextEnv):
    """A ``TextEnv`` scored by the ``Rubric`` its tasks carry in ``task.metadata["rubric"]``.

    Subclasses build the rubric in ``generate_task`` (normalized, so the best score is 1.0).
    """

    reward_kind = "format"

    def score(self, reply: str, task: Task) -> RewardResult:
        return TaskRubric()(reply, task)


def _range(name: str, lo: int, hi: int, floor: int = 1) -> None:
    if not floor <= lo <= hi:
        raise ValueError(f"need {floor} <= min_{name} <= max_{name}, got {lo}, {hi}")


# ---- answer tags --------------------------------------------------------------------------------
QuestionKind = Literal["add", "alphabet", "length", "last_letter"]
_WORDS = KEYWORDS + TOPICS


@dataclass(frozen=True)
class AnswerTagsConfig:
    """Settings of ``AnswerTags``.

    Attributes:
        kinds: question kinds to draw from: ``add`` (a + b), ``alphabet`` (which of two words
            comes first), ``length`` (letters in a word), ``last_letter``.
        max_operand: operands of ``add`` are in ``0..max_operand``.
        format_weight: share of the reward for the tag format (the rest is for the answer).
    """

    kinds: tuple[QuestionKind, ...] = ("add", "alphabet", "length", "last_letter")
    max_operand: int = 99
    format_weight: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", tuple(self.kinds))
        if not self.kinds or set(self.kinds) - {"add", "alphabet", "length", "last_letter"}:
            raise ValueError(
                f"kinds must be a non-empty subset of add/alphabet/length/last_letter, got {self.kinds}"
            )
        if not 9 <= self.max_operand <= 10**6:
            raise ValueError(f"max_operand must be in 9..1e6, got {self.max_operand}")
        if not 0.0 < self.format_weight < 1.0:
            raise ValueError(f"format_weight must be in (0, 1), got {self.format_weight}")


def _question(rng: np.random.Generator, cfg: AnswerTagsConfig) -> tuple[str, str, str]:
    """(question, answer, worked reasoning)."""
    kind = pick(rng, cfg.kinds)
    if kind == "add":
        a, b = (int(x) for x in rng.integers(0, cfg.max_operand + 1, size=2))
        return f"What is {a} + {b}?", str(a + b), f"{a} plus {b} is {a + b}."
    if kind == "alphabet":
        w1, w2 = sample(rng, _WORDS, 2)
        first = min(w1, w2)
        return (
            f"Which word comes first in alphabetical order: {w1} or {w2}?",
            first,
            f"Comparing letter by letter {first} comes before {max(w1, w2)}.",
        )
    word = pick(rng, _WORDS)
    if kind == "length":
        return (
            f"How many letters are in the word {word}?",
            str(len(word)),
            f"Spelling it out: {' '.join(word)}.",
        )
    return (
        f"What is the last letter of the word {word}?",
        word[-1],
        f"The word {word} ends in {word[-1]}.",
    )


class AnswerTags(RubricEnv):
    """Answer a tiny question in ``<think>...</think><answer>...</answer>`` tags.

    ## Description
    A one-step question (add two numbers, alphabetical order, word length, last letter) whose
    reasoning must go in ``<think>`` and whose final answer must go in ``<answer>``: the R1
    output format.

    ## Observation
    ``"What is 12 + 30?\\nFormat your reply exactly as <think>...</think><answer>...</answer>:
    ..."``

    ## Action
    The reply (str). Tags must be well formed: mismatched or misnested tags score 0 for format.

    ## Reward
    ``format_weight`` x ``TagFormat`` (exactly ``<think>`` then ``<answer>``, once each,
    non-empty, nothing outside) + ``(1 - format_weight)`` x the answer in ``<answer>`` being
    right (case and a trailing period ignored). 1.0 at best. Single-turn.

    ## Arguments
    ``kinds``, ``max_operand``, ``format_weight`` — see ``AnswerTagsConfig``.

    ## Version History
    * v0: initial version.
    """

    description = "Answer a tiny question inside <think>...</think><answer>...</answer> tags"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"kinds": ("add",), "max_operand": 9},
        {"kinds": ("add", "last_letter"), "max_operand": 99},
        {"kinds": ("add", "alphabet", "length", "last_letter"), "max_operand": 999},
    )

    config_class: ClassVar[type] = AnswerTagsConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        question, answer, reasoning = _question(rng, self.config)
        fmt = TagFormat()
        w = self.config.format_weight
        rubric = Rubric([("format", fmt, w), ("correct", TagAnswerEquals(), 1.0 - w)])
        prompt = (
            f"{question}\n{fmt.instruction} Put only the final answer inside <answer></answer>."
        )
        return Task(
            prompt=prompt, answer=answer, metadata={"rubric": rubric, "reasoning": reasoning}
        )

    def reference(self, task: Task) -> str:
        return f"<think>{task.metadata['reasoning']}</think>\n<answer>{task.answer}</answer>"


# ---- JSON object --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Field:
    name: str
    type: Literal["string", "integer", "number", "boolean", "array", "object"]
    example: Any


_ENTITIES: tuple[tuple[str, tuple[_Field, ...]], ...] = (
    ("book", (
        _Field("title", "string", "The Quiet Harbor"), _Field("author", "string", "A. Writer"),
        _Field("year", "integer", 1999), _Field("pages", "integer", 320),
        _Field("rating", "number", 4.5), _Field("in_print", "boolean", True),
        _Field("genres", "array", ["mystery", "drama"]), _Field("publisher", "object", {"name": "Acme"}),
    )),
    ("city", (
        _Field("name", "string", "Rivertown"), _Field("country", "string", "Nowhere"),
        _Field("population", "integer", 120000), _Field("area_km2", "number", 88.2),
        _Field("is_capital", "boolean", False), _Field("districts", "array", ["north", "south"]),
        _Field("mayor", "object", {"name": "J. Doe"}), _Field("founded", "integer", 1650),
    )),
    ("product", (
        _Field("name", "string", "Desk Lamp"), _Field("sku", "string", "DL-100"),
        _Field("price", "number", 29.99), _Field("stock", "integer", 42),
        _Field("available", "boolean", True), _Field("colors", "array", ["black", "white"]),
        _Field("dimensions", "object", {"height_cm": 40}), _Field("warranty_years", "integer", 2),
    )),
    ("movie", (
        _Field("title", "string", "Night Train"), _Field("director", "string", "M. Lens"),
        _Field("year", "integer", 2011), _Field("runtime_min", "integer", 104),
        _Field("score", "number", 7.8), _Field("is_sequel", "boolean", False),
        _Field("cast", "array", ["A. Star", "B. Actor"]), _Field("studio", "object", {"name": "Reel"}),
    )),
    ("person", (
        _Field("name", "string", "Ada Smith"), _Field("email", "string", "ada@example.com"),
        _Field("age", "integer", 36), _Field("height_m", "number", 1.7),
        _Field("is_member", "boolean", True), _Field("hobbies", "array", ["chess", "hiking"]),
        _Field("address", "object", {"city": "Rivertown"}), _Field("children", "integer", 2),
    )),
    ("recipe", (
        _Field("name", "string", "Tomato Soup"), _Field("cuisine", "string", "Italian"),
        _Field("servings", "integer", 4), _Field("prep_minutes", "integer", 15),
        _Field("calories", "number", 210.5), _Field("vegetarian", "boolean", True),
        _Field("ingredients", "array", ["tomato", "salt"]), _Field("nutrition", "object", {"protein_g": 5}),
    )),
    ("planet", (
        _Field("name", "string", "Kepler-22b"), _Field("star", "string", "Kepler-22"),
        _Field("moons", "integer", 0), _Field("mass_earths", "number", 9.1),
        _Field("habitable", "boolean", False), _Field("gases", "array", ["hydrogen"]),
        _Field("orbit", "object", {"period_days": 290}), _Field("discovered", "integer", 2011),
    )),
)  # fmt: skip


@dataclass(frozen=True)
class JsonObjectConfig:
    """Settings of ``JsonObjectEnv``.

    Attributes:
        min_fields, max_fields: number of required keys (1..8).
        allow_extra: whether keys beyond the required ones are allowed.
    """

    min_fields: int = 2
    max_fields: int = 4
    allow_extra: bool = True

    def __post_init__(self) -> None:
        _range("fields", self.min_fields, self.max_fields)
        if self.max_fields > 8:
            raise ValueError(f"max_fields must be <= 8, got {self.max_fields}")


class JsonObjectEnv(RubricEnv):
    """Reply with a JSON object that has the required keys with the required types.

    ## Description
    Describe an entity (book, city, product, ...) as a JSON object with the given keys, each
    of a given JSON type (string, integer, number, boolean, array, object).

    ## Observation
    ``"Describe a book as JSON. Reply with only a JSON object with the keys "title" (string),
    "year" (integer); no text before or after it (a ```json code fence is allowed)."``

    ## Action
    The reply (str): a JSON object, optionally in one Markdown code fence.

    ## Reward
    0 if the reply is not a JSON object; otherwise the fraction of required keys present with
    the right type (``integer`` excludes booleans and floats). With ``allow_extra=False``,
    extra keys score 0. Single-turn.

    ## Arguments
    ``min_fields``, ``max_fields``, ``allow_extra`` — see ``JsonObjectConfig``.

    ## Version History
    * v0: initial version.
    """

    description = "Reply with a JSON object with required keys of required types"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"min_fields": 1, "max_fields": 2, "allow_extra": True},
        {"min_fields": 2, "max_fields": 4, "allow_extra": True},
        {"min_fields": 4, "max_fields": 6, "allow_extra": False},
        {"min_fields": 6, "max_fields": 8, "allow_extra": False},
    )

    config_class: ClassVar[type] = JsonObjectConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        entity, pool = pick(rng, _ENTITIES)
        k = int(rng.integers(cfg.min_fields, cfg.max_fields + 1))
        fields = sample(rng, pool, k)
        check = JsonObject(
            tuple(JsonField(f.name, f.type) for f in fields), allow_extra=cfg.allow_extra
        )
        article = "an" if entity[0] in "aeiou" else "a"
        prompt = f"Describe {article} {entity} as JSON. {check.instruction}"
        example = tuple((f.name, f.example) for f in fields)
        return Task(
            prompt=prompt,
            metadata={"rubric": Rubric([("json", check)], normalize=True), "example": example},
        )

    def reference(self, task: Task) -> str:
        return json.dumps(dict(task.metadata["example"]), indent=2)


# ---- bullet list --------------------------------------------------------------------------------
_LIST_ASKS: tuple[str, ...] = (
    "facts about the {t}",
    "reasons to learn about the {t}",
    "ideas for a school project on the {t}",
    "questions a child might ask about the {t}",
    "things to notice when you visit the {t}",
    "tips for writing a story about the {t}",
)


@dataclass(frozen=True)
class BulletListConfig:
    """Settings of ``BulletList``: the bullet count is drawn from ``min_bullets..max_bullets``."""

    min_bullets: int = 2
    max_bullets: int = 7

    def __post_init__(self) -> None:
        _range("bullets", self.min_bullets, self.max_bullets)


class BulletList(RubricEnv):
    """Write exactly N Markdown bullet points about a topic.

    ## Description
    List exactly N items about a topic as ``* `` bullet points, mentioning the topic word.

    ## Observation
    ``"List 3 facts about the ocean. Your answer must contain exactly 3 bullet points, each on
    its own line starting with '* ' ... Mention the word "ocean"."``

    ## Action
    The reply (str). Bullets are lines starting with ``* `` or ``- ``.

    ## Reward
    0.8 x bullet-count credit (1 if exactly N, else ``max(0, 1 - |k - N| / N)``) + 0.2 x the
    topic word appears. Single-turn.

    ## Arguments
    ``min_bullets``, ``max_bullets`` — see ``BulletListConfig``.

    ## Version History
    * v0: initial version.
    """

    description = "Write exactly N bullet points about a topic"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"min_bullets": 2, "max_bullets": 3},
        {"min_bullets": 2, "max_bullets": 7},
        {"min_bullets": 5, "max_bullets": 12},
    )

    config_class: ClassVar[type] = BulletListConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        n = int(rng.integers(self.config.min_bullets, self.config.max_bullets + 1))
        topic, ask = pick(rng, TOPICS), pick(rng, _LIST_ASKS)
        check = BulletCount(n)
        rubric = Rubric([("bullets", check, 0.8), ("topic", mention(topic), 0.2)])
        prompt = f'List {n} {ask.format(t=topic)}. {check.instruction} Mention the word "{topic}".'
        return Task(prompt=prompt, metadata={"rubric": rubric, "topic": topic, "n": n})

    def reference(self, task: Task) -> str:
        topic, n = task.metadata["topic"], task.metadata["n"]
        lines = [f"* {s}" for s in filler(topic, n)]
        return f"Here is my list about the {topic}:\n" + "\n".join(lines)


# ---- word count -------------------------------------------------------------------------------
@dataclass(frozen=True)
class WordCountConfig:
    """Settings of ``WordCount``: the lower bound is drawn from ``min_words..max_words``; the
    allowed range is ``width`` words wide (``width >= 10``)."""

    min_words: int = 20
    max_words: int = 120
    width: int = 20

    def __post_init__(self) -> None:
        _range("words", self.min_words, self.max_words)
        if self.width < 10:
            raise ValueError(f"width must be >= 10, got {self.width}")


class WordCount(RubricEnv):
    """Write about a topic in a number of words within a range.

    ## Description
    Write between L and H words about a topic, mentioning the topic word.

    ## Observation
    ``"Write about the piano. Your response should contain between 40 and 60 words. Mention the
    word "piano"."``

    ## Action
    The reply (str). Words are runs of letters and digits (``don't`` and ``well-known`` are one).

    ## Reward
    0.8 x length credit (1 inside the range, ``count/L`` below, ``H/count`` above) + 0.2 x the
    topic word appears. Single-turn.

    ## Arguments
    ``min_words``, ``max_words``, ``width`` — see ``WordCountConfig``.

    ## Version History
    * v0: initial version.
    """

    description = "Write about a topic in between L and H words"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"min_words": 10, "max_words": 40, "width": 30},
        {"min_words": 20, "max_words": 120, "width": 20},
        {"min_words": 50, "max_words": 300, "width": 10},
    )

    config_class: ClassVar[type] = WordCountConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        lo = int(rng.integers(cfg.min_words, cfg.max_words + 1))
        topic = pick(rng, TOPICS)
        check = LengthInRange(lo, lo + cfg.width, "words")
        rubric = Rubric([("length", check, 0.8), ("topic", mention(topic), 0.2)])
        prompt = f'Write about the {topic}. {check.instruction} Mention the word "{topic}".'
        return Task(
            prompt=prompt,
            metadata={"rubric": rubric, "topic": topic, "range": (lo, lo + cfg.width)},
        )

    def reference(self, task: Task) -> str:
        lo, hi = task.metadata["range"]
        return words_between(task.metadata["topic"], lo, hi)


# ---- letter case ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LetterCaseConfig:
    """Settings of ``LetterCase``: ``case`` is ``lower`` or ``upper``; the sentence count is
    drawn from ``min_sentences..max_sentences``."""

    case: Literal["lower", "upper"] = "lower"
    min_sentences: int = 2
    max_sentences: int = 5

    def __post_init__(self) -> None:
        if self.case not in ("lower", "upper"):
            raise ValueError(f"case must be 'lower' or 'upper', got {self.case!r}")
        _range("sentences", self.min_sentences, self.max_sentences)


class LetterCase(RubricEnv):
    """Write about a topic in all lowercase (or all uppercase) letters.

    ## Description
    Write at least N sentences about a topic, mentioning the topic word, with every letter in
    the required case.

    ## Observation
    ``"Write 3 sentences about the moon. Your entire response must be in lowercase letters; no
    capital letters are allowed. Mention the word "moon"."``

    ## Action
    The reply (str). Sentences end with ``.``, ``!`` or ``?``.

    ## Reward
    0.6 x every letter in the case (and at least one letter) + 0.2 x the topic word appears +
    0.2 x sentence credit (``min(1, count/N)``). Single-turn.

    ## Arguments
    ``case``, ``min_sentences``, ``max_sentences`` — see ``LetterCaseConfig``.
    ``grpo_gym/Lowercase-v0`` and ``grpo_gym/Uppercase-v0`` fix ``case``.

    ## Version History
    * v0: initial version.
    """

    description = "Write about a topic in all lowercase (or uppercase) letters"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"min_sentences": 1, "max_sentences": 2},
        {"min_sentences": 2, "max_sentences": 5},
        {"min_sentences": 5, "max_sentences": 10},
    )

    config_class: ClassVar[type] = LetterCaseConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        n = int(rng.integers(cfg.min_sentences, cfg.max_sentences + 1))
        topic = pick(rng, TOPICS)
        check = AllLowercase() if cfg.case == "lower" else AllUppercase()
        rubric = Rubric(
            [
                ("case", check, 0.6),
                ("topic", mention(topic), 0.2),
                ("sentences", sentences_in_range(n), 0.2),
            ]
        )
        noun = "sentence" if n == 1 else "sentences"
        prompt = (
            f'Write {n} {noun} about the {topic}. {check.instruction} Mention the word "{topic}".'
        )
        return Task(
            prompt=prompt, metadata={"rubric": rubric, "topic": topic, "n": n, "case": cfg.case}
        )

    def reference(self, task: Task) -> str:
        text = " ".join(filler(task.metadata["topic"], task.metadata["n"], start=3))
        return text.lower() if task.metadata["case"] == "lower" else text.upper()


# ---- sections ---------------------------------------------------------------------------------
_DOCS: tuple[str, ...] = (
    "short report",
    "study guide",
    "essay",
    "lesson plan",
    "travel note",
    "newsletter",
)


@dataclass(frozen=True)
class SectionsConfig:
    """Settings of ``SectionsEnv``: the section count is drawn from ``min_sections..max_sections``;
    headers are ``{word} 1``, ``{word} 2``, ..."""

    min_sections: int = 2
    max_sections: int = 5
    word: str = "Section"

    def __post_init__(self) -> None:
        _range("sections", self.min_sections, self.max_sections)
        if not self.word.strip() or not self.word.replace(" ", "").isalpha():
            raise ValueError(f"word must be letters, got {self.word!r}")


class SectionsEnv(RubricEnv):
    """Write a document with exactly N numbered sections.

    ## Description
    Write a document about a topic split into exactly N sections headed ``Section 1``,
    ``Section 2``, ... each with text, mentioning the topic word.

    ## Observation
    ``"Write a short report about the castle. Your response must have exactly 3 sections. Start
    each section with a line 'Section X' where X is its number (Section 1, Section 2, ...).
    Mention the word "castle"."``

    ## Action
    The reply (str). A header is a line starting with the word and a number (``## Section 2:
    History`` counts).

    ## Reward
    0.8 x section credit (well-formed sections in order / ``max(N, headers found)``) + 0.2 x
    the topic word appears. Single-turn.

    ## Arguments
    ``min_sections``, ``max_sections``, ``word`` — see ``SectionsConfig``.

    ## Version History
    * v0: initial version.
    """

    description = "Write a document with exactly N numbered sections"
    difficulty_levels: ClassVar[tuple[dict[str, Any], ...]] = (
        {"min_sections": 2, "max_sections": 3},
        {"min_sections": 2, "max_sections": 5},
        {"min_sections": 4, "max_sections": 8},
    )

    config_class: ClassVar[type] = SectionsConfig

    def generate_task(self, rng: np.random.Generator) -> Task:
        cfg = self.config
        n = int(rng.integers(cfg.min_sections, cfg.max_sections + 1))
        topic, doc = pick(rng, TOPICS), pick(rng, _DOCS)
        check = Sections(n, cfg.word)
        rubric = Rubric([("sections", check, 0.8), ("topic", mention(topic), 0.2)])
        prompt = f'Write a {doc} about the {topic}. {check.instruction} Mention the word "{topic}".'
        return Task(
            prompt=prompt, metadata={"rubric": rubric, "topic": topic, "n": n, "word": cfg.word}
        )

    def reference(self, task: Task) -> str:
        topic, n, word = task.metadata["topic"], task.metadata["n"], task.metadata["word"]
        parts = [f"{word} {i + 1}\n" + " ".join(filler(topic, 2, start=2 * i)) for i in range(n)]
        return "\n\n".join(parts)
