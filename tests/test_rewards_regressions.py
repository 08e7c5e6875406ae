"""Replies seen in real training runs that once broke a reward function."""

from __future__ import annotations

import pytest
from grpo_gym.rewards import Task, math_reward


@pytest.mark.parametrize(
    "reply",
    [
        "Acom shortly, 25 + 12 = 37. The final answer is \\boxed{}.",  # empty box (IndexError once)
        "\\boxed{}",
        "\\boxed{+}",
        "\\boxed{-}",
        "$$",
    ],
)
def test_degenerate_answers_score_zero_without_error(reply: str) -> None:
    r = math_reward(reply, Task(answer="37"))
    assert r.score == 0.0 and r.error is None, r
