"""Ordinary mistakes get one line naming the problem and the fix, before any model loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grpo_gym.agent.config import GRPOConfig
from grpo_gym.cli import main
from grpo_gym.commands.flags import load_config_file

NO_MODEL = "no/such-model-anywhere"  # loading it would fail with a different message


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_unknown_env_setting_names_the_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["envs", "show", "grpo_gym/Arithmetic-v0", "--kwarg", "bogus=3"]) == 2
    err = _err(capsys)
    assert "bogus" in err and "digits" in err  # what was wrong and what exists


def test_train_checks_env_settings_before_loading_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "train",
        "--model",
        NO_MODEL,
        "--env",
        "grpo_gym/Arithmetic-v0",
        "--env-kwargs",
        '{"digitz": 2}',
        "--output-dir",
        str(tmp_path / "r"),
        "--progress",
        "false",
    ]
    assert main(args) == 2
    err = _err(capsys)
    assert "digitz" in err and NO_MODEL not in err


def test_env_kwargs_keyed_by_the_full_id_with_one_short_env() -> None:
    cfg = GRPOConfig(env=("Arithmetic-v0",), env_kwargs='{"grpo_gym/Arithmetic-v0": {"digits": 1}}')
    assert cfg.parsed_env_kwargs() == {"Arithmetic-v0": {"digits": 1}}


def test_env_kwargs_keyed_by_another_env_is_an_error() -> None:
    with pytest.raises(ValueError, match="looks like an env id but is not one of the envs"):
        GRPOConfig(
            env=("grpo_gym/Arithmetic-v0",), env_kwargs='{"grpo_gym/Fractions-v0": {"digits": 1}}'
        )


def test_eval_output_inside_a_file_fails_before_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    args = [
        "eval",
        "--model",
        NO_MODEL,
        "--env",
        "grpo_gym/Arithmetic-v0",
        "--json-out",
        str(blocker / "r.json"),
    ]
    assert main(args) == 2
    err = _err(capsys)
    assert "is a file, not a folder" in err and NO_MODEL not in err


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.yaml", "group_size: 3\nlr: 0.001\nenv: [grpo_gym/Arithmetic-v0]\n"),
        ("c.yml", "group_size: 3\nlr: 0.001\nenv: [grpo_gym/Arithmetic-v0]\n"),
        ("c.toml", 'group_size = 3\nlr = 0.001\nenv = ["grpo_gym/Arithmetic-v0"]\n'),
        ("c.json", json.dumps({"group_size": 3, "lr": 0.001, "env": ["grpo_gym/Arithmetic-v0"]})),
    ],
)
def test_config_files_by_extension_with_flags_overriding(
    tmp_path: Path, name: str, text: str
) -> None:
    from grpo_gym.cli import build_parser
    from grpo_gym.commands.train import config_from_args

    path = tmp_path / name
    path.write_text(text)
    assert load_config_file(path)["group_size"] == 3
    cfg = config_from_args(
        build_parser().parse_args(["train", "--config", str(path), "--lr", "0.5"])
    )
    assert cfg.group_size == 3 and cfg.lr == 0.5 and cfg.env == ("grpo_gym/Arithmetic-v0",)


def test_bad_config_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("group_size: [3\n")
    assert main(["train", "--config", str(path)]) == 2
    assert "not valid YAML" in _err(capsys)
