"""IFEval (Zhou et al., 2023) and IFEvalLike: instruction following, checked by the official
checkers (``ifeval_checks``; optional extra ``grpo-gym[ifeval]``).

* ``grpo_gym/IFEval-v0``: the 541 IFEval prompts (shipped), evaluation only.
* ``grpo_gym/IFEvalLike-v0``: NEW prompts (a writing task plus 1-3 instructions of IFEval's 25
  types with random arguments, none equal to an IFEval prompt) for training, with a hash split.

Evaluation reports IFEval's four official numbers through ``aggregate_metrics``:
``prompt_level_strict_acc``, ``inst_level_strict_acc``, ``prompt_level_loose_acc``,
``inst_level_loose_acc``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from grpo_gym.rewards import RewardResult, Task

from .base import TextEnv, task_split
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


class _InstructionEnv:
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


#: IFEval prompts that no reply can fully follow under the official checkers: the text to
#: repeat verbatim ("combination:repeat_prompt") breaks another instruction of the same prompt.
#: 1627 and 3718 contain a comma ("no_comma"); 374 and 3371 contain a forbidden word; 3369
#: contains "right" twice (less than 2 times asked). The best reply follows all but one.
UNFOLLOWABLE = frozenset({374, 1627, 3369, 3371, 3718})


class IFEval(_InstructionEnv, RowsEnv):
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
    IFEval's prompt-level strict accuracy. ``info["components"]`` has every instruction's strict
    and loose verdict; evaluation adds IFEval's four official accuracies. Language detection is
    seeded, so scores are deterministic. The reference reply is built to follow every
    instruction (``ifeval_reference``), not written by a person.

    ## Version History
    * v0: initial version.
    """

    description = "IFEval's 541 prompts, official checkers, 4 official accuracies (eval only)"
    splits = ("test",)
    split_mode = "test"
    name = "IFEval"
    missing_split_hint = "IFEval is evaluation only; train on grpo_gym/IFEvalLike-v0"

    def __init__(self, render_mode: str | None = None, **settings: Any) -> None:
        super().__init__(render_mode, **settings)
        registry()  # fail at make time, with the install hint, if the extra is missing
        self._build()

    def split_rows(self) -> dict[str, list[tuple[str, Mapping[str, Any]]]]:
        name = "ifeval_input_data.jsonl"
        return {"test": [(f"{name}:{i + 1}", r) for i, r in enumerate(shipped_rows(name))]}

    def make_problem(self, where: str, row: Mapping[str, Any]) -> Problem:
        meta = {
            "key": row["key"],
            "instruction_id_list": list(row["instruction_id_list"]),
            "kwargs": [dict(kw) for kw in row["kwargs"]],
            "followable": row["key"] not in UNFOLLOWABLE,
        }
        return Problem(row["prompt"], "", "", row["prompt"], meta)

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


class IFEvalLike(_InstructionEnv, TextEnv):
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
        reply = _InstructionEnv.reference(self, task)  # type: ignore[arg-type]
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
