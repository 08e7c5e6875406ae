"""benchmarks/learning_vs_trl.py: TRL's rows are our trainer's prompts in order; our side runs end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # minutes of subprocesses: `make test-slow` (CI) runs it

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


def test_trl_rows_are_the_prompts_our_trainer_draws_in_order() -> None:
    from learning_sides import _train_rows

    from grpo_gym.agent.env_pool import EnvPool
    from grpo_gym.agent.rollout import prompt_stream
    from grpo_gym.envs.trl import EnvReward

    spec = dict(env="grpo_gym/Arithmetic-v0", env_kwargs={"digits": 2}, steps=3, B=2, seed=5)
    rows = _train_rows(spec)
    pool = EnvPool({"grpo_gym/Arithmetic-v0": {"digits": 2}})
    want = []
    for step in range(3):
        for req in prompt_stream(("grpo_gym/Arithmetic-v0",), None, 5, step * 1000, 2):
            obs, info = pool.get(req.env_id, 0).reset(seed=req.seed, options={"split": "train"})
            want.append((obs, info["reference"]))
    assert [r["prompt"][-1]["content"] for r in rows] == [w[0] for w in want]
    assert len({r["prompt"][-1]["content"] for r in rows}) > 1  # not one prompt repeated
    reward = EnvReward()
    scores = reward(
        [r["prompt"] for r in rows], [w[1] for w in want], task=[r["task"] for r in rows]
    )
    assert scores == [1.0] * 6  # each row's task is the one its prompt shows


def test_ours_side_trains_and_is_scored(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "lvt.json"
    cmd = [sys.executable, str(REPO / "benchmarks" / "learning_vs_trl.py")]
    cmd += ["--envs", "arithmetic", "--seeds", "0", "--sides", "ours", "--steps", "2"]
    cmd += ["--problems", "4", "--max-new-tokens", "4", "--model", str(tiny_model_dir)]
    cmd += ["--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600, cwd=REPO)
    res = json.loads(out.read_text())
    entry = res["envs"]["arithmetic"]
    (run,) = entry["runs"]
    assert run["side"] == "ours" and len(run["steps"]) == 2 and run["train_s"] > 0
    assert run["after"]["problems"] == 4 and 0 <= run["after"]["pass_at_1"] <= 1
    assert entry["summary"]["ours"]["seeds"] == [0]
    assert {r["setting"] for r in res["settings_map"]} >= {"loss aggregation", "KL"}
    # --resume keeps what --out has and trains only the missing seed, two runs at once at most
    resume = [*cmd, "--resume", "--jobs", "2"]
    resume[resume.index("--seeds") + 1] = "0,1"
    subprocess.run(resume, check=True, capture_output=True, text=True, timeout=600, cwd=REPO)
    entry2 = json.loads(out.read_text())["envs"]["arithmetic"]
    assert [r["seed"] for r in entry2["runs"]] == [0, 1] and entry2["runs"][0] == run
    assert entry2["before"] == entry["before"] and len(entry2["resumed_by"]) == 1
    assert entry2["summary"]["ours"]["seeds"] == [0, 1]
    other = [*resume]
    other[other.index("--steps") + 1] = "3"  # other settings: refused, in one line
    proc = subprocess.run(other, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "has arithmetic run with steps=2, this command's is 3" in proc.stderr
