"""The two sides of ``grpo_step_bench.py``'s runs, each a process of its own.

    PY benchmarks/step_sides.py --worker ours|trl --spec JSON --result FILE

``ours`` runs in the project venv (or ``.venv-vllm`` for the vLLM engine), ``trl`` in the TRL
venv. Both patch the same per-phase timers (``Timers``) into the process; ``worker_main`` writes
the timed steps and phase seconds to ``--result``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# trl.GRPOConfig arguments that make TRL's trainer run as grpo-gym's does here: constant LR, no
# decay, loss 'grpo' with group std scaling, plain k3 KL, fp32 on CPU, prompts in dataset order,
# no checkpoints or console output (benchmarks/learning_sides.py uses them too).
TRL_AS_OURS: dict = dict(
    lr_scheduler_type="constant",
    warmup_steps=0,
    weight_decay=0.0,
    max_grad_norm=1.0,
    optim="adamw_torch_fused",
    loss_type="grpo",
    scale_rewards="group",
    use_bias_correction_kl=False,
    mask_truncated_completions=False,
    gradient_checkpointing=False,  # TRL 1.16's GRPOConfig turns it on by default; ours is off
    use_cpu=True,
    bf16=False,
    fp16=False,
    use_vllm=False,
    shuffle_dataset=False,
    logging_steps=1,
    report_to="none",
    save_strategy="no",
    disable_tqdm=True,
    log_completions=False,
    dataloader_num_workers=0,
    dataloader_pin_memory=False,
)
PHASES = (
    "generate",
    "hf_generate",
    "score",
    "reference",
    "old_logp",
    "policy_fwd",
    "backward",
    "optimizer",
)


class Timers:
    """Cumulative seconds per phase; snapshots at step ends give per-step deltas."""

    def __init__(self) -> None:
        self.total: dict[str, float] = {p: 0.0 for p in PHASES}
        self.snaps: list[tuple[float, dict[str, float]]] = []
        self.cpu: list[float] = []  # process CPU seconds (all threads) at each snapshot

    def add(self, phase: str, dt: float) -> None:
        self.total[phase] = self.total.get(phase, 0.0) + dt

    def wrap(self, fn, phase):
        import functools

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(
                    phase if isinstance(phase, str) else phase(*args, **kwargs),
                    time.perf_counter() - t0,
                )

        return timed

    def snapshot(self) -> None:
        self.snaps.append((time.perf_counter(), dict(self.total)))
        self.cpu.append(time.process_time())

    def per_step(self, warmup: int) -> list[dict[str, float]]:
        """Per timed step: wall seconds and phase seconds (snaps[i] = end of step i+1)."""
        rows = []
        for i in range(warmup + 1, len(self.snaps)):
            (t_prev, prev), (t, cur) = self.snaps[i - 1], self.snaps[i]
            row = {p: cur.get(p, 0.0) - prev.get(p, 0.0) for p in cur}
            row["step"] = t - t_prev
            row["cpu_s"] = self.cpu[i] - self.cpu[i - 1]
            row["other"] = (
                row["step"]
                - sum(
                    v
                    for k, v in row.items()
                    if k not in ("step", "cpu_s", "hf_generate", "generate")
                )
                - row["generate"]
            )
            rows.append(row)
        return rows


def install_common_timers(tm: Timers) -> None:
    import torch
    from transformers.generation.utils import GenerationMixin

    torch.Tensor.backward = tm.wrap(torch.Tensor.backward, "backward")
    torch.nn.utils.clip_grad_norm_ = tm.wrap(torch.nn.utils.clip_grad_norm_, "optimizer")
    torch.optim.AdamW.step = tm.wrap(torch.optim.AdamW.step, "optimizer")
    GenerationMixin.generate = tm.wrap(GenerationMixin.generate, "hf_generate")


def prompts_for(spec: dict) -> list[list[dict]]:
    """The B * (warmup + steps) conversations grpo-gym's trainer draws, in order, with env ids/seeds."""
    import gymnasium  # noqa: F401

    from grpo_gym.agent.rollout import EnvPool, prompt_stream

    pool = EnvPool()
    rows = []
    for step in range(spec["warmup"] + spec["steps"]):
        for req in prompt_stream((spec["env"],), None, spec["seed"], step * 1000, spec["B"]):
            env = pool.get(req.env_id, 0)
            obs, _ = env.reset(seed=req.seed, options={"split": req.split})
            system = pool.system_prompt(req.env_id)
            conv = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": obs}
            ]
            rows.append({"prompt": conv, "env_id": req.env_id, "env_seed": req.seed})
    pool.close()
    return rows


