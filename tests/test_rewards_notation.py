"""Notations real replies use: Unicode math, number and scale words, digit groupings,
repeating decimals, trigonometry in degrees, inequalities against intervals."""

from __future__ import annotations

import pytest

from grpo_gym.rewards import verify
from grpo_gym.rewards.number_words import expand_scale_words, words_to_number
from grpo_gym.rewards.numbers import parse_number
from grpo_gym.rewards.unicode_math import ascii_math

UNICODE = [
    ("6", r"\boxed{√36}", True),
    (r"\sqrt{2}", "The answer is $√2$.", True),
    (r"2\sqrt{3}", r"\boxed{2√3}", True),
    (r"\sqrt{x+1}", r"\boxed{√(x+1)}", True),
    (r"\sqrt[3]{2}", r"\boxed{∛2}", True),
    (r"\infty", r"\boxed{∞}", True),
    (r"(1, \infty)", r"\boxed{(1, +∞)}", True),
    ("6", r"\boxed{2×3}", True),
    ("2", r"\boxed{6÷3}", True),
    (r"2\pi", r"\boxed{2π}", True),
    ("-5", r"\boxed{−5}", True),  # U+2212 minus sign
    ("42", "The answer is ４２.", True),  # full-width digits
    ("x^2+1", r"\boxed{x²+1}", True),
    (r"\frac{1}{2}", r"\boxed{½}", True),
    ("12", r"\boxed{12 m²}", True),  # a unit, not a square
    ("x \\le 3", r"\boxed{x ≤ 3}", True),
    ("43", "The answer is ４２.", False),
    (r"\sqrt{3}", r"\boxed{√2}", False),
]

WORDS = [
    ("5", r"\boxed{five}", True),
    ("12", r"\boxed{\text{twelve}}", True),
    ("21", "The final answer is twenty-one.", True),
    ("305", r"\boxed{\text{three hundred and five}}", True),
    ("3000000", "The answer is 3 million.", True),
    ("2500000000", r"\boxed{2.5 \text{ billion}}", True),
    ("4000", r"\boxed{4 thousand}", True),
    ("5", r"\boxed{six}", False),
    ("3000000", r"\boxed{3 billion}", False),
]

GROUPING = [
    ("1000000", r"\boxed{1.000.000}", True),
    ("1000000", r"\boxed{1 000 000}", True),
    ("1000000", "\\boxed{1\u2009000\u2009000}", True),  # thin spaces
    ("1000000", "\\boxed{1\u202f000}", False),
    ("1000000", r"\boxed{1\,000\,000}", True),
    ("1000000", r"\boxed{1\!000\!000}", True),
    ("1000000", r"\boxed{1{,}000{,}000}", True),
    ("1000", r"\boxed{1'000}", True),
    ("1.5", r"\boxed{1.5}", True),  # ordinary decimals are untouched
    ("1.000", r"\boxed{1}", True),  # one dot group is a decimal point
    ("(1, 2)", r"\boxed{(1, 2)}", True),  # coordinate tuples stay tuples
    ("(1, 000)", r"\boxed{(1, 0)}", True),
    (r"x = 1\,000", r"\boxed{x = 1000}", True),
]

BASES = [
    ("52_8", r"\boxed{42}", True),
    ("52_8", r"\boxed{52_9}", False),
    ("4210_{5}", r"\boxed{555}", True),
    ("1011_2", r"\boxed{11}", True),
]

REPEATING = [
    ("1/7", r"\boxed{0.\overline{142857}}", True),
    ("1/6", r"\boxed{0.1\overline{6}}", True),
    ("1/3", r"\boxed{0.\dot{3}}", True),
    ("1/3", r"\boxed{0.(3)}", True),
    (r"0.\overline{3}", r"\boxed{\frac{1}{3}}", True),
    (r"\frac{37}{99}", r"\boxed{0.\overline{37}}", True),
    (r"x = 0.\overline{6}", r"\boxed{x = \frac{2}{3}}", True),
    ("1/7", r"\boxed{0.\overline{142856}}", False),
    ("1/3", r"\boxed{0.3}", False),
]

TRIG_DEGREES = [
    (r"\frac{1}{2}", r"\boxed{\sin 30^\circ}", True),
    (r"\frac{1}{2}", r"\boxed{\cos(60^{\circ})}", True),
    (r"\frac{\sqrt{3}}{2}", r"\boxed{\sin 60°}", True),
    ("1", r"\boxed{\tan 45^\circ}", True),
    (r"\frac{3}{4}", r"\boxed{\sin^2 60^\circ}", True),
    (r"\frac{1}{2}", r"\boxed{\sin 30}", False),  # radians without a degree sign
    ("90", r"\boxed{90^\circ}", True),  # an angle alone keeps its value
]

INTERVALS = [
    (r"m \geq \sqrt{2}", r"\boxed{m \in [\sqrt{2}, +\infty)}", True),
    (r"m \geq \sqrt{2}", r"\boxed{[\sqrt{2}, \infty)}", True),
    (r"[\sqrt{2}, +\infty)", r"\boxed{m \geq \sqrt{2}}", True),
    ("x < 3", r"\boxed{(-\infty, 3)}", True),
    ("x > -1", r"\boxed{(-1, \infty)}", True),
    (r"m \geq \sqrt{2}", r"\boxed{m \in (\sqrt{2}, +\infty)}", False),
    ("x < 3", r"\boxed{(-\infty, 3]}", False),
    (r"x < -1 \text{ or } x > 2", r"\boxed{(-\infty, -1) \cup (2, \infty)}", True),
    (r"(-\infty, -1) \cup (2, \infty)", r"\boxed{x < -1 \text{ or } x > 2}", True),
    (r"x < -1 \text{ or } x > 2", r"\boxed{(-\infty, -1] \cup (2, \infty)}", False),
]


@pytest.mark.parametrize(
    ("gold", "reply", "expected"),
    UNICODE + WORDS + GROUPING + BASES + REPEATING + TRIG_DEGREES + INTERVALS,
)
def test_notation(gold: str, reply: str, expected: bool) -> None:
    assert verify(gold, reply) is expected


def test_helpers() -> None:
    assert ascii_math("√(x+1) − ４²") == r"\sqrt{x+1} - 4^{2}"
    assert ascii_math("plain ascii") == "plain ascii"
    assert words_to_number("nineteen") == 19
    assert words_to_number("one hundred twenty-three thousand four hundred") == 123400
    assert words_to_number("seven seas") is None
    assert expand_scale_words("$3 million") == "$3000000"
    assert expand_scale_words("1.2345 thousand") == "1.2345 thousand"  # not whole: left alone
    assert parse_number(r"0.1\overline{6}").value * 6 == 1  # type: ignore[union-attr]
    assert parse_number("1.000.000").value == 1_000_000  # type: ignore[union-attr]
