"""IFEval (Zhou et al., 2023) and IFEvalLike: instruction following, checked by the official
checkers (``ifeval_checks``; optional extra ``grpo-gym[ifeval]``).

* ``grpo_gym/IFEval-v1``: the 541 IFEval prompts (shipped), evaluation only; its pass@1 is
  IFEval's prompt-level strict accuracy. ``grpo_gym/IFEval-v0`` is the same env with the old
  default ``min_words=8`` (see ``BenchmarkConfig``), kept so old reports can be reproduced.
* ``grpo_gym/IFEvalLike-v0``: NEW prompts (a writing task plus 1-3 instructions of IFEval's 25
  types with random arguments, none equal to an IFEval prompt) for training, with a hash split.

Evaluation reports IFEval's four official numbers through ``aggregate_metrics``:
``prompt_level_strict_acc``, ``inst_level_strict_acc``, ``prompt_level_loose_acc``,
``inst_level_loose_acc``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from grpo_gym.rewards import Task

from .base import TextEnv, task_split
from .benchmark_data import shipped_rows
from .ifeval_checks import registry
from .instruction_env import IFEvalConfig, InstructionEnv, ShippedInstructionBenchmark
from .rows import Problem

#: IFEval prompts that no reply can fully follow under the official checkers: the text to
#: repeat verbatim ("combination:repeat_prompt") breaks another instruction of the same prompt.
#: 1627 and 3718 contain a comma ("no_comma"); 374 and 3371 contain a forbidden word; 3369
#: contains "right" twice (less than 2 times asked). The best reply follows all but one.
UNFOLLOWABLE = frozenset({374, 1627, 3369, 3371, 3718})


@dataclass(frozen=True)
class BenchmarkConfig(IFEvalConfig):
    """Settings of the shipped benchmarks (IFEval-v1, IFBench-v1). As ``IFEvalConfig``, but the
    length gate is off by default (``min_words=0``), so the reward's success is the official
    prompt-level strict verdict and pass@1 is the official prompt-level strict accuracy.

    ``min_words=8`` (opt-in; the default of the ``-v0`` ids) zeroes a reply of fewer words
    unless it asks for a fixed short answer. Use it when training on these prompts (or on your
    own copy of them): the official checkers judge form, not content, so replies that say
    nothing follow many instructions ("I don't know." uses no commas; an untrained model's
    8-token junk scored 0.33 prompt-level strict on IFBench), and the gate keeps a policy from
    farming them. It is not the official number: on SmolLM2-135M's committed replies it gave
    pass@1 0.183 on IFEval and 0.083 on IFBench, against official 0.200 and 0.104."""

    min_words: int = 0


class IFEval(ShippedInstructionBenchmark):
    """IFEval: 541 prompts with verifiable instructions (Zhou et al., 2023, arXiv:2311.07911).

    ## Description
    Each prompt asks for a piece of writing under 1-3 of 25 instruction types (word counts,
    no commas, JSON, sections, language, ...). The prompts ship in the package; the checkers are
    the official ones (PyPI ``if-verifiable``, extra ``grpo-gym[ifeval]``). Evaluation only:
    train on ``grpo_gym/IFEvalLike-v0``.

    ## Observation
    The IFEval prompt, verbatim.

    ## Action
    The reply (a str).

    ## Reward
    ``reward="partial"`` (default): the fraction of instructions followed (strict check);
    ``"strict"``: 1.0 only if all are. A reply is a success when all are followed, so pass@1 is
    IFEval's prompt-level strict accuracy. ``min_words`` (default 0, off) is an opt-in length
    gate for training (``BenchmarkConfig``): with it pass@1 is no longer the official number.
    ``info["components"]`` has every instruction's strict and loose verdict; evaluation adds
    IFEval's four official accuracies, which never use the gate. Language detection is seeded,
    so scores are deterministic. The reference reply is built to follow every instruction
    (``ifeval_reference``), not written by a person.

    ## Version History
    * v1: the length gate is off by default (``min_words=0``): pass@1 is the official
      prompt-level strict accuracy (v0 scored replies under 8 words 0, so its pass@1 was
      lower: 0.183 against 0.200 on SmolLM2-135M's replies).
    * v0: initial version (``min_words=8``); still registered with that default.
    """

    description = "IFEval's 541 prompts, official checkers, 4 official accuracies (eval only)"
    config_class = BenchmarkConfig
    name = "IFEval"
    #: ``envs check`` judges junk replies under the training gate: the official checkers pass
    #: "I don't know." on dozens of prompts ("use no commas", "at most 50 words").
    check_settings: ClassVar[Mapping[str, Any]] = {"min_words": 8}
    prompts_file = "ifeval_input_data.jsonl"
    missing_split_hint = "IFEval is evaluation only; train on grpo_gym/IFEvalLike-v0"

    def make_problem(self, where: str, row: Mapping[str, Any]) -> Problem:
        problem = super().make_problem(where, row)
        meta = {**problem.metadata, "followable": row["key"] not in UNFOLLOWABLE}
        return dataclasses.replace(problem, metadata=meta)

    def _to_task(self, problem: Problem) -> Task:
        return Task(prompt=problem.prompt, answer=None, metadata=dict(problem.metadata))


#: Writing tasks of IFEvalLike prompts: a form and a topic (none is an IFEval prompt).
FORMS = (
    "Write a short essay about {topic}.",
    "Write a blog post about {topic}.",
    "Write a letter to a friend about {topic}.",
    "Write a product description inspired by {topic}.",
    "Write a short story that involves {topic}.",
    "Explain {topic} to a ten year old.",
    "Write a speech for a school assembly about {topic}.",
    "Write a travel guide entry that mentions {topic}.",
    "Write a review of a book about {topic}.",
    "Give advice to someone who is new to {topic}.",
)
TOPICS = (
    "the history of tea", "urban gardening", "learning a second language", "the night sky",
    "renewable energy", "a rainy weekend", "the life of bees", "public libraries",
    "mountain hiking", "home cooking on a budget", "the first day at a new job", "old maps",
    "a small fishing village", "volunteering", "the invention of the bicycle", "board games",
    "saving money", "coral reefs", "a family recipe", "remote work", "street food",
    "the ocean tides", "a music festival", "learning to swim", "recycling at home",
    "the moon landing", "a desert journey", "winter sports", "a lighthouse keeper",
    "training a puppy", "city parks", "the printing press", "a science fair", "rainforests",
    "running a marathon", "a bakery at dawn", "chess", "trains", "photography", "honey",
)  # fmt: skip


def _random_kwargs(iid: str, rng: Any, task_text: str) -> dict[str, Any]:
    """Random arguments for one instruction type, in the ranges of IFEval's own generator."""
    from if_verifiable.ifeval import instructions_util

    from .ifeval_reference import LANGUAGE_TEXT

    words = instructions_util.WORD_LIST
    rel = ("less than", "at least")

    def word() -> str:
        return str(words[int(rng.integers(len(words)))])

    def pick(options: Sequence[Any]) -> Any:
        return options[int(rng.integers(len(options)))]

    table: dict[str, Any] = {
        "language:response_language": lambda: {
            "language": pick(sorted(set(LANGUAGE_TEXT) & set(instructions_util.LANGUAGE_CODES)))
        },
        "length_constraints:number_sentences": lambda: {
            "num_sentences": int(rng.integers(1, 21)), "relation": pick(rel)},
        "detectable_content:number_placeholders": lambda: {
            "num_placeholders": int(rng.integers(1, 5))},
        "detectable_format:number_bullet_lists": lambda: {"num_bullets": int(rng.integers(1, 6))},
        "detectable_format:number_highlighted_sections": lambda: {
            "num_highlights": int(rng.integers(1, 5))},
        "detectable_format:multiple_sections": lambda: {
            "section_spliter": pick(("Section", "SECTION")), "num_sections": int(rng.integers(1, 6))},
        "length_constraints:number_paragraphs": lambda: {"num_paragraphs": int(rng.integers(1, 6))},
        "detectable_content:postscript": lambda: {"postscript_marker": pick(("P.S.", "P.P.S"))},
        "keywords:existence": lambda: {"keywords": [word(), word()]},
        "keywords:frequency": lambda: {
            "keyword": word(), "frequency": int(rng.integers(1, 4)), "relation": pick(rel)},
        "length_constraints:number_words": lambda: {
            "num_words": int(rng.integers(100, 501)), "relation": pick(rel)},
        "keywords:forbidden_words": lambda: {"forbidden_words": [word(), word()]},
        "startend:end_checker": lambda: {
            "end_phrase": pick(("Any other questions?", "Is there anything else I can help with?"))},
        "keywords:letter_frequency": lambda: {
            "letter": pick("abcdefghijklmnopqrstuvwxyz"), "let_frequency": int(rng.integers(1, 11)),
            "let_relation": pick(rel)},
        "change_case:capital_word_frequency": lambda: {
            "capital_frequency": int(rng.integers(1, 21)), "capital_relation": pick(rel)},
        "combination:repeat_prompt": lambda: {"prompt_to_repeat": task_text},
    }  # fmt: skip
    if iid == "length_constraints:nth_paragraph_first_word":
        k = int(rng.integers(1, 6))
        return {
            "num_paragraphs": k,
            "nth_paragraph": int(rng.integers(1, k + 1)),
            "first_word": word(),
        }
    return table[iid]() if iid in table else {}


def _conflicts() -> dict[str, set[str]]:
    from if_verifiable.ifeval.instructions_registry import INSTRUCTION_CONFLICTS

    out = {k: set(v) for k, v in INSTRUCTION_CONFLICTS.items()}
    for key in list(out):
        for other in list(out[key]):
            out.setdefault(other, set()).add(key)
        out[key].add(key)
    return out


@dataclass(frozen=True)
class IFEvalLikeConfig(IFEvalConfig):
    """max_instructions: 1..3 instructions per prompt (IFEval has 1-3)."""

    max_instructions: int = 3

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.max_instructions <= 3:
            raise ValueError(f"max_instructions must be 1, 2 or 3, got {self.max_instructions}")


class IFEvalLike(InstructionEnv, TextEnv):
    """New IFEval-style prompts for training: a writing task plus 1-3 random instructions.

    ## Description
    A writing task (a form and a topic) followed by the descriptions of 1-3 instructions of
    IFEval's 25 types, with random arguments in IFEval's ranges, never two that IFEval marks
    as conflicting, and only combinations that a reply can follow (checked when the task is
    drawn). No prompt equals one of IFEval's 541 (tested): train here, evaluate on IFEval-v0.

    ## Observation
    The prompt. ## Action: the reply.

    ## Reward
    As ``IFEval-v0`` (same official checkers): ``partial`` fraction followed or ``strict``.

    ## Version History
    * v0: initial version.
    """

    description = "New IFEval-style prompts (1-3 random instructions, official checkers): train"
    config_class = IFEvalLikeConfig
    name = "IFEvalLike"
    difficulty_levels = ({"max_instructions": 1}, {"max_instructions": 2}, {"max_instructions": 3})

    def __init__(self, render_mode: str | None = None, **settings: Any) -> None:
        super().__init__(render_mode, **settings)
        registry()
        self._ifeval_prompts = {r["prompt"] for r in shipped_rows("ifeval_input_data.jsonl")}

    def _draw_one(self, rng: Any) -> tuple[str, dict[str, Any]]:
        task_text = str(rng.choice(FORMS)).format(topic=str(rng.choice(TOPICS)))
        ids = sorted(registry())
        conflicts = _conflicts()
        chosen: list[str] = []
        for _ in range(int(rng.integers(1, self.config.max_instructions + 1))):
            free = [i for i in ids if not any(i in conflicts.get(c, {c}) for c in chosen)]
            if not free:
                break
            chosen.append(str(free[int(rng.integers(len(free)))]))
        kwargs = [_random_kwargs(i, rng, task_text) for i in chosen]
        texts = [task_text]
        for iid, kw in zip(chosen, kwargs, strict=True):
            texts.append(registry()[iid](iid).build_description(**kw))
        meta = {"instruction_id_list": chosen, "kwargs": kwargs}
        return " ".join(t.strip() for t in texts), meta

    def pose_task(self, rng: Any) -> tuple[str, Any]:
        prompt, meta = self._draw_one(rng)
        return prompt, lambda: self._followable(Task(prompt=prompt, answer=None, metadata=meta))

    def _followable(self, task: Task) -> Task:
        """The task with its reference reply, marked followable (the reference scores max)."""
        reply = InstructionEnv.reference(self, task)  # type: ignore[arg-type]
        ok = self.score(reply, task).score >= self.max_reward
        meta = {**task.metadata, "reference": reply, "followable": ok}
        return Task(prompt=task.prompt, answer=None, metadata=meta)

    def _draw(self, split: str, max_tries: int = 10_000) -> Task:
        """Draw until a prompt of ``split`` (by its hash), new (not an IFEval prompt) and
        followable (the reference builder succeeds) comes up; only kept candidates are built."""
        for _ in range(max_tries):
            prompt, meta = self._draw_one(self.np_random)
            if prompt in self._ifeval_prompts or task_split(prompt, self.test_fraction) != split:
                continue
            task = self._followable(Task(prompt=prompt, answer=None, metadata=meta))
            if task.metadata["followable"]:
                return task
        raise RuntimeError(f"IFEvalLike: no followable {split!r} prompt in {max_tries} draws")

    def reference(self, task: Task) -> str:
        return task.metadata.get("reference") or super().reference(task)

    def split_of(self, prompt: str) -> str:
        return task_split(prompt, self.test_fraction)
