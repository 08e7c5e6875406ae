"""What a reply cut at the token limit may still earn: an explicit, complete final answer.

A reply that hit ``max_new_tokens`` ends wherever the budget ran out. Its last number is then a
fragment that may equal the gold by accident (a GSM8K reply ending "... 111 + 15 =" for gold 15,
one ending "He buys 2" for gold 2): every such reply marked correct in our committed benchmark
runs was wrong when read by hand, and rewarding it teaches a policy to ramble up to the limit.
So a truncated reply (``Reply.finish_reason == "length"``) is scored only on an explicit final
answer that no continuation could change:

* a closed ``\\boxed{...}`` or ``<answer>...</answer>``, or a "final answer is X." / "Answer: X"
  sentence that is finished;
* a finished "The answer is X." or "#### X" line (GSM8K's and lm-eval's answer formats): the
  reply is scored as if it ended right after it;
* never a fallback (the last number, the last math span) anywhere else in the reply.

"No continuation could change it" is tested directly: the answer extracted from the reply must
be the one extracted from the reply with more text appended (a digit, a word). An unfinished
"The answer is 2" (maybe "24") or an unclosed ``<answer>5`` fails that test.

The stricter policy, DAPO's overlong filtering, scores every truncated reply 0:
``TextEnv.truncated_policy = "zero"`` (``GRPOConfig.truncated_reward``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .extract import extract_answer

EXPLICIT_MODES: tuple[str, ...] = ("boxed", "answer_tag", "final_answer", "answer_colon")
_PROBES = ("9", " x", "}")  # continuations that would change an unfinished answer
# "The answer is 15." / "#### 15": finished by a newline, or a period before white space
# (a number or formula right after the marker, so "the answer is simple." is no answer)
_ANSWER_IS_RE = re.compile(
    r"(?:\banswer\s+is\s*:?|####)\s*(?:\*\*|\$|\\\(|\\\[)?\s*[-\d.\\]"
    r"[^\n]{0,200}?(?:\.\s|\n)",
    re.I,
)


def explicit_modes(modes: Sequence[str]) -> tuple[str, ...]:
    """The explicit-marker modes among ``modes``, in their order."""
    return tuple(m for m in modes if m in EXPLICIT_MODES)


def complete_explicit_answer(
    text: str, modes: Sequence[str] = EXPLICIT_MODES, *, join_adjacent_boxed: bool = True
) -> str | None:
    """The explicit final answer of a truncated reply, or None if it has none that is finished.

    Pure string work (regular expressions in ``extract``), linear in the text.
    """
    modes = explicit_modes(modes)
    if not modes:
        return None
    answer = extract_answer(text, modes=modes, join_adjacent_boxed=join_adjacent_boxed)
    if answer is None:
        return None
    for probe in _PROBES:
        longer = extract_answer(text + probe, modes=modes, join_adjacent_boxed=join_adjacent_boxed)
        if longer != answer:
            return None
    return answer


def scorable_prefix(
    text: str, modes: Sequence[str] = EXPLICIT_MODES, *, join_adjacent_boxed: bool = True
) -> tuple[str, tuple[str, ...]] | None:
    """How to score a truncated reply: ``(text to score, modes to use)``, or None (score 0).

    A finished explicit marker (``complete_explicit_answer``) scores the whole reply with the
    explicit modes only; otherwise the last finished "The answer is X." / "#### X" sentence is
    scored alone, with every mode (its last number is X).
    """
    if complete_explicit_answer(text, modes, join_adjacent_boxed=join_adjacent_boxed) is not None:
        return text, explicit_modes(modes)
    sentences = _ANSWER_IS_RE.findall(text)
    return (sentences[-1], tuple(modes)) if sentences else None
