"""The vLLM engine under torchrun: each rank owns a colocated engine synced to its policy.

``grpo-gym train --nproc 2 --engine vllm`` on CPU (gloo, the tiny model, fp32 vLLM): both ranks
start their own in-process ``vllm.LLM`` beside the job's process group, sample their share of the
prompts, sync after every step, and the job ends cleanly (no rank's engine shutdown tears down
the process group the others still use).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HAS_VLLM = False
try:  # vLLM lives in .venv-vllm (`make test-vllm`), not in the main venv
    import vllm  # noqa: F401

    HAS_VLLM = True
except ImportError:
    pass


@pytest.mark.vllm
@pytest.mark.skipif(not HAS_VLLM, reason="vLLM is not installed: `make test-vllm` runs this")
@pytest.mark.parametrize(
    ("strategy", "lora"),
    [("ddp", False), ("fsdp", False), ("fsdp", True)],
    ids=["ddp", "fsdp", "fsdp-lora"],
)
def test_two_ranks_each_sample_with_their_own_synced_engine(
    tiny_vllm_dir: Path, tmp_path: Path, strategy: str, lora: bool
) -> None:
    """Under FSDP each rank gathers the sharded weights (LoRA merged in) for its engine."""
    if lora:
        pytest.importorskip("peft")
    out = tmp_path / "run"
    lora_args = ["--lora-r", "4", "--lora-alpha", "16", "--lora-target-modules", "q_proj,v_proj"]
    cmd = [
        sys.executable,
        "-m",
        "grpo_gym",
        "train",
        "--nproc",
        "2",
        "--strategy",
        strategy,
        "--engine",
        "vllm",
        "--vllm-dtype",
        "float32",
        "--vllm-kv-cache-gib",
        "0.25",
        "--model",
        str(tiny_vllm_dir),
        "--env",
        "grpo_gym/Arithmetic-v0",
        "--steps",
        "2",
        "--prompts-per-step",
        "2",
        "--group-size",
        "4",
        "--max-new-tokens",
        "8",
        "--temperature",
        "1.0",
        "--device",
        "cpu",
        "--eval-problems",
        "3",
        "--progress",
        "false",
        "--output-dir",
        str(out),
        *(lora_args if lora else []),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-8000:]
    assert "starting 2 processes" in proc.stderr
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    # the engines follow the policy: fp32 engine and policy agree up to rounding after every sync
    assert all(0 < r["engine_drift"] < 1e-3 for r in rows), [r["engine_drift"] for r in rows]
    ckpt = out / "checkpoint-000002"
    assert (ckpt / "manifest.json").exists()
    assert (ckpt / "adapter_config.json").is_file() == lora
    assert "after training" in proc.stdout
