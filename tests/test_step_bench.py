"""The GRPO step benchmark's grpo-gym side runs end to end with the tiny model.

Its workers patch timers into the trainer's internals (``Learner._logps``, ``generate``, ...), so a
refactor of those internals must fail here rather than in the next benchmark session.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # minutes of subprocesses: `make test-slow` (CI) runs it

REPO = Path(__file__).resolve().parents[1]


def test_step_bench_ours_side_times_every_phase(tmp_path: Path) -> None:
    out = tmp_path / "step.json"
    cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "grpo_step_bench.py"),
        "--models",
        "tiny",
        "--only",
        "ours",
        "--rounds",
        "1",
        "--out",
        str(out),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    entry = json.loads(out.read_text())["configs"]["tiny"]
    ours = entry["ours"]
    assert ours["timed_steps"] == 8 and ours["samples_per_s"] > 0
    phases = ours["phase_s_per_step"]
    # the patched timers saw the work: sampling, the reference forward and the policy's backward
    assert phases["generate"] > 0 and phases["reference"] > 0 and phases["backward"] > 0
    assert "trl" not in entry and "ratio_ours_over_trl" not in entry
