"""Re-score the committed benchmark replies with the scorers as they are now.

    .venv/bin/python benchmarks/rescore.py                  # every results/*.samples.jsonl
    .venv/bin/python benchmarks/rescore.py results/math500-smollm2-135m-vllm.samples.jsonl

Each row of a samples file is one scored reply (env id, seed, prompt, reply, whether it hit the
token limit, the verdict it got then). The task is rebuilt from the env and the seed (the prompt
must match), and the reply is scored again as a ``Reply`` carrying its finish reason, so the rules
added since (a cut reply scores only an explicit final answer, the echo rule, stop strings, the
official IFEval/IFBench headline) apply. Writes ``results/rescored.json``: per file, pass@1 then
and now with its standard error, and every verdict that changed with the scorer's reason. No
model runs: this is pure re-scoring, seconds per file.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import gymnasium as gym

import grpo_gym.envs  # noqa: F401  (registers the envs)
from grpo_gym.rewards import Reply

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine

RESULTS = Path(__file__).resolve().parent / "results"


def current_id(env_id: str) -> str:
    """``env_id``, or its newest version when a later one is registered (``IFEval-v0`` -> v1)."""
    name, _, version = env_id.rpartition("-v")
    newer = [
        int(k.rpartition("-v")[2])
        for k in gym.registry
        if k.rpartition("-v")[0] == name and k.rpartition("-v")[2].isdigit()
    ]
    return f"{name}-v{max(newer)}" if newer and max(newer) > int(version) else env_id


class Tasks:
    """The task behind each (env id, seed, prompt), rebuilt once."""

    def __init__(self) -> None:
        self.envs: dict[str, Any] = {}

    def env(self, env_id: str) -> Any:
        if env_id not in self.envs:
            self.envs[env_id] = gym.make(current_id(env_id)).unwrapped
        return self.envs[env_id]

    def task(self, env_id: str, seed: int, prompt: str) -> Any:
        env = self.env(env_id)
        for split in getattr(env, "splits", ("test", "train")):
            obs, info = env.reset(seed=seed, options={"split": split})
            if obs == prompt:
                return info["task"]
        raise SystemExit(
            f"{env_id} seed {seed}: no split gives the committed prompt {prompt[:60]!r}"
        )


def stderr(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n) if n else 0.0


def rescore(path: Path, tasks: Tasks) -> dict[str, Any]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    changed: list[dict[str, Any]] = []
    new_pass = []
    reasons: Counter[str] = Counter()
    for i, row in enumerate(rows):
        env = tasks.env(row["env_id"])
        task = tasks.task(row["env_id"], row["seed"], row["prompt"])
        reply = Reply(row["reply"], "length" if row["truncated"] else "stop")
        result = env.score_reply(reply, task)
        passed = bool(env.is_success(result, task))
        new_pass.append(passed)
        if passed != bool(row["passed"]):
            reason = result.reason or "now passes"
            reasons[reason] += 1
            changed.append(
                {
                    "row": i,
                    "problem": row["problem"],
                    "was": bool(row["passed"]),
                    "now": passed,
                    "truncated": bool(row["truncated"]),
                    "reason": reason,
                    "extracted": result.extracted,
                    "reply_tail": row["reply"][-120:],
                }
            )
    n = len(rows)
    old = sum(bool(r["passed"]) for r in rows) / max(n, 1)
    new = sum(new_pass) / max(n, 1)
    return {
        "file": path.name,
        "env_id": rows[0]["env_id"] if rows else None,
        "scored_with": current_id(rows[0]["env_id"]) if rows else None,
        "replies": n,
        "truncated": sum(bool(r["truncated"]) for r in rows),
        "pass_at_1_then": round(old, 4),
        "pass_at_1_now": round(new, 4),
        "stderr_now": round(stderr(new, n), 4),
        "changed": len(changed),
        "changed_by_reason": dict(reasons),
        "changes": changed,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("files", nargs="*", type=Path, help="samples files (default: every one)")
    ap.add_argument("--out", type=Path, default=RESULTS / "rescored.json")
    args = ap.parse_args(argv)
    files = args.files or sorted(RESULTS.glob("*.samples.jsonl"))
    tasks = Tasks()
    report = [rescore(f, tasks) for f in files]
    for r in report:
        print(
            f"{r['file']}: pass@1 {r['pass_at_1_then']:.3f} -> {r['pass_at_1_now']:.3f} "
            f"(± {r['stderr_now']:.3f}); {r['changed']} verdicts changed {r['changed_by_reason']}"
        )
    args.out.write_text(
        json.dumps(
            {
                "what": "the committed benchmark replies re-scored by the current scorers",
                "machine": describe_machine(("grpo-gym", "sympy", "latex2sympy2_extended")),
                "results": report,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
