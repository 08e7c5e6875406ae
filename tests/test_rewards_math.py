"""Math verification: numbers, LaTeX, expressions, structures, tolerance, config, API."""

from __future__ import annotations

import dataclasses
import sys
import threading
import time

import pytest
import sympy

from grpo_gym.rewards import (
    CheckTimeout,
    MathParseError,
    MathVerifyConfig,
    Task,
    WorkerError,
    clear_math_caches,
    get_pool,
    math_reward,
    mathparse,
    parse_math,
    run_limited,
    verify,
    verify_batch,
)
from grpo_gym.rewards.latex_adapter import postprocess
from grpo_gym.rewards.latex_fast import fast_latex
from grpo_gym.rewards.normalize import normalize
from grpo_gym.rewards.numbers import numbers_equal, parse_number, strip_tails

EQUAL = [
    # numbers (fast path)
    ("42", r"\boxed{42}"),
    ("-5", r"\boxed{-5}"),
    ("7425000", r"\boxed{7,425,000}"),
    ("1000", r"\boxed{1 000}"),
    ("0.5", r"\boxed{.5}"),
    ("1/2", r"\boxed{0.5}"),
    ("3/4", r"\boxed{\dfrac{3}{4}}"),
    (r"\frac{5}{2}", r"\boxed{2\frac{1}{2}}"),
    ("1500", r"\boxed{1.5 \times 10^{3}}"),
    ("0.0015", r"\boxed{1.5e-3}"),
    ("1000.99", r"The total is \$1,000.99."),
    ("125", r"\boxed{125\text{ miles}}"),
    ("90", r"\boxed{90^\circ}"),
    (r"28\%", r"\boxed{28}"),
    (r"28\%", r"\boxed{0.28}"),
    (r"$28\%$", "28 percent"),
    ("1/3", r"\boxed{0.3333333}"),
    # LaTeX and expressions (symbolic path)
    (r"\sqrt{3}", r"\boxed{\sqrt3}"),
    (r"\frac{\sqrt{2}}{2}", r"\boxed{\frac{1}{\sqrt{2}}}"),
    (r"2\sqrt[3]{2}", r"\boxed{\sqrt[3]{16}}"),
    (r"x^2+2x+1", r"\boxed{(x+1)^2}"),
    ("2*x+1", r"\boxed{1+2x}"),
    (r"\tan^2(y)+1", r"\boxed{\sec^2(y)}"),
    (r"\frac{9}{4}\pi", r"\boxed{\frac94\pi}"),
    (r"3+4i", r"\boxed{4i+3}"),
    (r"\infty", r"\boxed{\infty}"),
    (r"6 \div 3", r"\boxed{2}"),
    (r"2 \times 3", r"\boxed{6}"),
    (r"\left( \frac{1}{3} \right)", r"\boxed{\frac{1}{3}}"),
    # structures
    (r"\{-3, 2\}", r"\boxed{x = 2 \text{ or } x = -3}"),
    ("1, 2, 3", r"\boxed{3, 1, 2}"),
    ("(1, 2, 3)", r"\boxed{(1,2,3)}"),
    ("[0, 1)", r"\boxed{[0,1)}"),
    (r"(1, \infty)", r"\boxed{(1, +\infty)}"),
    ("x = 3", r"\boxed{3}"),
    ("k = 1", r"\boxed{k=1}"),
    ("2x+4y-3=0", r"\boxed{y=-\frac{1}{2}x+\frac{3}{4}}"),
    ("x > 5", r"\boxed{5 < x}"),
    ("x < 1", r"\boxed{-x > -1}"),
    (r"x \geq 5", r"\boxed{5 \leq x}"),
    (
        r"\begin{pmatrix}1 & 2 \\ 3 & 4\end{pmatrix}",
        r"\boxed{\begin{bmatrix}1 & 2 \\ 3 & 4\end{bmatrix}}",
    ),
    (r"\pm 2021", r"\boxed{\{-2021, 2021\}}"),
    (r"\text{(C)}", r"\boxed{\text{C}}"),
    (r"\text{Evelyn}", r"\boxed{\text{Evelyn}}"),
]

