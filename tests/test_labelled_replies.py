"""The hand-labelled benchmark replies (issue 30, ``benchmarks/data/labelled-replies.jsonl``, made
and scored by ``benchmarks/grader_agreement.py``): our math scorer's verdict on every committed
GSM8K / MATH-500 reply that any grader (ours, math-verify, lm-eval, Qwen2.5-Math) calls correct
must equal the hand label: no truncated fragment, echo, invented few-shot question or unclosed
box earns credit, and no correct final answer is missed."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from grader_agreement import (  # noqa: E402  (benchmarks/ is not a package)
    BENCHMARKS,
    LABELLED,
    Envs,
    load,
    references_for,
    score_ours,
)

ROWS = load(LABELLED)


@pytest.fixture(scope="module")
def envs() -> Envs:
    return Envs()


def test_the_set_holds_the_cases_of_issue_30() -> None:
    per_bench = Counter(r["benchmark"] for r in ROWS)
    assert per_bench["gsm8k"] + per_bench["gsm8k-5shot"] >= 40 and per_bench["math500"] >= 22
    ids = {r["id"] for r in ROWS}
    assert len(ids) == len(ROWS)
    named = {
        "gsm8k-300-smollm2-135m-vllm#201",  # truncated: '... 111 + 15 ='
        "gsm8k-5shot-300-smollm2-135m-vllm#170",  # truncated: 'He buys 2'
        "gsm8k-5shot-300-smollm2-135m-vllm#64",  # run-on into an invented 'Question:'
        "learning-gsm8k-v0-smollm2-135m-10steps-512tok.after#276",  # unclosed trailing \boxed{
        *(f"math500-smollm2-135m-vllm#{i}" for i in (37, 43, 171, 303, 378, 388, 467)),
    }
    assert named <= ids
    for row in ROWS:
        assert row["env_id"] in BENCHMARKS and row["finish_reason"] in ("stop", "length")
        assert isinstance(row["hand_label"], bool) and row["hand_reason"].strip(), row["id"]
        assert set(references_for(row["benchmark"])) <= set(row["reference"]), row["id"]
        said = [row["ours_old"], row["ours"], *(v["correct"] for v in row["reference"].values())]
        assert any(said), f"{row['id']}: no grader calls it correct, so it is not in the set"


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_our_verdict_equals_the_hand_label(row: dict[str, Any], envs: Envs) -> None:
    ok, extracted, reason = score_ours(envs, row)
    assert ok == row["hand_label"], (
        f"ours {ok} (extracted {extracted!r}, {reason}), hand {row['hand_label']}: "
        f"{row['hand_reason']} [finish {row['finish_reason']}, gold {row['gold']!r}]"
    )
