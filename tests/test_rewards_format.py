"""Format and length rewards: table-driven correct / incorrect / malformed / adversarial cases."""

from __future__ import annotations

import pickle

import pytest

from grpo_gym.rewards import (
    AllLowercase,
    AllUppercase,
    BoxedAnswer,
    BulletCount,
    EndsWith,
    JsonField,
    JsonObject,
    LengthInRange,
    NoCommas,
    OverlongPenalty,
    Placeholders,
    Postscript,
    RewardResult,
    Sections,
    StartsWith,
    TagAnswerEquals,
    TagFormat,
    Task,
    Title,
    extract_boxed,
    paragraphs_in_range,
    sentences_in_range,
    soft_overlong_penalty,
    words_in_range,
)

T = Task(prompt="p")

# ---- tags -----------------------------------------------------------------------------------
TAG_CASES = [
    ("<think>add them</think><answer>5</answer>", 1.0),
    ("<think>add them</think>\n<answer>5</answer>\n", 1.0),
    ("<think>a <b>bold</b> step</think><answer>5</answer>", 1.0),
    ("<think>x < y and y > z</think><answer>5</answer>", 1.0),
    # the verifiers XMLParser bug: a stray closing tag must not pass
    ("<think>hm</tool><answer>5</answer>", 0.0),
    ("<think>hm</answer><answer>5</answer>", 0.0),
    ("<think>hm<answer>5</think></answer>", 0.0),  # misnested
    ("<think>hm</think><answer>5", 0.0),  # unclosed
    ("<answer>5</answer><think>hm</think>", 0.0),  # wrong order
    ("<answer>5</answer>", 0.0),  # missing think
    ("<think>a</think><think>b</think><answer>5</answer>", 0.0),  # repeated
    ("<think><answer>5</answer></think>", 0.0),  # answer nested in think
    ("<think>hm</think><answer>  </answer>", 0.0),  # empty answer
    ("Sure! <think>hm</think><answer>5</answer>", 0.0),  # outside text
    ("<think>hm</think><answer>5</answer></answer>", 0.0),  # extra closing
    ("", 0.0),
    ("5", 0.0),
]


@pytest.mark.parametrize(("reply", "expected"), TAG_CASES)
def test_tag_format(reply: str, expected: float) -> None:
    res = TagFormat()(reply, T)
    assert res.score == expected, res
    assert (res.reason is None) == (expected == 1.0)


def test_tag_format_malformed_reason_and_outside_text_option() -> None:
    res = TagFormat()("<think>hm</tool><answer>5</answer>", T)
    assert res.components["well_formed"] == 0.0 and "</tool>" in (res.reason or "")
    assert (
        TagFormat(allow_outside_text=True)("Ok: <think>a</think><answer>5</answer>", T).score == 1.0
    )
    assert TagFormat(("answer",))("<answer>5</answer>", T).extracted == "5"


@pytest.mark.parametrize(
    ("reply", "answer", "expected"),
    [
        ("<think>3+4</think><answer>7</answer>", "7", 1.0),
        ("<answer> Paris. </answer>", "paris", 1.0),
        ("<answer>8</answer>", "7", 0.0),
        ("<answer>1</answer> then <answer>7</answer>", "7", 1.0),  # last one counts
        ("the answer is 7", "7", 0.0),
        ("<answer>77</answer>", "7", 0.0),
    ],
)
def test_tag_answer_equals(reply: str, answer: str, expected: float) -> None:
    assert TagAnswerEquals()(reply, Task(prompt="q", answer=answer)).score == expected


# ---- boxed ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reply", "expected", "extracted"),
    [
        ("so \\boxed{42}.", 1.0, "42"),
        ("\\boxed{\\frac{1}{2}}", 1.0, "\\frac{1}{2}"),
        ("\\boxed{1} and \\boxed{2}", 1.0, "2"),
        ("\\boxed{}", 0.0, None),
        ("\\boxed{12", 0.0, None),
        ("boxed 12", 0.0, None),
        ("\\fbox{3}", 1.0, "3"),
        ("\\boxed 5", 1.0, "5"),
        ("\\boxed{\\frac{1}{\\boxed{2}}}", 1.0, "\\frac{1}{\\boxed{2}}"),  # the outer box
        ("\\boxed{a \\boxed{b}", 1.0, "b"),  # the outer box is unclosed, the inner one counts
        ("", 0.0, None),
    ],
)
def test_boxed(reply: str, expected: float, extracted: str | None) -> None:
    res = BoxedAnswer()(reply, T)
    assert (res.score, res.extracted) == (expected, extracted)


def test_extract_boxed_unbalanced_does_not_hang() -> None:
    assert extract_boxed("\\boxed{" + "{" * 10_000) is None
    assert extract_boxed("\\boxed{" * 10_000) is None


