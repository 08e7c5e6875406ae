"""GSM8K and MATH-500 as envs, on the data shipped in the package (works offline).

* ``grpo_gym/GSM8K-v0``: the official train file trains, the official test file evaluates.
* ``grpo_gym/MATH500-v0``: the 500-problem MATH test subset; evaluation only.

Both score with our math verifier (``grpo_gym.rewards.math_reward``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grpo_gym.rewards import RewardResult, Task, math_reward

from .benchmark_data import shipped_rows
from .rows import Problem, RowsEnv

BOXED_INSTRUCTION = "Put the final answer in \\boxed{{}}."
# lm-eval 0.4's gsm8k task stops generation here: a few-shot reply that goes on to invent the next
# "Question: ..." block ends at it, and only the reply before it is scored.
FEW_SHOT_STOP_STRINGS = ("Question:", "</s>", "<|im_end|>")
_CALCULATOR = re.compile(r"<<[^<>]*>>")


def _check_template(template: str, field: str) -> None:
    if "{" + field + "}" not in template:
        raise ValueError(f"template {template!r} must contain '{{{field}}}' (the problem text)")
    try:
        template.format_map({field: "x"})
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"template {template!r}: only '{{{field}}}' may be filled in, and a literal brace "
            f"is written doubled ('\\\\boxed{{{{}}}}'): {exc}"
        ) from None


def _rows(name: str) -> list[tuple[str, Mapping[str, Any]]]:
    return [(f"{name}:{i + 1}", row) for i, row in enumerate(shipped_rows(name))]


@dataclass(frozen=True)
class GSM8KConfig:
    """template: the prompt, with ``{question}``; n_shot: worked train examples shown first."""

    template: str = "{question}\n\n" + BOXED_INSTRUCTION
    n_shot: int = 0

    def __post_init__(self) -> None:
        _check_template(self.template, "question")
        if not 0 <= self.n_shot <= 16:
            raise ValueError(f"n_shot must be between 0 and 16, got {self.n_shot}")


def gsm8k_gold(solution: str) -> str:
    """The number after ``####`` in a GSM8K solution."""
    return solution.rsplit("####", 1)[1].strip()


def gsm8k_worked(solution: str) -> str:
    """A GSM8K solution as a shown example: calculator notes removed, the answer boxed."""
    steps, _, gold = solution.rpartition("####")
    steps = _CALCULATOR.sub("", steps).strip()
    return f"{steps}\nThe final answer is \\boxed{{{gold.strip()}}}."


class GSM8K(RowsEnv):
    """GSM8K grade-school math word problems (Cobbe et al., 2021), official splits.

    ## Description
    The official files shipped in the package: 7473 train problems (``split="train"``) and
    1319 test problems (``split="test"``); the split selects the file (no hash split). The gold
    answer is the number after ``####`` in the worked solution.

    ## Observation
    ``template`` filled with the question (default: the question, then "Put the final answer
    in \\boxed{}."), preceded by ``n_shot`` worked examples drawn from the TRAIN file only (the
    same examples for every problem; a train problem never sees itself).

    ## Action
    The reply (a str).

    ## Reward
    1.0 if the reply's final answer equals the gold number (``math_reward``: commas, dollar
    signs and units are handled), else 0.0. ``info["solution"]`` is the reference solution.
    With ``n_shot > 0`` the env declares lm-eval's stop strings (``"Question:"``, ``"</s>"``,
    ``"<|im_end|>"``): engines stop there and only the reply before the first one is scored. A
    reply cut at the token limit scores only on an explicit, finished final answer.

    ## Version History
    * v0: initial version. 2026-12: few-shot stop strings; truncated replies score only an
      explicit final answer (the committed results were re-scored).
    """

    description = "GSM8K word problems: official train file trains, official test file evaluates"
    reward_kind = "math"
    config_class = GSM8KConfig
    split_mode = "official"
    name = "GSM8K"

    def __init__(self, render_mode: str | None = None, **settings: Any) -> None:
        super().__init__(render_mode, **settings)
        if self.config.n_shot:
            self.stop_strings = FEW_SHOT_STOP_STRINGS
        self._build()

    def split_rows(self) -> dict[str, list[tuple[str, Mapping[str, Any]]]]:
        return {"train": _rows("gsm8k_train.jsonl"), "test": _rows("gsm8k_test.jsonl")}

    def _shots(self, question: str) -> str:
        if self.config.n_shot == 0:
            return ""
        train = shipped_rows("gsm8k_train.jsonl")
        # A fixed spread of train rows (every 997th), skipping the problem itself.
        picked = [r for r in train[::997] if r["question"] != question][: self.config.n_shot]
        blocks = [f"Question: {r['question']}\nAnswer: {gsm8k_worked(r['answer'])}" for r in picked]
        return "\n\n".join(blocks) + "\n\nQuestion: "

    def make_problem(self, where: str, row: Mapping[str, Any]) -> Problem:
        question = row["question"].strip()
        prompt = self._shots(row["question"]) + self.config.template.format_map(
            {"question": question}
        )
        return Problem(question, gsm8k_gold(row["answer"]), row["answer"], prompt)

    def score(self, reply: str, task: Task) -> RewardResult:
        return math_reward(reply, task)


