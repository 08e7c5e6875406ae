"""Any dataset as an env: rows of a file or a Hugging Face dataset become tasks.

``RowsEnv`` is the shared machinery (rows -> problems -> train/test pools -> tasks); the
benchmark envs (GSM8K, MATH-500, IFEval) build on it. ``DatasetEnv`` is the one-call, any-dataset
env (``grpo_gym/Dataset-v0``); ``MathDataset`` (``grpo_gym/MathDataset-v0``) is a preset of it.

Split modes: ``"hash"`` (a stable hash of the prompt decides: ``test_fraction``), ``"train"`` or
``"test"`` (the whole file is that split; asking for the other one is an error). Benchmark envs
with official split files override ``split_rows`` instead.

Evaluation over a finite set: ``evaluation_seeds(seed, problems)`` returns reset seeds that give
``problems`` DISTINCT problems of the test split (all of them when ``problems`` >= its size), so
an evaluation of 500 problems on MATH-500 sees each problem once.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from grpo_gym.rewards import RewardResult, Task, extract_gold

from .base import SPLITS
from .dataset_rewards import LETTERS, REWARD_KINDS, gold_letter, reward_function
from .dataset_source import LINE_KEY, DatasetLoadError, load_rows
from .rows import Problem, RowsEnv

INSTRUCTION = "Put the final answer in \\boxed{}."
CHOICE_INSTRUCTION = "Put the letter of the correct option in \\boxed{}."
SPLIT_MODES = ("hash", "train", "test")


def default_path() -> Path:
    """The small example file shipped with the package (42 problems, both answer styles)."""
    return Path(str(resources.files("grpo_gym.envs") / "data" / "math_examples.jsonl"))


def gold_answer(solution: str) -> str | None:
    """The final answer of a solution: after ``####`` (GSM8K), else the last ``\\boxed{}``
    (MATH), else the whole text if it is short (a bare answer like ``"42"``)."""
    if "####" in solution:
        return solution.rsplit("####", 1)[1].strip() or None
    if "\\boxed" in solution or "\\fbox" in solution:
        return extract_gold(solution)
    text = solution.strip()
    return text if text and len(text) <= 100 and "\n" not in text else None


@dataclass(frozen=True)
class DatasetSpec:
    """Settings of ``DatasetEnv`` (the kwargs of ``gymnasium.make("grpo_gym/Dataset-v0", ...)``).

    source: a .jsonl / .parquet / .csv file, a folder, a ``datasets`` hub id, or a list of dicts.
    prompt_key / answer_key: the columns of the question and of the gold (or worked solution).
    gold_regex: a regex whose group 1 (else whole match) is the gold inside the answer column.
    gold_fn: a callable ``fn(answer_text) -> gold`` (takes precedence over ``gold_regex``).
    template: the prompt; ``{prompt}`` is the question, any ``{column}`` a column of the row,
        ``{choices}`` the lettered options. Default: by reward kind (boxed answer / letter).
    reward: "math" (our verifier, default), "exact", "choice" or a callable ``fn(reply, task)``.
    choices_key: the column of the options list (multiple choice).
    split: "hash" (``test_fraction`` of the prompts by hash), "train" or "test" (the whole file).
    hf_config / hf_split: the config and split read from a folder or hub id.
    """

    source: Any = None
    prompt_key: str = "question"
    answer_key: str = "answer"
    gold_regex: str | None = None
    gold_fn: Callable[[str], Any] | None = None
    template: str | None = None
    reward: Any = "math"
    choices_key: str | None = None
    split: str = "hash"
    test_fraction: float = 0.1
    hf_config: str | None = None
    hf_split: str = "train"
    name: str | None = None

    def __post_init__(self) -> None:
        if self.split not in SPLIT_MODES:
            raise ValueError(f"split={self.split!r}: use one of {SPLIT_MODES}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        if not callable(self.reward) and self.reward not in REWARD_KINDS:
            raise ValueError(
                f"reward={self.reward!r}: use one of {REWARD_KINDS} or a callable fn(reply, task)"
            )
        if self.gold_regex is not None:
            try:
                re.compile(self.gold_regex)
            except re.error as exc:
                raise ValueError(
                    f"gold_regex {self.gold_regex!r} is not a valid regex: {exc}"
                ) from None
        if self.template is not None and "{prompt}" not in self.template:
            raise ValueError(f"template {self.template!r} must contain '{{prompt}}'")
        if self.template is not None and self.choices_key and "{choices}" not in self.template:
            raise ValueError("template must contain '{choices}' when choices_key is set")


class DatasetEnv(RowsEnv):
    """Any dataset as an env: a file, a folder or a Hugging Face dataset, in one call.

    ## Description
    Each row is a problem: the prompt is ``template`` filled with the row (the question column
    ``prompt_key`` as ``{prompt}``), the gold comes from ``answer_key`` (through ``gold_fn`` or
    ``gold_regex`` when it is a worked solution; for math, the number after ``####`` or the
    last ``\\boxed{}`` by default). See ``DatasetSpec`` for every setting.

    ## Observation
    The prompt. ## Action: the reply.

    ## Reward
    By ``reward``: ``math`` 1.0 iff the final answer equals the gold (our verifier),
    ``exact`` 1.0 iff the final answer equals the gold text (case and spacing ignored),
    ``choice`` 1.0 iff the picked option letter is the gold one, or a callable's value.

    ## Arguments
    ``gymnasium.make("grpo_gym/Dataset-v0", source="data.parquet", prompt_key="problem",
    answer_key="solution", reward="math", split="hash", test_fraction=0.1)``.

    ## Version History
    * v0: initial version.
    """

    description = "Any JSONL/Parquet/CSV file or Hugging Face dataset as an env (column mapping)"
    reward_kind = "math"
    config_class = DatasetSpec

    def __init__(self, render_mode: str | None = None, **settings: Any) -> None:
        super().__init__(render_mode, **settings)
        spec: DatasetSpec = self.config
        if spec.source is None:
            self.config = dataclasses.replace(spec, source=str(default_path()))
        self._rows_cache: tuple[Any, list[tuple[str, Mapping[str, Any]]]] | None = None
        self._build()  # load now: a bad file fails at make time, not at the first reset

    @property
    def splits(self) -> tuple[str, ...]:  # type: ignore[override]
        return SPLITS if self.config.split == "hash" else (self.config.split,)

    @property
    def split_mode(self) -> str:  # type: ignore[override]
        return self.config.split

    @property
    def test_fraction(self) -> float:  # type: ignore[override]
        return self.config.test_fraction

    @property
    def name(self) -> str:  # type: ignore[override]
        spec = self.config
        return (
            spec.name or f"Dataset {spec.source if not isinstance(spec.source, list) else '(rows)'}"
        )

    def split_rows(self) -> dict[str, list[tuple[str, Mapping[str, Any]]]]:
        spec = self.config
        key = (id(spec.source), spec.source if isinstance(spec.source, str) else None,
               spec.hf_config, spec.hf_split)  # fmt: skip
        if self._rows_cache is None or self._rows_cache[0] != key:
            rows = load_rows(
                spec.source, config=spec.hf_config, split=spec.hf_split, line_numbers=True
            )
            label = spec.source if isinstance(spec.source, str | Path) else "rows"
            where = [f"{label}:{row.pop(LINE_KEY, i + 1)}" for i, row in enumerate(rows)]
            self._rows_cache = (key, list(zip(where, rows, strict=True)))
        return {"all": self._rows_cache[1]}

    def _field(self, where: str, row: Mapping[str, Any], key: str) -> Any:
        if (
            key not in row
            or row[key] is None
            or (isinstance(row[key], str) and not row[key].strip())
        ):
            raise DatasetLoadError(
                f"{where}: missing or empty string field {key!r} (columns: {sorted(row)[:12]}); "
                "map the right columns with prompt_key= / answer_key="
            )
        return row[key]

    def _gold(self, where: str, value: Any, choices: list[str] | None) -> str:
        spec = self.config
        gold: Any = None
        if spec.gold_fn is not None:
            gold = spec.gold_fn(value)
        elif spec.gold_regex is not None:
            match = re.search(spec.gold_regex, str(value))
            gold = (match.group(1) if match.groups() else match.group(0)) if match else None
        elif spec.reward == "choice":
            gold = gold_letter(value, choices)
        elif spec.reward == "math" and isinstance(value, str):
            gold = gold_answer(value)
        else:
            gold = value
        gold = None if gold is None else str(gold).strip()
        if not gold:
            raise DatasetLoadError(
                f"{where}: no final answer in {spec.answer_key!r}: end it with '#### 42' or a "
                "\\boxed{}, or pass gold_regex= / gold_fn= to extract it"
            )
        return gold

    def make_problem(self, where: str, row: Mapping[str, Any]) -> Problem:
        spec = self.config
        question = str(self._field(where, row, spec.prompt_key)).strip()
        answer_value = self._field(where, row, spec.answer_key)
        choices = None
        if spec.choices_key:
            choices = [str(c) for c in self._field(where, row, spec.choices_key)]
        gold = self._gold(where, answer_value, choices)
        template = spec.template
        if template is None:
            if spec.reward == "choice":
                template = "{prompt}\n\n" + ("{choices}\n\n" if choices else "")
                template += CHOICE_INSTRUCTION.replace("{}", "{{}}")
            else:
                template = "{prompt}\n\n" + INSTRUCTION.replace("{}", "{{}}")
        fill = {str(k): v for k, v in row.items()}
        fill["prompt"] = question
        if choices is not None:
            fill["choices"] = "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(choices))
        try:
            prompt = template.format_map(fill)
        except (KeyError, IndexError, ValueError) as exc:
            raise DatasetLoadError(
                f"{where}: template {template!r} names a field the row lacks ({exc}); "
                "use {prompt} or a column name, and double the braces of a literal {}"
            ) from None
        meta = {"n_choices": len(choices)} if choices else {}
        solution = answer_value if isinstance(answer_value, str) else str(answer_value)
        return Problem(question, gold, solution, prompt, meta)

    def score(self, reply: str, task: Task) -> RewardResult:
        return reward_function(self.config.reward)(reply, task)


class MathDataset(DatasetEnv):
    """Math problems with known answers, from a JSONL file.

    ## Description
    Each line is a JSON object with a question and a solution: a GSM8K-style solution ending
    in ``#### <answer>``, a MATH-style solution with a final ``\\boxed{}``, or a bare answer.
    Default: 42 problems shipped with the package. A preset of ``DatasetEnv`` (math reward,
    hash split with ``test_fraction`` 0.2).

    ## Observation
    The question followed by "Put the final answer in \\boxed{}." (a str).

    ## Action
    The reply (a str).

    ## Reward
    1.0 if the reply's final answer is mathematically equivalent to the gold answer
    (``grpo_gym.rewards.math_reward``), else 0.0. Single-turn.

    ## Arguments
    ``gymnasium.make("grpo_gym/MathDataset-v0", path="gsm8k_train.jsonl",
    question_key="question", answer_key="answer")``. A missing file raises
    ``FileNotFoundError``; a malformed line raises ``ValueError`` naming ``file:line``.

    ## Version History
    * v0: initial version.
    """

    description = "Math word problems from a JSONL file (GSM8K '####' or MATH \\boxed answers)"

    def __init__(
        self,
        render_mode: str | None = None,
        path: str | Path | None = None,
        question_key: str = "question",
        answer_key: str = "answer",
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        if not self.path.is_file():
            raise FileNotFoundError(f"MathDataset: no such file: {self.path}")
        super().__init__(
            render_mode,
            source=str(self.path),
            prompt_key=question_key,
            answer_key=answer_key,
            test_fraction=0.2,
            name=f"MathDataset {self.path}",
        )

    @property
    def problems(self) -> list[Problem]:
        """Every problem, in file order."""
        return [self.make_problem(w, r) for w, r in self.split_rows()["all"]]


def load_problems(
    path: str | Path, question_key: str = "question", answer_key: str = "answer"
) -> list[Problem]:
    """Read and validate a JSONL file of math problems; errors name the file and line."""
    return MathDataset(path=path, question_key=question_key, answer_key=answer_key).problems
