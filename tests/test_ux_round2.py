"""Issue 32, user experience round 2: each mistake is one line on stderr, exit 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.presets import PRESETS
from grpo_gym.cli import build_parser, main
from grpo_gym.commands.train import config_from_args

ROOT = Path(__file__).resolve().parents[1]
NO_MODEL = "no/such-model-anywhere"  # loading it would fail with a different message


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def _train_cfg(*argv: str) -> GRPOConfig:
    return config_from_args(build_parser().parse_args(["train", *argv]))


# ---- 1. config files -------------------------------------------------------------------------
def test_example_config_file_loads_and_its_env_settings_check(tmp_path: Path) -> None:
    from grpo_gym.envs.settings import check_env_settings

    cfg = _train_cfg("--config", str(ROOT / "examples" / "config.yaml"), "--steps", "3")
    assert cfg.env == ("grpo_gym/Arithmetic-v0", "grpo_gym/Fractions-v0")
    assert cfg.steps == 3 and cfg.lr == 2e-5 and cfg.sampling.temperature == 0.7
    kwargs = cfg.parsed_env_kwargs()
    assert kwargs["grpo_gym/Arithmetic-v0"] == {"digits": 2, "terms": 2, "ops": "+"}
    for env_id in cfg.env:
        check_env_settings(env_id, kwargs[env_id])


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.yaml", "env: grpo_gym/Arithmetic-v0\nenv_kwargs:\n  digits: 1\nlr: 1e-5\n"),
        ("c.toml", 'env = "grpo_gym/Arithmetic-v0"\nlr = 1e-5\n[env_kwargs]\ndigits = 1\n'),
        ("c.json", json.dumps({"env": "Arithmetic-v0", "env_kwargs": {"digits": 1}, "lr": 1e-5})),
    ],
)
def test_config_file_kwargs_mapping_and_env_string(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    cfg = _train_cfg("--config", str(path))
    assert len(cfg.env) == 1 and cfg.env[0].endswith("Arithmetic-v0")
    assert cfg.parsed_env_kwargs() == {cfg.env[0]: {"digits": 1}}
    assert cfg.lr == 1e-5  # YAML 1.1 reads 1e-5 as a string; a float field takes it


def test_config_file_per_env_kwargs_nested_and_flat_or_nested_sampling(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'env = ["grpo_gym/Arithmetic-v0", "grpo_gym/Fractions-v0"]\ngroup-size = 4\n'
        'temperature = 0.5\n[env_kwargs."grpo_gym/Arithmetic-v0"]\ndigits = 1\n'
        "[sampling]\nmax_new_tokens = 32\n[lora]\nlora_r = 4\n"
    )
    cfg = _train_cfg("--config", str(path))
    assert cfg.parsed_env_kwargs() == {"grpo_gym/Arithmetic-v0": {"digits": 1}}
    assert cfg.group_size == 4 and cfg.lora.lora_r == 4
    assert (cfg.sampling.temperature, cfg.sampling.max_new_tokens) == (0.5, 32)


def test_a_runs_saved_config_still_loads(tmp_path: Path) -> None:
    demo = GRPOConfig.from_dict(PRESETS["demo"])
    path = tmp_path / "grpo_config.json"
    path.write_text(json.dumps(demo.to_dict()))
    assert _train_cfg("--config", str(path)) == demo


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("c.toml", 'steps = "two"\n', ["'steps'", "c.toml", "an integer"]),
        ("c.yaml", "steps: 2.5\n", ["'steps'", "c.yaml", "an integer"]),
        ("c.yaml", "progress: maybe\n", ["'progress'", "c.yaml", "true or false"]),
        ("c.yaml", "env: {a: 1}\n", ["'env'", "c.yaml", "a list of env ids"]),
        ("c.yaml", "env_kwargs: [1, 2]\n", ["'env_kwargs'", "c.yaml", "a mapping"]),
        ("c.yaml", "sampling: 3\n", ["'sampling'", "c.yaml", "a mapping"]),
        ("c.yaml", "report_to: slack\n", ["'report_to'", "c.yaml", "one of 'none'"]),
        ("c.yaml", "stepz: 2\n", ["'stepz'", "c.yaml", "did you mean steps"]),
    ],
)
def test_config_file_wrong_types_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, words: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert main(["train", "--config", str(path)]) == 2
    err = _one_line(capsys)
    assert all(w in err for w in words), err


# ---- 2. env settings of the wrong type ------------------------------------------------------
@pytest.mark.parametrize("value", ['"two"', "2.5", "true"])
@pytest.mark.parametrize("command", ["train", "eval", "envs"])
def test_wrong_typed_env_setting_is_one_line_before_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, value: str
) -> None:
    env = "grpo_gym/Arithmetic-v0"
    kwargs = f'{{"digits": {value}}}'
    out = ["--output-dir", str(tmp_path / "r"), "--progress", "false"]
    argv = {
        "train": ["train", "--model", NO_MODEL, "--env", env, "--env-kwargs", kwargs, *out],
        "eval": ["eval", "--model", NO_MODEL, "--env", env, "--env-kwargs", kwargs],
        "envs": ["envs", "show", env, "--kwarg", f"digits={value}"],
    }[command]
    assert main(argv) == 2
    err = _one_line(capsys)
    assert "'digits' must be an integer (default 2)" in err and NO_MODEL not in err, err
    assert "1 means 0..9" in err  # the documented range


def test_env_settings_type_check_is_generic() -> None:
    from typing import Literal

    from grpo_gym.envs import EnvSettingsError
    from grpo_gym.envs.settings import check_env_settings, fits

    assert fits(3, float) and not fits(True, int) and not fits(2.5, int)
    assert (
        fits(None, int | None) and fits(["a"], tuple[str, ...]) and not fits("a", tuple[str, ...])
    )
    assert fits("x", Literal["x", "y"]) and not fits("z", Literal["x", "y"])
    assert fits(("a", 2), tuple[str, int]) and not fits(("a", "b"), tuple[str, int])
    check_env_settings("Derivative-v0", {"kinds": ["poly"], "products": True})
    with pytest.raises(EnvSettingsError, match="'kinds' must be a list of strings"):
        check_env_settings("Derivative-v0", {"kinds": "poly"})
    with pytest.raises(
        EnvSettingsError, match="'answer_form' must be one of 'fraction', 'decimal'"
    ):
        check_env_settings("Fractions-v0", {"answer_form": "percent"})


# ---- 3. --engine vllm without vLLM --------------------------------------------------------------
@pytest.fixture
def no_vllm(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def find_spec(name: str, *args: object, **kwargs: object) -> object:
        return None if name == "vllm" else real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.parametrize("command", ["train", "eval"])
def test_engine_vllm_without_vllm_is_the_hint_before_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_vllm: None, command: str
) -> None:
    argv = [command, "--engine", "vllm", "--model", NO_MODEL, "--env", "grpo_gym/Arithmetic-v0"]
    if command == "train":
        argv += ["--output-dir", str(tmp_path / "r"), "--progress", "false"]
    assert main(argv) == 2
    err = _one_line(capsys)
    assert "the vLLM engine needs vLLM" in err and "make vllm-setup" in err and NO_MODEL not in err
    assert not (tmp_path / "r").exists()


# ---- 4. --resume with nothing to resume ---------------------------------------------------------
def test_resume_with_nothing_to_resume_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never"
    argv = [
        "train",
        "--resume",
        "--output-dir",
        str(out),
        "--model",
        NO_MODEL,
        "--progress",
        "false",
    ]
    assert main(argv) == 2
    err = _one_line(capsys)
    assert f"nothing to resume in {out}" in err and "leave out --resume" in err, err
    assert NO_MODEL not in err and not out.exists()


def test_python_api_resume_with_nothing_to_resume_raises(tmp_path: Path) -> None:
    from grpo_gym.agent.errors import RunDirError
    from grpo_gym.agent.trainer import train

    out = tmp_path / "never"
    cfg = GRPOConfig(model=NO_MODEL, output_dir=str(out), resume=True, progress=False)
    with pytest.raises(RunDirError, match=r"nothing to resume .* leave out resume=True"):
        train(cfg, echo=lambda s: None)
    assert not out.exists()


# ---- 5. unknown flags ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["train", "--stepz", "2"],
            "grpo-gym train: error: unrecognized option --stepz: did you mean --steps",
        ),
        (
            ["eval", "--temprature", "1"],
            "grpo-gym eval: error: unrecognized option --temprature: did you mean --temperature?",
        ),
        (
            ["envs", "show", "Arithmetic-v0", "--kwargz", "a=1"],
            "grpo-gym envs show: error: unrecognized option --kwargz: did you mean --kwarg",
        ),
        (
            ["train", "--xyzzy=1"],
            "unrecognized option --xyzzy: see 'grpo-gym train --help' for its options",
        ),
    ],
)
def test_unknown_flag_suggests_close_matches(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    assert main(argv) == 2
    err = _one_line(capsys)
    assert expected in err and "usage:" not in err, err


def test_abbreviations_and_dash_values_are_not_unknown_flags() -> None:
    from grpo_gym.cli import unknown_option_message

    parser = build_parser()
    assert unknown_option_message(parser, ["train", "--temp", "0.5", "--steps", "2"]) is None
    assert unknown_option_message(parser, ["train", "--system-prompt", "--- be brief ---"]) is None
    assert (
        unknown_option_message(parser, ["eval", "compare", "a.json", "b.json", "--md-out", "x"])
        is None
    )


# ---- 6. eval-only envs in envs show ---------------------------------------------------------------
def test_envs_show_uses_the_test_split_of_an_eval_only_env(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["envs", "show", "grpo_gym/MATH500-v0", "--n", "1"]) == 0
    out, err = capsys.readouterr()
    assert "split=test" in out and "no train split: showing test" in err
    assert main(["envs", "show", "grpo_gym/Arithmetic-v0", "--n", "1"]) == 0
    assert "split=train" in capsys.readouterr().out


# ---- 8. envs show --env-kwargs, as train and eval spell it -----------------------------------------
def test_envs_show_takes_env_kwargs_and_kwarg(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "envs",
        "show",
        "Arithmetic-v0",
        "--n",
        "1",
        "--env-kwargs",
        '{"digits": 1, "terms": 2}',
    ]
    assert main(argv) == 0
    prompt = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("PROMPT"))
    assert len(prompt.split("Calculate ")[1].split(".")[0].split()) == 3  # "a + b"
    keyed = '{"grpo_gym/Arithmetic-v0": {"digits": "one"}}'
    assert main(["envs", "show", "Arithmetic-v0", "--env-kwargs", keyed]) == 2
    assert "'digits' must be an integer" in _one_line(capsys)


def test_reports_name_what_was_evaluated(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Issue 32 item 7: eval_after names the run, the step and the checkpoint's hash."""
    from grpo_gym.agent import train
    from grpo_gym.agent.report import describe_model
    from tests.helpers import tiny_cfg

    res = train(tiny_cfg(tiny_model_dir, tmp_path / "run", eval_before_after=True, eval_problems=2))
    before = res.eval_before.provenance.model  # type: ignore[union-attr]
    after = res.eval_after.provenance.model  # type: ignore[union-attr]
    assert before == describe_model(tiny_model_dir) and before.sha256
    assert (
        after.checkpoint_step == 2 and "after 2 steps" in after.name and str(tmp_path) in after.name
    )
    assert after.sha256 and after.sha256 == describe_model(res.checkpoint).sha256  # type: ignore[arg-type]
    assert after.sha256 != before.sha256
