"""The two training sides of ``learning_vs_trl.py``, each run as its own process.

    PY benchmarks/learning_sides.py --worker ours|trl --spec JSON --result FILE

``ours`` runs in the project venv (grpo-gym's trainer), ``trl`` in the TRL venv (TRL's
``GRPOTrainer``); both get the settings that ``SETTINGS_MAP`` lists, side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from step_sides import TRL_AS_OURS, worker_args  # benchmarks/, beside this script

# (setting, grpo-gym name = value, TRL name = value, note): what each side is given.
SETTINGS_MAP = [
    ("prompts per step", "prompts_per_step=B", "per_device_train_batch_size * GA / G = B", ""),
    ("replies per prompt", "group_size=G", "num_generations=G", ""),
    (
        "micro-batching",
        "micro_batch_size=8 (B*G/8 micro-batches, one optimizer step)",
        "per_device_train_batch_size=8, gradient_accumulation_steps=B*G/8 "
        "(steps_per_generation = GA: one generation of B*G per optimizer step)",
        "both normalise so the summed micro-batch losses equal the full-batch loss",
    ),
    (
        "loss aggregation",
        "loss_type='grpo'",
        "loss_type='grpo'",
        "TRL's default is 'dapo' (token sum / tokens of the whole generation batch)",
    ),
    ("advantage scaling", "adv_scale='group' (std + 1e-4)", "scale_rewards='group'", ""),
    ("clip range", "eps_low=eps_high=0.2", "epsilon=0.2, epsilon_high=0.2", ""),
    ("optimisation passes", "mu=1", "num_iterations=1", "ratio = 1: clipping is inactive"),
    (
        "KL",
        "beta, k3 per token, added to the per-token loss",
        "beta, use_bias_correction_kl=False",
        "TRL's default multiplies the k3 KL by the ratio (bias correction), which adds "
        "kl * grad(logp) to the gradient even at mu=1",
    ),
    (
        "learning-rate schedule",
        "lr_schedule='constant', warmup_steps=0",
        "lr_scheduler_type='constant', warmup_steps=0",
        "TRL's default is 'linear' decay to 0 over max_steps",
    ),
    (
        "optimizer",
        "torch AdamW(fused=True), betas (0.9, 0.999), eps 1e-8, weight_decay=0",
        "optim='adamw_torch_fused', adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, "
        "weight_decay=0",
        "",
    ),
    ("gradient clipping", "max_grad_norm=1.0", "max_grad_norm=1.0", ""),
    (
        "sampling",
        "temperature T, top_p=1, top_k=0, EOS = <|im_end|>",
        "temperature T, top_p=1, top_k=0, min_p=None, repetition_penalty=1",
        "",
    ),
    (
        "log-prob temperature",
        "logits / T (LogprobModule)",
        "logits / T (add_fused_lm_head(temperature=T))",
        "",
    ),
    (
        "truncated replies",
        "mask_truncated=False, truncated_reward='explicit'",
        "mask_truncated_completions=False, EnvReward(max_completion_length, eos_token_id)",
        "a reply cut at the limit scores only on an explicit final answer, on both sides",
    ),
    ("precision", "fp32 on CPU", "fp32, bf16=False, use_cpu=True", ""),
    (
        "gradient checkpointing",
        "gradient_checkpointing=False",
        "gradient_checkpointing=False",
        "TRL 1.16's default is True: the same numbers, about a third more compute; set equal "
        "since 2026-12-08 (the wall-time ratios measured before had it on)",
    ),
    ("threads", "GRPOConfig.threads", "torch.set_num_threads", "OMP_NUM_THREADS on both"),
]


def _train_rows(spec: dict) -> list[dict]:
    """The B * steps prompts grpo-gym's trainer draws, in its order, as TRL rows."""
    import gymnasium

    import grpo_gym.envs  # noqa: F401  (registers the envs)
    from grpo_gym.agent.rollout import prompt_stream
    from grpo_gym.envs.trl import TaskSpec, chat_prompt

    env = gymnasium.make(spec["env"], **spec["env_kwargs"]).unwrapped
    rows = []
    for step in range(spec["steps"]):
        for req in prompt_stream((spec["env"],), None, spec["seed"], step * 1000, spec["B"]):
            obs, _ = env.reset(seed=req.seed, options={"split": req.split})
            task = TaskSpec(req.env_id, req.seed, req.split, spec["env_kwargs"])
            rows.append({"prompt": chat_prompt(env, obs), "task": task.to_json()})
    return rows


