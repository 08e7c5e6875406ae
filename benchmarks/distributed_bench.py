"""Data-parallel scaling: GRPO samples/s with 1 and 2 processes (1 thread each), and the all-reduce cost.

One command (from the repo root, with the project venv):

    .venv/bin/python benchmarks/distributed_bench.py                 # SmolLM2-135M-Instruct, CPU
    .venv/bin/python benchmarks/distributed_bench.py --nprocs 1 2 4 8 --device cuda   # a GPU box

It writes ``benchmarks/results/distributed-<device>.json`` (``--out`` to change), naming the machine.

What it measures
    * The same global batch (B prompts x G replies, the demo's settings) trained for ``--steps``
      steps by ``grpo-gym train --nproc N --threads 1`` (DDP unless ``--strategy fsdp``), each N
      in its own run. Step times come from the run's own ``metrics.jsonl``; the first step (warm-up,
      allocation) is left out. samples/s = B * G / mean step time.
    * Scaling efficiency at N = (samples/s at N) / (N * samples/s at 1).
    * Communication per step: one all-reduce of a buffer the size of the model's gradients
      between the N processes (what DDP sends each step; it overlaps part of it with the backward),
      timed on its own with torchrun, median of 5.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine

ROOT = Path(__file__).resolve().parents[1]

ALLREDUCE = textwrap.dedent(
    """
    import statistics, sys, time, torch, torch.distributed as dist
    numel, device = int(sys.argv[1]), sys.argv[2]
    dist.init_process_group("nccl" if device == "cuda" else "gloo")
    if device == "cuda":
        torch.cuda.set_device(dist.get_rank())
    buf = torch.ones(numel, device=device)
    times = []
    for _ in range(6):
        dist.barrier()
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        dist.all_reduce(buf)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    if dist.get_rank() == 0:
        print("ALLREDUCE_S", statistics.median(times[1:]))
    dist.destroy_process_group()
    """
)


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def train_run(args: argparse.Namespace, nproc: int, out: Path) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "grpo_gym",
        "train",
        "--preset",
        "demo",
        "--model",
        args.model,
        "--steps",
        str(args.steps),
        "--prompts-per-step",
        str(args.prompts),
        "--group-size",
        str(args.group_size),
        "--threads",
        "1",
        "--nproc",
        str(nproc),
        "--strategy",
        args.strategy,
        "--device",
        args.device,
        "--eval-before-after",
        "false",
        "--progress",
        "false",
        "--save-every",
        "0",
        "--save-every-minutes",
        "0",
        "--output-dir",
        str(out),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"nproc={nproc} failed:\n{proc.stderr[-4000:]}")
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r["time_step"] for r in rows[1:]] or [rows[0]["time_step"]]
    step_s = statistics.mean(steps)
    return {
        "nproc": nproc,
        "step_s": [round(s, 3) for s in steps],
        "mean_step_s": round(step_s, 3),
        "samples_per_s": round(args.prompts * args.group_size / step_s, 3),
        "mean_time_generate_s": round(statistics.mean(r["time_generate"] for r in rows[1:]), 3)
        if len(rows) > 1
        else None,
        "mean_time_train_s": round(statistics.mean(r["time_train"] for r in rows[1:]), 3)
        if len(rows) > 1
        else None,
        "wall_s_with_startup": round(wall, 1),
    }


def allreduce_seconds(nproc: int, numel: int, device: str) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(ALLREDUCE)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        f.name,
        str(numel),
        device,
    ]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True)
    os.unlink(f.name)
    for line in proc.stdout.splitlines():
        if line.startswith("ALLREDUCE_S"):
            return float(line.split()[1])
    raise SystemExit(f"all-reduce timing failed:\n{proc.stderr[-3000:]}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--nprocs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--prompts", type=int, default=4, help="B, the global prompts per step")
    p.add_argument("--group-size", type=int, default=8)
    p.add_argument("--strategy", choices=["ddp", "fsdp"], default="ddp")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    from grpo_gym.agent.model import load_policy

    model, _ = load_policy(args.model, device="cpu")
    numel = sum(p.numel() for p in model.parameters() if p.requires_grad)
    del model
    load_before = os.getloadavg()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.nprocs:
            run = train_run(args, n, Path(tmp) / f"n{n}")
            if n > 1:
                run["allreduce_grad_s"] = round(allreduce_seconds(n, numel, args.device), 4)
            runs.append(run)
            print(json.dumps(run), flush=True)
    base = runs[0]["samples_per_s"] / runs[0]["nproc"]
    for r in runs:
        r["scaling_efficiency"] = round(r["samples_per_s"] / (r["nproc"] * base), 3)
    result = {
        "benchmark": "distributed_bench",
        "machine": describe_machine(("torch", "transformers")),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "settings": {
            "model": args.model,
            "strategy": args.strategy,
            "device": args.device,
            "global_prompts_per_step": args.prompts,
            "group_size": args.group_size,
            "steps": args.steps,
            "threads_per_process": 1,
            "gradient_numel": numel,
            "preset": "demo (48 new tokens, T=0.7)",
        },
        "runs": runs,
    }
    out = args.out or ROOT / "benchmarks" / "results" / f"distributed-{args.device}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
