"""Math answer rewards: ``verify``, ``math_reward`` and ``verify_batch``.

Flow for one (gold, completion) pair:

1. Extract the answer from both sides (:mod:`.extract`; pure string work, input capped).
2. Identical answer text, or two plain numbers (:mod:`.numbers`): decided in-process with
   ``fractions.Fraction``, no sympy and no worker round-trip.
3. Anything else: parsed and compared symbolically (:mod:`.mathparse`, :mod:`.equivalence`)
   in a worker process under a hard time limit (:mod:`.pool`). An overrun scores 0 with
   ``timed_out=True``. Each worker keeps an LRU cache of parsed answers (a GRPO group
   parses its gold once); :func:`clear_math_caches` empties them.

Model text is never executed: it is only matched by regular expressions, tokenized against
a whitelist, or parsed by the ANTLR LaTeX grammar.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .echo import ECHO_REASON, restates_problem
from .equivalence import check_pair
from .extract import extract_answer, extract_gold
from .math_config import MathVerifyConfig, resolve_config
from .mathparse import clear_parse_cache
from .numbers import Num, numbers_equal, parse_number
from .pool import CheckTimeout, WorkerError, get_pool
from .truncation import scorable_prefix
from .types import RewardResult, Task, is_truncated
from .unicode_math import ascii_math

__all__ = ["clear_math_caches", "math_reward", "verify", "verify_batch"]

TRUNCATED_NO_ANSWER = "cut at the token limit before a finished final answer"


def _result(
    ok: bool, extracted: str | None, reason: str | None = None, **extra: Any
) -> RewardResult:
    score = 1.0 if ok else 0.0
    return RewardResult(
        score=score,
        components={"correct": score},
        extracted=extracted,
        reason=None if ok else (reason or "not equivalent"),
        **extra,
    )


@functools.lru_cache(maxsize=4096)
def _gold(gold: str, join_adjacent_boxed: bool, max_chars: int) -> tuple[str | None, Num | None]:
    """The gold's extracted answer and plain-number value, once per gold (a GRPO group shares it)."""
    ans = extract_gold(
        ascii_math(gold), join_adjacent_boxed=join_adjacent_boxed, max_chars=max_chars
    )
    return ans, (parse_number(ans) if ans is not None else None)


def _prepare(
    gold: str, completion: str, cfg: MathVerifyConfig, prompt: str | None = None
) -> RewardResult | tuple[str, str]:
    """Extraction and the in-process fast paths: a final result, or the answers to check.

    With the task's ``prompt``, an answer that restates the expression the problem asks to
    transform ("Simplify $\\sqrt{242}$" answered ``\\sqrt{242}``) scores 0 (the echo rule,
    :mod:`.echo`); the gold itself is never an echo. Without a prompt there is no echo check.
    """
    if not isinstance(gold, str) or not isinstance(completion, str):
        return _result(False, None, "not a string")
    gold_ans, g = _gold(gold, cfg.join_adjacent_boxed, cfg.max_input_chars)
    if gold_ans is None:
        return _result(False, None, "gold has no answer")
    pred = extract_answer(
        ascii_math(completion[-cfg.max_input_chars :]),
        modes=cfg.modes,
        join_adjacent_boxed=cfg.join_adjacent_boxed,
        max_chars=cfg.max_input_chars,
    )
    if pred is None:
        return _result(False, None, "no answer found")
    if len(pred) > cfg.max_answer_chars:
        return _result(False, pred[: cfg.max_answer_chars], "answer too long")
    if prompt is not None and restates_problem(pred, prompt, gold=gold_ans):
        return _result(False, pred, ECHO_REASON)
    p = parse_number(pred)
    if g is not None and p is None:
        p = _value_ending_a_computation(pred)  # "1 + 1/2 + ... = 4": its value, 4
    if (
        g is not None
        and p is not None
        and prompt is not None
        and _in_cents(pred, completion, prompt)
    ):
        p = dataclasses.replace(
            p, value=p.value / 100
        )  # "10 cents" where the question counts dollars
    elif "".join(pred.split()) == "".join(gold_ans.split()):
        return _result(True, pred)
    if g is not None and p is not None:
        ok = numbers_equal(
            g,
            p,
            cfg.rel_tol,
            cfg.float_rounding,
            cfg.percent_as_fraction,
            cfg.min_significant_digits,
        )
        return _result(ok, pred)
    return gold_ans, pred


_CENTS_RE = re.compile(r"\bcents?\b|¢")
_CENTS_AFTER_RE = re.compile(r"\s*(?:cents?\b|¢)")
_LATEX_COMMAND_RE = re.compile(r"\\[A-Za-z]+")
_LETTER_RE = re.compile(r"[A-Za-z]")


def _in_cents(pred: str, completion: str, prompt: str) -> bool:
    """The answer is counted in cents (``10 cents``, or ``20`` followed by "cents" in the reply)
    while the question never speaks of cents (it counts dollars): "10 cents" is not $10."""
    if "cent" in prompt.lower() or "¢" in prompt:
        return False
    at = completion.rfind(pred)
    after = completion[at + len(pred) : at + len(pred) + 12] if at >= 0 else ""
    return bool(_CENTS_RE.search(pred) or _CENTS_AFTER_RE.match(after))