def ours_config(spec: dict, out_dir: str):
    from grpo_gym.agent.config import GRPOConfig

    data = dict(
        model=spec["model_path"],
        env=(spec["env"],),
        env_kwargs=json.dumps(spec["env_kwargs"]),
        steps=spec["steps"],
        prompts_per_step=spec["B"],
        group_size=spec["G"],
        sampling=dict(
            max_new_tokens=spec["max_new_tokens"],
            temperature=spec["temperature"],
            top_p=1.0,
            top_k=0,
        ),
        lr=spec["lr"],
        beta=spec["beta"],
        eps_low=spec["eps"],
        eps_high=spec["eps"],
        mu=spec["mu"],
        loss_type="grpo",
        adv_scale="group",
        lr_schedule="constant",
        warmup_steps=0,
        weight_decay=0.0,
        max_grad_norm=1.0,
        micro_batch_size=spec["micro"],
        device="cpu",
        dtype="float32",
        threads=spec["threads"],
        seed=spec["seed"],
        output_dir=out_dir,
        eval_before_after=False,
        sample_every=0,
        save_every=0,
        save_every_minutes=0,
        progress=False,
    )
    data.update(spec.get("ours_override", {}))
    return GRPOConfig.from_dict(data)


def worker_ours(spec: dict) -> dict:
    from grpo_gym.agent.trainer import train

    cfg = ours_config(spec, tempfile.mkdtemp(prefix="lvt-ours-"))
    steps: list[dict] = []
    t0 = time.perf_counter()
    ends: list[float] = []

    def on_step(step: int, m: dict) -> None:
        ends.append(time.perf_counter())
        keys = ("reward_mean", "kl", "completion_len", "grad_norm", "truncated", "entropy")
        steps.append({k: m.get(k) for k in keys})

    res = train(cfg, on_step=on_step, echo=lambda s: None)
    return {
        "model_dir": str(res.checkpoint),
        "train_s": ends[-1] - t0,
        "first_step_end_s": ends[0] - t0,
        "steps": steps,
    }


def worker_trl(spec: dict) -> dict:
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from grpo_gym.envs.trl import EnvReward

    B, G, micro = spec["B"], spec["G"], spec["micro"]
    if (B * G) % micro:
        raise SystemExit(f"B*G={B * G} must be a multiple of the micro-batch {micro}")
    rows = _train_rows(spec)
    out_dir = tempfile.mkdtemp(prefix="lvt-trl-")
    kwargs = dict(
        **TRL_AS_OURS,
        output_dir=out_dir,
        max_steps=spec["steps"],
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=B * G // micro,
        num_generations=G,
        max_completion_length=spec["max_new_tokens"],
        temperature=spec["temperature"],
        top_p=1.0,
        top_k=0,
        min_p=None,
        repetition_penalty=1.0,
        beta=spec["beta"],
        num_iterations=spec["mu"],
        epsilon=spec["eps"],
        epsilon_high=spec["eps"],
        learning_rate=spec["lr"],
        adam_beta1=0.9,
        adam_beta2=0.999,
        adam_epsilon=1e-8,
        importance_sampling_level="token",
        seed=spec["seed"],
    )
    kwargs.update(spec.get("trl_override", {}))
    args = GRPOConfig(**kwargs)
    steps: list[dict] = []
    ends: list[float] = []
    t0 = time.perf_counter()
    from transformers import AutoTokenizer

    eos = AutoTokenizer.from_pretrained(spec["model_path"]).eos_token_id
    # replies TRL cut at the limit score as ours do (truncated_reward="explicit")
    reward = EnvReward(max_completion_length=spec["max_new_tokens"], eos_token_id=eos)
    trainer = GRPOTrainer(
        model=spec["model_path"],
        reward_funcs=[reward],
        args=args,
        train_dataset=Dataset.from_list(rows),
    )

    class StepEnd(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            ends.append(time.perf_counter())

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "reward" in logs:
                keys = {"reward": "reward_mean", "kl": "kl", "grad_norm": "grad_norm"}
                keys["completions/mean_length"] = "completion_len"
                keys["completions/clipped_ratio"] = "truncated"
                keys["entropy"] = "entropy"
                steps.append({ours: logs.get(k) for k, ours in keys.items()})

    trainer.add_callback(StepEnd())
    trainer.train()
    train_s = time.perf_counter() - t0
    final = Path(out_dir) / "final"
    trainer.save_model(str(final))
    return {
        "model_dir": str(final),
        "train_s": train_s,
        "first_step_end_s": ends[0] - t0,
        "steps": steps,
        "model_dtype": str(next(trainer.model.parameters()).dtype),
        "torch_threads": torch.get_num_threads(),
    }


def worker_main(args: argparse.Namespace) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    spec = json.loads(args.spec)
    import torch
    import transformers

    torch.set_num_threads(spec["threads"])
    torch.manual_seed(spec["seed"])
    res = (worker_ours if args.worker == "ours" else worker_trl)(spec)
    res.update(impl=args.worker, torch=torch.__version__, transformers=transformers.__version__)
    if args.worker == "trl":
        import trl

        res["trl"] = trl.__version__
    Path(args.result).write_text(json.dumps(res))


if __name__ == "__main__":
    worker_main(worker_args(__doc__))
