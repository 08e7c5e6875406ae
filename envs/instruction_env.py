"""What the IFEval-style envs share: settings, scoring by the official checkers, the four
official accuracies with standard errors, and the base of the shipped evaluation-only prompt
sets (IFEval-v0, IFBench-v0).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from grpo_gym.rewards import RewardResult, Task

from .benchmark_data import shipped_rows
from .ifeval_checks import check_reply, registry
from .ifeval_reference import build_reference
from .rows import Problem, RowsEnv

_WORD = re.compile(r"\w+")
METRICS = (
    "prompt_level_strict_acc",
    "inst_level_strict_acc",
    "prompt_level_loose_acc",
    "inst_level_loose_acc",
)


@dataclass(frozen=True)
class IFEvalConfig:
    """reward: "partial" = fraction of instructions followed (strict check); "strict" = 1.0 only
    if every instruction is followed. min_words: a reply of fewer words scores 0 (the official
    checkers judge form, not content, so "I don't know." follows "use no commas"; 0 = off).
    The four official accuracies never use this gate."""

    reward: Literal["partial", "strict"] = "partial"
    min_words: int = 8

    def __post_init__(self) -> None:
        if self.reward not in ("partial", "strict"):
            raise ValueError(f"reward={self.reward!r}: use 'partial' or 'strict'")
        if self.min_words < 0:
            raise ValueError(f"min_words must be >= 0, got {self.min_words}")


#: An instruction whose whole answer may be one short fixed sentence ("My answer is yes.").
SHORT_ANSWER_OK = "detectable_format:constrained_response"


def score_instructions(
    reply: str,
    task: Task,
    mode: str,
    min_words: int = 0,
    instructions: Mapping[str, Any] | None = None,
) -> RewardResult:
    """Check ``reply`` against the task's instructions; every verdict goes into components.

    The reward is 0 for a reply of fewer than ``min_words`` words (unless the task asks for a
    fixed short answer); the verdicts in ``components`` are the official ones regardless.
    ``instructions``: the checker classes (default IFEval's; IFBench passes its own)."""
    meta = task.metadata
    ids, kwargs = meta["instruction_id_list"], meta["kwargs"]
    verdicts = check_reply(reply, ids, kwargs, task.prompt, instructions=instructions)
    n = len(verdicts)
    strict = sum(v.strict for v in verdicts)
    loose = sum(v.loose for v in verdicts)
    components = {
        "instructions": float(n),
        "followed_strict": float(strict),
        "followed_loose": float(loose),
        "prompt_strict": float(strict == n),
        "prompt_loose": float(loose == n),
    }
    for i, v in enumerate(verdicts):
        components[f"{i}:{v.instruction_id}:strict"] = float(v.strict)
        components[f"{i}:{v.instruction_id}:loose"] = float(v.loose)
    score = strict / n if mode == "partial" else float(strict == n)
    missed = [v.instruction_id for v in verdicts if not v.strict]
    reason = None if not missed else "not followed: " + ", ".join(missed)
    words = len(_WORD.findall(reply))
    if words < min_words and SHORT_ANSWER_OK not in meta["instruction_id_list"]:
        score, reason = 0.0, f"too short to count as an answer ({words} < {min_words} words)"
    return RewardResult(score=score, components=components, reason=reason)


def _mean_se(values: Sequence[float]) -> tuple[float, float | None]:
    m = len(values)
    mean = sum(values) / m
    if m < 2:
        return mean, None
    var = sum((v - mean) ** 2 for v in values) / (m - 1)
    return mean, math.sqrt(var / m)


def _ratio_se(num: Sequence[float], den: Sequence[float]) -> tuple[float, float | None]:
    """sum(num)/sum(den) with the delta-method standard error over problems (clusters)."""
    m, total = len(num), sum(den)
    ratio = sum(num) / total
    if m < 2:
        return ratio, None
    resid = [y - ratio * x for y, x in zip(num, den, strict=True)]
    var = sum(r * r for r in resid) / (m - 1)
    return ratio, math.sqrt(var / m) / (total / m)


def aggregate_ifeval(
    components: Sequence[Mapping[str, float]], n: int
) -> dict[str, tuple[float, float | None]]:
    """IFEval's four numbers (mean, stderr over problems) from per-reply components."""
    groups = [components[i : i + n] for i in range(0, len(components), n)]

    def per_problem(key: str) -> list[float]:
        return [sum(c.get(key, 0.0) for c in g) / len(g) for g in groups]

    inst = per_problem("instructions")
    return {
        "prompt_level_strict_acc": _mean_se(per_problem("prompt_strict")),
        "inst_level_strict_acc": _ratio_se(per_problem("followed_strict"), inst),
        "prompt_level_loose_acc": _mean_se(per_problem("prompt_loose")),
        "inst_level_loose_acc": _ratio_se(per_problem("followed_loose"), inst),
    }


class InstructionEnv:
    """Shared scoring, reference and metrics of the IFEval-style envs (a mixin of TextEnvs)."""

    reward_kind: ClassVar[str] = "instructions"
    family: ClassVar[str] = "instruction following"
    config_class: ClassVar[type | None] = IFEvalConfig
    config: Any  # the TextEnv's settings (an IFEvalConfig)

    def instructions(self) -> Mapping[str, Any] | None:
        """The checker classes by id (None: IFEval's)."""
        return None

    def score(self, reply: str, task: Task) -> RewardResult:
        cfg = self.config
        return score_instructions(reply, task, cfg.reward, cfg.min_words, self.instructions())

    def reference(self, task: Task) -> str:
        meta = task.metadata
        pairs = list(zip(meta["instruction_id_list"], meta["kwargs"], strict=True))

        def follows(reply: str) -> bool:
            ids, kwargs = meta["instruction_id_list"], meta["kwargs"]
            if len(_WORD.findall(reply)) < self.config.min_words and SHORT_ANSWER_OK not in ids:
                return False
            return all(v.strict for v in check_reply(reply, ids, kwargs, task.prompt, loose=False))

        return build_reference(pairs, task.prompt, follows)

    def aggregate_metrics(
        self, components: Sequence[Mapping[str, float]], n: int
    ) -> dict[str, tuple[float, float | None]]:
        return aggregate_ifeval(components, n)


class ShippedInstructionBenchmark(InstructionEnv, RowsEnv):
    """An evaluation-only benchmark of shipped prompts (IFEval, IFBench): the rows of
    ``prompts_file`` with ``key``, ``prompt``, ``instruction_id_list`` and ``kwargs``."""

    splits = ("test",)
    split_mode = "test"
    prompts_file: ClassVar[str] = ""

    def __init__(self, render_mode: str | None = None, **settings: Any) -> None:
        super().__init__(render_mode, **settings)
        self.instructions() or registry()  # fail at make time, with the install hint
        self._build()

    def split_rows(self) -> dict[str, list[tuple[str, Mapping[str, Any]]]]:
        rows = shipped_rows(self.prompts_file)
        return {"test": [(f"{self.prompts_file}:{i + 1}", r) for i, r in enumerate(rows)]}

    def make_problem(self, where: str, row: Mapping[str, Any]) -> Problem:
        meta = {
            "key": row["key"],
            "instruction_id_list": list(row["instruction_id_list"]),
            "kwargs": [dict(kw) for kw in row["kwargs"]],
        }
        return Problem(row["prompt"], "", "", row["prompt"], meta)