def worker_ours(spec: dict, tm: Timers) -> dict:
    import torch

    from grpo_gym.agent import trainer as trainer_mod
    from grpo_gym.agent import update as update_mod
    from grpo_gym.agent.config import GRPOConfig

    orig_logps = update_mod.Learner._logps

    def phase_of(*_args, **_kwargs):
        if torch.is_inference_mode_enabled():
            return "reference"
        return "policy_fwd" if torch.is_grad_enabled() else "old_logp"

    update_mod.Learner._logps = staticmethod(tm.wrap(orig_logps, phase_of))  # type: ignore[method-assign]
    n = spec["warmup"] + spec["steps"]
    out = tempfile.mkdtemp(prefix="bench-ours-")
    cfg = GRPOConfig.from_dict(
        dict(
            model=spec["model_path"],
            env=(spec["env"],),
            steps=n,
            prompts_per_step=spec["B"],
            group_size=spec["G"],
            max_new_tokens=spec["max_new_tokens"],
            temperature=1.0,
            top_p=1.0,
            top_k=0,
            beta=spec["beta"],
            mu=spec["mu"],
            lr=spec["lr"],
            loss_type="grpo",
            adv_scale="group",
            max_grad_norm=1.0,
            micro_batch_size=spec["micro"],
            device="cpu",
            dtype="float32",
            seed=spec["seed"],
            output_dir=out,
            eval_before_after=False,
            sample_every=0,
            progress=False,
            # A/B: the plain definition of the log-probs instead of agent/fast's
            logprobs="plain" if spec.get("plain_logprobs") else "fast",
            engine=spec.get("engine", "hf"),  # "vllm": the colocated vLLM engine
        )
    )
    steps: list[dict] = []
    tm.snaps.clear()
    tm.cpu.clear()

    def on_step(step: int, m: dict) -> None:
        tm.total["generate"] += m["time_generate"]
        tm.total["score"] += m["time_score"]
        tm.snapshot()
        steps.append(
            {
                "reward": m["reward_mean"],
                "tokens": m["completion_len"] * spec["B"] * spec["G"],
                "samples": spec["B"] * spec["G"],
                "kl": m.get("kl"),
                "loss": m.get("loss"),
            }
        )

    if spec.get("profile"):
        _profile_hook(spec)
    t_start = time.perf_counter()
    tm.snapshot()  # start of step 1 (includes model load before it: warm-up only)
    trainer_mod.train(cfg, on_step=on_step, echo=lambda s: None)
    del t_start
    return {"steps": steps}


def _profile_hook(spec: dict) -> None:
    """torch.profiler over the first timed step (generation + update)."""
    import torch

    from grpo_gym.agent import step as step_mod
    from grpo_gym.agent import update as update_mod

    orig_rollout, orig_opt = step_mod.sample_groups, update_mod.Learner.update
    state = {"i": 0, "prof": None}
    target = spec["warmup"]

    def rollout_step(*a, **k):
        if state["i"] == target:
            state["prof"] = torch.profiler.profile(
                activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=False
            )
            state["prof"].__enter__()
        return orig_rollout(*a, **k)

    def optimise(*a, **k):
        res = orig_opt(*a, **k)
        if state["i"] == target and state["prof"] is not None:
            state["prof"].__exit__(None, None, None)
            print(
                state["prof"].key_averages().table(sort_by="self_cpu_time_total", row_limit=30),
                file=sys.stderr,
            )
        state["i"] += 1
        return res

    step_mod.sample_groups, update_mod.Learner.update = rollout_step, optimise


