"""``RowsEnv``: envs whose tasks are the rows of a dataset (rows -> problems -> split pools -> tasks).

The benchmark envs (GSM8K, MATH-500, IFEval) and ``DatasetEnv`` (envs/dataset.py) build on it.
Split modes: ``"hash"`` (a stable hash of the prompt decides: ``test_fraction``), ``"train"`` or
``"test"`` (the whole file is that split). ``evaluation_seeds(seed, problems)`` returns reset seeds
giving DISTINCT test problems, so evaluating 500 problems of MATH-500 sees each once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium.utils import seeding

from grpo_gym.rewards import Task

from .base import SPLITS, TextEnv, task_split


@dataclass(frozen=True)
class Problem:
    """One row made ready: the prompt, the gold answer and the worked solution (if any)."""

    question: str
    answer: str
    solution: str
    prompt: str = ""
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class RowsEnv(TextEnv):
    """Base of the envs whose tasks are the rows of a dataset (see module docstring).

    A subclass implements ``split_rows`` (the rows per split, or under ``"all"`` for a hash
    split) and ``make_problem`` (one row -> ``Problem``), may filter with ``keep``, and scores
    with ``score``. ``splits`` lists the splits it offers; asking for another is an error.
    """

    splits: tuple[str, ...] = SPLITS
    split_mode: str = "hash"
    name: str = "dataset"
    #: What to say when a split is not offered (e.g. what to train on instead).
    missing_split_hint: str = ""

    def __init__(self, render_mode: str | None = None, **settings: Any) -> None:
        super().__init__(render_mode, **settings)
        self._built_for: Any = object()
        self._pools: dict[str, list[Problem]] = {}

    # ---- to override -------------------------------------------------------------------
    def split_rows(self) -> dict[str, list[tuple[str, Mapping[str, Any]]]]:
        """``{split or "all": [(where, row), ...]}``; ``where`` names the row in errors."""
        raise NotImplementedError

    def make_problem(self, where: str, row: Mapping[str, Any]) -> Problem:
        raise NotImplementedError

    def keep(self, problem: Problem) -> bool:
        """Filters (subject, level, ...): False drops the problem from both splits."""
        return True

    # ---- pools -------------------------------------------------------------------------
    def _build(self) -> None:
        if self._built_for is self.config and self._pools:
            return
        pools: dict[str, list[Problem]] = {split: [] for split in SPLITS}
        for split, rows in self.split_rows().items():
            for where, row in rows:
                problem = self.make_problem(where, row)
                if not self.keep(problem):
                    continue
                target = split if split != "all" else self._split_of_prompt(problem.prompt)
                pools[target].append(problem)
        self._pools, self._built_for = pools, self.config
        if not any(pools[s] for s in self.splits):
            raise ValueError(f"{self.name}: no problem is left after the filters; loosen them")

    def _split_of_prompt(self, prompt: str) -> str:
        if self.split_mode == "hash":
            return task_split(prompt, self.test_fraction)
        return self.split_mode

    def split_of(self, prompt: str) -> str | None:
        """The split a prompt belongs to (None if it is none of this env's prompts)."""
        self._build()
        for split, pool in self._pools.items():
            if any(p.prompt == prompt for p in pool):
                return split
        return None

    def split_sizes(self) -> dict[str, int]:
        """How many problems each split holds (after the filters)."""
        self._build()
        return {split: len(pool) for split, pool in self._pools.items()}

    def problems_of(self, split: str) -> list[Problem]:
        self._check_split(split)
        self._build()
        return list(self._pools[split])

    def _check_split(self, split: str) -> None:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}: use 'train' or 'test'")
        if split not in self.splits:
            raise ValueError(
                f"{self.name} has no {split!r} split (it offers {', '.join(self.splits)})"
                + (f": {self.missing_split_hint}" if self.missing_split_hint else "")
            )

    # ---- tasks -------------------------------------------------------------------------
    def _to_task(self, problem: Problem) -> Task:
        meta = {"solution": problem.solution, **problem.metadata}
        return Task(prompt=problem.prompt, answer=problem.answer, metadata=meta)

    def _index(self, rng: np.random.Generator, split: str) -> int:
        return int(rng.integers(len(self._pools[split])))

    def generate_task(self, rng: np.random.Generator) -> Task:
        split = "train" if "train" in self.splits else self.splits[0]
        self._build()
        return self._to_task(self._pools[split][self._index(rng, split)])

    def _draw(self, split: str, max_tries: int = 10_000) -> Task:
        self._check_split(split)
        self._build()
        if not self._pools[split]:
            raise ValueError(
                f"{self.name}: no problem falls in the {split!r} split; add more problems"
            )
        return self._to_task(self._pools[split][self._index(self.np_random, split)])

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        options = dict(options or {})
        options.setdefault("split", "train" if "train" in self.splits else self.splits[0])
        self._check_split(options["split"])
        prompt, info = super().reset(seed=seed, options=options)
        info["solution"] = info["task"].metadata.get("solution", "")
        return prompt, info

    def evaluation_seeds(self, seed: int, problems: int, split: str = "test") -> list[int]:
        """Reset seeds giving ``min(problems, split size)`` distinct problems of ``split``, in a
        fixed order decided by ``seed`` (a smaller ``problems`` is a prefix of a larger one)."""
        self._check_split(split)
        self._build()
        size = len(self._pools[split])
        want = min(problems, size)
        stream = np.random.default_rng([seed, 0xE7A1])
        seen: set[int] = set()
        seeds: list[int] = []
        for _ in range(200 * size + 10_000):
            if len(seeds) >= want:
                break
            candidate = int(stream.integers(0, 2**31 - 1))
            index = self._index(seeding.np_random(candidate)[0], split)
            if index not in seen:
                seen.add(index)
                seeds.append(candidate)
        return seeds