@pytest.mark.parametrize(
    "reply",
    [
        "\\fbox{3}",
        "so \\boxed 5.",
        "\\boxed{\\frac{1}{\\boxed{2}}}",
        "first \\boxed{\\boxed{1}+1} then \\fbox{\\sqrt{\\boxed{4}}}",
        "\\boxed{\\{1, 2\\}}",
        "\\boxed {x^{2}}",
    ],
)
def test_boxed_reward_and_math_extraction_find_the_same_box(reply: str) -> None:
    """BoxedAnswer and math answer extraction share one box finder (fbox, brace-less, nested).

    (Math extraction can also join boxes that sit side by side; the format reward reads one.)
    """
    from grpo_gym.rewards import extract_answer

    got = extract_boxed(reply)
    assert got is not None
    assert got == extract_answer(reply, modes=("boxed",), join_adjacent_boxed=False)
    assert BoxedAnswer()(reply, T).extracted == got


# ---- JSON -----------------------------------------------------------------------------------
PERSON = JsonObject(
    (JsonField("name", "string"), JsonField("age", "integer"), JsonField("tags", "array"))
)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"name": "Ada", "age": 36, "tags": []}', 1.0),
        ('```json\n{"name": "Ada", "age": 36, "tags": ["x"]}\n```', 1.0),
        ('```\n{"name": "Ada", "age": 36, "tags": []}\n```', 1.0),
        ('{"name": "Ada", "age": 36, "tags": [], "extra": 1}', 1.0),
        ('{"name": "Ada", "age": "36", "tags": []}', 2 / 3),  # wrong type
        ('{"name": "Ada", "age": true, "tags": []}', 2 / 3),  # bool is not an integer
        ('{"name": "Ada", "age": 36.5, "tags": []}', 2 / 3),
        ('{"name": "Ada"}', 1 / 3),
        ("{}", 0.0),
        ('["name", "age"]', 0.0),
        ('{"name": "Ada", "age": 36, "tags": [],}', 0.0),  # trailing comma: not JSON
        ('Here it is: {"name": "Ada", "age": 36, "tags": []}', 0.0),  # prose around it
        ("", 0.0),
        ("[" * 100_000, 0.0),  # deep nesting must not crash
    ],
)
def test_json_object(reply: str, expected: float) -> None:
    assert PERSON(reply, T).score == pytest.approx(expected)


def test_json_object_strict_extra_and_number_type() -> None:
    strict = JsonObject((JsonField("x", "number"),), allow_extra=False)
    assert strict('{"x": 1}', T).score == 1.0
    assert strict('{"x": 1.5}', T).score == 1.0
    assert strict('{"x": 1, "y": 2}', T).score == 0.0
    with pytest.raises(ValueError):
        JsonField("x", "str")  # type: ignore[arg-type]


# ---- layout ---------------------------------------------------------------------------------
B3 = "* one\n* two\n* three"


@pytest.mark.parametrize(
    ("fn", "reply", "expected"),
    [
        (BulletCount(3), B3, 1.0),
        (BulletCount(3), "Intro:\n- one\n- two\n  - three\nBye", 1.0),
        (BulletCount(3), "* one\n* two", 2 / 3),
        (BulletCount(3), B3 + "\n* four", 2 / 3),
        (BulletCount(3), "**bold**\n---\n* one", 1 / 3),  # bold and rules are not bullets
        (BulletCount(2), "1. one\n2. two", 0.0),
        (BulletCount(1), "*x*", 0.0),
        (AllLowercase(), "all lower, ok.", 1.0),
        (AllLowercase(), "Not lower", 0.0),
        (AllLowercase(), "123 !!", 0.0),  # no letters
        (AllLowercase(), "   ", 0.0),
        (AllUppercase(), "ALL UPPER 123!", 1.0),
        (AllUppercase(), "ALL UPPEr", 0.0),
        (NoCommas(), "no commas here.", 1.0),
        (NoCommas(), "one, two", 0.0),
        (NoCommas(), "full width，comma", 0.0),
        (NoCommas(), "", 0.0),  # saying nothing earns nothing
        (EndsWith("Any other questions?"), "Text. any other questions?  \n", 1.0),
        (EndsWith("Any other questions?"), "Any other questions? Yes.", 0.0),
        (StartsWith("My answer is"), "  my answer is yes", 1.0),
        (StartsWith("My answer is"), "Well, my answer is yes", 0.0),
        (Placeholders(2), "Visit [address] on [date].", 1.0),
        (Placeholders(2), "Visit [address].", 0.5),
        (Placeholders(2), "Visit [] or [ ].", 0.0),
        (Postscript(), "Body.\nP.S. see you", 1.0),
        (Postscript(), "Body.\n  p. s. see you", 1.0),
        (Postscript(), "Body.\nP.S.", 0.0),  # nothing after the marker
        (Postscript(), "Body mentions P.S. inline", 0.0),
        (Postscript("P.P.S"), "Body\nP.P.S more", 1.0),
        (Title(), "<<Poem of Joy>>\ntext", 1.0),
        (Title(), "<< >>\ntext", 0.0),
        (Title(), "<Poem>", 0.0),
        (Sections(2), "Section 1\nalpha\nSection 2\nbeta", 1.0),
        (Sections(2), "## SECTION 1: intro\nalpha\n\nsection 2\nbeta", 1.0),
        (Sections(2), "Section 1\nalpha", 0.5),
        (Sections(2), "Section 1\nalpha\nSection 2\nbeta\nSection 3\ngamma", 2 / 3),
        (Sections(2), "Section 2\nalpha\nSection 1\nbeta", 0.0),  # out of order
        (Sections(2), "Section 1\nSection 2\nbeta", 0.5),  # empty first section
        (Sections(2), "no sections", 0.0),
    ],
)
def test_layout(fn, reply: str, expected: float) -> None:
    res = fn(reply, T)
    assert isinstance(res, RewardResult)
    assert res.score == pytest.approx(expected), res
    assert (res.reason is None) == (res.score == 1.0)


