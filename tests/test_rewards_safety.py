"""Safety: model text is never executed, adversarial input never hangs or crashes."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grpo_gym.rewards import CheckTimeout, MathParseError, Task, math_reward, run_limited, verify
from grpo_gym.rewards.mathparse import parse_plain, tokenize_plain

LIMIT = 2.0

INJECTIONS = [
    "__import__('os').system('touch {marker}')",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 0",
    "exec(\"open('{marker}', 'w')\")",
    "eval('1+1')",
    "open('{marker}', 'w').write('x')",
    "globals()['__builtins__']",
    "x.__class__",
    "Symbol('x').__reduce__()",
]


@pytest.mark.parametrize("payload", INJECTIONS)
@pytest.mark.parametrize("wrap", [r"\boxed{{{}}}", "<answer>{}</answer>", "Answer: {}", "{}"])
def test_injection_scores_zero_and_runs_nothing(payload: str, wrap: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = wrap.format(payload.format(marker=marker))
    # inside \boxed{} or <answer> the payload is the answer: it must score 0 even against "0";
    # as bare text the last number ("lambda: 0" -> 0) may be extracted, so use other golds
    golds = ("0", "2", "x") if wrap.startswith(("\\boxed", "<answer>")) else ("2", "x")
    if "{marker}" in payload and not wrap.startswith(("\\boxed", "<answer>")):
        golds = ("-7919", "x")  # bare text: the last number may be a digit of tmp_path's name
    for gold in golds:
        res = math_reward(text, Task(answer=gold), timeout=LIMIT)
        assert res.score == 0.0
    assert not marker.exists()


@pytest.mark.parametrize(
    "text", ["__import__", "lambda", "x.y", "a[0]", "'s'", "os", "1;2", "x_1", "`x`"]
)
def test_plain_tokenizer_rejects_non_whitelisted(text: str) -> None:
    with pytest.raises(MathParseError):
        parse_plain(text)


def test_plain_tokenizer_accepts_math() -> None:
    assert [t[1] for t in tokenize_plain("2*sqrt(x)^2 + 1")] == [
        "2",
        "*",
        "sqrt",
        "(",
        "x",
        ")",
        "^",
        "2",
        "+",
        "1",
    ]


def _sleep_forever() -> None:
    while True:
        time.sleep(1)


def test_run_limited_times_out_and_pool_recovers() -> None:
    start = time.monotonic()
    assert issubclass(CheckTimeout, TimeoutError)  # documented: `except TimeoutError` catches it
    with pytest.raises(CheckTimeout):
        run_limited(_sleep_forever, timeout=1.0)
    assert time.monotonic() - start < 1.0 + 1.0
    assert run_limited(abs, -3, timeout=10) == 3  # a fresh worker replaced the killed one


# A symbolic 9x9 determinant (362880 terms): sympy expands it in one long call. (Towers such as
# 5^{5^{5^{5^5}}} no longer reach sympy: their size is estimated first, see test_rewards_worst_case.)
HANG = (
    r"\boxed{\det\begin{pmatrix}"
    + r"\\".join("&".join(f"x_{{{i}{j}}}" for j in range(9)) for i in range(9))
    + r"\end{pmatrix}}"
)


def _hang_check() -> tuple[float, object]:
    start = time.monotonic()
    res = math_reward(HANG, Task(answer="3"), timeout=LIMIT)
    return time.monotonic() - start, res


def test_hanging_check_returns_within_limit_main_thread() -> None:
    verify("x", r"\boxed{x+0}", timeout=LIMIT)  # a warm worker, so only the check is timed
    elapsed, res = _hang_check()
    assert elapsed < LIMIT + 1.0
    assert res.score == 0.0 and res.timed_out and res.reason == "timeout"  # type: ignore[attr-defined]


def test_hanging_check_returns_within_limit_other_thread() -> None:
    verify("x", r"\boxed{x+0}", timeout=LIMIT)
    out: list[tuple[float, object]] = []
    t = threading.Thread(target=lambda: out.append(_hang_check()))
    t.start()
    t.join(LIMIT + 10)
    assert out, "the thread did not finish"
    elapsed, res = out[0]
    assert elapsed < LIMIT + 1.0
    assert res.timed_out  # type: ignore[attr-defined]


def test_huge_inputs_are_capped() -> None:
    res = math_reward("9" * 200_000, Task(answer="9"), timeout=LIMIT)
    assert res.score == 0.0
    res = math_reward(
        r"\boxed{" + "(" * 5000 + "1" + ")" * 5000 + "}", Task(answer="1"), timeout=LIMIT
    )
    assert res.score == 0.0 and res.reason == "answer too long"


_PIECES = [
    *"0123456789x+-*/^{}()[],.=<> $%e",
    "\\frac",
    "\\sqrt",
    "\\boxed{",
    "\\pi",
    "\\infty",
    "!",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=80),
        st.lists(st.sampled_from(_PIECES), max_size=25).map("".join),
    )
)
def test_any_string_scores_in_range_within_limit(text: str) -> None:
    start = time.monotonic()
    res = math_reward(text, Task(answer="2"), timeout=LIMIT)
    assert isinstance(res.score, float) and res.score in (0.0, 1.0)
    assert time.monotonic() - start < LIMIT + 1.0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_pool_survives_a_fork() -> None:
    assert verify("x^2", r"\boxed{x \cdot x}", timeout=10)  # parent pool is running
    pid = os.fork()
    if pid == 0:  # child: must start its own workers, not talk to the parent's
        ok = verify("x^2", r"\boxed{x \cdot x}", timeout=10) and not verify(
            "x^2", r"\boxed{x}", timeout=10
        )
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert verify("(x+1)^2", r"\boxed{x^2+2x+1}", timeout=10)  # parent still fine
