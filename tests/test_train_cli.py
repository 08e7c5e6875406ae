"""`grpo-gym train` end to end on the tiny model, plus the real model (slow) and CUDA (gpu)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tests.fixture_envs  # noqa: F401
from grpo_gym.cli import main


def test_train_cli_runs_and_writes_a_checkpoint(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--model",
            str(tiny_model_dir),
            "--env",
            "grpo_gym_test/Letter-v0",
            "--steps",
            "2",
            "--prompts-per-step",
            "2",
            "--group-size",
            "3",
            "--max-new-tokens",
            "6",
            "--device",
            "cpu",
            "--output-dir",
            str(out),
            "--eval-before-after",
            "false",
            "--progress",
            "false",
        ]
    )
    assert code == 0
    assert "checkpoint:" in capsys.readouterr().out
    assert (
        json.loads((out / "checkpoint-000002" / "grpo_config.json").read_text())["group_size"] == 3
    )
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2


def test_train_cli_bad_flag_value_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--group-size", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "GRPO needs >= 2 replies" in err and "Traceback" not in err


def test_train_help_lists_config_fields(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for flag in ("--group-size", "--beta", "--loss-type", "--preset", "--resume", "--env-kwargs"):
        assert flag in out


@pytest.mark.slow
def test_one_grpo_step_with_the_default_model(tmp_path: Path) -> None:
    from grpo_gym.agent.config import GRPOConfig
    from grpo_gym.agent.trainer import train

    cfg = GRPOConfig.from_dict(
        dict(
            model="smollm2-135m",
            env=("grpo_gym_test/Letter-v0",),
            steps=1,
            prompts_per_step=1,
            group_size=2,
            max_new_tokens=8,
            device="cpu",
            output_dir=str(tmp_path / "run"),
            eval_before_after=False,
            progress=False,
        )
    )
    res = train(cfg, echo=lambda s: None)
    assert res.checkpoint is not None and res.history[0]["completion_len"] > 0


@pytest.mark.gpu
def test_one_grpo_step_on_cuda_in_bf16(tiny_model_dir: Path, tmp_path: Path) -> None:
    from grpo_gym.agent.config import GRPOConfig
    from grpo_gym.agent.trainer import train

    cfg = GRPOConfig.from_dict(
        dict(
            model=str(tiny_model_dir),
            env=("grpo_gym_test/Letter-v0",),
            steps=2,
            prompts_per_step=2,
            group_size=4,
            max_new_tokens=8,
            device="cuda",
            output_dir=str(tmp_path / "run"),
            eval_before_after=False,
            progress=False,
        )
    )
    res = train(cfg, echo=lambda s: None)
    assert all(m["loss"] == m["loss"] for m in res.history)  # finite, not NaN
