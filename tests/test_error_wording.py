"""Library errors name Python arguments (``resume=True``); the CLI prints the same errors as flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.errors import RunDirError
from grpo_gym.agent.run_dir import RunDir
from grpo_gym.cli import build_parser, main
from grpo_gym.commands.flags import as_flags, long_flags


def _used_folder(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.jsonl").write_text(json.dumps({"step": 1}) + "\n")
    return out


def test_python_api_names_arguments_not_flags(tmp_path: Path) -> None:
    out = _used_folder(tmp_path)
    with pytest.raises(RunDirError) as err:
        RunDir.open(GRPOConfig(output_dir=str(out)), echo=lambda s: None)
    assert "pass resume=True to continue it, or another output_dir=FOLDER" in str(err.value)
    assert "--" not in str(err.value)
    with pytest.raises(ValueError, match="group_size=1: GRPO needs") as bad:
        GRPOConfig(group_size=1)
    assert "--" not in str(bad.value)


def test_cli_prints_the_same_errors_as_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _used_folder(tmp_path)
    assert main(["train", "--env", "grpo_gym/Arithmetic-v0", "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert "pass --resume to continue it, or another --output-dir FOLDER" in err
    assert "resume=True" not in err
    assert main(["train", "--group-size", "1"]) == 2
    assert "error: --group-size 1: GRPO needs" in capsys.readouterr().err


def test_only_names_that_are_flags_are_rewritten() -> None:
    flags = long_flags(build_parser())
    assert {"--resume", "--output-dir", "--temperature", "--problems"} <= flags
    text = "use device='cpu'; pass_rate=0.5 at http://h/x?resume=1; set n=4 or leave 8 out of k="
    assert as_flags(text, flags) == (
        "use --device cpu; pass_rate=0.5 at http://h/x?resume=1; set --n 4 or leave 8 out of --k"
    )
