"""Reward kinds of dataset envs: math (our verifier), exact match, multiple-choice letter, or a
user callable. Each is a pure ``fn(reply, task) -> RewardResult`` that never raises."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from typing import Any

from grpo_gym.rewards import RewardResult, Task, extract_answer, math_reward

REWARD_KINDS = ("math", "exact", "choice")
LETTERS = string.ascii_uppercase

_SPACES = re.compile(r"\s+")
_LETTER_PATTERNS = (
    re.compile(r"\\boxed\{\s*\(?\s*([A-Z])\s*\)?\s*\}"),
    re.compile(r"(?i:answer(?: is|:)|option|choice)\s*:?\s*\(?\*{0,2}([A-Z])\b\)?"),
    re.compile(r"^\s*\(?([A-Z])\)?[.)]?\s*$"),
)


def normalise(text: str) -> str:
    """Exact-match normal form: case-folded, inner whitespace collapsed, outer punctuation cut."""
    text = _SPACES.sub(" ", str(text)).strip().casefold()
    return text.strip(" .,;:!\"'`")


def exact_reward(reply: str, task: Task) -> RewardResult:
    """1.0 iff the reply's final answer (``\\boxed{}``, ``<answer>``, ``Answer: ...``; else its
    last line) equals the gold after ``normalise``."""
    answer = extract_answer(reply, modes=("boxed", "answer_tag", "final_answer", "answer_colon"))
    if answer is None:
        lines = [line for line in reply.strip().splitlines() if line.strip()]
        answer = lines[-1] if lines else ""
    ok = bool(answer.strip()) and normalise(answer) == normalise(task.answer or "")
    return RewardResult(
        score=float(ok),
        components={"correct": float(ok)},
        extracted=answer or None,
        reason=None if ok else ("no answer found" if not answer.strip() else "not equal"),
    )


def choice_letter(reply: str, n_choices: int = 26) -> str | None:
    """The option letter a reply picks: ``\\boxed{B}``, ``answer is (B)``, or a bare ``B``; the
    last such mention wins. Letters past the number of options do not count."""
    allowed = set(LETTERS[: max(1, min(n_choices, 26))])
    best: tuple[int, str] | None = None
    for pattern in _LETTER_PATTERNS:
        for match in pattern.finditer(
            reply, re.MULTILINE if pattern.pattern.startswith("^") else 0
        ):
            letter = match.group(1).upper()
            if letter in allowed and (best is None or match.start() >= best[0]):
                best = (match.start(), letter)
    return best[1] if best else None


def choice_reward(reply: str, task: Task) -> RewardResult:
    """1.0 iff the picked option letter equals the gold letter (``task.answer``)."""
    n = int(task.metadata.get("n_choices", 26)) if task.metadata else 26
    letter = choice_letter(reply, n)
    ok = letter is not None and letter == (task.answer or "").strip().upper()
    return RewardResult(
        score=float(ok),
        components={"correct": float(ok)},
        extracted=letter,
        reason=None if ok else ("no option letter found" if letter is None else "wrong option"),
    )


def gold_letter(value: Any, choices: Sequence[str] | None) -> str | None:
    """The gold option letter from a letter (``"b"``, ``"(B)"``), a 0-based index, or the text
    of one of ``choices``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return LETTERS[value] if 0 <= value < len(LETTERS) else None
    text = str(value).strip()
    if choices is not None and text in [str(c).strip() for c in choices]:
        return LETTERS[[str(c).strip() for c in choices].index(text)]
    stripped = text.strip("().: ").upper()
    if len(stripped) == 1 and stripped in LETTERS:
        return stripped
    if text.isdigit():
        return LETTERS[int(text)] if int(text) < len(LETTERS) else None
    return None


def user_reward(fn: Callable[..., Any]) -> Callable[[str, Task], RewardResult]:
    """Wrap a user callable ``fn(reply, task)`` returning a bool, a number or a RewardResult."""

    def score(reply: str, task: Task) -> RewardResult:
        value = fn(reply, task)
        if isinstance(value, RewardResult):
            return value
        return RewardResult(score=float(value), components={"user": float(value)})

    return score


def reward_function(kind: str | Callable[..., Any]) -> Callable[[str, Task], RewardResult]:
    """The scorer for a reward kind (``"math"``, ``"exact"``, ``"choice"`` or a callable)."""
    if callable(kind):
        return user_reward(kind)
    table: dict[str, Callable[[str, Task], RewardResult]] = {
        "math": math_reward,
        "exact": exact_reward,
        "choice": choice_reward,
    }
    if kind not in table:
        raise ValueError(
            f"unknown reward {kind!r}: use one of {REWARD_KINDS} or a callable fn(reply, task)"
        )
    return table[kind]
