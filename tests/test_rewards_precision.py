"""The precision policy (rewards/precision.py): exact golds exactly, rounded replies only as the
correct rounding of an irrational or recurring value, with a minimum of significant digits."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grpo_gym.rewards import MathVerifyConfig, verify
from grpo_gym.rewards.numbers import parse_number
from grpo_gym.rewards.precision import Stated, is_terminating, rounding_matches, stated_precision

CASES = [
    # rule 1: an exact (terminating) gold is compared exactly, whoever writes decimals
    ("1.0000001", r"\boxed{1}", False),
    ("1.0000001", r"\boxed{1.0000001}", True),
    ("2.123456", r"\boxed{2.1234561}", False),  # a 7th decimal appended to a 6-decimal gold
    ("2.123456", r"\boxed{2.123456}", True),
    ("2.5", r"\boxed{2.50}", True),
    ("1/2", r"\boxed{0.5}", True),
    ("1/8", r"\boxed{0.13}", False),  # 1/8 terminates: 0.125 exactly, no rounding
    ("1000000", r"\boxed{1000001.0}", False),
    # rule 2: an irrational or recurring gold takes its correct rounding, >= 4 significant digits
    (r"\pi", r"\boxed{3.14}", False),  # 3 significant digits
    (r"\pi", r"\boxed{3.142}", True),
    (r"\pi", r"\boxed{3.1416}", True),
    (r"\pi", r"\boxed{3.1415}", False),  # truncated, not rounded
    (r"\pi", r"\boxed{3.14159265}", True),
    ("1/3", r"\boxed{0.333}", False),
    ("1/3", r"\boxed{0.3333}", True),
    ("2/3", r"\boxed{0.6667}", True),
    ("2/3", r"\boxed{0.6666}", False),
    (r"\sqrt{2}", r"\boxed{1.41421}", True),
    (r"\sqrt{2}", r"\boxed{1.41422}", False),
    (r"\frac{\sqrt{3}}{2}", r"\boxed{0.8660}", True),
    (r"e^{2}", r"\boxed{7.389}", True),
    (r"e^{2}", r"\boxed{7.390}", False),
    ("1/7", r"\boxed{1.429 \times 10^{-1}}", True),
    ("200/3", r"\boxed{66.67}", True),
    ("200/3", r"\boxed{66.7}", False),
    # the rule is symmetric: a rounded gold against an exact reply
    ("0.6667", r"\boxed{\frac{2}{3}}", True),
    ("3.1416", r"\boxed{\pi}", True),
    ("3.14", r"\boxed{\pi}", False),
    # percentages scale the stated places
    ("1/3", r"\boxed{33.33\%}", True),
    ("1/3", r"\boxed{33.3\%}", False),
    # decimals inside an expression are exact values
    (r"\frac{x}{2}", r"\boxed{0.5x}", True),
    (r"\frac{x}{3}", r"\boxed{0.3333x}", False),
]


@pytest.mark.parametrize(("gold", "reply", "expected"), CASES)
def test_precision_policy(gold: str, reply: str, expected: bool) -> None:
    assert verify(gold, reply) is expected


def test_min_significant_digits_is_a_setting() -> None:
    assert not verify(r"\pi", r"\boxed{3.14}")
    assert verify(r"\pi", r"\boxed{3.14}", min_significant_digits=3)
    assert not verify(r"\pi", r"\boxed{3.1416}", min_significant_digits=6)
    assert verify("1/3", r"\boxed{0.33}", config=MathVerifyConfig(min_significant_digits=2))
    with pytest.raises(ValueError, match="min_significant_digits"):
        MathVerifyConfig(min_significant_digits=0)


def test_opt_in_tolerances_only_add_matches() -> None:
    assert not verify("2.123456", r"\boxed{2.1234561}")
    assert verify("2.123456", r"\boxed{2.1234561}", rel_tol=1e-6)
    assert verify("2.123456", r"\boxed{2.1234561}", float_rounding=6)
    assert not verify("100", r"\boxed{101}", rel_tol=0.1)  # both exact: never a tolerance


def test_stated_precision_and_rounding() -> None:
    assert stated_precision("3.1416") == Stated(places=4, significant=5)
    assert stated_precision("0.0012") == Stated(places=4, significant=2)
    assert stated_precision("1.5", 3) == Stated(places=-2, significant=2)
    assert stated_precision("2.50") == Stated(places=2, significant=3)
    assert is_terminating(Fraction(3, 40)) and not is_terminating(Fraction(1, 3))
    assert rounding_matches(Fraction(2, 3), Fraction("0.6667"), Stated(4, 4), 4)
    assert not rounding_matches(Fraction(2, 3), Fraction("0.667"), Stated(3, 3), 4)
    num = parse_number("1.5e3")
    assert num is not None and num.stated == Stated(places=-2, significant=2)
    assert parse_number("15").stated is None  # type: ignore[union-attr]
