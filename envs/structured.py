"""Envs whose reply a program parses: answer tags and JSON objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from grpo_gym.rewards.format import JsonField, TagAnswerEquals, TagFormat
from grpo_gym.rewards.format import JsonObject as JsonObjectCheck
from grpo_gym.rewards.rubric import Rubric
from grpo_gym.rewards.types import Task

from .writing import KEYWORDS, TOPICS, RubricEnv, check_range, pick, pick_distinct

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
        w1, w2 = pick_distinct(rng, _WORDS, 2)
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
    """Settings of ``JsonObject``.

    Attributes:
        min_fields, max_fields: number of required keys (1..8).
        allow_extra: whether keys beyond the required ones are allowed.
    """

    min_fields: int = 2
    max_fields: int = 4
    allow_extra: bool = True

    def __post_init__(self) -> None:
        check_range("fields", self.min_fields, self.max_fields, cap=8)


class JsonObject(RubricEnv):
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
        fields = pick_distinct(rng, pool, k)
        check = JsonObjectCheck(
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