def _value_ending_a_computation(pred: str) -> Num | None:
    """The plain number after the last ``=`` of an answer that is a computation of constants
    (``1+\\frac{1}{2}+\\frac{1}{4}+\\cdots = 4``, which the parser cannot read), else None.

    Only when the left side names no variable: ``x + 1 = 4`` is not the value 4.
    """
    lhs, eq, rhs = pred.rpartition("=")
    if not eq or lhs.endswith(("<", ">", "!", "\\")) or not lhs.strip():
        return None
    if _LETTER_RE.search(_LATEX_COMMAND_RE.sub(" ", lhs)):
        return None
    return parse_number(rhs)


def _symbolic(gold_ans: str, pred: str, cfg: MathVerifyConfig) -> RewardResult:
    try:
        ok, reason = get_pool(cfg.workers).run(check_pair, gold_ans, pred, cfg, timeout=cfg.timeout)
    except CheckTimeout:
        return _result(False, pred, "timeout", timed_out=True)
    except WorkerError as exc:
        return _result(False, pred, "error", error=str(exc)[:500])
    return _result(ok, pred, reason)


def _score(
    gold: str, completion: str, cfg: MathVerifyConfig, prompt: str | None = None
) -> RewardResult:
    try:
        prepared = _prepare(gold, completion, cfg, prompt)
        if isinstance(prepared, RewardResult):
            return prepared
        return _symbolic(*prepared, cfg)
    except Exception as exc:  # a reward function never raises on model text
        return _result(False, None, "error", error=f"{type(exc).__name__}: {exc}"[:500])


def math_reward(
    completion: str, task: Task, *, config: MathVerifyConfig | None = None, **options: Any
) -> RewardResult:
    """Score ``completion`` 1.0/0.0 against ``task.answer`` (a :data:`RewardFn`).

    Args:
        completion: the model's text.
        task: its ``answer`` is the gold answer (plain, ``$...$`` or boxed).
        config: a :class:`MathVerifyConfig`; ``options`` (its field names) override it.

    A reply cut at the token limit (``Reply`` with ``finish_reason="length"``) is scored only
    on an explicit, finished final answer (``rewards/truncation.py``): never on the last number.

    Returns:
        RewardResult with ``components={"correct": score}``, ``extracted`` (the answer found),
        ``reason`` ("no answer found", "not equivalent", "unparseable", "timeout", ...) and
        ``timed_out``.
    """
    cfg = resolve_config(config, options)
    if task.answer is None:
        return _result(False, None, "task has no answer")
    if is_truncated(completion):
        text = ascii_math(completion[-cfg.max_input_chars :])
        how = scorable_prefix(text, cfg.modes, join_adjacent_boxed=cfg.join_adjacent_boxed)
        if how is None:
            return _result(False, None, TRUNCATED_NO_ANSWER)
        completion, modes = how
        cfg = dataclasses.replace(cfg, modes=modes)
    return _score(task.answer, completion, cfg, task.prompt)


def verify(
    gold: str, completion: str, *, config: MathVerifyConfig | None = None, **options: Any
) -> bool:
    """Whether the final answer in ``completion`` is equivalent to ``gold``.

    ``gold`` may be plain (``3/4``), ``$...$``-wrapped or boxed; ``completion`` is free text
    whose final answer is extracted (see :func:`extract_answer`). Never raises on bad text.
    """
    return _score(gold, completion, resolve_config(config, options)).score == 1.0


def verify_batch(
    pairs: Sequence[tuple[str, str]], *, config: MathVerifyConfig | None = None, **options: Any
) -> list[RewardResult]:
    """Score many ``(gold, completion)`` pairs, running symbolic checks across the pool.

    Plain-number pairs are decided in-process; the rest run in parallel on
    ``config.workers`` worker processes. Results keep the order of ``pairs``.
    """
    cfg = resolve_config(config, options)
    results: list[RewardResult | None] = [None] * len(pairs)
    pending: list[tuple[int, str, str]] = []
    for i, (gold, completion) in enumerate(pairs):
        try:
            prepared = _prepare(gold, completion, cfg)
        except Exception as exc:
            prepared = _result(False, None, "error", error=f"{type(exc).__name__}: {exc}"[:500])
        if isinstance(prepared, RewardResult):
            results[i] = prepared
        else:
            pending.append((i, *prepared))
    if pending:
        get_pool(cfg.workers)
        with ThreadPoolExecutor(max_workers=min(cfg.workers, len(pending))) as ex:
            futures = [(i, ex.submit(_symbolic, g, p, cfg)) for i, g, p in pending]
            for i, fut in futures:
                try:
                    results[i] = fut.result()
                except Exception as exc:
                    results[i] = _result(
                        False, None, "error", error=f"{type(exc).__name__}: {exc}"[:500]
                    )
    return [r for r in results if r is not None]


def clear_math_caches(timeout: float = 30.0) -> None:
    """Empty the parse caches of this process and of every worker of the shared pool
    (for cold-cache measurements; correctness never depends on the caches)."""
    clear_parse_cache()
    _gold.cache_clear()
    get_pool().run_on_all(clear_parse_cache, timeout=timeout)
