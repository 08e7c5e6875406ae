"""Math word problems from a JSONL file (GSM8K ``#### 42`` or MATH ``\\boxed{}`` answers)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from grpo_gym.rewards import RewardResult, Task, extract_gold, math_reward

from .base import TextEnv, task_split

INSTRUCTION = "Put the final answer in \\boxed{}."


def default_path() -> Path:
    """The small example file shipped with the package (42 problems, both answer styles)."""
    return Path(str(resources.files("grpo_gym.envs") / "data" / "math_examples.jsonl"))


@dataclass(frozen=True)
class Problem:
    question: str
    answer: str
    solution: str


def gold_answer(solution: str) -> str | None:
    """The final answer of a solution: after ``####`` (GSM8K), else the last ``\\boxed{}``
    (MATH), else the whole text if it is short (a bare answer like ``"42"``)."""
    if "####" in solution:
        return solution.rsplit("####", 1)[1].strip() or None
    if "\\boxed" in solution or "\\fbox" in solution:
        return extract_gold(solution)
    text = solution.strip()
    return text if text and len(text) <= 100 and "\n" not in text else None


def load_problems(
    path: str | Path, question_key: str = "question", answer_key: str = "answer"
) -> list[Problem]:
    """Read and validate a JSONL file; errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MathDataset: no such file: {path}")
    problems = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(
                    f"{where}: expected a JSON object with {question_key!r} and {answer_key!r}"
                )
            for key in (question_key, answer_key):
                if not isinstance(row.get(key), str) or not row[key].strip():
                    raise ValueError(f"{where}: missing or empty string field {key!r}")
            gold = gold_answer(row[answer_key])
            if not gold:
                raise ValueError(
                    f"{where}: no final answer in {answer_key!r}: end it with '#### 42' or a \\boxed{{}}"
                )
            problems.append(
                Problem(question=row[question_key].strip(), answer=gold, solution=row[answer_key])
            )
    if not problems:
        raise ValueError(f"{path}: the file holds no problems")
    return problems


class MathDataset(TextEnv):
    """Math problems with known answers, from a JSONL file.

    ## Description
    Each line is ``{"question": ..., "answer": ...}``; the answer is a GSM8K-style solution
    ending in ``#### 42``, a MATH-style solution with a final ``\\boxed{...}``, or just the
    answer. With no ``path`` the env uses a 42-problem example file shipped in
    ``grpo_gym/envs/data/math_examples.jsonl``. Each ``reset`` draws a problem of the requested
    split at random (the split of a problem is a hash of its prompt).

    ## Observation
    The question followed by ``"Put the final answer in \\boxed{}."``.

    ## Action
    The model's reply (str); the last ``\\boxed{}`` (or the final number) is the answer.

    ## Reward
    1.0 if the answer is mathematically equal to the gold answer
    (``grpo_gym.rewards.math_reward``), else 0.0. Single-turn.

    ## Arguments
    ``gymnasium.make("grpo_gym/MathDataset-v0", path="gsm8k_train.jsonl",
    question_key="question", answer_key="answer")``. A missing file raises
    ``FileNotFoundError``; a malformed line raises ``ValueError`` naming ``file:line``.

    ## Version History
    * v0: initial version.
    """

    description = "Math word problems from a JSONL file (GSM8K '####' or MATH \\boxed answers)"
    reward_kind = "math"
    test_fraction = 0.2

    def __init__(
        self,
        render_mode: str | None = None,
        path: str | Path | None = None,
        question_key: str = "question",
        answer_key: str = "answer",
    ) -> None:
        super().__init__(render_mode)
        self.path = Path(path) if path is not None else default_path()
        self.problems = load_problems(self.path, question_key, answer_key)
        self._by_split: dict[str, list[int]] = {"train": [], "test": []}
        for i, problem in enumerate(self.problems):
            self._by_split[task_split(self._prompt(problem), self.test_fraction)].append(i)

    @staticmethod
    def _prompt(problem: Problem) -> str:
        return f"{problem.question}\n\n{INSTRUCTION}"

    def _make_task(self, index: int) -> Task:
        problem = self.problems[index]
        return Task(
            prompt=self._prompt(problem),
            answer=problem.answer,
            metadata={"index": index, "solution": problem.solution},
        )

    def generate_task(self, rng: np.random.Generator) -> Task:
        return self._make_task(int(rng.integers(len(self.problems))))

    def _draw(self, split: str, max_tries: int = 10_000) -> Task:
        pool = self._by_split[split]
        if not pool:
            raise ValueError(
                f"MathDataset {self.path}: no problem falls in the {split!r} split; add more problems"
            )
        return self._make_task(pool[int(self.np_random.integers(len(pool)))])

    def score(self, reply: str, task: Task) -> RewardResult:
        return math_reward(reply, task)

    def split_sizes(self) -> dict[str, int]:
        """How many problems each split holds."""
        return {split: len(ids) for split, ids in self._by_split.items()}