NOT_EQUAL = [
    ("42", r"\boxed{43}"),
    ("1/3", r"\boxed{0.33}"),
    ("1000", r"\boxed{1000.5}"),
    (r"\frac{1}{2004!}", r"\boxed{\frac{1}{2006!}}"),
    (r"2^{-99}", r"\boxed{2^{-98}}"),
    (r"1 - \frac{1}{e}", r"\boxed{1 + \frac{1}{e}}"),
    (r"1 - \frac{1}{\mathrm{e}}", r"\boxed{1 + \frac{1}{\mathrm{e}}}"),
    (r"\sqrt{2}", r"\boxed{1.41412}"),  # 1.41421 is sqrt(2) rounded: the precision policy
    ("x^2+2x+1", r"\boxed{(x-1)^2}"),
    ("[0, 1)", r"\boxed{(0,1)}"),
    ("(1, 2, 3)", r"\boxed{(3, 2, 1)}"),
    ("1, 2, 3", r"\boxed{1, 2}"),
    ("x > 5", r"\boxed{x < 5}"),
    (r"x \geq 5", r"\boxed{x > 5}"),
    ("a + 3z = 0", r"\boxed{0}"),
    (
        r"\begin{pmatrix}1 & 2 \\ 3 & 4\end{pmatrix}",
        r"\boxed{\begin{pmatrix}1 & 2 \\ 3 & 5\end{pmatrix}}",
    ),
    ("3+4i", r"\boxed{3-4i}"),
    ("4", r"\boxed{4\sqrt{2}}"),
    (r"\text{odd}", r"\boxed{\text{even}}"),
    ("12:00", r"\boxed{1:00}"),
]


@pytest.mark.parametrize(("gold", "completion"), EQUAL)
def test_equal(gold: str, completion: str) -> None:
    assert verify(gold, completion)


@pytest.mark.parametrize(("gold", "completion"), NOT_EQUAL)
def test_not_equal(gold: str, completion: str) -> None:
    assert not verify(gold, completion)


def test_math_reward_fields() -> None:
    task = Task(prompt="2+2?", answer="4")
    good = math_reward(r"It is \boxed{4}.", task)
    assert (good.score, good.components, good.extracted, good.reason) == (
        1.0,
        {"correct": 1.0},
        "4",
        None,
    )
    bad = math_reward(r"It is \boxed{5}.", task)
    assert (bad.score, bad.components["correct"], bad.reason, bad.timed_out) == (
        0.0,
        0.0,
        "not equivalent",
        False,
    )
    assert (
        math_reward("I do not know", Task(answer="x+1"), modes=("boxed",)).reason
        == "no answer found"
    )
    assert math_reward(r"\boxed{\frac{1}{}}", Task(answer="x")).reason == "unparseable"
    assert math_reward(r"\boxed{4}", Task(answer=None)).reason == "task has no answer"


def test_answer_too_long_is_rejected() -> None:
    res = math_reward(r"\boxed{" + "1+" * 600 + "1}", Task(answer="601"), max_answer_chars=100)
    assert (res.score, res.reason) == (0.0, "answer too long")


def test_tolerance_only_for_decimals_and_configurable() -> None:
    assert not verify("1/3", r"\boxed{0.333}")  # 3 significant digits: under the policy's 4
    assert verify("1/3", r"\boxed{0.3333}", rel_tol=1e-3)
    assert verify("1/3", r"\boxed{0.3333}", float_rounding=4)
    assert not verify("1000000", r"\boxed{1000001}", rel_tol=1e-3)  # both exact: no tolerance
    assert verify(r"\sqrt{17}", r"\boxed{4.1231056}")


def test_strict_and_set_relation_options() -> None:
    assert not verify("f(x)", r"\boxed{f(y)}")
    assert verify("f(x)", r"\boxed{f(y)}", strict=False)
    assert not verify(r"x \in [-2,7]", r"\boxed{-2 \le x \le 7}")
    assert verify(r"x \in [-2,7]", r"\boxed{-2 \le x \le 7}", allow_set_relation=True)


def test_verify_batch_keeps_order_and_mixes_paths() -> None:
    pairs = [
        ("4", r"\boxed{4}"),
        ("x^2", r"\boxed{x \cdot x}"),
        ("4", r"\boxed{5}"),
        ("(x+1)^2", r"\boxed{x^2+1}"),
    ]
    results = verify_batch(pairs, workers=2)
    assert [r.score for r in results] == [1.0, 1.0, 0.0, 0.0]
    assert results[1].extracted == r"x \cdot x"


