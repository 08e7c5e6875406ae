"""Data-parallel GRPO under torchrun on CPU (gloo, 2 processes, the tiny model).

The equality tests run the same global batch through 1 process and through 2 (DDP, FSDP2) with
the scripted engine of tests/dist_worker.py, so both see identical samples: after the steps
their weights must agree within 1e-5, for every loss type, with gradient accumulation and with
dynamic sampling. Checkpoints resume across world sizes (2 -> 1, 1 -> 2) and strategies. A rank
that dies or hangs ends the job within the process-group timeout. The CLI test runs the real
transformers engine: ``grpo-gym train --nproc 2``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from tests.helpers import tiny_cfg

pytestmark = pytest.mark.slow  # minutes of subprocesses: `make test-slow` (CI) runs it

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "dist_worker.py"
FSDP = {"strategy": "fsdp"}
LORA = dict(lora_r=4, lora_alpha=16.0, lora_target_modules=("q_proj", "v_proj", "up_proj"))


def _job(model: Path, out: Path, **kw: Any) -> dict[str, Any]:
    """test_trainer's tiny config with a 4-prompt batch (2 per rank), as a JSON-able dict."""
    base: dict[str, Any] = dict(prompts_per_step=4, group_size=4, micro_batch_size=4)
    return tiny_cfg(model, out, **{**base, **kw}).to_dict()


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _launch(nproc: int, jobs: list[dict], tmp: Path, fault: dict | None = None, timeout=600):
    spec = tmp / f"jobs-{time.monotonic_ns()}.json"
    spec.write_text(json.dumps({"jobs": jobs, "fault": fault}))
    if nproc == 1:
        cmd = [sys.executable, str(WORKER), str(spec)]
    else:
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc-per-node={nproc}",
            str(WORKER),
            str(spec),
        ]
    return subprocess.run(
        cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout
    )


def _ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]


def _weights(out: Path, step: int) -> dict[str, torch.Tensor]:
    """The checkpoint's weights: the model's, or a LoRA run's adapters."""
    ckpt = out / f"checkpoint-{step:06d}"
    adapter = ckpt / "adapter_model.safetensors"
    w = load_file(str(adapter if adapter.is_file() else ckpt / "model.safetensors"))
    return {k: v for k, v in w.items() if k != "lm_head.weight"}  # tied to the embeddings


def _max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max((a[k] - b[k]).abs().max().item() for k in a)


def _metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


# name -> settings; each runs on 1 process and on 2
CASES: dict[str, dict[str, Any]] = {
    # gradient accumulation (2 micro-batches a rank), and the before/after evaluation sharded
    "grpo": dict(loss_type="grpo", micro_batch_size=2, eval_before_after=True, eval_problems=5),
    "bnpo": dict(loss_type="bnpo"),
    "dr_grpo": dict(loss_type="dr_grpo", micro_batch_size=2),
    "dynamic": dict(dynamic_sampling=True, max_sampling_rounds=3, mu=2),
    "fsdp": dict(loss_type="grpo", micro_batch_size=2, distributed=FSDP),
    # LoRA sharded with its blocks; the reference is the policy with its adapters off
    "lora_fsdp": dict(lora=LORA, lr=5e-2, beta=0.1, micro_batch_size=2, distributed=FSDP),
}


