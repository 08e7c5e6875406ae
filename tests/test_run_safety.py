"""Runs that lose nothing: periodic saves by default, no overwritten logs, no zero-step resumes,
checkpoints verified by their manifest, full disks, and SIGTERM mid-run (issue 18)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tests.fixture_envs  # noqa: F401  (registers grpo_gym_test/* envs)
from grpo_gym.agent.checkpoint import (
    latest_good_checkpoint,
    list_checkpoints,
    save_checkpoint,
    verify_checkpoint,
)
from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.errors import CheckpointWriteError, NothingToTrain, RunDirError
from grpo_gym.agent.interrupt import StopSignals
from grpo_gym.agent.trainer import train
from tests.helpers import tiny_cfg

REPO = Path(__file__).resolve().parents[1]


def _fake_run(out: Path, steps: int, checkpoint_at: int | None = None) -> bytes:
    """A run folder with ``steps`` metric rows (and an empty legacy checkpoint folder); returns the log's bytes."""
    out.mkdir(parents=True)
    rows = "".join(json.dumps({"step": s, "reward_mean": 0.5}) + "\n" for s in range(1, steps + 1))
    (out / "metrics.jsonl").write_text(rows)
    if checkpoint_at is not None:
        (out / f"checkpoint-{checkpoint_at:06d}").mkdir()
        (out / f"checkpoint-{checkpoint_at:06d}" / "trainer_state.pt").write_bytes(b"")
    return (out / "metrics.jsonl").read_bytes()


def _edit(path: Path, old: str, new: str) -> None:
    """An edit that keeps the file's size (so only the hash can tell)."""
    text = path.read_text()
    assert old in text and len(old) == len(new)
    path.write_text(text.replace(old, new))


def test_checkpoints_are_periodic_by_default(tiny_model_dir: Path, tmp_path: Path) -> None:
    cfg = GRPOConfig()
    assert cfg.save_every > 0 and cfg.save_every_minutes > 0
    # the time bound fires first here (a tiny fraction of a minute), so every step saves
    res = train(
        tiny_cfg(
            tiny_model_dir, tmp_path / "run", steps=2, save_every_minutes=1e-6, keep_checkpoints=5
        ),
        echo=lambda s: None,
    )
    assert [p.name for p in list_checkpoints(tmp_path / "run")] == [
        "checkpoint-000001",
        "checkpoint-000002",
    ]
    assert all(verify_checkpoint(p) is None for p in list_checkpoints(tmp_path / "run"))
    assert res.steps == 2


