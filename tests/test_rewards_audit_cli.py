"""``grpo-gym rewards audit`` from a JSONL of replies: gold given or recovered from the env's seed."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pytest

import grpo_gym.envs  # noqa: F401
from grpo_gym.cli import main


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_audit_scores_replies_with_gold_or_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = gym.make("grpo_gym/Arithmetic-v0").unwrapped
    _, info = env.reset(seed=3, options={"split": "test"})
    gold = info["task"].answer
    rows = [
        {"reply": "so \\boxed{2}", "gold": "2"},
        {"reply": "\\boxed{7}", "gold": "8"},
        {"seed": 3, "replies": [f"The answer is \\boxed{{{gold}}}.", "I do not know."]},
    ]
    out = tmp_path / "audit.json"
    code = main(
        [
            "rewards",
            "audit",
            "--env",
            "Arithmetic-v0",
            "--replies",
            str(_jsonl(tmp_path / "r.jsonl", rows)),
            "--json-out",
            str(out),
        ]
    )
    assert code == 0
    assert "4 replies to grpo_gym/Arithmetic-v0: ours correct 2" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert (
        report["total"] == 4
        and report["ours_correct"] == 2
        and report["env"] == "grpo_gym/Arithmetic-v0"
    )


def test_audit_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _jsonl(tmp_path / "bad.jsonl", [{"reply": "x"}])
    assert main(["rewards", "audit", "--env", "Arithmetic-v0", "--replies", str(bad)]) == 2
    assert "need 'reply' (or 'replies') and 'gold'" in capsys.readouterr().err
    seeds = _jsonl(tmp_path / "s.jsonl", [{"seed": 1, "reply": "x"}])
    assert (
        main(["rewards", "audit", "--env", "grpo_gym/WordCount-v0", "--replies", str(seeds)]) == 2
    )
    assert "no gold answer" in capsys.readouterr().err
