"""Envs registered by the user's own module, named as Gymnasium's ``module:Name-v0`` on the CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import gymnasium as gym
import pytest

from grpo_gym.agent.env_pool import EnvPool
from grpo_gym.cli import main
from grpo_gym.envs import UnknownEnvError, resolve_id

MODULE = textwrap.dedent(
    '''
    """A user's env module: importing it registers myorg/Echo{n}-v0."""
    import numpy as np

    from grpo_gym.envs import TextEnv, register
    from grpo_gym.rewards.types import RewardResult, Task


    class Echo(TextEnv):
        description = "repeat the word"
        reward_kind = "test"

        def generate_task(self, rng: np.random.Generator) -> Task:
            return Task(prompt="Say: zebra", answer="zebra")

        def score(self, reply: str, task: Task) -> RewardResult:
            ok = float(reply.strip() == task.answer)
            return RewardResult(ok, {"exact": ok})

        def reference(self, task: Task) -> str:
            return str(task.answer)


    register("myorg/Echo{n}-v0", Echo)
    '''
)


def _user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int) -> str:
    """Write ``user_envs_{n}.py`` (registering ``myorg/Echo{n}-v0``) and put it on sys.path."""
    name = f"user_envs_{n}"
    (tmp_path / f"{name}.py").write_text(MODULE.replace("{n}", str(n)))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_envs_show_accepts_module_colon_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = _user_module(tmp_path, monkeypatch, 1)
    assert "myorg/Echo1-v0" not in gym.registry
    assert main(["envs", "show", f"{name}:myorg/Echo1-v0", "--n", "1"]) == 0
    out = capsys.readouterr().out
    assert "myorg/Echo1-v0" in out and "Say: zebra" in out and "REFERENCE: zebra" in out


def test_eval_accepts_module_colon_id(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _user_module(tmp_path, monkeypatch, 2)
    report = tmp_path / "r.json"
    argv = ["eval", "--model", str(tiny_model_dir), "--env", f"{name}:myorg/Echo2-v0"]
    argv += ["--problems", "2", "--temperature", "0", "--max-new-tokens", "4", "--device", "cpu"]
    assert main([*argv, "--progress", "false", "--json-out", str(report)]) == 0
    assert "myorg/Echo2-v0" in report.read_text()


def test_train_accepts_module_colon_id(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _user_module(tmp_path, monkeypatch, 3)
    out = tmp_path / "run"
    argv = ["train", "--model", str(tiny_model_dir), "--env", f"{name}:myorg/Echo3-v0"]
    argv += ["--steps", "1", "--prompts-per-step", "1", "--group-size", "2"]
    argv += ["--max-new-tokens", "4", "--device", "cpu", "--eval-problems", "1"]
    argv += ["--output-dir", str(out), "--progress", "false", "--save-every", "0"]
    assert main(argv) == 0
    cfg = json.loads((out / "grpo_config.json").read_text())
    assert cfg["env"] == [f"{name}:myorg/Echo3-v0"]
    assert (out / "metrics.jsonl").read_text().count("\n") == 1


def test_module_in_the_working_folder_is_found_and_a_bad_one_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cwd_envs_4.py").write_text(MODULE.replace("{n}", "4"))
    monkeypatch.chdir(tmp_path)  # not on sys.path: found in the working folder, like `python -m`
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    assert resolve_id("cwd_envs_4:myorg/Echo4-v0") == "myorg/Echo4-v0"
    with pytest.raises(UnknownEnvError, match="importing module 'no_such_mod_xyz' failed"):
        resolve_id("no_such_mod_xyz:Foo-v0")


def test_help_says_module_form_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "module:Name-v0" in " ".join(capsys.readouterr().out.split())


def test_env_settings_follow_the_env_under_any_of_its_names() -> None:
    pool = EnvPool({"grpo_gym/Arithmetic-v0": {"digits": 1}})
    assert pool.kwargs_for("Arithmetic-v0") == {"digits": 1}
    assert pool.kwargs_for("grpo_gym/Fractions-v0") == {}