@pytest.fixture(scope="module")
def runs(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every case on 1 and 2 processes, and three 4-step runs: straight, 2 -> 1 and 1 -> 2."""
    tmp = tmp_path_factory.mktemp("dist")
    m = tiny_model_dir
    one = [_job(m, tmp / f"{k}-1", **{**kw, "distributed": {}}) for k, kw in CASES.items()]
    one += [
        _job(m, tmp / "straight", steps=4, micro_batch_size=2),
        _job(m, tmp / "one-then-two", micro_batch_size=2),
    ]
    _ok(_launch(1, one, tmp))
    two = [_job(m, tmp / f"{k}-2", **kw) for k, kw in CASES.items()]
    two += [
        _job(m, tmp / "two-then-one", micro_batch_size=2, distributed=FSDP),
        _job(m, tmp / "one-then-two", steps=4, resume=True, micro_batch_size=2, distributed=FSDP),
    ]
    _ok(_launch(2, two, tmp))
    _ok(_launch(1, [_job(m, tmp / "two-then-one", steps=4, resume=True, micro_batch_size=2)], tmp))
    return tmp


@pytest.mark.parametrize("case", list(CASES))
def test_two_processes_learn_exactly_what_one_process_learns(runs: Path, case: str) -> None:
    one, two = runs / f"{case}-1", runs / f"{case}-2"
    assert _max_diff(_weights(one, 2), _weights(two, 2)) < 1e-5
    m1, m2 = _metrics(one), _metrics(two)
    assert [r["step"] for r in m2] == [1, 2]
    for a, b in zip(m1, m2, strict=True):  # rank 0 logs every rank's episodes
        assert a["reward_mean"] == pytest.approx(b["reward_mean"], abs=1e-6)
        assert a["pass_rate"] == b["pass_rate"]
        assert a["zero_std_groups"] == b["zero_std_groups"]
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-6)
        assert a["kl"] == pytest.approx(b["kl"], abs=1e-6)
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-4)


def test_the_runs_moved_and_dynamic_sampling_dropped_flat_groups(
    runs: Path, tiny_model_dir
) -> None:
    start = load_file(str(tiny_model_dir / "model.safetensors"))
    start.pop("lm_head.weight", None)
    assert _max_diff(_weights(runs / "grpo-2", 2), start) > 1e-4  # equal because both learned
    assert any(r["zero_std_groups"] > 0 for r in _metrics(runs / "dynamic-2"))


def test_lora_under_fsdp_saves_the_trained_adapters(runs: Path) -> None:
    """The LoRA run's checkpoint is an adapter (gathered from the shards), and it moved."""
    ckpt = runs / "lora_fsdp-2" / "checkpoint-000002"
    assert (ckpt / "adapter_config.json").is_file() and not (ckpt / "model.safetensors").exists()
    adapters = _weights(runs / "lora_fsdp-2", 2)
    assert adapters and all("lora_" in k for k in adapters)
    assert max(v.abs().max().item() for k, v in adapters.items() if "lora_B" in k) > 1e-4
    assert all(r["kl"] > 0 for r in _metrics(runs / "lora_fsdp-2")[1:])  # adapters-off reference


def test_fsdp_checkpoint_holds_full_weights_and_optimizer_shards(runs: Path) -> None:
    ckpt = runs / "fsdp-2" / "checkpoint-000002"
    assert sorted(p.name for p in (ckpt / "optimizer").glob("*.distcp")) == [
        "__0_0.distcp",
        "__1_0.distcp",
    ]
    from grpo_gym.agent.checkpoint import verify_checkpoint

    assert verify_checkpoint(ckpt) is None  # the manifest covers the shards


@pytest.mark.parametrize("resumed", ["two-then-one", "one-then-two"])
def test_resume_at_another_world_size_continues_like_the_straight_run(
    runs: Path, resumed: str
) -> None:
    straight, other = runs / "straight", runs / resumed
    assert _max_diff(_weights(straight, 4), _weights(other, 4)) < 1e-5
    rows = _metrics(other)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    for a, b in zip(_metrics(straight)[2:], rows[2:], strict=True):
        assert a["reward_mean"] == pytest.approx(b["reward_mean"], abs=1e-6)
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-6)


@pytest.mark.parametrize("kind", ["exit", "hang"])
def test_a_rank_that_dies_or_hangs_ends_the_job_within_the_timeout(
    tiny_model_dir: Path, tmp_path: Path, kind: str
) -> None:
    job = _job(tiny_model_dir, tmp_path / "run", steps=3, distributed={"dist_timeout_s": 20})
    t0 = time.monotonic()
    proc = _launch(2, [job], tmp_path, fault={"rank": 1, "step": 2, "kind": kind}, timeout=300)
    elapsed = time.monotonic() - t0
    assert proc.returncode != 0
    assert elapsed < 150, f"the job took {elapsed:.0f} s to end"
    assert "ChildFailedError" in proc.stderr or "failed" in proc.stderr.lower()
    ckpt = tmp_path / "run" / "checkpoint-000001"  # never written: save_every is 0 here
    assert not ckpt.exists() or (ckpt / "manifest.json").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_nodes_through_the_rendezvous(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Two torchrun launches on 127.0.0.1 with node ranks 0 and 1, one process each."""
    spec = tmp_path / "jobs.json"
    out = tmp_path / "run"
    spec.write_text(json.dumps({"jobs": [_job(tiny_model_dir, out)], "fault": None}))
    port = _free_port()
    nodes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--nnodes=2",
                f"--node-rank={rank}",
                "--nproc-per-node=1",
                "--master-addr=127.0.0.1",
                f"--master-port={port}",
                str(WORKER),
                str(spec),
            ],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    outputs = [n.communicate(timeout=300) for n in nodes]
    for n, (o, e) in zip(nodes, outputs, strict=True):
        assert n.returncode == 0, o[-2000:] + e[-4000:]
    assert [r["step"] for r in _metrics(out)] == [1, 2]
    assert (out / "checkpoint-000002" / "manifest.json").exists()


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_cli_nproc_starts_torchrun_and_trains_with_the_real_engine(
    tiny_model_dir: Path, tmp_path: Path, strategy: str
) -> None:
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "grpo_gym",
        "train",
        "--nproc",
        "2",
        "--strategy",
        strategy,
        "--model",
        str(tiny_model_dir),
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
        "--device",
        "cpu",
        "--eval-problems",
        "3",
        "--progress",
        "false",
        "--output-dir",
        str(out),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-6000:]
    assert "starting 2 processes" in proc.stderr
    assert proc.stdout.count("checkpoint:") == 1  # rank 0 speaks for the job
    rows = _metrics(out)
    assert [r["step"] for r in rows] == [1, 2]
    assert len(rows[0]["pass_by_env"]) == 1
    assert (out / "checkpoint-000002" / "manifest.json").exists()
    assert "after training" in proc.stdout


def test_sharded_evaluation_reports_what_one_process_reports(runs: Path) -> None:
    one = json.loads((runs / "grpo-1" / "eval_report.json").read_text())
    two = json.loads((runs / "grpo-2" / "eval_report.json").read_text())
    assert one == two
    assert one["grpo_gym_test/Letter-v0"]["problems"] == 5
