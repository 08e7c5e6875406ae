"""Layout envs: bullet lists, numbered sections, word counts and letter case, each about a
topic whose word the reply must mention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from grpo_gym.rewards.layout import AllLowercase, AllUppercase, BulletCount
from grpo_gym.rewards.layout import Sections as SectionsCheck
from grpo_gym.rewards.length import LengthInRange, sentences_in_range
from grpo_gym.rewards.rubric import Rubric
from grpo_gym.rewards.types import Task

from .writing import TOPICS, RubricEnv, check_range, filler_sentences, filler_text, mention, pick

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
        check_range("bullets", self.min_bullets, self.max_bullets)


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
        lines = [f"* {s}" for s in filler_sentences(topic, n)]
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
        check_range("words", self.min_words, self.max_words)
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
        return filler_text(task.metadata["topic"], lo, hi)


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
        check_range("sentences", self.min_sentences, self.max_sentences)


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
        text = " ".join(filler_sentences(task.metadata["topic"], task.metadata["n"], start=3))
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
    """Settings of ``Sections``: the section count is drawn from ``min_sections..max_sections``;
    headers are ``{word} 1``, ``{word} 2``, ..."""

    min_sections: int = 2
    max_sections: int = 5
    word: str = "Section"

    def __post_init__(self) -> None:
        check_range("sections", self.min_sections, self.max_sections)
        if not self.word.strip() or not self.word.replace(" ", "").isalpha():
            raise ValueError(f"word must be letters, got {self.word!r}")


class Sections(RubricEnv):
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
        check = SectionsCheck(n, cfg.word)
        rubric = Rubric([("sections", check, 0.8), ("topic", mention(topic), 0.2)])
        prompt = f'Write a {doc} about the {topic}. {check.instruction} Mention the word "{topic}".'
        return Task(
            prompt=prompt, metadata={"rubric": rubric, "topic": topic, "n": n, "word": cfg.word}
        )

    def reference(self, task: Task) -> str:
        topic, n, word = task.metadata["topic"], task.metadata["n"], task.metadata["word"]
        parts = [
            f"{word} {i + 1}\n" + " ".join(filler_sentences(topic, 2, start=2 * i))
            for i in range(n)
        ]
        return "\n\n".join(parts)
