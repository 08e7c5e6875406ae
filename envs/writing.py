"""What the writing envs (format, keyword and instruction envs) share.

``RubricEnv`` (a ``TextEnv`` scored by the ``Rubric`` its task carries), the word pools that
prompts draw from, random choice helpers, and the deterministic filler sentences that reference
replies are built from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from grpo_gym.rewards.keywords import IncludeKeywords
from grpo_gym.rewards.length import count_words
from grpo_gym.rewards.rubric import TaskRubric
from grpo_gym.rewards.types import RewardResult, Task

from .base import TextEnv

# ---- word pools ---------------------------------------------------------------------------------
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
#: Sentences that use the keyword ``{k}`` once each (about the topic ``{t}``).
KEYWORD_FILLER: tuple[str, ...] = (
    "The word {k} comes to mind when I picture the {t}.",
    "I would link the {t} with {k}.",
    "Another image is {k}.",
    "Some would say {k} again.",
    "Once more {k} fits here.",
)

_T = TypeVar("_T")


# ---- random choices -----------------------------------------------------------------------------
def pick(rng: np.random.Generator, items: Sequence[_T]) -> _T:
    """One item of ``items`` chosen by ``rng``."""
    return items[int(rng.integers(len(items)))]


def pick_distinct(rng: np.random.Generator, items: Sequence[_T], k: int) -> tuple[_T, ...]:
    """``k`` distinct items of ``items`` in random order."""
    return tuple(items[int(i)] for i in rng.choice(len(items), size=k, replace=False))


# ---- reference text -----------------------------------------------------------------------------
def filler_sentences(topic: str, n: int, start: int = 0) -> list[str]:
    """``n`` sentences about ``topic`` (cycling through ``FILLER`` from ``start``)."""
    return [FILLER[(start + i) % len(FILLER)].format(t=topic) for i in range(n)]


def filler_text(topic: str, min_words: int, max_words: int) -> str:
    """Filler text about ``topic`` of ``min_words..max_words`` words (the last sentence may be
    cut)."""
    out: list[str] = []
    i = 0
    while count_words(" ".join(out)) < min_words:
        out.append(FILLER[i % len(FILLER)].format(t=topic))
        i += 1
    words = " ".join(out).split()
    if len(words) > max_words:
        words = words[:max_words]
        words[-1] = words[-1].rstrip(".") + "."
    return " ".join(words)


def keyword_sentence(topic: str, keywords: tuple[str, ...]) -> str:
    """One sentence about ``topic`` that uses every keyword once."""
    return f"Think of {' and '.join(keywords)} when you picture the {topic}."


def keyword_sentences(topic: str, keyword: str, n: int) -> list[str]:
    """``n`` sentences about ``topic`` that each use ``keyword`` once."""
    return [KEYWORD_FILLER[i % len(KEYWORD_FILLER)].format(k=keyword, t=topic) for i in range(n)]


# ---- scoring --------------------------------------------------------------------------------------
def mention(topic: str) -> IncludeKeywords:
    """The "mention the topic" check paired with format constraints (empty replies fail it)."""
    return IncludeKeywords((topic,))


def check_range(name: str, lo: int, hi: int, *, floor: int = 1, cap: int | None = None) -> None:
    """Validate a ``min_{name}``/``max_{name}`` pair of settings: ``floor <= lo <= hi [<= cap]``."""
    if not floor <= lo <= hi or (cap is not None and hi > cap):
        bound = f" <= {cap}" if cap is not None else ""
        raise ValueError(f"need {floor} <= min_{name} <= max_{name}{bound}, got {lo}, {hi}")


class RubricEnv(TextEnv):
    """A ``TextEnv`` scored by the ``Rubric`` its tasks carry in ``task.metadata["rubric"]``.

    Subclasses build the rubric in ``generate_task`` (normalized, so the best score is 1.0).
    """

    reward_kind = "format"

    def score(self, reply: str, task: Task) -> RewardResult:
        return TaskRubric()(reply, task)