def test_config_validation_messages() -> None:
    with pytest.raises(ValueError, match="rel_tol"):
        MathVerifyConfig(rel_tol=2)
    with pytest.raises(ValueError, match="timeout"):
        MathVerifyConfig(timeout=0)
    with pytest.raises(ValueError, match="unknown extraction modes"):
        MathVerifyConfig(modes=("boxed", "magic"))
    with pytest.raises(TypeError, match="tuple of mode names"):
        MathVerifyConfig(modes="boxed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="workers"):
        MathVerifyConfig(workers=0)
    with pytest.raises(TypeError, match="valid options"):
        verify("1", "1", bogus=True)
    cfg = MathVerifyConfig(timeout=3.0, workers=1)
    assert dataclasses.replace(cfg, rel_tol=0.1).timeout == 3.0
    assert verify("0.5", r"\boxed{0.55}", config=MathVerifyConfig(workers=1), rel_tol=0.2)


def test_parse_number_fast_path() -> None:
    assert parse_number("x") is None
    assert parse_number("1e999999") is None  # no huge exponent in-process
    a, b = parse_number("45%"), parse_number("0.45")
    assert a is not None and b is not None and a.percent
    assert numbers_equal(a, b, 1e-6, None)
    assert not numbers_equal(a, b, 1e-6, None, percent_as_fraction=False)


TAILS = [
    # (text, value text, is percent): one stripper for the number fast path and the LaTeX path
    (r"45\%", "45", True),
    ("45 percent", "45", True),
    (r"28\text{\%}", "28", True),
    (r"90^\circ", "90", False),
    (r"90^{\circ}", "90", False),
    ("90°", "90", False),
    (r"30^\circ, 60^\circ", "30, 60", False),  # degrees anywhere
    (r"5^\circ}", "5", False),  # a brace closing nothing goes with the degree sign
    (r"90 \degree", "90", False),
    ("5€", "5", False),
    ("5 cm", "5", False),
    ("5cm", "5", False),
    ("12 dollars.", "12", False),
    ("7 ft²", "7", False),
    ("5 m²", "5", False),
    (r"4 \text{cm}^2", "4", False),
    (r"15\mbox{ cm}^2", "15", False),
    (r"\frac{1}{3} \textbf{meters}", r"\frac{1}{3}", False),
    (r"\sqrt{2}\text{ m}", r"\sqrt{2}", False),
    (r"12\% \text{ of it}", "12", True),
    ("2 pi", "2 pi", False),  # a constant, not a unit
    (r"3 \text{pi}", r"3 \text{pi}", False),
    (r"2\pi", r"2\pi", False),
    (r"\text{Evelyn}", r"\text{Evelyn}", False),  # nothing before it: a text answer
    ("x^2", "x^2", False),
]


@pytest.mark.parametrize(("text", "value", "percent"), TAILS)
def test_strip_tails(text: str, value: str, percent: bool) -> None:
    assert strip_tails(text) == (value, percent)


@pytest.mark.parametrize(
    ("text", "value"),
    [("5cm", 5), (r"90^\circ\text{ F}", 90), (r"\$5 \text{ dollars}", 5), ("5€", 5), ("7 m²", 7)],
)
def test_number_path_and_latex_path_strip_the_same_tails(text: str, value: int) -> None:
    num = parse_number(text)
    assert num is not None and num.value == value
    assert mathparse.parse_answer(text).expr == value


def test_a_constant_is_not_a_unit() -> None:
    assert parse_number("2 pi") is None  # was read as 2 (a unit "pi")
    assert not verify("2", r"\boxed{2 pi}")


def test_parse_math_plain_and_latex() -> None:
    x = sympy.Symbol("x")
    assert parse_math("(x+1)*(x-2)") == (x + 1) * (x - 2)
    assert parse_math("2x^2 + 3") == 2 * x**2 + 3
    assert parse_math("sqrt(8)") == 2 * sympy.sqrt(2)
    assert parse_math(r"\frac{x}{2}") == x / 2
    assert parse_math("e") == sympy.E
    with pytest.raises(MathParseError):
        parse_math("import os")
    with pytest.raises(MathParseError):
        parse_math("")


def _double(n: int) -> int:
    return 2 * n


def _boom() -> None:
    raise ValueError("bad input")


def test_run_limited_result_error_and_threads() -> None:
    assert run_limited(_double, 21, timeout=10) == 42
    with pytest.raises(WorkerError, match="bad input"):
        run_limited(_boom, timeout=10)
    out: list[int] = []
    threads = [
        threading.Thread(target=lambda i=i: out.append(run_limited(_double, i, timeout=10)))
        for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(out) == [0, 2, 4, 6]


def _imported(name: str) -> bool:
    return name in sys.modules


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def test_preload_reaches_running_workers_and_their_replacements() -> None:
    pool = get_pool(2)
    assert pool.run_on_all(_imported, "mailbox", timeout=30) == [False, False]
    pool.preload("mailbox", timeout=60)  # a module no worker imports by itself
    assert pool.run_on_all(_imported, "mailbox", timeout=30) == [True, True]
    with pytest.raises(CheckTimeout):
        run_limited(_sleep, 30, timeout=0.5)  # kills a worker: its replacement preloads too
    assert pool.run_on_all(_imported, "mailbox", timeout=60) == [True, True]
    pool.preload("mailbox")  # already preloaded: nothing to do


# --------------------------------------------------------------------------- fast LaTeX path

FAST_SAME = [
    "42", "-7", "0.5", "2.25", r"\frac{3}{4}", r"-\frac{1}{2}", r"\frac94\pi", r"\frac{1+\sqrt{5}}{2}",
    r"\sqrt{2}+\sqrt{5}", r"\sqrt 2 + \sqrt3", r"\sqrt[3]{x}", r"\sqrt[n]{2}", r"2\sqrt{3}x",
    r"10^{-3}", r"2^{10}", r"x^2y", r"e^{2}", "e", "i", "2+3i", r"\pi r^2", r"\frac{9}{4}\pi",
    r"2\cdot 3", r"2 \times 10^{3}", r"(x+1)(x-1)", "2(x+1)", "3(2)", r"2\frac{1}{2}", r"-2\frac{1}{2}",
    r"(-2)\frac12", r"2\frac{1}{2}x", "x/2y", "1/2x", r"\frac{x}{y}z", "xy", "2xy",
    r"\left(3, \frac{\pi}{2}\right)", "(1, 2)", "(3,1)", "[3,1]", "[0,1)", r"(-\infty, 3]",
    r"[1,\infty)", "(1,2,3)", "[1,2,3]", "1, 2, 3", r"\{1, 2\}", r"\{x\}", "(1,2),(3,4)",
    "(1,2,3),(4,5,6)", "1, (2,3)", "x < 1", r"x \le 2", r"5 \geq x", "x != 3", r"x \neq 3",
    "x >= 5", r"y = -\frac{1}{2}x+\frac{3}{4}", "2x+3y=6", "a=1, b=2", r"\infty", r"-\infty",
    "(0.5, 1.5)", r"\frac{2}{4}", r"x^{-1}", "(1,000)", "0,5",
]  # fmt: skip


@pytest.mark.parametrize("text", FAST_SAME)
def test_fast_latex_path_matches_antlr(text: str) -> None:
    s, _ = normalize(text)
    fast = fast_latex(s)
    assert fast is not None, f"{text!r} should take the fast path"
    slow = mathparse.parse_latex(s)
    assert sympy.srepr(postprocess(fast)) == sympy.srepr(slow)
    assert type(postprocess(fast)) is type(slow)


FAST_DECLINES = [
    "2 3", r"\frac{1}{2}3", r"\frac123", "x(x+1)", "f(x)", "dx", "gcd", "E", "x^2^3", "2e", "x_1", r"\sin x",
    r"\sqrt{8}0.5", r"x^{2}(3)", "x = 1, 2", "0 < x < 1", "12,345", r"\{\}", "|x|", r"\pm 2",
    r"[1,2] \cup (3,4)", "1.5.2", "__import__('os')", r"\frac{__import__}{1}", "x.y", "a[0]",
]  # fmt: skip


@pytest.mark.parametrize("text", FAST_DECLINES)
def test_fast_latex_path_declines_what_it_does_not_mirror(text: str) -> None:
    assert fast_latex(normalize(text)[0]) is None


def test_parse_cache_reuses_results_and_clears() -> None:
    mathparse.clear_parse_cache()
    a = mathparse.parse_answer(r"\frac{1}{7}+x")
    assert mathparse.parse_answer(r"\frac{1}{7}+x") is a
    with pytest.raises(MathParseError):
        mathparse.parse_answer(r"\frac{")
    with pytest.raises(MathParseError):  # failures are cached too, and still raise
        mathparse.parse_answer(r"\frac{")
    mathparse.clear_parse_cache()
    assert mathparse.parse_answer(r"\frac{1}{7}+x") is not a


def test_clear_math_caches_reaches_every_worker() -> None:
    pool = get_pool(2)
    assert verify(
        r"\frac{1}{7}+x", r"\boxed{x+\frac{1}{7}}", workers=2
    )  # the same 2-worker pool on any machine
    assert (
        sum(pool.run_on_all(mathparse.parse_cache_size, timeout=30)) > 0
    )  # a worker parsed: there is something to clear
    clear_math_caches()
    assert pool.run_on_all(mathparse.parse_cache_size, timeout=30) == [0, 0]
    assert mathparse.parse_cache_size() == 0
    assert verify(r"\frac{1}{7}+x", r"\boxed{x+\frac{1}{7}}", workers=2)
