"""Registry: register(), list_envs(), id resolution, plugins (entry points), examples."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import grpo_gym.envs as ge
from grpo_gym.envs.builtin import BUILTIN_ENVS

ROOT = Path(__file__).resolve().parents[1]


class Parity(ge.TextEnv):
    description = "Say whether a number is even"
    reward_kind = "exact"

    def generate_task(self, rng):
        n = int(rng.integers(0, 10_000))
        return ge.Task(
            prompt=f"Is {n} even? Answer yes or no.", answer="yes" if n % 2 == 0 else "no"
        )

    def score(self, reply, task):
        ok = reply.strip().lower().startswith(task.answer)
        return ge.RewardResult(score=float(ok), components={"correct": float(ok)})

    def reference(self, task):
        return task.answer


@pytest.fixture()
def parity_id():
    env_id = "test_registry/Parity-v0"
    yield env_id
    gym.registry.pop(env_id, None)


def test_register_and_make_a_user_env(parity_id: str) -> None:
    spec = ge.register(parity_id, Parity, description="Parity, from a test")
    assert spec.id == parity_id and spec.version == 0
    env = gym.make(parity_id)
    _, info = env.reset(seed=1)
    assert env.step(info["reference"])[1] == 1.0
    (record,) = [r for r in ge.list_envs() if r.id == parity_id]
    assert record == ge.EnvRecord(
        id=parity_id,
        description="Parity, from a test",
        reward_kind="exact",
        multi_turn=False,
        version=0,
        entry_point=f"{__name__}:Parity",
        source="user",
        family="exact",
    )


def test_register_validates(parity_id: str) -> None:
    with pytest.raises(ValueError, match="bad env id"):
        ge.register("no-version", Parity)
    with pytest.raises(ValueError, match="bad env id"):
        ge.register("ns/Name-vX", Parity)
    with pytest.raises(TypeError, match="subclass"):
        ge.register(parity_id, dict)
    with pytest.raises(ValueError, match="module:ClassName"):
        ge.register(parity_id, "just_a_module")
    ge.register(parity_id, Parity)
    with pytest.raises(ValueError, match="already registered"):
        ge.register(parity_id, Parity)
    ge.register(parity_id, Parity, force=True, description="replaced")
    assert [r.description for r in ge.list_envs() if r.id == parity_id] == ["replaced"]


def test_builtin_records() -> None:
    records = {r.id: r for r in ge.list_envs("grpo_gym")}
    assert {b.id for b in BUILTIN_ENVS} <= set(records)
    arith = records["grpo_gym/Arithmetic-v0"]
    assert (arith.reward_kind, arith.multi_turn, arith.version, arith.source) == (
        "math",
        False,
        0,
        "built-in",
    )
    assert arith.entry_point == "grpo_gym.envs.arithmetic:Arithmetic"
    assert records["grpo_gym/MultiTurnMath-v0"].multi_turn
    assert all(r.description and "\n" not in r.description for r in records.values())
    assert not any(
        r.id.startswith("CartPole") for r in ge.list_envs()
    )  # Gymnasium's own envs are not text envs


def test_every_builtin_class_documents_itself() -> None:
    for record in ge.list_envs("grpo_gym"):
        cls = gym.spec(record.id).entry_point
        module, _, name = cls.partition(":")
        doc = getattr(__import__(module, fromlist=[name]), name).__doc__ or ""
        if record.reward_kind == "math":
            for section in (
                "## Description",
                "## Observation",
                "## Action",
                "## Reward",
                "## Version History",
            ):
                assert section in doc, (record.id, section)


def test_resolve_id_and_close_matches() -> None:
    assert ge.resolve_id("Arithmetic-v0") == "grpo_gym/Arithmetic-v0"
    assert ge.resolve_id("grpo_gym/Factor-v0") == "grpo_gym/Factor-v0"
    with pytest.raises(ge.UnknownEnvError, match=r"did you mean .*grpo_gym/Arithmetic-v0"):
        ge.resolve_id("grpo_gym/Arithmetc-v0")
    with pytest.raises(gym.error.Error, match=r"did you mean .*grpo_gym/LinearEquation-v0"):
        ge.make("LinearEquations-v0")
    env = ge.make("ArithmeticEasy-v0")
    assert env.reset(seed=0)[0].startswith("Calculate")


def test_make_vec_helper_gives_a_group() -> None:
    envs = ge.make_vec("Arithmetic-v0", 3)
    prompts, _ = envs.reset(seed=[9, 9, 9])
    assert len(set(prompts)) == 1
    envs.close()


def test_custom_env_example_runs() -> None:
    namespace = runpy.run_path(str(ROOT / "examples" / "custom_env.py"))
    env = gym.make("examples/Vowels-v0")
    _, info = env.reset(seed=3)
    assert env.step(info["reference"])[1] == 1.0
    assert env.unwrapped.score("I don't know.", info["task"]).score == 0.0
    assert namespace["Vowels"].description
    user_lines = [
        line
        for line in (ROOT / "examples" / "custom_env.py")
        .read_text()
        .split("if __name__")[0]
        .splitlines()
        if line.strip() and not line.strip().startswith(("#", '"""'))
    ]
    assert len(user_lines) <= 30
    gym.registry.pop("examples/Vowels-v0")


# ---- plugins -----------------------------------------------------------------------------------
def _fake_distribution(root: Path, name: str, entry_value: str) -> None:
    """A minimal installed distribution exposing one ``grpo_gym.envs`` entry point."""
    info = root / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[grpo_gym.envs]\n{name} = {entry_value}\n")


def _run(code: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


def test_a_broken_plugin_warns_and_the_rest_still_loads(tmp_path: Path) -> None:
    _fake_distribution(tmp_path, "broken_plugin", "no_such_module_xyz:register")
    (tmp_path / "module_plugin.py").write_text(
        "import grpo_gym.envs as ge\n"
        "from grpo_gym.envs.arithmetic import Arithmetic\n"
        "ge.register('modplug/Arith-v3', Arithmetic, kwargs={'digits': 1})\n"
    )
    _fake_distribution(tmp_path, "module_plugin", "module_plugin")
    proc = _run(
        "import warnings; warnings.simplefilter('always')\n"
        "import grpo_gym.envs as ge\n"
        "r = {r.id: r for r in ge.list_envs()}['modplug/Arith-v3']; print(r.source, r.plugin)\n",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "PluginWarning" in proc.stderr
        and "'broken_plugin'" in proc.stderr
        and "no_such_module_xyz" in proc.stderr
    )
    assert proc.stdout.strip() == "plugin module_plugin"


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_example_plugin_package_appears_in_envs_list(tmp_path: Path) -> None:
    target = tmp_path / "site"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "--target",
            str(target),
            str(ROOT / "examples" / "plugin_example"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert pip.returncode == 0, pip.stderr
    proc = _run(
        "import sys; from grpo_gym.cli import main; sys.exit(main(['envs', 'list']))", target
    )
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("plugin_example/Reverse-v0"))
    assert "Write a word backwards" in line
    check = _run(
        "import sys; from grpo_gym.cli import main; sys.exit(main(['envs', 'check', 'plugin_example/Reverse-v0']))",
        target,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # without the target dir on the path the plugin is absent
    assert (
        "plugin_example"
        not in _run(
            "import grpo_gym.envs as ge; print([r.id for r in ge.list_envs()])", tmp_path
        ).stdout
    )
