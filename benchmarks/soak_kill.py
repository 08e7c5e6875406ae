"""kill -9 soak: kill a tiny-model CPU training run at K random moments, resume each time, and check
that the final checkpoint and metrics equal an uninterrupted run's (same seed).

One command (from the repo root, with the project venv):

    .venv/bin/python benchmarks/soak_kill.py             # K=5 kills, 16 steps, ~10 min on 2 busy cores
    .venv/bin/python benchmarks/soak_kill.py --kills 20 --steps 30

It writes ``benchmarks/results/soak-kill-cpu.json`` (``--out`` to change), naming the machine.

What it does
    * Builds the tiny random Llama of ``grpo_gym.testing`` in a temp folder and trains it with
      ``grpo-gym train`` (its own subprocess each time; env ``grpo_gym_test/Letter-v0``,
      a checkpoint after every step, 1 torch thread so runs are deterministic).
    * Runs once uninterrupted (the reference), then starts the same run with ``--resume`` and
      SIGKILLs it at a random moment, K times: during start-up (model loading, resume), or at a
      random point of a random later step (generation, scoring, backward or the checkpoint write),
      then lets the last resume finish.
    * After every kill: every ``checkpoint-*`` folder must pass ``verify_checkpoint`` (sizes and
      sha256 against its manifest), and the work lost (steps logged minus the newest checkpoint's
      step) must be at most one checkpoint interval. A kill after the first metrics row but before
      the first checkpoint leaves logs without a checkpoint: ``--resume`` then refuses (it never
      overwrites logs); the script does what the message says (moves the logs away) and counts it.
    * At the end: the final checkpoint's ``model.safetensors`` must be byte-identical to the
      reference's, every tensor of ``trainer_state.pt`` (optimizer moments, RNG) equal, and every
      metrics row equal except timings.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from machine import describe_machine  # benchmarks/machine.py, beside this script

from grpo_gym.agent.checkpoint import list_checkpoints, verify_checkpoint
from grpo_gym.testing import build_tiny_model

REPO = Path(__file__).resolve().parents[1]
RUNNER = (
    "import sys, tests.fixture_envs; from grpo_gym.cli import main; sys.exit(main(sys.argv[1:]))"
)
TIMING_KEYS = ("time_", "samples_per_s", "tokens_per_s")


def train_args(model: Path, out: Path, steps: int, seed: int) -> list[str]:
    return [
        "train",
        "--model",
        str(model),
        "--env",
        "grpo_gym_test/Letter-v0",
        "--steps",
        str(steps),
        "--prompts-per-step",
        "2",
        "--group-size",
        "4",
        "--max-new-tokens",
        "8",
        "--lr",
        "1e-3",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--output-dir",
        str(out),
        "--eval-before-after",
        "false",
        "--progress",
        "false",
        "--save-every",
        "1",
        "--keep-checkpoints",
        "2",
        "--seed",
        str(seed),
    ]


def start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def logged(out: Path) -> int:
    path = out / "metrics.jsonl"
    if not path.exists():
        return 0
    n = 0
    for ln in path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            n += "step" in json.loads(ln)
    return n


def resume_flag(run: Path) -> list[str]:
    """``--resume`` when the run folder holds a checkpoint. A run killed before its first
    checkpoint has nothing to resume (``--resume`` would refuse): its folder is moved aside and
    the run starts afresh."""
    if list_checkpoints(run):  # a complete one
        return ["--resume"]
    if run.exists():
        n = sum(1 for p in run.parent.glob(f"{run.name}.started-*"))
        run.rename(run.with_name(f"{run.name}.started-{n + 1}"))
    return []


def newest_step(out: Path) -> int:
    ckpts = list_checkpoints(out)
    return int(ckpts[-1].name.split("-")[1]) if ckpts else 0


def rows(out: Path) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in json.loads(ln).items() if not k.startswith(TIMING_KEYS)}
        for ln in (out / "metrics.jsonl").read_text().splitlines()
    ]


def tensors_equal(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(tensors_equal(a[k], b[k]) for k in a)
        )
    if isinstance(a, (list, tuple)):
        return (
            isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(tensors_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    if hasattr(a, "shape") and hasattr(a, "tolist"):  # numpy arrays in the RNG state
        return bool((a == b).all())
    return a == b


def differing(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    """The keys (recursively, as paths) whose values differ."""
    out: list[str] = []
    for k, v in a.items():
        if isinstance(v, dict) and isinstance(b.get(k), dict):
            out += differing(v, b[k], f"{prefix}{k}/")
        elif not tensors_equal(v, b.get(k)):
            out.append(f"{prefix}{k}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0, help="training seed (both runs)")
    ap.add_argument("--kill-seed", type=int, default=1, help="seed of the random kill moments")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "soak-kill-cpu.json"))
    args = ap.parse_args()
    rng = random.Random(args.kill_seed)
    t_all = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="soak-kill-") as tmp_name:
        tmp = Path(tmp_name)
        model = build_tiny_model(tmp / "model")
        ref, run = tmp / "reference", tmp / "killed"

        t0 = time.monotonic()
        proc = start(train_args(model, ref, args.steps, args.seed))
        first_row = None
        while proc.poll() is None:
            if first_row is None and logged(ref) >= 1:
                first_row = time.monotonic() - t0
            time.sleep(0.1)
        ref_s = time.monotonic() - t0
        if proc.returncode != 0:
            raise SystemExit(f"reference run failed: {proc.stderr.read() if proc.stderr else ''}")
        step_s = (ref_s - (first_row or 0)) / max(args.steps - 1, 1)
        startup_s = (first_row or ref_s) - step_s
        print(f"reference: {ref_s:.1f}s ({startup_s:.1f}s start-up, {step_s:.2f}s per step)")

        kills: list[dict[str, Any]] = []
        refusals = finished_early = 0
        while len(kills) < args.kills:
            done = newest_step(run)
            # a kill that landed after the final checkpoint leaves nothing to interrupt
            if done >= args.steps:
                finished_early += 1
                break
            # kill during start-up (model loading, resume) or at a random moment of a random later step
            target = rng.randint(done, max(done, min(done + 3, args.steps - 2)))
            proc = start([*train_args(model, run, args.steps, args.seed), *resume_flag(run)])
            t_start = time.monotonic()
            if target == done:
                delay = rng.uniform(0.2, 1.0) * startup_s
                time.sleep(delay)
            else:
                while newest_step(run) < target and proc.poll() is None:
                    time.sleep(0.05)
                time.sleep(rng.uniform(0.0, step_s))
                delay = time.monotonic() - t_start
            if proc.poll() is not None:  # it finished (or refused) before the kill
                err = proc.stderr.read() if proc.stderr else ""
                if "no checkpoint to resume from" in err:
                    refusals += 1
                    for name in ("metrics.jsonl", "samples.jsonl"):
                        if (run / name).exists():
                            (run / name).rename(run / f"{name}.moved-{refusals}")
                    continue
                if proc.returncode == 0:  # the run is complete: no moment left to kill it at
                    finished_early += 1
                    break
                raise SystemExit(f"resume failed (exit {proc.returncode}): {err}")
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            ckpts = list_checkpoints(run, complete_only=False)
            bad = {p.name: why for p in ckpts if (why := verify_checkpoint(p)) is not None}
            newest = int(ckpts[-1].name.split("-")[1]) if ckpts else 0
            kills.append(
                {
                    "after_s": round(delay, 2),
                    "steps_logged": logged(run),
                    "newest_checkpoint": newest,
                    "steps_lost": logged(run) - newest,
                    "checkpoints": [p.name for p in ckpts],
                    "unreadable": bad,
                }
            )
            print(
                f"kill {len(kills)} at {delay:.1f}s: {kills[-1]['steps_logged']} steps logged, newest checkpoint {newest}"
                + (f", UNREADABLE {bad}" if bad else "")
            )

        proc = start([*train_args(model, run, args.steps, args.seed), *resume_flag(run)])
        _, err = proc.communicate()
        if proc.returncode != 0 and not (finished_early and "nothing to train" in err):
            raise SystemExit(f"final resume failed (exit {proc.returncode}): {err}")

        final_ref, final_run = (
            ref / f"checkpoint-{args.steps:06d}",
            run / f"checkpoint-{args.steps:06d}",
        )
        weights_ref = (final_ref / "model.safetensors").read_bytes()
        weights_run = (final_run / "model.safetensors").read_bytes()
        state_ref = torch.load(final_ref / "trainer_state.pt", weights_only=False)
        state_run = torch.load(final_run / "trainer_state.pt", weights_only=False)
        rows_ref, rows_run = rows(ref), rows(run)
        result = {
            "benchmark": "soak_kill",
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": describe_machine(("torch", "transformers")),
            "command": "python benchmarks/soak_kill.py " + " ".join(sys.argv[1:]),
            "settings": {
                "steps": args.steps,
                "kills": args.kills,
                "seed": args.seed,
                "kill_seed": args.kill_seed,
                "save_every": 1,
                "model": "grpo_gym.testing tiny Llama (2 layers, hidden 64)",
            },
            "reference": {
                "seconds": round(ref_s, 1),
                "startup_s": round(startup_s, 1),
                "step_s": round(step_s, 2),
            },
            "kills_survived": len(kills),
            "kills": kills,
            "refusals_followed": refusals,
            "runs_finished_before_a_kill": finished_early,
            "unreadable_checkpoints": sum(len(k["unreadable"]) for k in kills),
            "max_steps_lost_per_kill": max((k["steps_lost"] for k in kills), default=0),
            "weights_bytes_compared": len(weights_ref),
            "weights_identical": weights_ref == weights_run,
            "trainer_state_identical": tensors_equal(state_ref, state_run),
            "trainer_state_differs_in": differing(state_ref, state_run),
            "metrics_rows": len(rows_run),
            "metrics_identical_except_timings": rows_ref == rows_run,
            "wall_s": round(time.monotonic() - t_all, 1),
        }
    ok = (
        result["weights_identical"]
        and result["trainer_state_identical"]
        and result["metrics_identical_except_timings"]
        and result["unreadable_checkpoints"] == 0
        and result["max_steps_lost_per_kill"] <= 1
    )
    result["passed"] = bool(ok)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("kills", "machine")}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