@pytest.mark.parametrize(
    "fn",
    [
        TagFormat(),
        BoxedAnswer(),
        PERSON,
        BulletCount(3),
        AllLowercase(),
        AllUppercase(),
        NoCommas(),
        EndsWith("bye"),
        StartsWith("hi"),
        Placeholders(1),
        Postscript(),
        Title(),
        Sections(2),
        words_in_range(1, 10),
    ],
)
def test_every_format_reward_is_pure_picklable_and_survives_garbage(fn) -> None:
    assert pickle.loads(pickle.dumps(fn)) == fn
    for junk in ["", " \n\t", "\x00\x01", "<" * 5000, "}{" * 3000, "\\boxed{" * 5000, "é" * 100]:
        res = fn(junk, T)
        assert 0.0 <= res.score <= 1.0
    assert fn("", T).score == 0.0
    assert hasattr(fn, "instruction") or isinstance(fn, BoxedAnswer)


@pytest.mark.parametrize(
    "bad", [lambda: BulletCount(0), lambda: Sections(0), lambda: EndsWith("  ")]
)
def test_bad_parameters_raise(bad) -> None:
    with pytest.raises(ValueError):
        bad()


# ---- length ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fn", "reply", "expected"),
    [
        (words_in_range(3, 5), "one two three", 1.0),
        (words_in_range(3, 5), "don't well-known x", 1.0),
        (words_in_range(4, 5), "one two", 0.5),
        (words_in_range(1, 2), "a b c d", 0.5),
        (words_in_range(2), "a b c d e f g", 1.0),  # no upper bound
        (words_in_range(1, 5), " - - - ", 0.0),  # punctuation is not words
        (sentences_in_range(2, 2), "One. Two!", 1.0),
        (sentences_in_range(2, 2), "Pi is 3.14 here. Two?", 1.0),
        (sentences_in_range(2, 2), "One sentence only", 0.5),
        (paragraphs_in_range(2, 2), "para one\n\npara two", 1.0),
        (paragraphs_in_range(2, 2), "para one\npara two", 0.5),
        (LengthInRange(5, 10, "chars"), "abcdef", 1.0),
        (LengthInRange(5, 10, "chars"), "abcdefghijklmnopqrst", 0.5),
        (LengthInRange(1, 3, "tokens", token_counter=len), "ab", 1.0),
    ],
)
def test_length_in_range(fn, reply: str, expected: float) -> None:
    assert fn(reply, T).score == pytest.approx(expected)


@pytest.mark.parametrize(
    ("length", "expected"),
    [(0, 0.0), (80, 0.0), (90, -0.5), (100, -1.0), (101, -1.0), (10_000, -1.0)],
)
def test_soft_overlong_penalty_matches_dapo(length: int, expected: float) -> None:
    assert soft_overlong_penalty(length, max_len=100, cache=20) == pytest.approx(expected)


def test_overlong_penalty_units() -> None:
    assert OverlongPenalty(10, 4)("x" * 8, T).score == pytest.approx(-0.5)
    assert OverlongPenalty(10, 4, unit="words")("w " * 8, T).score == pytest.approx(-0.5)
    assert OverlongPenalty(10, 4, unit="tokens", token_counter=len)("x" * 3, T).score == 0.0
    assert OverlongPenalty(10, 4).max_score == 0.0
    with pytest.raises(ValueError):
        OverlongPenalty(10, 0)
    with pytest.raises(ValueError):
        OverlongPenalty(10, 4, unit="tokens")  # no counter


def test_adversarial_long_inputs_are_fast() -> None:
    import time

    fns = [
        TagFormat(),
        BoxedAnswer(),
        PERSON,
        BulletCount(3),
        Placeholders(2),
        Postscript(),
        Title(),
        Sections(3),
        words_in_range(1, 9),
        sentences_in_range(1, 9),
    ]
    junks = [
        "[" + "a " * 16_000,
        "<<" + "a" * 30_000,
        "Section 1 " * 3000,
        "* " * 16_000,
        "a'" * 16_000,
        "```" * 10_000,
    ]
    start = time.perf_counter()
    for fn in fns:
        for junk in junks:
            fn(junk, T)
    assert time.perf_counter() - start < 2.0
