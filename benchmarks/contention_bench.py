"""A busy machine: GRPO step time with 0, 1 and 2 competing CPU-bound processes, before and after.

One command (from the repo root, with the project venv):

    .venv/bin/python benchmarks/contention_bench.py            # SmolLM2-135M-Instruct, ~20 min
    .venv/bin/python benchmarks/contention_bench.py --competitors 0 1 --steps 2

It writes ``benchmarks/results/contention-cpu.json`` (``--out`` to change), naming the machine.

What it measures
    * A short real run (the demo preset with a smaller batch, ``--prompts-per-step 2
      --group-size 4``, no evaluation, no checkpoints) in its own process; the step time is the
      last step's ``time_step`` from ``metrics.jsonl`` (the first one includes warm-up).
    * Competitors: ``python3 -c "while True: pass"``, started before the run, killed after.
    * Two policies, side by side in the same run:
        - ``before``: OpenMP's default waiting (``OMP_WAIT_POLICY`` empty: libgomp spins), as
          grpo-gym ran before it set a policy;
        - ``after``: what grpo-gym does now by default (``grpo_gym/__init__.py``: passive OpenMP
          waits; ``threads=0`` leaves out the cores other processes keep busy; see
          ``agent/cpu_share.py``).
    * slowdown = step time with k competitors / step time with none, per policy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine

ROOT = Path(__file__).resolve().parents[1]
POLICIES = {
    "before": {"OMP_WAIT_POLICY": "", "GRPO_GYM_CPU_SHARE": "0"},  # libgomp's default spinning
    "after": {},  # grpo-gym's defaults
}


def step_seconds(args: argparse.Namespace, policy: str, out: Path) -> tuple[float, list[float]]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    env.update(POLICIES[policy])
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
        "2",
        "--group-size",
        "4",
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
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{policy} run failed:\n{proc.stderr[-3000:]}")
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return rows[-1]["time_step"], [r["time_step"] for r in rows]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--competitors", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/contention-cpu.json")
    args = p.parse_args()
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in args.competitors:
            for policy in POLICIES:
                hogs = [
                    subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(k)
                ]
                try:
                    time.sleep(1.0 if k else 0.0)
                    t0 = time.perf_counter()
                    last, steps = step_seconds(args, policy, Path(tmp) / f"{policy}-{k}")
                    wall = time.perf_counter() - t0
                finally:
                    for h in hogs:
                        h.kill()
                        h.wait()
                row = {
                    "competitors": k,
                    "policy": policy,
                    "step_s": round(last, 2),
                    "all_steps_s": [round(s, 2) for s in steps],
                    "run_wall_s": round(wall, 1),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    for row in rows:
        base = next(
            r
            for r in rows
            if r["policy"] == row["policy"] and r["competitors"] == min(args.competitors)
        )
        row["slowdown_vs_fewest_competitors"] = round(row["step_s"] / base["step_s"], 2)
    result = {
        "benchmark": "contention_bench",
        "machine": describe_machine(("torch", "transformers")),
        "cores": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "workload": "grpo-gym train --preset demo --prompts-per-step 2 --group-size 4 "
        f"--steps {args.steps} (no eval, no checkpoints); step_s = the last step's time_step",
        "policies": {
            "before": "OMP_WAIT_POLICY empty (libgomp default spin-waiting), all cores' threads",
            "after": "grpo-gym defaults: OMP_WAIT_POLICY=PASSIVE, threads = cores left free",
        },
        "rows": rows,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
