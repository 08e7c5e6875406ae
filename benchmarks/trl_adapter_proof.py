"""Proof that every env trains in TRL: reference replies score each env's maximum through TRL's
own reward path in a real ``trl.GRPOTrainer``, with ``grpo_gym.envs.trl``'s dataset and reward.

One command (from the repo root, with the project venv):

    .venv/bin/python benchmarks/trl_adapter_proof.py       # ~2 min on 2 cores, once TRL is set up

It writes ``benchmarks/results/trl-adapter-proof.json`` (``--out`` to change), prints one line
per env, and exits non-zero if any env fails.

What it does
    * TRL lives in its own venv (``--trl-venv``, default ``/tmp/bench-trl-venv``), made by
      ``grpo_step_bench.ensure_trl_venv`` (torch pinned first, the pinned TRL, the project's
      transformers/accelerate versions), plus the project's ``ifeval`` and ``reasoning-gym``
      extras (``EXTRAS``) so that no env family is left out. The worker runs there with this
      checkout's ``src/``
      first on ``sys.path``, so it tests this checkout's code whichever checkout the venv's
      editable install points to.
    * For every registered env (built-in, benchmark, and reasoning-gym ones when that package
      is installed there): ``to_trl_dataset(env_id, ROWS, split=<its first split>)``; all
      concatenated into one ``datasets.Dataset``.
    * A real ``GRPOTrainer`` (tiny random Llama from ``grpo_gym.testing.build_tiny_model``,
      offline, CPU) with ``reward_funcs=[EnvReward()]``. Its ``_calculate_rewards`` (the method
      ``_generate_and_score_completions`` calls on each batch) gets every row twice: the env's
      reference reply and a wrong reply, as conversational completions. Pass: the reference
      scores the env's ``max_reward`` and the same as ``env.step`` after a plain ``env.reset``
      with the row's seed; the wrong reply scores less. IFEval tasks that no reply can follow
      (``metadata["followable"] is False``) are counted but not required to reach the maximum.
    * Then one real training step (``trainer.train()``, ``max_steps=1``, generation by the tiny
      model) on rows with short prompts, to show the reward runs inside training.
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

REPO = Path(__file__).resolve().parents[1]
WRONG = "I do not know."
#: The project's extras that some envs need (IFEval's checkers, reasoning-gym's generators):
#: installed into the TRL venv, so that no family is left out.
EXTRAS = "ifeval,reasoning-gym"
TRAIN_PROMPT_CHARS = 300  # the training step uses rows with prompts this short (tiny model, CPU)


def _trainer(model_dir: Path, dataset, out_dir: str, **overrides):
    from trl import GRPOConfig, GRPOTrainer

    from grpo_gym.envs.trl import EnvReward

    settings = dict(
        output_dir=out_dir,
        max_steps=1,
        per_device_train_batch_size=8,
        num_generations=2,
        max_completion_length=16,
        use_cpu=True,
        bf16=False,
        fp16=False,
        use_vllm=False,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
        logging_steps=1,
        seed=0,
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
    )
    args = GRPOConfig(**{**settings, **overrides})
    return GRPOTrainer(
        model=str(model_dir), reward_funcs=[EnvReward()], args=args, train_dataset=dataset
    )


def _env_rows(records, rows: int):
    """(record, split, dataset) per env, and the envs skipped (with why)."""
    import gymnasium as gym

    from grpo_gym.envs.trl import to_trl_dataset

    parts, skipped = [], {}
    for r in records:
        try:
            split = str(getattr(gym.make(r.id).unwrapped, "splits", ("train", "test"))[0])
            parts.append((r, split, to_trl_dataset(r.id, rows, split=split, seed=0)))
        except ImportError as exc:  # an optional package missing in this venv
            skipped[r.id] = f"{type(exc).__name__}: {exc}"
    return parts, skipped


def _check_env(record, split: str, scores: list[float], wrong: list[float], ds, reward) -> dict:
    import gymnasium as gym

    from grpo_gym.envs.checks import no_known_reference
    from grpo_gym.envs.trl import TaskSpec

    env = gym.make(record.id)
    top = float(env.unwrapped.max_reward)
    step, unfollowable = [], 0
    for row in ds:
        spec = TaskSpec.from_json(row["task"])
        _, info = env.reset(seed=spec.seed, options={"split": spec.split})
        step.append(float(env.step(reward.reference(row["task"]))[1]))
        unfollowable += no_known_reference(info["task"])
    followable = [s for s, row in zip(scores, ds, strict=True) if _followable(row, reward)]
    ok = (
        all(abs(s - top) < 1e-6 for s in followable)
        and all(abs(a - b) < 1e-6 for a, b in zip(scores, step, strict=True))
        and all(w < top for w in wrong)
    )
    return {
        "family": record.family,
        "source": record.source,
        "split": split,
        "max_reward": top,
        "reference_rewards_trl": scores,
        "reference_rewards_env_step": step,
        "wrong_reply_rewards_trl": wrong,
        "unfollowable_rows": unfollowable,
        "ok": ok,
    }


def _followable(row, reward) -> bool:
    from grpo_gym.envs.checks import no_known_reference

    return not no_known_reference(reward.task(row["task"])[1])


def worker(rows: int, out: Path) -> None:
    sys.path.insert(0, str(REPO / "src"))  # this checkout's grpo_gym, whatever the venv has
    sys.path.insert(1, str(Path(__file__).resolve().parent))  # machine.py
    import datasets
    import torch
    import trl
    from machine import describe_machine

    import grpo_gym
    import grpo_gym.envs as ge
    from grpo_gym.envs.trl import EnvReward
    from grpo_gym.testing import build_tiny_model

    assert Path(grpo_gym.__file__).resolve().is_relative_to(REPO), grpo_gym.__file__
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    parts, skipped = _env_rows(ge.list_envs(), rows)
    ds = datasets.concatenate_datasets([p[2] for p in parts])
    tmp = tempfile.mkdtemp(prefix="trl-proof-")
    model_dir = build_tiny_model(Path(tmp) / "tiny")
    trainer = _trainer(model_dir, ds, tmp)
    reward = EnvReward()
    inputs = [dict(row) for row in ds] * 2
    replies = [reward.reference(row["task"]) for row in ds] + [WRONG] * len(ds)
    completions = [[{"role": "assistant", "content": r}] for r in replies]
    prompts = [x["prompt"] for x in inputs]
    ids = [[0]] * len(inputs)
    per_func = trainer._calculate_rewards(inputs, prompts, completions, ids)  # TRL's own path
    got = per_func[:, 0].tolist()
    envs, start = {}, 0
    for record, split, part in parts:
        n = len(part)
        ref = got[start : start + n]
        wrong = got[len(ds) + start : len(ds) + start + n]
        envs[record.id] = _check_env(record, split, ref, wrong, part, reward)
        start += n
    check_s = time.perf_counter() - t0

    short = ds.filter(lambda r: len(r["prompt"][-1]["content"]) <= TRAIN_PROMPT_CHARS)
    short = short.shuffle(seed=0).select(range(min(8, len(short))))
    t1 = time.perf_counter()
    train = _trainer(model_dir, short, tmp)
    train.train()
    logged = [h for h in train.state.log_history if "reward" in h]
    result = {
        "what": "reference replies through trl.GRPOTrainer._calculate_rewards with EnvReward",
        "rows_per_env": rows,
        "envs_checked": len(envs),
        "envs_ok": sum(e["ok"] for e in envs.values()),
        "families": sorted({e["family"] for e in envs.values()}),
        "envs_skipped": skipped,
        "envs": envs,
        "train_step": {
            "rows": len(short),
            "envs": sorted({json.loads(t)["env_id"] for t in short["task"]}),
            "steps": train.state.global_step,
            "logged": logged,
            "seconds": round(time.perf_counter() - t1, 1),
        },
        "check_seconds": round(check_s, 1),
        "trl": trl.__version__,
        "machine": describe_machine(("torch", "transformers", "trl", "datasets", "accelerate")),
    }
    out.write_text(json.dumps(result, indent=1) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trl-venv", default="/tmp/bench-trl-venv")
    ap.add_argument("--rows", type=int, default=3, help="tasks per env")
    ap.add_argument("--out", default=str(REPO / "benchmarks/results/trl-adapter-proof.json"))
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.worker:
        worker(args.rows, out)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from grpo_step_bench import ensure_trl_venv

    py = ensure_trl_venv(Path(args.trl_venv))
    probe = "import langdetect, if_verifiable, reasoning_gym"
    if subprocess.run([str(py), "-c", probe], capture_output=True).returncode != 0:
        print(f"installing the [{EXTRAS}] extras into {args.trl_venv} ...", flush=True)
        pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "-e", f"{REPO}[{EXTRAS}]", "torch==2.13.0"], check=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    env["PYTHONPATH"] = str(REPO / "src")  # this checkout, in the worker and its scoring pool
    env.update(TRANSFORMERS_VERBOSITY="error", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    cmd = [str(py), str(Path(__file__).resolve()), "--worker", "--rows", str(args.rows)]
    subprocess.run([*cmd, "--out", str(out)], cwd=REPO, env=env, check=True)
    res = json.loads(out.read_text())
    for env_id, e in res["envs"].items():
        mark = "ok  " if e["ok"] else "FAIL"
        print(
            f"{mark} {env_id:36} {e['family']:24} ref {e['reference_rewards_trl']} max {e['max_reward']}"
        )
    for env_id, why in res["envs_skipped"].items():
        print(f"skip {env_id}: {why}")
    ts = res["train_step"]
    print(f"train step: {ts['steps']} step on {ts['rows']} rows, logged {ts['logged']}")
    print(f"{res['envs_ok']}/{res['envs_checked']} envs ok (trl {res['trl']}) -> {out}")
    if res["envs_ok"] != res["envs_checked"] or ts["steps"] != 1:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
