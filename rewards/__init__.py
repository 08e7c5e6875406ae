"""Pure, composable reward functions: answer extraction, safe math equivalence, format rubrics."""

from .types import RewardFn, RewardResult, Task

__all__ = ["RewardFn", "RewardResult", "Task"]