MATH500_SUBJECTS = (
    "Algebra",
    "Counting & Probability",
    "Geometry",
    "Intermediate Algebra",
    "Number Theory",
    "Prealgebra",
    "Precalculus",
)


def _as_tuple(value: Any) -> tuple[Any, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | int):
        return (value,)
    return tuple(value)


@dataclass(frozen=True)
class MATH500Config:
    """subject / level: keep only these (a name or list; None = all); template with ``{problem}``."""

    subject: Any = None
    level: Any = None
    template: str = "{problem}\n\n" + BOXED_INSTRUCTION

    def __post_init__(self) -> None:
        _check_template(self.template, "problem")
        subjects, levels = _as_tuple(self.subject), _as_tuple(self.level)
        for s in subjects or ():
            if s not in MATH500_SUBJECTS:
                raise ValueError(f"unknown subject {s!r}: use one of {list(MATH500_SUBJECTS)}")
        for lv in levels or ():
            if not isinstance(lv, int) or not 1 <= lv <= 5:
                raise ValueError(f"level must be an integer 1..5 (or a list of them), got {lv!r}")
        object.__setattr__(self, "subject", subjects)
        object.__setattr__(self, "level", levels)


class MATH500(RowsEnv):
    """MATH-500: the 500 MATH test problems of "Let's Verify Step by Step" (Lightman et al., 2023).

    ## Description
    Competition math in 7 subjects and 5 levels, shipped in the package. Evaluation only:
    it has a ``test`` split and no ``train`` split (asking for one is an error that says what
    to train on instead). ``subject`` and ``level`` filter the problems; ``set_difficulty(i)``
    keeps level ``i + 1`` only (the difficulty hook).

    ## Observation
    ``template`` filled with the problem (default: the problem, then "Put the final answer in
    \\boxed{}.").

    ## Action
    The reply (a str).

    ## Reward
    1.0 if the reply's final answer is equivalent to the dataset's ``answer`` (our verifier),
    else 0.0. ``info["solution"]`` is the reference solution; the task's metadata has the
    subject, level and unique_id. An answer that restates the expression the problem asks to
    transform scores 0 (the echo rule); a reply cut at the token limit scores only an explicit,
    finished final answer.

    ## Version History
    * v0: initial version. 2026-12: the echo rule and the truncation rule (false positives
      found by hand in the committed replies; those results were re-scored, not renamed).
    """

    description = "MATH-500 competition problems (evaluation only), filter by subject and level"
    reward_kind = "math"
    config_class = MATH500Config
    splits = ("test",)
    split_mode = "test"
    name = "MATH500"
    missing_split_hint = (
        "MATH-500 is evaluation only; train on grpo_gym/GSM8K-v0 (split train), or on MATH's own "
        "train split as a file: gymnasium.make('grpo_gym/Dataset-v0', source='math_train.jsonl', "
        "prompt_key='problem', answer_key='solution', split='train')"
    )
    difficulty_levels = tuple({"level": level} for level in range(1, 6))

    def __init__(self, render_mode: str | None = None, **settings: Any) -> None:
        super().__init__(render_mode, **settings)
        self._build()

    def split_rows(self) -> dict[str, list[tuple[str, Mapping[str, Any]]]]:
        return {"test": _rows("math500_test.jsonl")}

    def keep(self, problem: Problem) -> bool:
        subjects, levels = self.config.subject, self.config.level
        meta = problem.metadata
        return (subjects is None or meta["subject"] in subjects) and (
            levels is None or meta["level"] in levels
        )

    def make_problem(self, where: str, row: Mapping[str, Any]) -> Problem:
        problem = row["problem"].strip()
        prompt = self.config.template.format_map({"problem": problem})
        meta = {
            "subject": row["subject"],
            "level": int(row["level"]),
            "unique_id": row["unique_id"],
        }
        return Problem(problem, str(row["answer"]), row["solution"], prompt, meta)

    def score(self, reply: str, task: Task) -> RewardResult:
        return math_reward(reply, task)
