"""``grpo-gym envs list|show|check`` through the top-level CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import pytest

import grpo_gym.envs as ge
from grpo_gym.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "envs", "list")
    assert code == 0
    headings = [ln for ln in out.splitlines() if ln.startswith("[")]
    assert (
        "[built-in: math]" in headings and "[benchmark: math]" in headings
    )  # grouped by source and family
    assert (
        out.index("[built-in: math]")
        < out.index("grpo_gym/Arithmetic-v0")
        < out.index("[benchmark: math]")
    )
    line = next(ln for ln in out.splitlines() if ln.startswith("grpo_gym/MultiTurnMath-v0"))
    assert " math " in line and " multi " in line and "retries" in line
    code, out, _ = run(capsys, "envs", "list", "--json")
    rows = json.loads(out)
    ids = {r["id"] for r in rows}
    assert code == 0 and {r.id for r in ge.list_envs()} == ids
    assert set(rows[0]) == {
        "id",
        "description",
        "reward_kind",
        "multi_turn",
        "version",
        "entry_point",
        "source",
        "family",
        "plugin",
    }


def test_show_prints_prompts_and_references(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "envs",
        "show",
        "Arithmetic-v0",
        "--seed",
        "5",
        "--n",
        "2",
        "--split",
        "test",
        "--kwarg",
        "digits=1",
        "--kwarg",
        "ops=+",
    )
    assert code == 0
    assert (
        out.count("PROMPT:") == 2 and out.count("REFERENCE:") == 2 and "seed=6  split=test" in out
    )
    env = gym.make("grpo_gym/Arithmetic-v0", digits=1, ops="+").unwrapped
    prompt, info = env.reset(seed=5, options={"split": "test"})
    assert f"PROMPT:    {prompt}" in out and f"REFERENCE: {info['reference']}" in out


def test_unknown_id_is_a_one_line_error_with_close_matches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "envs", "show", "grpo_gym/Fractons-v0")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "unknown env id" in err and "grpo_gym/Fractions-v0" in err
    code, _, err = run(capsys, "envs", "check", "Derivitive-v0")
    assert code == 2 and "grpo_gym/Derivative-v0" in err


def test_bad_kwarg_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "envs", "show", "Arithmetic-v0", "--kwarg", "digits=0")
    assert code == 2 and "digits" in err and err.count("\n") == 1


def test_check_passes_on_builtin_envs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "envs", "check", "ArithmeticEasy-v0", "grpo_gym/Factor-v0", "--n", "2"
    )
    assert code == 0, out
    assert out.count("ok  ") == 10 and "2 env(s) checked, 0 failure(s)" in out


class BrokenReference(ge.TextEnv):
    description = "An env whose reference is wrong"

    def generate_task(self, rng):
        return ge.Task(prompt=f"Say {int(rng.integers(1000))}.", answer="x")

    def score(self, reply, task):
        return ge.RewardResult(score=float(reply == "never"))

    def reference(self, task):
        return "wrong"


def test_check_fails_with_nonzero_exit(capsys: pytest.CaptureFixture[str]) -> None:
    ge.register("test_cli/Broken-v0", BrokenReference)
    try:
        code, out, _ = run(capsys, "envs", "check", "test_cli/Broken-v0")
    finally:
        gym.registry.pop("test_cli/Broken-v0")
    assert code == 1
    assert "FAIL  test_cli/Broken-v0" in out and "reference_max" in out and "1 failure(s)" in out


class NoKnownReference(BrokenReference):
    description = "An env that knows no reply following its tasks (like most of IFBench)"

    def generate_task(self, rng):
        task = super().generate_task(rng)
        return ge.Task(prompt=task.prompt, answer="x", metadata={"reference_follows": False})


def test_reference_check_skips_unknown_references_but_not_all(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "envs", "check", "grpo_gym/IFBench-v0", "--n", "2")
    assert code == 0, out
    line = next(x for x in out.splitlines() if "reference_max" in x)
    assert "have no reference that follows them" in line and " 0 references" not in line
    ge.register("test_cli/NoReference-v0", NoKnownReference)
    try:
        code, out, _ = run(capsys, "envs", "check", "test_cli/NoReference-v0", "--n", "2")
    finally:
        gym.registry.pop("test_cli/NoReference-v0")
    assert code == 1 and "none of 80 tasks has a reference reply that follows it" in out, out


def test_console_script_and_module_entry() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "grpo_gym", "envs", "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "grpo_gym/Arithmetic-v0" in proc.stdout