def test_resume_with_logs_but_no_checkpoint_refuses_and_keeps_the_logs(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    before = _fake_run(out, steps=266)
    with pytest.raises(
        RunDirError, match=r"holds 266 logged steps .* no checkpoint .* another output_dir=FOLDER"
    ) as caught:
        train(tiny_cfg(tiny_model_dir, out, steps=300, resume=True), echo=lambda s: None)
    assert "\n" not in str(caught.value)
    assert (out / "metrics.jsonl").read_bytes() == before


def test_a_start_that_failed_before_any_step_does_not_block_the_rerun(tmp_path: Path) -> None:
    from grpo_gym.agent.run_dir import RunDir

    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.jsonl").write_text("")  # what a start that failed before its first step leaves
    cfg = GRPOConfig(env=("grpo_gym_test/Letter-v0",), output_dir=str(out))
    assert RunDir.open(cfg, print).checkpoint is None
    (out / "metrics.jsonl").write_text(
        '{"step": 1, "rew'
    )  # a row cut by a kill is not a completed step
    assert RunDir.open(cfg, print).start_step == 0


def test_a_resume_with_nothing_left_to_train_fails(
    tiny_model_dir: Path, tmp_path: Path, capsys
) -> None:
    from grpo_gym.cli import main

    out = tmp_path / "run"
    _fake_run(out, steps=2, checkpoint_at=2)
    with pytest.raises(NothingToTrain, match="already at step 2 and steps=2"):
        train(tiny_cfg(tiny_model_dir, out, steps=2, resume=True), echo=lambda s: None)
    code = main(
        [
            "train",
            "--model",
            str(tiny_model_dir),
            "--env",
            "grpo_gym_test/Letter-v0",
            "--output-dir",
            str(out),
            "--steps",
            "2",
            "--resume",
            "--device",
            "cpu",
            "--progress",
            "false",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "nothing to train" in err and len(err.strip().splitlines()) == 1


def test_a_damaged_checkpoint_is_skipped_for_the_newest_good_one(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    train(
        tiny_cfg(tiny_model_dir, out, steps=2, save_every=1, keep_checkpoints=3),
        echo=lambda s: None,
    )
    c1, c2 = list_checkpoints(out)
    for damage, why in (
        (lambda p: _edit(p / "grpo_config.json", '"seed": 0', '"seed": 7'), "sha256"),
        (lambda p: (p / "tokenizer.json").unlink(), "missing"),
    ):
        copy = tmp_path / f"copy-{why}"
        shutil.copytree(c2, copy)
        damage(copy)
        assert why in (verify_checkpoint(copy) or "")
    weights = c2 / "model.safetensors"
    with weights.open("r+b") as f:  # truncated, as by a full disk outside our writer
        f.truncate(weights.stat().st_size // 2)
    assert latest_good_checkpoint(out) == (c1, [(c2, verify_checkpoint(c2))])
    said: list[str] = []
    res = train(
        tiny_cfg(tiny_model_dir, out, steps=3, save_every=1, keep_checkpoints=3, resume=True),
        echo=said.append,
    )
    assert any(
        "skipping damaged checkpoint" in s and "truncated" in s and "checkpoint-000001" in s
        for s in said
    ), said
    assert [m["step"] for m in res.history] == [2, 3]
    assert (out / "damaged-checkpoint-000002").is_dir()
    assert [p.name for p in list_checkpoints(out)] == [
        "checkpoint-000001",
        "checkpoint-000002",
        "checkpoint-000003",
    ]
    assert all(verify_checkpoint(p) is None for p in list_checkpoints(out))


@pytest.mark.parametrize(
    ("code", "fix"), [(errno.ENOSPC, "free some space"), (errno.EACCES, "make the folder writable")]
)
def test_a_failed_checkpoint_write_keeps_the_previous_one(
    tiny_policy, tmp_path: Path, monkeypatch, code: int, fix: str
) -> None:
    import grpo_gym.agent.checkpoint as ck

    model, tok = tiny_policy
    first = save_checkpoint(tmp_path, 1, model, tok, {"x": 1}, {"seed": 0})

    def no_room(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(ck.torch, "save", no_room)
    with pytest.raises(CheckpointWriteError) as caught:
        save_checkpoint(tmp_path, 2, model, tok, {"x": 2}, {"seed": 0})
    msg = str(caught.value)
    assert (
        str(tmp_path) in msg
        and "GB free" in msg
        and "GB needed" in msg
        and fix in msg
        and "checkpoint-000001 is intact" in msg
    )
    assert caught.value.errno == code
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temporary folder left behind
    assert verify_checkpoint(first) is None and latest_good_checkpoint(tmp_path) == (first, [])


def test_stop_signals_first_requests_a_stop_second_stops_at_once() -> None:
    said: list[str] = []
    with StopSignals(said.append) as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        assert stop.requested == signal.SIGTERM and "stopping after this step" in said[0]
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_sigterm_mid_run_saves_says_how_to_resume_and_exits_nonzero(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    args = [
        "train",
        "--model",
        str(tiny_model_dir),
        "--env",
        "grpo_gym_test/Letter-v0",
        "--steps",
        "500",
        "--prompts-per-step",
        "2",
        "--group-size",
        "2",
        "--max-new-tokens",
        "4",
        "--device",
        "cpu",
        "--output-dir",
        str(out),
        "--eval-before-after",
        "false",
        "--progress",
        "false",
        "--save-every",
        "0",
        "--save-every-minutes",
        "0",
    ]
    code = "import sys, tests.fixture_envs; from grpo_gym.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while not (out / "metrics.jsonl").exists() or not (out / "metrics.jsonl").read_text().strip():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    steps = len((out / "metrics.jsonl").read_text().splitlines())
    ckpt = out / f"checkpoint-{steps:06d}"
    assert f"grpo-gym train --output-dir {out} --resume" in stderr and str(ckpt) in stderr
    assert list_checkpoints(out) == [ckpt] and verify_checkpoint(ckpt) is None
