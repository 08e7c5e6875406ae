"""Learning run: does GRPO raise the held-out pass rate of the default model on a built-in env?

    .venv/bin/python benchmarks/learning_run.py [--steps 30] [--device cpu] [--problems 100]

Trains ``smollm2-135m`` on two-digit addition (``grpo_gym/Arithmetic-v0`` with
digits=2, terms=2, ops="+"), evaluates greedy pass@1 on the same held-out test problems before
and after, and writes ``benchmarks/results/learning-<env>-<model>.json`` (settings, machine,
before/after with standard errors, the per-step reward curve) plus the curve as PNG (needs
matplotlib: ``pip install -e '.[plot]'``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from pathlib import Path

from machine import describe_machine  # benchmarks/machine.py, beside this script

import grpo_gym
from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.engines import HFSampler
from grpo_gym.agent.evaluate import evaluate
from grpo_gym.agent.model import load_policy
from grpo_gym.agent.report import format_summary
from grpo_gym.agent.rollout import EnvPool
from grpo_gym.agent.sampling import SamplingConfig
from grpo_gym.agent.trainer import train

RESULTS = Path(__file__).resolve().parent / "results"


def held_out(model_path: str, cfg: GRPOConfig, problems: int) -> dict:
    model, tok = load_policy(model_path, device=cfg.device if cfg.device != "auto" else None)
    sampler = HFSampler(
        model, tok, SamplingConfig(max_new_tokens=cfg.sampling.max_new_tokens, temperature=0.0)
    )
    rep = evaluate(
        sampler,
        list(cfg.env),
        problems=problems,
        n=1,
        seed=2024,
        envs=EnvPool(cfg.parsed_env_kwargs()),
    )
    r = rep.results[0]
    return {
        "pass_at_1": r.pass_at_k[1],
        "stderr": r.pass_at_k_stderr.get(1),
        "mean_reward": r.reward_mean,
        "problems": r.problems,
        "distinct_prompts": r.distinct_prompts,
        "summary": format_summary(rep),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--problems", type=int, default=100)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--output-dir", default="runs/learning")
    args = ap.parse_args()
    cfg = GRPOConfig(
        model="smollm2-135m",
        env=("grpo_gym/Arithmetic-v0",),
        env_kwargs='{"digits": 2, "terms": 2, "ops": "+"}',
        steps=args.steps,
        prompts_per_step=4,
        group_size=8,
        sampling=SamplingConfig(max_new_tokens=48, temperature=0.7),
        lr=2e-5,
        beta=0.02,
        device=args.device,
        output_dir=args.output_dir,
        eval_before_after=False,
        save_every=10,
        progress=False,
    )
    shutil.rmtree(cfg.output_dir, ignore_errors=True)
    t0 = time.time()
    before = held_out(cfg.model, cfg, args.problems)
    print("before:", before["summary"], flush=True)
    res = train(
        cfg,
        on_step=lambda s, m: print(
            f"step {s}: reward {m['reward_mean']:.3f} pass {m['pass_rate']:.3f} kl {m['kl']:.4f} len {m['completion_len']:.1f}",
            flush=True,
        ),
    )
    after = held_out(str(res.checkpoint), cfg, args.problems)
    print("after: ", after["summary"], flush=True)
    name = f"learning-{cfg.env[0].split('/')[-1].lower()}-{cfg.model}"
    out = {
        "what": "GRPO learning run: held-out greedy pass@1 before and after, same test problems",
        "machine": {
            **describe_machine(("torch", "transformers")),
            "grpo_gym": grpo_gym.__version__,
        },
        "wall_s": time.time() - t0,
        "config": dataclasses.asdict(cfg),
        "before": before,
        "after": after,
        "curve": [
            {
                k: m[k]
                for k in ("step", "reward_mean", "pass_rate", "kl", "completion_len", "time_step")
            }
            for m in res.history
        ],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=2))
    try:
        from grpo_gym.agent.plots import plot_training_curve

        plot_training_curve(Path(cfg.output_dir) / "metrics.jsonl", RESULTS / f"{name}.png")
    except ImportError as exc:
        print(f"no PNG: {exc}")
    print(f"wrote {RESULTS / name}.json")


if __name__ == "__main__":
    main()