def worker_trl(spec: dict, tm: Timers) -> dict:
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from grpo_gym.agent.rollout import EnvPool

    rows = prompts_for(spec)
    pool = EnvPool()
    steps: list[dict] = []
    cur = {"reward": 0.0, "tokens": 0}

    def env_reward(prompts, completions, env_id, env_seed, **kw):
        out = []
        for i, (c, eid, s) in enumerate(zip(completions, env_id, env_seed, strict=True)):
            env = pool.get(eid, i)
            env.reset(seed=int(s), options={"split": "train"})
            reply = c[0]["content"] if isinstance(c, list) else c
            _, r, _, _, _ = env.step(reply)
            out.append(float(r))
        cur["reward"] = sum(out) / len(out)
        return out

    n = spec["warmup"] + spec["steps"]
    N = spec["B"] * spec["G"]
    out_dir = tempfile.mkdtemp(prefix="bench-trl-")
    args = GRPOConfig(
        **TRL_AS_OURS,
        output_dir=out_dir,
        max_steps=n,
        per_device_train_batch_size=spec["micro"],
        gradient_accumulation_steps=N // spec["micro"],
        num_generations=spec["G"],
        max_completion_length=spec["max_new_tokens"],
        temperature=1.0,
        top_p=1.0,
        top_k=0,
        beta=spec["beta"],
        num_iterations=spec["mu"],
        learning_rate=spec["lr"],
        epsilon=0.2,
        seed=spec["seed"],
    )
    trainer = GRPOTrainer(
        model=spec["model_path"],
        reward_funcs=env_reward,
        args=args,
        train_dataset=Dataset.from_list(rows),
    )
    T = type(trainer)
    trainer._generate = tm.wrap(trainer._generate, "generate")
    trainer._calculate_rewards = tm.wrap(trainer._calculate_rewards, "score")
    orig_logps = trainer._get_per_token_logps_and_entropies

    def phase_of(model, *a, **k):
        if model is trainer.ref_model:
            return "reference"
        return "policy_fwd" if torch.is_grad_enabled() else "old_logp"

    trainer._get_per_token_logps_and_entropies = tm.wrap(orig_logps, phase_of)
    orig_gen_score = trainer._generate_and_score_completions

    def gen_score(*a, **k):
        res = orig_gen_score(*a, **k)
        cur["tokens"] = int(res["completion_mask"].sum())
        return res

    trainer._generate_and_score_completions = gen_score
    del T

    class StepEnd(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            tm.snapshot()
            steps.append({"reward": cur["reward"], "tokens": cur["tokens"], "samples": N})

    trainer.add_callback(StepEnd())
    tm.snaps.clear()
    tm.cpu.clear()
    tm.snapshot()
    trainer.train()
    pool.close()
    kl = trainer._metrics.get("train", {}).get("kl")
    for s, k in zip(steps, kl or [], strict=False):
        s["kl"] = k
    return {"steps": steps}


def worker_main(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(REPO))  # tests.fixture_envs (the Letter env)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    spec = json.loads(args.spec)
    import torch
    import transformers

    import tests.fixture_envs  # noqa: F401

    torch.set_num_threads(spec["threads"])
    tm = Timers()
    install_common_timers(tm)
    torch.manual_seed(spec["seed"])
    res = (worker_ours if args.worker == "ours" else worker_trl)(spec, tm)
    per = tm.per_step(spec["warmup"])
    timed = res["steps"][spec["warmup"] :]
    res.update(
        impl=args.worker,
        per_step=per,
        timed=timed,
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        transformers=transformers.__version__,
    )
    if args.worker == "trl":
        import trl

        res["trl"] = trl.__version__
    Path(args.result).write_text(json.dumps(res))


def worker_args(description: str | None) -> argparse.Namespace:
    """The worker's command line (``--worker``, ``--spec``, ``--result``), shared by the benchmarks."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--worker", choices=("ours", "trl"), required=True)
    ap.add_argument("--spec", required=True, help="the run's settings, JSON")
    ap.add_argument("--result", required=True, help="where the result JSON goes")
    return ap.parse_args()


if __name__ == "__main__":
    worker_main(worker_args(__doc__))
