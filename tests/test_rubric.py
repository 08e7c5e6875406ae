"""Rubric (weighted combination, error isolation, nesting), PassFail, TaskRubric, TRL adapters."""

from __future__ import annotations

import math
import pickle

import pytest

from grpo_gym.rewards import (
    BulletCount,
    FromTrl,
    IncludeKeywords,
    NoCommas,
    OverlongPenalty,
    PassFail,
    RewardResult,
    Rubric,
    RubricItem,
    TagAnswerEquals,
    TagFormat,
    Task,
    TaskRubric,
    ToTrl,
)

T = Task(prompt="What is 3+4?", answer="7")
GOOD = "<think>3+4=7</think><answer>7</answer>"


def boom(completion: str, task: Task) -> RewardResult:
    raise RuntimeError("kaput")


def not_a_result(completion: str, task: Task) -> float:
    return 1.0


def nan_score(completion: str, task: Task) -> RewardResult:
    return RewardResult(score=math.nan)


R = Rubric([("format", TagFormat(), 0.2), ("correct", TagAnswerEquals(), 1.0)])


@pytest.mark.parametrize(
    ("reply", "score", "fmt", "correct"),
    [
        (GOOD, 1.2, 1.0, 1.0),
        ("<think>hm</think><answer>8</answer>", 0.2, 1.0, 0.0),
        ("<answer>7</answer>", 1.0, 0.0, 1.0),
        ("<think>hm</tool><answer>7</answer>", 1.0, 0.0, 1.0),
        ("", 0.0, 0.0, 0.0),
    ],
)
def test_weighted_sum_and_components(reply: str, score: float, fmt: float, correct: float) -> None:
    res = R(reply, T)
    assert res.score == pytest.approx(score)
    assert res.components["format"] == fmt and res.components["correct"] == correct
    assert R.max_score == pytest.approx(1.2)
    assert (res.reason is None) == (score == pytest.approx(1.2))


def test_nested_components_are_prefixed() -> None:
    inner = Rubric([("fmt", TagFormat(), 1.0)])
    outer = Rubric([("inner", inner, 2.0), ("kw", IncludeKeywords(("seven",)), 1.0)])
    res = outer(GOOD, T)
    assert res.components["inner"] == 1.0
    assert res.components["inner/fmt"] == 1.0
    assert res.components["inner/fmt/well_formed"] == 1.0
    assert res.components["kw/kw:seven"] == 0.0
    assert outer.max_score == 3.0 and res.score == 2.0
    assert "kw: missing keywords" in (res.reason or "")


@pytest.mark.parametrize("bad_fn", [boom, not_a_result, nan_score])
def test_a_failing_component_scores_zero_and_is_recorded(bad_fn) -> None:
    rubric = Rubric([("bad", bad_fn, 1.0), ("correct", TagAnswerEquals(), 1.0)])
    res = rubric(GOOD, T)
    assert res.score == 1.0
    assert res.components["bad"] == 0.0
    assert res.error is not None and res.error.startswith("bad: ")


def test_error_text_is_kept() -> None:
    res = Rubric([("bad", boom)])(GOOD, T)
    assert res.error == "bad: RuntimeError: kaput"


def test_penalties_do_not_raise_max_score() -> None:
    rubric = Rubric([("correct", TagAnswerEquals(), 1.0), ("long", OverlongPenalty(20, 10), 1.0)])
    assert rubric.max_score == 1.0
    assert rubric(GOOD, T).score == pytest.approx(1.0 - 1.0)  # 38 chars > 20: full penalty
    assert rubric("<answer>7</answer>", T).score == pytest.approx(1.0 - 0.8)  # 18 chars


def test_normalize() -> None:
    rubric = Rubric([("a", NoCommas(), 3.0), ("b", IncludeKeywords(("x",)), 1.0)], normalize=True)
    assert rubric.max_score == 1.0
    assert rubric("x y", T).score == 1.0
    assert rubric("y, z", T).score == 0.0
    assert rubric("y z", T).score == 0.75


@pytest.mark.parametrize(
    "items",
    [
        [],
        [("a", NoCommas()), ("a", NoCommas())],
        [("a/b", NoCommas())],
        [("", NoCommas())],
        [("a", 3)],
        [("a", NoCommas(), math.inf)],
    ],
)
def test_bad_rubrics_raise(items) -> None:
    with pytest.raises((ValueError, TypeError)):
        Rubric(items)


def test_rubric_accepts_items_and_pickles() -> None:
    rubric = Rubric([RubricItem("b", BulletCount(2), 0.5), ("c", NoCommas())])
    assert rubric.names == ("b", "c")
    assert pickle.loads(pickle.dumps(rubric)) == rubric
    assert rubric("* a\n* b", T).score == 1.5


