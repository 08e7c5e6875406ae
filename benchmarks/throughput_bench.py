"""Generation and training throughput of grpo-gym's own paths (made for a CUDA device).

    python benchmarks/throughput_bench.py                       # smollm2-135m on CUDA: the issue's numbers
    python benchmarks/throughput_bench.py --device cpu --model PATH --batches 4 --new-tokens 8 --train-rows 4

Writes ``benchmarks/results/throughput-<device>.json`` (``--out`` to change) with the machine.

* **Generation**: tokens/s of ``HFSampler.generate`` at each ``--batches`` size (distinct prompts,
  one reply each, exactly ``--new-tokens`` tokens per reply: EOS is suppressed so every run does
  the same work), with the dynamic KV cache ("eager") and with ``static_cache=True`` (on CUDA
  transformers compiles the decoding step; the first, compiling call is a warm-up and not timed).
* **Training**: one GRPO update through the trainer's own ``Learner.update`` (reference forward, policy
  log-prob forward with grad, backward, clipping, fused AdamW step) on ``--train-rows`` sequences of prompt + ``--new-tokens`` completion tokens, bf16 autocast on
  CUDA, fp32 on CPU. Reports trained tokens/s, and model FLOPs utilisation
  ``6 * parameters * tokens / time / peak`` with ``--peak-tflops`` (989 = H100 SXM dense bf16;
  nothing is reported without a peak). Peak GPU memory covers policy + reference + optimizer.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from machine import describe_machine  # benchmarks/machine.py, beside this script

from grpo_gym.agent.batch import MicroBatch
from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.engines import HFSampler
from grpo_gym.agent.model import load_policy
from grpo_gym.agent.rollout import EnvPool, prompt_stream
from grpo_gym.agent.sampling import SamplingConfig
from grpo_gym.agent.update import Learner

RESULTS = Path(__file__).resolve().parent / "results"
ENV = "grpo_gym/ArithmeticEasy-v0"


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _conversations(n: int) -> list[list[dict[str, str]]]:
    envs = EnvPool()
    convs = []
    for req in prompt_stream((ENV,), None, 0, 0, n):
        obs, _ = envs.get(req.env_id, 0).reset(seed=req.seed, options={"split": "train"})
        convs.append([{"role": "user", "content": obs}])
    return convs


def bench_generation(
    model, tok, device: str, batch: int, new_tokens: int, static: bool, repeats: int
) -> dict:
    sampler = HFSampler(
        model, tok, SamplingConfig(max_new_tokens=new_tokens, temperature=1.0, static_cache=static)
    )
    sampler.eos_ids = []  # every reply runs to new_tokens: the same work in every mode
    model.generation_config.eos_token_id = None
    convs = _conversations(batch)
    sampler.generate(convs)  # warm-up (compiles on CUDA with the static cache)
    times = []
    for _ in range(repeats):
        _sync(device)
        t = time.perf_counter()
        gen = sampler.generate(convs)
        _sync(device)
        times.append(time.perf_counter() - t)
    tokens = int(gen.completion_mask.sum())
    best = min(times)
    return {
        "batch": batch,
        "static_cache": static,
        "new_tokens": new_tokens,
        "tokens": tokens,
        "seconds": [round(t, 4) for t in times],
        "tokens_per_s": tokens / best,
    }


def bench_training(
    model, tok, device: str, rows: int, new_tokens: int, peak_tflops: float | None, repeats: int
) -> dict:
    """One ``Learner.update`` call (reference forward, policy forward/backward, clip, AdamW) per step."""
    cfg = GRPOConfig(
        env=(ENV,),
        lr=1e-6,
        beta=0.04,
        micro_batch_size=rows,
        device=device,
        steps=repeats + 1,
        sampling=SamplingConfig(max_new_tokens=new_tokens),
    )
    learner = Learner.with_reference_copy(cfg, model, device)
    convs = _conversations(-(-rows // 8))  # GRPO groups of 8 replies per prompt, enough for rows
    gen = HFSampler(
        model, tok, SamplingConfig(max_new_tokens=new_tokens, temperature=1.0)
    ).generate(convs, n=8)
    ids, mask = gen.input_ids[:rows], gen.attention_mask[:rows]
    T = gen.completion_ids.shape[1]
    batch = MicroBatch(ids, mask, mask[:, -T:].float(), torch.randn(len(ids)), T)
    params = sum(p.numel() for p in model.parameters())

    def step() -> None:
        learner.update([batch])

    step()  # warm-up
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeats):
        _sync(device)
        t = time.perf_counter()
        step()
        _sync(device)
        times.append(time.perf_counter() - t)
    tokens = int(mask.sum())  # prompt + completion tokens of the batch
    best = min(times)
    out = {
        "rows": len(ids),
        "tokens": tokens,
        "parameters": params,
        "seconds": [round(t, 4) for t in times],
        "tokens_per_s": tokens / best,
        "includes": "Learner.update: reference forward + policy forward/backward + clip + AdamW step",
    }
    if peak_tflops:
        out["mfu"] = 6 * params * tokens / best / (peak_tflops * 1e12)
        out["peak_tflops"] = peak_tflops
    if device.startswith("cuda"):
        out["peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batches", default="64,256", help="generation batch sizes, comma-separated")
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--train-rows", type=int, default=64, help="sequences per training step")
    ap.add_argument(
        "--peak-tflops",
        type=float,
        default=None,
        help="device peak for MFU (H100 SXM bf16: 989); default 989 on CUDA",
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(
            "no CUDA device here: pass --device cpu (with a small --model) to try the script"
        )
    peak = (
        args.peak_tflops
        if args.peak_tflops is not None
        else (989.0 if args.device.startswith("cuda") else None)
    )
    dtype = torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    t0 = time.time()
    model, tok = load_policy(args.model, device=args.device, dtype=dtype)
    generation = []
    for batch in (int(b) for b in args.batches.split(",")):
        for static in (False, True):
            r = bench_generation(
                model, tok, args.device, batch, args.new_tokens, static, args.repeats
            )
            print(
                f"generate batch {batch} {'static' if static else 'eager '}: {r['tokens_per_s']:,.0f} tokens/s",
                flush=True,
            )
            generation.append(r)
    model, tok = load_policy(
        args.model, device=args.device, dtype=torch.float32
    )  # fp32 master weights, as train()
    training = bench_training(
        model, tok, args.device, args.train_rows, args.new_tokens, peak, args.repeats
    )
    print(
        f"train {training['rows']} rows: {training['tokens_per_s']:,.0f} tokens/s"
        + (f", MFU {training['mfu']:.1%}" if "mfu" in training else ""),
        flush=True,
    )
    result = {
        "benchmark": "grpo-gym generation and training throughput",
        "model": args.model,
        "device": args.device,
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": describe_machine(("torch", "transformers")),
        "generation": generation,
        "training": training,
        "total_wall_s": round(time.time() - t0, 1),
    }
    out = Path(args.out) if args.out else RESULTS / f"throughput-{args.device.split(':')[0]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
