"""Answer extraction: boxed (nested, fbox, last wins, adjacent boxes), tags, final-answer
sentences, 'Answer:', math spans, last number, mode order, caps."""

from __future__ import annotations

import pytest

from grpo_gym.rewards import EXTRACTION_MODES, extract_answer, extract_gold
from grpo_gym.rewards.extract import find_boxed

CASES = [
    # (completion, expected answer)
    (r"so the answer is \boxed{42}.", "42"),
    (r"\boxed{\frac{1}{2}}", r"\frac{1}{2}"),
    (r"nested \boxed{\frac{\sqrt{2}}{2}} done", r"\frac{\sqrt{2}}{2}"),
    (r"\fbox{7}", "7"),
    (r"first \boxed{3} ... hmm wait, no. Final: \boxed{5}", "5"),
    (r"\boxed{1}, \boxed{2}, \boxed{3}", "1, 2, 3"),
    (r"\boxed{1} no no no no no \boxed{2}", "2"),
    (r"\boxed{840} ... **Final Answer** \boxed{840}", "840"),
    ("<think>maybe 3</think><answer>4</answer>", "4"),
    (r"<answer>\boxed{x+1}</answer>", "x+1"),
    ("Final Answer: The final answer is $28\\%$. I hope it is correct.", r"28\%"),
    ("The final answer is 7.78.", "7.78"),
    ("Final Answer: The largest $n$ is 34.", "34"),
    ("Answer: 12", "12"),
    ("**Answer:** $-3$", "-3"),
    ("We get $x = 5$ and so $y = 7$", "y = 7"),
    ("Answer \\[ \n 9 \n \\]", "9"),
    ("the number is not 10 which is 1,000.99", "1,000.99"),
    ("It costs .5 dollars", ".5"),
    ("So 2/3 of them", "2/3"),
    ("grew by 100%.", "100%"),
    (r"\frac{10}{9}", r"\frac{10}{9}"),
    (r"\boxed{255} so in total $10,455. Final Answer: The final answer is $10,455$.", "10,455"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_extract_answer(text: str, expected: str) -> None:
    assert extract_answer(text) == expected


@pytest.mark.parametrize("text", ["", "no digits here at all", "AZYUK2A", "$$", r"\boxed{}"])
def test_extract_nothing(text: str) -> None:
    assert extract_answer(text) is None


def test_last_box_wins_over_earlier_boxes() -> None:
    text = r"Candidate: \boxed{12}. Let me re-check the arithmetic carefully. Final: \boxed{13}"
    assert extract_answer(text) == "13"


def test_modes_are_configurable_and_ordered() -> None:
    text = r"Answer: 5. Also \boxed{6}. And then 7"
    assert extract_answer(text, modes=("answer_colon",)) == "5"
    assert extract_answer(text, modes=("last_number",)) == "7"
    assert extract_answer(text, modes=("last_number", "boxed")) == "7"
    assert extract_answer(text, modes=("boxed", "last_number")) == "6"
    with pytest.raises(ValueError, match="unknown extraction mode"):
        extract_answer(text, modes=("nope",))
    assert set(EXTRACTION_MODES) >= {
        "boxed",
        "answer_tag",
        "final_answer",
        "answer_colon",
        "last_number",
    }


def test_join_adjacent_boxed_can_be_disabled() -> None:
    assert extract_answer(r"\boxed{1}, \boxed{2}", join_adjacent_boxed=False) == "2"


def test_find_boxed_unclosed_and_braceless() -> None:
    assert find_boxed(r"\boxed{1+{2}")[-1][2] == "1+{2}"
    assert find_boxed(r"x \boxed 5.")[-1][2] == "5"


def test_find_boxed_closed_only_skips_unclosed_boxes() -> None:
    assert find_boxed(r"\boxed{1+{2}", closed_only=True) == []
    assert [b[2] for b in find_boxed(r"\boxed{a \boxed{b}", closed_only=True)] == ["b"]
    assert [b[2] for b in find_boxed(r"\boxed{\frac{1}{\boxed{2}}} \fbox{3}")] == [
        r"\frac{1}{\boxed{2}}",
        "3",
    ]
    assert find_boxed(r"\boxed{\}} x}")[-1][2] == r"\}"  # an escaped brace does not close


@pytest.mark.parametrize(
    "text", ["\\boxed{" * 20_000, "\\boxed{" + "{" * 50_000, "\\boxed " * 20_000]
)
def test_find_boxed_is_linear_on_adversarial_input(text: str) -> None:
    import time

    start = time.perf_counter()
    for closed_only in (False, True):
        find_boxed(text, closed_only=closed_only)
    assert time.perf_counter() - start < 2.0


def test_input_is_capped_to_its_tail() -> None:
    text = r"\boxed{1}" + "x" * 50_000 + " Answer: 2"
    assert extract_answer(text, max_chars=1000) == "2"


@pytest.mark.parametrize(
    ("gold", "expected"),
    [
        ("3/4", "3/4"),
        ("$\\frac{3}{4}$", "\\frac{3}{4}"),
        ("\\boxed{12}", "12"),
        ("The solution ... so it is $\\boxed{14{,}916}$ is our answer.", "14{,}916"),
        ("$1$ and $2$ and $3$", "1  and  2  and  3"),
        ("   ", None),
    ],
)
def test_extract_gold(gold: str, expected: str | None) -> None:
    assert extract_gold(gold) == expected


# ---- the box rule: the final box is the answer; only boxes of one multi-part answer merge ----
BOX_RULE = [
    (r"we get a = \boxed{2} and b = \boxed{5}, hence a + b = \boxed{7}", "7"),
    (r"\boxed{1}, \boxed{2}", "1, 2"),
    (r"$\boxed{1}$ and $\boxed{2}$", "1, 2"),
    (r"x = \boxed{1} and y = \boxed{2}", "1, 2"),
    (r"$y_1 = \boxed{x+1}$ and $y_2 = \boxed{x-1}$", "x+1, x-1"),
    (r"\boxed{1} papers and \boxed{2} bins", "1, 2"),
    (r"\boxed{(3, 3)} \text{ for part (a) and } \boxed{(1, 1)}", "(3, 3), (1, 1)"),
    (r"First \boxed{3}. Wait, that is wrong: \boxed{4}", "4"),
    (r"So \boxed{5}. Therefore the total is \boxed{9}", "9"),
    (r"The area is \boxed{12}. The perimeter, which we also need, is \boxed{14}", "14"),
    (r"\boxed{6} so \boxed{6}", "6"),
    (r"\boxed{5} \quad \boxed{5}", "5"),  # a restated box is one answer
]


@pytest.mark.parametrize(("text", "answer"), BOX_RULE)
def test_box_rule(text: str, answer: str) -> None:
    assert extract_answer(text) == answer


def test_box_rule_can_be_turned_off() -> None:
    assert extract_answer(r"\boxed{1}, \boxed{2}", join_adjacent_boxed=False) == "2"