def test_pass_fail_strict_and_fraction() -> None:
    constraints = [("bullets", BulletCount(2)), ("commas", NoCommas())]
    partial = Rubric([(n, PassFail(c)) for n, c in constraints], normalize=True)
    strict = PassFail(Rubric(constraints, normalize=True))
    assert partial("* a\n* b", T).score == 1.0 and strict("* a\n* b", T).score == 1.0
    assert partial("* a, b", T).score == 0.0  # bullets 1/2 is not "satisfied"
    assert partial("* a\n* b, c", T).score == 0.5
    res = strict("* a\n* b, c", T)
    assert res.score == 0.0 and "commas" in (res.reason or "")
    assert res.components["commas"] == 0.0


def test_task_rubric_scores_the_stored_rubric() -> None:
    task = Task(prompt="list", metadata={"rubric": Rubric([("b", BulletCount(2))])})
    assert TaskRubric()("* a\n* b", task).score == 1.0
    missing = TaskRubric()("* a\n* b", T)
    assert missing.score == 0.0 and missing.error


# ---- TRL adapters ---------------------------------------------------------------------------
def trl_contains_answer(prompts, completions, answer, **kwargs):
    return [1.0 if a in c else 0.0 for c, a in zip(completions, answer, strict=True)]


def trl_none_for_odd(prompts, completions, **kwargs):
    return [None if len(c) % 2 else 0.5 for c in completions]


def trl_wrong_length(prompts, completions, **kwargs):
    return [1.0] * (len(completions) + 1)


def trl_strings(prompts, completions, **kwargs):
    return ["high" for _ in completions]


def trl_conv(prompts, completions, **kwargs):
    return [
        float(c[-1]["content"] == "hi" and p[-1]["role"] == "user")
        for p, c in zip(prompts, completions, strict=True)
    ]


def trl_uses_metadata(prompts, completions, level, **kwargs):
    return [float(lv) for lv in level]


@pytest.mark.parametrize(
    ("fn", "kwargs", "completion", "score", "applicable", "error"),
    [
        (trl_contains_answer, {}, "it is 7", 1.0, 1.0, False),
        (trl_contains_answer, {}, "it is 8", 0.0, 1.0, False),
        (trl_none_for_odd, {}, "odd", 0.0, 0.0, False),
        (trl_none_for_odd, {}, "even", 0.5, 1.0, False),
        (trl_wrong_length, {}, "x", 0.0, None, True),
        (trl_strings, {}, "x", 0.0, None, True),
        (lambda prompts, completions, **kw: [math.nan], {}, "x", 0.0, 0.0, False),
        (lambda prompts, completions, **kw: 1 / 0, {}, "x", 0.0, None, True),
        (trl_conv, {"conversational": True}, "hi", 1.0, 1.0, False),
    ],
)
def test_from_trl(fn, kwargs, completion, score, applicable, error) -> None:
    res = FromTrl(fn, **kwargs)(completion, T)
    assert res.score == score
    assert res.components.get("applicable") == applicable
    assert (res.error is not None) == error
    if applicable == 0.0:
        assert res.reason == "not applicable"


def test_from_trl_batch_passes_metadata_columns_in_one_call() -> None:
    calls = []

    def fn(prompts, completions, **cols):
        calls.append(cols)
        return trl_uses_metadata(prompts, completions, **cols)

    tasks = [Task("a", "1", {"level": 2}), Task("b", None, {"level": 3, "extra": "x"})]
    results = FromTrl(fn).batch(["x", "y"], tasks)
    assert [r.score for r in results] == [2.0, 3.0]
    assert calls == [{"level": [2, 3], "extra": [None, "x"], "answer": ["1", None]}]


def test_from_trl_in_a_rubric_and_none_counts_zero() -> None:
    rubric = Rubric([("trl", FromTrl(trl_none_for_odd)), ("commas", NoCommas())])
    assert rubric("odd", T).score == 1.0  # None contributes nothing, like TRL's nansum
    assert rubric("even", T).score == 1.5


def test_to_trl_round_trip_and_formats() -> None:
    trl = ToTrl(R, name="rubric")
    assert trl.__name__ == "rubric"
    scores = trl(
        prompts=["q", "q"],
        completions=[GOOD, "<answer>8</answer>"],
        answer=["7", "7"],
        trainer_state=object(),
    )
    assert scores == pytest.approx([1.2, 0.0])
    conv = trl(
        prompts=[[{"role": "user", "content": "q"}]],
        completions=[[{"role": "assistant", "content": GOOD}]],
        answer=["7"],
    )
    assert conv == pytest.approx([1.2])
    # a failing reward never raises into the trainer
    assert ToTrl(boom, answer_column=None)(prompts=["q"], completions=["x"]) == [0.0]
    assert pickle.loads(pickle.dumps(trl)) == trl
