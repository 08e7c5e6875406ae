"""The labelled set (tests/data/verify_labelled.jsonl, made by benchmarks/labelled_set.py): for
MATH-500 and GSM8K golds, rewritings that must verify True and perturbations that must verify
False. The whole set's rates, beside math-verify's, are in benchmarks/results/verify-cpu.json;
here a fixed sample of every 20th row runs in the test suite."""

from __future__ import annotations

import json
from pathlib import Path

from grpo_gym.rewards import verify_batch

ROWS = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "verify_labelled.jsonl").read_text().splitlines()
]


def test_labelled_sample_has_no_false_positive_and_no_false_negative() -> None:
    sample = ROWS[::20]
    assert len(sample) > 500 and {r["source"] for r in sample} == {"math500", "gsm8k"}
    results = verify_batch([(r["gold"], r["reply"]) for r in sample])
    wrong = [
        (r["kind"], r["gold"], r["reply"])
        for r, res in zip(sample, results, strict=True)
        if (res.score == 1.0) != r["label"]
    ]
    assert wrong == []


def test_labels_are_balanced_and_cover_every_gold() -> None:
    assert sum(r["label"] for r in ROWS) > 0.4 * len(ROWS)
    assert sum(not r["label"] for r in ROWS) > 0.3 * len(ROWS)
    assert len({(r["source"], r["id"]) for r in ROWS}) == 500 + 1319
