"""Seed by seed: the spread of grpo-gym's and TRL's learning runs, and the difference between them.

    .venv/bin/python benchmarks/seed_spread.py                     # results/learning-vs-trl-seeds-cpu.json
    .venv/bin/python benchmarks/seed_spread.py --json FILE --env arithmetic

Reads what ``learning_vs_trl.py`` wrote (one run per side and seed, each with its per-step
training curve and its held-out greedy pass@1) and writes, beside the JSON:

* ``<name>-<env>.png``: the per-step curves of both sides (reward, reply length, fraction cut at
  the token limit, entropy, KL, gradient norm before clipping), the mean over seeds with the
  range of the seeds shaded, and the held-out pass@1 of every seed;
* ``<name>-<env>-summary.json``: per side the pass@1 of each seed, their mean, standard deviation
  and 95 % interval; the per-seed differences (the two sides of a seed train on the same prompts
  in the same order), their mean with a 95 % t interval, and how many seeds each side won.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
CURVES = ("reward_mean", "completion_len", "truncated", "entropy", "kl", "grad_norm")
# two-sided 95 % Student t quantiles by degrees of freedom (1..30)
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179]
_T975 += [2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064]
_T975 += [2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t_interval(xs: list[float]) -> tuple[float, float, float]:
    """Mean and 95 % t interval of ``xs`` (the interval is the mean itself for one value)."""
    mean = statistics.fmean(xs)
    if len(xs) < 2:
        return mean, mean, mean
    half = _T975[min(len(xs) - 2, len(_T975) - 1)] * statistics.stdev(xs) / math.sqrt(len(xs))
    return mean, mean - half, mean + half


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    by: dict[str, dict[int, float]] = {"ours": {}, "trl": {}}
    for r in runs:
        by[r["side"]][r["seed"]] = r["after"]["pass_at_1"]
    out: dict[str, Any] = {}
    for side, seeds in by.items():
        xs = [seeds[s] for s in sorted(seeds)]
        if xs:
            mean, lo, hi = t_interval(xs)
            out[side] = {
                "seeds": sorted(seeds),
                "pass_at_1": xs,
                "mean": round(mean, 4),
                "std": round(statistics.stdev(xs), 4) if len(xs) > 1 else 0.0,
                "ci95": [round(lo, 4), round(hi, 4)],
            }
    paired = sorted(set(by["ours"]) & set(by["trl"]))
    if paired:
        diffs = [by["ours"][s] - by["trl"][s] for s in paired]
        mean, lo, hi = t_interval(diffs)
        out["difference_ours_minus_trl"] = {
            "seeds": paired,
            "per_seed": [round(d, 4) for d in diffs],
            "mean": round(mean, 4),
            "ci95": [round(lo, 4), round(hi, 4)],
            "ours_higher": sum(d > 0 for d in diffs),
            "trl_higher": sum(d < 0 for d in diffs),
            "ties": sum(d == 0 for d in diffs),
        }
    return out


def plot(runs: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(17, 7))
    colours = {"ours": "tab:blue", "trl": "tab:orange"}
    for ax, key in zip(axes.flat, CURVES, strict=False):
        for side, colour in colours.items():
            curves = [[s.get(key) for s in r["steps"]] for r in runs if r["side"] == side]
            curves = [c for c in curves if c and all(v is not None for v in c)]
            if not curves:
                continue
            n = min(len(c) for c in curves)
            steps = range(1, n + 1)
            cols = [[c[i] for c in curves] for i in range(n)]
            ax.plot(steps, [statistics.fmean(c) for c in cols], color=colour, label=side)
            ax.fill_between(
                steps, [min(c) for c in cols], [max(c) for c in cols], color=colour, alpha=0.2
            )
        ax.set_title(key)
        ax.set_xlabel("step")
    ax = axes.flat[len(CURVES)]
    for i, (side, colour) in enumerate(colours.items()):
        ys = [r["after"]["pass_at_1"] for r in runs if r["side"] == side]
        ax.scatter([i] * len(ys), ys, color=colour, alpha=0.7)
    ax.set_xticks([0, 1], list(colours))
    ax.set_title("held-out greedy pass@1 per seed")
    axes.flat[-1].axis("off")
    axes.flat[0].legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--json", type=Path, default=RESULTS / "learning-vs-trl-seeds-cpu.json")
    ap.add_argument("--env", default="arithmetic")
    args = ap.parse_args(argv)
    data = json.loads(args.json.read_text())
    if args.env not in data.get("envs", {}):
        raise SystemExit(
            f"{args.json} has no runs of env {args.env!r}: it has {sorted(data.get('envs', {}))}"
        )
    runs = [r for r in data["envs"][args.env]["runs"] if "after" in r]
    summary = summarise(runs)
    summary["base_pass_at_1"] = data["envs"][args.env].get("before", {}).get("pass_at_1")
    stem = args.json.with_suffix("").name
    out = args.json.with_name(f"{stem}-{args.env}-summary.json")
    out.write_text(json.dumps(summary, indent=1) + "\n")
    plot(runs, args.json.with_name(f"{stem}-{args.env}.png"), f"{args.env}: {len(runs)} runs")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
