"""What a finished run leaves in its folder: reports, curves, the weights-only model, trackers."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
from pathlib import Path

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

import tests.fixture_envs  # noqa: F401  (registers grpo_gym_test/* envs)
from grpo_gym.agent.checkpoint import STATE_FILE
from grpo_gym.agent.trainer import train
from tests.helpers import tiny_cfg


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_finished_run_writes_reports_curves_final_model_and_tensorboard(
    tiny_model_dir: Path, tmp_path: Path, umask_022: None
) -> None:
    out = tmp_path / "run"
    cfg = tiny_cfg(
        tiny_model_dir, out, eval_before_after=True, eval_problems=2, report_to="tensorboard"
    )
    result = train(cfg, echo=lambda s: None)

    for name in ("eval_before", "eval_after"):  # the before/after evaluations, JSON + Markdown
        saved = json.loads((out / f"{name}.json").read_text())
        assert saved["results"][0]["env_id"] == "grpo_gym_test/Letter-v0"
        assert "grpo_gym_test/Letter-v0" in (out / f"{name}.md").read_text()
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    final = out / "final"  # weights only: loads with plain transformers, no optimizer state
    assert result.final_model == final
    names = {p.name for p in final.iterdir()}
    assert "model.safetensors" in names and "config.json" in names
    assert STATE_FILE not in names and not any("optim" in n for n in names)
    model = AutoModelForCausalLM.from_pretrained(final)
    assert AutoTokenizer.from_pretrained(final).chat_template
    assert model.num_parameters() > 0
    ckpt = result.checkpoint
    assert ckpt is not None
    for folder in (final, ckpt, out):  # the umask decides, not mkdtemp's 0700
        assert _mode(folder) == 0o755, folder
    assert _mode(final / "model.safetensors") == 0o644
    assert _mode(ckpt / STATE_FILE) == 0o644

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(out / "tb"), size_guidance={"tensors": 0, "scalars": 0})
    events.Reload()
    assert {"reward_mean", "pass_rate", "kl"} <= set(events.Tags()["scalars"])
    assert [e.step for e in events.Scalars("reward_mean")] == [1, 2]
    text = events.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert '"lr": 0.001' in text and "grpo_gym_test/Letter-v0" in text


@pytest.mark.skipif(importlib.util.find_spec("wandb") is None, reason="extra [wandb]")
def test_wandb_runs_offline_without_a_key(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("WANDB_MODE", "WANDB_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    out = tmp_path / "run"
    train(tiny_cfg(tiny_model_dir, out, steps=1, report_to="wandb"), echo=lambda s: None)
    runs = list((out / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    (record,) = runs[0].glob("*.wandb")  # the offline run's records: config, then history
    data = record.read_bytes()
    assert b"grpo_gym_test/Letter-v0" in data and b"group_size" in data
    assert b"reward_mean" in data and b"pass_rate" in data


@pytest.mark.parametrize("tracker", ["tensorboard", "wandb"])
def test_missing_tracker_is_one_line_naming_the_extra(
    tracker: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from grpo_gym.agent.config import GRPOConfig
    from grpo_gym.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == tracker else real(name, *a)
    )
    with pytest.raises(ValueError, match=rf"pip install 'grpo-gym\[{tracker}\]'"):
        GRPOConfig(report_to=tracker)  # type: ignore[arg-type]
    assert main(["train", "--report-to", tracker, "--model", "/nonexistent"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"--report-to {tracker} needs the" in err
