"""The wheel installs only under grpo_gym/ (no plain envs/, agent/ or rewards/ in site-packages)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_wheel_layout(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("grpo_gym-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops <= {"grpo_gym", next(t for t in tops if t.endswith(".dist-info"))}, tops
    for sub in ("envs", "agent", "rewards"):
        assert f"grpo_gym/{sub}/__init__.py" in names
    assert "grpo_gym/cli.py" in names
    entry_points = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith("entry_points.txt")))
        .decode()
    )
    assert "grpo-gym = grpo_gym.cli:main" in entry_points


def test_cli_help_lists_subcommands() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "grpo_gym.cli", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    for cmd in ("envs", "train", "eval"):
        assert cmd in proc.stdout
