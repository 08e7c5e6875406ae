"""The re-scoring and seed-spread tools of benchmarks/ on small inputs (no model runs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import grpo_gym.envs  # noqa: F401  (registers the envs)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import rescore
import seed_spread


def test_rescore_applies_todays_rules_to_committed_replies(tmp_path: Path) -> None:
    env = gym.make("grpo_gym/GSM8K-v0")
    prompt, info = env.reset(seed=7, options={"split": "test"})
    gold = info["task"].answer
    row = dict(env_id="grpo_gym/GSM8K-v0", seed=7, problem=0, sample=0, prompt=prompt)
    rows = [
        dict(row, reply=f"so we add {gold}", truncated=True, passed=True),  # a fragment, cut off
        dict(row, reply=f"The answer is \\boxed{{{gold}}}.", truncated=False, passed=True),
    ]
    path = tmp_path / "x.samples.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = rescore.rescore(path, rescore.Tasks())
    assert (out["pass_at_1_then"], out["pass_at_1_now"], out["changed"]) == (1.0, 0.5, 1)
    assert out["changes"][0]["reason"] == "cut at the token limit before a finished final answer"
    with pytest.raises(SystemExit, match="no split gives the committed prompt"):
        rescore.Tasks().task("grpo_gym/GSM8K-v0", 7, "another prompt")
    assert rescore.current_id("grpo_gym/IFEval-v0") == "grpo_gym/IFEval-v1"
    assert rescore.current_id("grpo_gym/GSM8K-v0") == "grpo_gym/GSM8K-v0"


def test_seed_spread_pairs_the_seeds_and_gives_a_t_interval() -> None:
    def run(side: str, seed: int, p: float) -> dict:
        return {"side": side, "seed": seed, "after": {"pass_at_1": p}, "steps": []}

    runs = [run("ours", 0, 0.4), run("ours", 1, 0.6), run("trl", 0, 0.5), run("trl", 1, 0.5)]
    runs.append(run("ours", 2, 0.5))  # no TRL run at seed 2: not paired
    s = seed_spread.summarise(runs)
    assert s["ours"]["pass_at_1"] == [0.4, 0.6, 0.5] and s["ours"]["mean"] == 0.5
    diff = s["difference_ours_minus_trl"]
    assert diff["seeds"] == [0, 1] and diff["per_seed"] == [-0.1, 0.1]
    assert (diff["ours_higher"], diff["trl_higher"], diff["ties"]) == (1, 1, 0)
    mean, lo, hi = seed_spread.t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and hi - mean == mean - lo == pytest.approx(4.303 * 1.0 / 3**0.5)
