"""Sharing a busy CPU: passive OpenMP waits by default, threads for the cores left free."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from grpo_gym.agent import cpu_share


def test_importing_the_agent_first_sets_passive_openmp_waits_and_envs_leave_them() -> None:
    code = "import os, grpo_gym.agent.openmp_policy as a, torch; print(os.environ['OMP_WAIT_POLICY'], a.OMP_POLICY_SET)"
    env = {"PATH": "/usr/bin:/bin"}
    envs_only = (
        "import os, grpo_gym.envs, grpo_gym.rewards; print(os.environ.get('OMP_WAIT_POLICY'))"
    )
    out = subprocess.run([sys.executable, "-c", envs_only], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["None"], out.stderr
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["PASSIVE", "True"], out.stderr
    mine = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "OMP_WAIT_POLICY": "ACTIVE"},
        capture_output=True,
        text=True,
    )
    assert mine.stdout.split() == ["ACTIVE", "False"]  # the user's own setting wins


def test_a_busy_process_is_seen_and_ours_is_not() -> None:
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        busy = cpu_share.busy_cores(0.6)
    finally:
        hog.kill()
        hog.wait()
    assert busy is not None and busy >= 0.5


@pytest.mark.parametrize(
    ("busy", "want", "note"), [(0.0, 4, False), (1.2, 3, True), (3.6, 1, True), (None, 4, False)]
)
def test_threads_leave_out_the_busy_cores(monkeypatch, busy, want, note) -> None:
    said: list[str] = []
    monkeypatch.delenv("GRPO_GYM_CPU_SHARE", raising=False)
    monkeypatch.setattr(cpu_share, "busy_cores", lambda window_s=0.3: busy)
    monkeypatch.setattr(cpu_share.os, "cpu_count", lambda: 4)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(4)
        cpu_share.choose_threads(0, said.append)
        assert torch.get_num_threads() == want
        assert bool(said) == note
        if note:
            assert "cores busy" in said[0] and "threads=N" in said[0]
        cpu_share.choose_threads(2, said.append)  # an explicit count always wins
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
