"""The CUDA throughput benchmark runs end to end on CPU with the tiny model (so it works when a GPU is lent)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # minutes of subprocesses: `make test-slow` (CI) runs it

REPO = Path(__file__).resolve().parents[1]


def test_throughput_bench_writes_generation_and_training_numbers(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "tp.json"
    cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "throughput_bench.py"),
        "--device",
        "cpu",
        "--model",
        str(tiny_model_dir),
        "--batches",
        "2",
        "--new-tokens",
        "5",
        "--train-rows",
        "4",
        "--repeats",
        "1",
        "--peak-tflops",
        "1",
        "--out",
        str(out),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    res = json.loads(out.read_text())
    gen = res["generation"]
    assert [g["static_cache"] for g in gen] == [False, True]
    assert all(
        g["tokens"] == 2 * 5 and g["tokens_per_s"] > 0 for g in gen
    )  # EOS suppressed: equal work
    train = res["training"]
    assert train["rows"] == 4 and train["tokens_per_s"] > 0 and 0 < train["mfu"] < 1
    assert res["machine"]["cpu_cores"] >= 1


def test_throughput_bench_refuses_cuda_without_a_gpu(tmp_path: Path) -> None:
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    r = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "throughput_bench.py"),
            "--out",
            str(tmp_path / "x.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0 and "--device cpu" in r.stderr
