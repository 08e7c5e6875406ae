"""Learning quality at equal settings: grpo-gym's trainer vs TRL's GRPOTrainer, scored by OUR evaluator.

One command (from the repo root, with the project venv):

    .venv/bin/python benchmarks/learning_vs_trl.py                       # arithmetic + gsm8k, 8 seeds
    .venv/bin/python benchmarks/learning_vs_trl.py --envs arithmetic --seeds 0

It writes ``benchmarks/results/learning-vs-trl-cpu.json`` (``--out``) after EVERY run, so a
partial run leaves what it measured.

What it does
    * Per env and seed, both sides train ``smollm2-135m`` (the cached save_pretrained folder that
      ``load_policy`` makes, loaded by both) from the same weights on the same prompts in the same
      order: grpo-gym's ``prompt_stream(env, seed, step * 1000, B)``; TRL gets them as an
      unshuffled dataset of ``(prompt, task)`` rows scored by ``grpo_gym.envs.trl.EnvReward``
      (the env's own reward, equal to ``env.step``).
    * Equal settings, listed with their names on each side in ``learning_sides.SETTINGS_MAP`` (written to the
      JSON): TRL's ``loss_type="grpo"`` is our ``grpo`` (mean over each reply's tokens, then over
      replies), constant learning rate (TRL's default is linear decay to 0), no warm-up, AdamW
      fused with betas (0.9, 0.999), eps 1e-8, weight decay 0, grad clip 1.0, micro-batches of 8
      sequences x 4 accumulation steps = one optimizer step per B x G batch, plain k3 KL added per
      token (TRL's ``use_bias_correction_kl`` off), top_p 1, top_k 0, fp32 on CPU, no vLLM.
    * Each training run is its own subprocess, ``learning_sides.py`` (TRL in its own venv,
      ``--trl-venv``, made like grpo_step_bench's). The wall time of a side is model load + all training steps (ours: from
      ``train()`` to the last step's callback, so the final checkpoint write is excluded; TRL:
      from ``GRPOTrainer(...)`` to the end of ``train()``; TRL saves after, untimed).
    * Both final policies (and the base model, once per env) are scored by
      ``grpo_gym.agent.evaluate.evaluate`` in this process: greedy pass@1 with its standard error
      on the same held-out test problems (``--problems``, seed 2024).
    * Runs alternate ours, TRL per seed (``--jobs N``: N at once); the load average is recorded
      after each run. ``--resume`` continues an interrupted comparison: runs already in ``--out``
      (same settings, checked) are kept and only the missing ones are trained.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grpo_step_bench import TRL_VERSION, ensure_trl_venv  # benchmarks/, beside this script
from learning_sides import SETTINGS_MAP, _train_rows, ours_config
from machine import describe_machine

REPO = Path(__file__).resolve().parents[1]

ENVS: dict[str, dict] = {
    # the demo preset's env and settings (agent/config.py PRESETS["demo"])
    "arithmetic": dict(
        env="grpo_gym/Arithmetic-v0",
        env_kwargs={"digits": 2, "terms": 2, "ops": "+"},
        steps=10,
        max_new_tokens=48,
        problems=100,
    ),
    "gsm8k": dict(
        env="grpo_gym/GSM8K-v0", env_kwargs={}, steps=10, max_new_tokens=192, problems=100
    ),
}
# the demo preset's optimisation settings, the same for every env
COMMON = dict(B=4, G=8, micro=8, temperature=0.7, lr=2e-5, beta=0.02, eps=0.2, mu=1)


def run_worker(py: Path, impl: str, spec: dict, timeout: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result = f.name
    cmd = [str(py), str(Path(__file__).resolve().parent / "learning_sides.py"), "--worker", impl]
    cmd += ["--spec", json.dumps(spec), "--result", result]
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(spec["threads"]),
        MKL_NUM_THREADS=str(spec["threads"]),
        TOKENIZERS_PARALLELISM="false",
        TRANSFORMERS_VERBOSITY="error",
    )
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
        raise SystemExit(f"{impl} worker failed (exit {proc.returncode})")
    res = json.loads(Path(result).read_text())
    os.unlink(result)
    res["process_wall_s"] = round(time.perf_counter() - t0, 1)
    res["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return res


def score(model_dir: str, spec: dict) -> dict:
    """Greedy pass@1 on the env's held-out test problems (seed 2024), by grpo-gym's evaluator."""
    from grpo_gym.agent.engines import HFSampler
    from grpo_gym.agent.env_pool import EnvPool
    from grpo_gym.agent.evaluate import evaluate
    from grpo_gym.agent.model import load_policy
    from grpo_gym.agent.sampling import SamplingConfig

    with tempfile.TemporaryDirectory(prefix="lvt-eval-") as scratch:
        cfg = ours_config(dict(spec, seed=0, ours_override={}), scratch)
        t0 = time.perf_counter()
        model, tok = load_policy(model_dir, device=cfg.device if cfg.device != "auto" else None)
        sampling = SamplingConfig(max_new_tokens=cfg.sampling.max_new_tokens, temperature=0.0)
        rep = evaluate(
            HFSampler(model, tok, sampling),
            list(cfg.env),
            problems=spec["problems"],
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
        "eval_s": round(time.perf_counter() - t0, 1),
    }


def _remove_run(model_dir: str) -> None:
    """Delete a worker's run folder (checkpoints, ~0.5 GB a run) once its policy is scored."""
    path = Path(model_dir)
    root = next((p for p in (path, *path.parents) if p.name.startswith("lvt-")), None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


def numerics(model_path: str, spec: dict) -> dict:
    """The fast log-prob path (shared prompt, head on completion tokens only) against the plain
    forward + log_softmax, on the real model and real sampled groups: values and gradients."""
    import torch

    from grpo_gym.agent.engines import HFSampler
    from grpo_gym.agent.logprobs import completion_logprobs
    from grpo_gym.agent.model import load_policy
    from grpo_gym.agent.sampling import SamplingConfig

    model, tok = load_policy(model_path, device="cpu")
    sampling = SamplingConfig(
        max_new_tokens=spec["max_new_tokens"], temperature=spec["temperature"]
    )
    torch.manual_seed(0)
    rows = _train_rows(dict(spec, steps=1, seed=0))[:2]
    gen = HFSampler(model, tok, sampling).generate([r["prompt"] for r in rows], n=4)
    mask = gen.completion_mask.float()
    T = gen.completion_ids.shape[1]
    out = {}
    for impl in ("plain", "fast"):
        model.zero_grad(set_to_none=True)
        logp, _ = completion_logprobs(
            model, gen.input_ids, gen.attention_mask, T, temperature=spec["temperature"], impl=impl
        )
        ((logp * mask).sum() / mask.sum()).backward()
        grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        out[impl] = (logp.detach() * mask, grads.to_dense() if grads.is_sparse else grads)
    (lp, gp), (lf, gf) = out["plain"], out["fast"]
    return {
        "sequences": int(mask.shape[0]),
        "completion_tokens": int(mask.sum()),
        "logp_max_abs_diff": float((lp - lf).abs().max()),
        "logp_mean_plain": float(lp.sum() / mask.sum()),
        "grad_rel_diff": float((gp - gf).norm() / gp.norm()),
        "grad_norm_plain": float(gp.norm()),
    }


def summarise(env_entry: dict) -> dict:
    """Mean pass@1 after, mean wall time, and their gap in standard errors, per side."""
    out: dict = {}
    for side in ("ours", "trl"):
        runs = [r for r in env_entry["runs"] if r["side"] == side]
        if runs:
            p = [r["after"]["pass_at_1"] for r in runs]
            se = [r["after"]["stderr"] or 0.0 for r in runs]
            out[side] = {
                "seeds": [r["seed"] for r in runs],
                "pass_at_1_after_mean": statistics.fmean(p),
                # the stderr of a mean of independent seeds' estimates
                "stderr_of_mean": (sum(s * s for s in se) ** 0.5) / len(se),
                "train_s_mean": statistics.fmean(r["train_s"] for r in runs),
            }
    if "ours" in out and "trl" in out:
        o, t = out["ours"], out["trl"]
        diff = o["pass_at_1_after_mean"] - t["pass_at_1_after_mean"]
        se = (o["stderr_of_mean"] ** 2 + t["stderr_of_mean"] ** 2) ** 0.5
        out["ours_minus_trl"] = {
            "pass_at_1": diff,
            "stderr": se,
            "in_stderrs": diff / se if se else None,
            "wall_speedup_trl_over_ours": t["train_s_mean"] / o["train_s_mean"],
        }
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--envs", default="arithmetic,gsm8k", help=f"comma-separated: {list(ENVS)}")
    ap.add_argument(
        "--seeds",
        default="0,1,2,3,4,5,6,7",
        help="comma-separated training seeds (default 8: at 2 seeds a run's verdict was a coin "
        "flip, seed-to-seed spread being larger than the difference sought; see "
        "benchmarks/README.md)",
    )
    ap.add_argument("--sides", default="ours,trl")
    ap.add_argument("--steps", type=int, help="override every env's number of steps")
    ap.add_argument("--problems", type=int, help="override every env's held-out problems")
    ap.add_argument("--max-new-tokens", type=int, help="override every env's max new tokens")
    ap.add_argument(
        "--model", default="smollm2-135m", help="smollm2-135m (its cached folder) or a model folder"
    )
    ap.add_argument("--threads", type=int, default=1, help="torch threads per side (default 1)")
    ap.add_argument(
        "--eval-threads",
        type=int,
        help="torch threads for the (untimed) evaluations (default: --threads)",
    )
    ap.add_argument("--ours-override", default="{}", help="JSON GRPOConfig fields (ablations)")
    ap.add_argument("--trl-override", default="{}", help="JSON trl.GRPOConfig fields (ablations)")
    ap.add_argument("--trl-venv", default="/tmp/bench-trl-venv-learn")
    ap.add_argument("--out", default=str(REPO / "benchmarks/results/learning-vs-trl-cpu.json"))
    ap.add_argument(
        "--fresh", action="store_true", help="drop the other envs' results already in --out"
    )
    ap.add_argument(
        "--numerics",
        action="store_true",
        help="only compare fast and plain log-probs/gradients on the real model (writes "
        "learning-vs-trl-numerics-cpu.json beside --out)",
    )
    ap.add_argument(
        "--resume",
        action="store_true",
        help="keep the runs (and base score) already in --out for an env run with the same "
        "settings, and do only the missing seeds/sides (a run cut off part-way is redone)",
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="training runs at once, each with --threads (e.g. 2 x 1 thread on 2 cores; the "
        "load average after each run is recorded beside its wall time)",
    )
    ap.add_argument("--timeout", type=int, default=4 * 3600, help="seconds per training run")
    args = ap.parse_args(argv)
    import torch

    from grpo_gym.agent.model import EMBEDDED_MODELS, fetch_embedded

    torch.set_num_threads(args.eval_threads or args.threads)
    model_path = str(fetch_embedded(args.model)) if args.model in EMBEDDED_MODELS else args.model
    if args.numerics:
        spec = dict(ENVS["arithmetic"], **COMMON)
        num: dict = {"machine": describe_machine(("torch", "transformers"))}
        num["date"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        num["arithmetic"] = numerics(model_path, spec)
        path = Path(args.out).with_name("learning-vs-trl-numerics-cpu.json")
        path.write_text(json.dumps(num, indent=2) + "\n")
        print(json.dumps(num["arithmetic"], indent=1))
        return
    sides = args.sides.split(",")
    pys = {"ours": Path(sys.executable)}
    if "trl" in sides:
        pys["trl"] = ensure_trl_venv(Path(args.trl_venv))
    report: dict = {
        "benchmark": "learning quality at equal settings: grpo-gym vs TRL GRPOTrainer "
        "(SmolLM2-135M-Instruct, CPU, fp32), both scored by grpo-gym's evaluator",
        "command": "python benchmarks/learning_vs_trl.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": describe_machine(("torch", "transformers")),
        "trl_version": TRL_VERSION,
        "settings_map": [
            dict(zip(("setting", "grpo_gym", "trl", "note"), r, strict=True)) for r in SETTINGS_MAP
        ],
        "common": COMMON,
        "ours_override": json.loads(args.ours_override),
        "trl_override": json.loads(args.trl_override),
        "envs": {},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    kept = json.loads(out.read_text()).get("envs", {}) if out.exists() else {}
    if not args.fresh:  # keep the envs this command does not rerun
        report["envs"] = {k: v for k, v in kept.items() if k not in args.envs.split(",")}

    def write() -> None:
        out.write_text(json.dumps(report, indent=2) + "\n")

    for name in args.envs.split(","):
        spec = dict(ENVS[name], **COMMON, model_path=model_path, threads=args.threads)
        for key in ("steps", "problems", "max_new_tokens"):
            if getattr(args, key) is not None:
                spec[key] = getattr(args, key)
        spec["ours_override"] = report["ours_override"]
        spec["trl_override"] = report["trl_override"]
        settings = {k: v for k, v in spec.items() if k != "model_path"}
        entry: dict = {"command": report["command"], "date": report["date"], "settings": settings}
        if args.resume and name in kept:
            entry = resumed_entry(kept[name], settings, name, out)
        report["envs"][name] = entry
        if "before" not in entry:
            entry["before"] = score(model_path, spec)
            entry["runs"] = []
            write()
        print(f"[{name}] before: {_fmt(entry['before'])}", flush=True)
        done = {(r["seed"], r["side"]) for r in entry["runs"]}
        todo = [(int(s), side) for s in args.seeds.split(",") for side in sides]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # --jobs training runs at once
            jobs = [
                pool.submit(train_and_score, pys[side], side, seed, spec, entry, args, write)
                for seed, side in todo
                if (seed, side) not in done
            ]
            for job in jobs:
                job.result()
        print(f"[{name}] summary: {json.dumps(entry.get('summary'), indent=1)}", flush=True)
    print(f"wrote {out}")


_LOCK = threading.Lock()  # one evaluation at a time, and one writer of the JSON


def train_and_score(
    py: Path,
    side: str,
    seed: int,
    spec: dict,
    entry: dict,
    args: argparse.Namespace,
    write: Callable[[], None],
) -> None:
    """One training run in its worker process, then its policy scored and added to ``entry``."""
    res = run_worker(py, side, dict(spec, seed=seed), args.timeout)
    model_dir = res.pop("model_dir")
    with _LOCK:
        res["after"] = score(model_dir, spec)
        _remove_run(model_dir)
        res.update(side=side, seed=seed, jobs=args.jobs)
        entry["runs"].append(res)
        entry["summary"] = summarise(entry)
        write()
    print(
        f"seed {seed} {side:4s}: after {_fmt(res['after'])}, "
        f"train {res['train_s']:.0f} s, load {res['loadavg_after'][0]}",
        flush=True,
    )


def resumed_entry(entry: dict, settings: dict, name: str, out: Path) -> dict:
    """``out``'s record of env ``name``, to continue: only if it was run with these settings."""
    old = entry.get("settings", {})
    for key in sorted(set(old) | set(settings)):
        if old.get(key) != settings.get(key):
            raise SystemExit(
                f"--resume: {out} has {name} run with {key}={old.get(key)!r}, this command's is "
                f"{settings.get(key)!r}; use the same settings, or drop --resume to redo {name}"
            )
    entry.setdefault("resumed_by", []).append(
        "python benchmarks/learning_vs_trl.py " + " ".join(sys.argv[1:])
    )
    entry.setdefault("runs", [])
    return entry


def _fmt(r: dict) -> str:
    return f"pass@1 {r['pass_at_1']:.2f} ± {r['stderr'] or 0:.2f} ({r['problems']} problems)"


if __name__ == "__main__":
    main()
