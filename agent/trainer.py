"""``train(cfg)``: set up a run, then repeat ``step.grpo_step`` and the hooks.

The algorithm is in agent/step.py (one screen, in algorithm order); this file only builds what
the step needs (model, reference, learner, engine, envs), resumes a run, and hands each step's
result to the hooks (agent/hooks.py: logs, checkpoints, evaluation, curriculum, reference sync).
"""

from __future__ import annotations

import random
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from grpo_gym.envs import make as make_env
from grpo_gym.envs.settings import check_env_settings

from .checkpoint import (
    checkpoint_step,
    load_trainer_state,
    new_temp_folder,
    save_checkpoint,
    set_rng_state,
)
from .config import GRPOConfig
from .cpu_share import choose_threads
from .distributed import SINGLE, World, init_world, rank_device
from .doctor import memory_check
from .engines import Engine, make_engine
from .engines.vllm_settings import check_vllm_installed
from .env_pool import EnvPool
from .errors import NothingToTrain, TrainingInterrupted
from .fast.memory import keep_freed_memory, release_freed_memory
from .final_model import save_final_model
from .hooks import default_hooks, evaluate_policy, save_eval
from .interrupt import StopSignals
from .lora import lora_policy
from .metrics import step_metrics
from .model import default_device, load_policy
from .prompts import template_warning
from .report import EvalReport, format_summary
from .run_dir import RunDir
from .sampling import SamplingConfig
from .sharded_checkpoint import full_state_dict, save_optimizer_shards
from .step import grpo_step
from .update import Learner


@dataclass
class TrainResult:
    """What a run produced."""

    output_dir: Path
    steps: int
    checkpoint: Path | None
    history: list[dict[str, Any]] = field(default_factory=list)  # per-step metrics
    eval_before: EvalReport | None = None
    eval_after: EvalReport | None = None
    final_model: Path | None = None  # <output_dir>/final: weights + tokenizer, no optimizer


@dataclass
class Run:
    """Everything one training run holds, passed to the hooks."""

    cfg: GRPOConfig
    out: Path
    model: torch.nn.Module
    tokenizer: Any
    learner: Learner
    engine: Engine
    envs: EnvPool
    eval_envs: EnvPool  # fixed settings, so before/after evaluations compare
    echo: Callable[[str], None]
    history: list[dict[str, Any]] = field(default_factory=list)
    last_checkpoint: Path | None = None
    world: World = SINGLE  # this process's rank (agent/distributed.py)

    def make_engine(self, sampling: SamplingConfig) -> Engine:
        """An engine with other sampling settings; a vLLM engine is shared, not started again."""
        with_sampling = getattr(self.engine, "with_sampling", None)
        if with_sampling is not None and sampling.engine == self.engine.config.engine:
            return with_sampling(sampling)
        return make_engine(self.model, self.tokenizer, sampling, self.cfg.vllm, seed=self.cfg.seed)

    def save_final(self) -> Path | None:
        """The final weights alone (``final/``), written by rank 0; None on other ranks."""
        weights = full_state_dict(self.model) if self.world.sharded else None
        path = (
            save_final_model(self.out, self.model, self.tokenizer, weights)
            if self.world.is_main
            else None
        )
        self.world.barrier()
        return path

    def save(self, step: int) -> Path:
        """An atomic checkpoint of everything needed to resume at ``step``."""
        state = {**self.learner.state_dict(), "curriculum": dict(self.envs.levels)}
        ref = (
            self.learner.reference if self.cfg.ref_sync_every else None
        )  # else the reference is cfg.model
        started = weights = ref_weights = None
        if self.world.sharded:  # FSDP: gather full weights, every rank writes optimizer shards
            weights = full_state_dict(self.model)
            ref_weights = full_state_dict(ref) if ref is not None else None
            started = self.world.broadcast(
                new_temp_folder(self.out) if self.world.is_main else None
            )
            assert started is not None
            save_optimizer_shards(self.model, self.learner.optimizer, started)
            self.world.barrier()
        saved = None
        if self.world.is_main:  # DDP: every rank holds the same weights and optimizer state
            saved = save_checkpoint(
                self.out,
                step,
                self.model,
                self.tokenizer,
                state,
                self.cfg.to_dict(),
                reference=ref,
                keep=self.cfg.keep_checkpoints,
                started=started,
                weights=weights,
                reference_weights=ref_weights,
            )
        path = self.world.broadcast(saved)  # also: no rank runs ahead of the save
        assert path is not None
        self.last_checkpoint = path
        return path


def train(
    cfg: GRPOConfig,
    *,
    on_step: Callable[[int, dict[str, Any]], None] | None = None,
    echo: Callable[[str], None] = print,
) -> TrainResult:
    """Run GRPO with ``cfg``; returns the final checkpoint, per-step metrics and evaluations.

    Under torchrun every rank calls this; rank 0 prints, logs and writes checkpoints.
    """
    device = default_device() if cfg.device == "auto" else cfg.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available: use device='cpu'")
    world = init_world(cfg.distributed, device)  # kept for later calls; close_world ends it
    try:
        return _train(cfg, rank_device(world, device), world, on_step, echo)
    finally:  # the run's tensors are gone: the memory kept for reuse goes back to the OS
        if device.startswith("cpu") and cfg.keep_cpu_memory:
            release_freed_memory()


def _train(
    cfg: GRPOConfig,
    device: str,
    world: World,
    on_step: Callable[[int, dict[str, Any]], None] | None,
    echo: Callable[[str], None],
) -> TrainResult:
    if not world.is_main:
        echo = _silent
    if cfg.prompts_per_step % world.size:
        raise ValueError(
            f"prompts_per_step={cfg.prompts_per_step} does not split over {world.size} processes: "
            f"use a multiple of {world.size}"
        )
    env_kwargs = cfg.parsed_env_kwargs()
    for env_id in (
        cfg.env
    ):  # fail fast, before loading a model: unknown ids (with close matches), bad settings
        check_env_settings(env_id, env_kwargs.get(env_id, {}))  # types, before the constructor
        make_env(env_id, **env_kwargs.get(env_id, {})).close()
    if cfg.sampling.engine == "vllm":
        check_vllm_installed()  # the install hint, before any model loads
    run_dir = RunDir.open(cfg, echo)
    if run_dir.start_step >= cfg.steps:
        raise NothingToTrain(
            f"{run_dir.checkpoint} is already at step {run_dir.start_step} and steps={cfg.steps}: "
            f"nothing to train; set steps above {run_dir.start_step} to continue the run"
        )
    run = _build(cfg, run_dir, device, echo, world)
    ckpt, start = run_dir.checkpoint, run_dir.start_step
    result = TrainResult(run.out, start, ckpt)
    if cfg.eval_before_after and start == 0:
        result.eval_before = evaluate_policy(run, run.eval_envs)
        echo("before training: " + format_summary(result.eval_before))
        if world.is_main:
            save_eval(run.out, result.eval_before, "eval_before")

    hooks = default_hooks(run, on_step)
    bar = tqdm(
        range(start, cfg.steps),
        initial=start,
        total=cfg.steps,
        desc="grpo",
        disable=not cfg.progress or not world.is_main,
        dynamic_ncols=True,
    )
    with StopSignals(echo) as stop:
        try:
            for step in bar:
                if world.any(stop.requested is not None):  # ranks stop at the same step
                    break
                res = grpo_step(
                    cfg, run.engine, run.envs, run.learner, step, run.tokenizer.pad_token_id, world
                )
                m = step_metrics(step + 1, res)
                for hook in hooks:
                    hook.on_step(run, step + 1, res, m)
                run.history.append(m)
                result.steps = step + 1
                bar.set_postfix(
                    reward=f"{m['reward_mean']:.2f}",
                    pass_=f"{m['pass_rate']:.2f}",
                    kl=f"{m['kl']:.3f}",
                )
        finally:
            bar.close()
            for hook in hooks:
                hook.on_end(run)
            run.learner.close()
        if run.last_checkpoint is None or checkpoint_step(run.last_checkpoint) != result.steps:
            run.save(result.steps)
        stopped = world.any(stop.requested is not None)  # one answer for every rank
    result.checkpoint, result.history = run.last_checkpoint, run.history
    if result.steps >= cfg.steps:  # weights only, for from_pretrained / upload
        result.final_model = run.save_final()
    if stopped and result.steps < cfg.steps:
        _close(run)
        raise TrainingInterrupted(
            f"stopped by {signal.Signals(stop.requested or signal.SIGTERM).name} after step {result.steps}; checkpoint {result.checkpoint}; "
            f"continue with: grpo-gym train --output-dir {run.out} --resume",
            signum=stop.requested or signal.SIGTERM,
            step=result.steps,
            checkpoint=result.checkpoint,
        )
    if cfg.eval_before_after and not stopped:  # a signal in the last step skips only this
        result.eval_after = evaluate_policy(run, run.eval_envs, result.steps)
        echo("after training:  " + format_summary(result.eval_after))
        if world.is_main:
            save_eval(run.out, result.eval_after, "eval_after")
    _close(run)
    return result


def _close(run: Run) -> None:
    run.engine.close()
    run.envs.close()
    run.eval_envs.close()


def _silent(_: str) -> None:
    """Ranks other than 0 print nothing."""


def _build(
    cfg: GRPOConfig, run_dir: RunDir, device: str, echo: Callable[[str], None], world: World
) -> Run:
    """Model, reference, learner, engine and envs for a new or resumed run."""
    torch.manual_seed(cfg.seed)
    random.seed(
        cfg.seed
    )  # not used by the step, but saved in checkpoints: seeded so they reproduce
    np.random.seed(cfg.seed)
    choose_threads(cfg.threads, echo)  # the cores other processes leave free (agent/cpu_share.py)
    if device.startswith("cpu") and cfg.keep_cpu_memory:
        keep_freed_memory()
    ckpt = run_dir.checkpoint
    lora = cfg.lora.enabled  # a LoRA checkpoint holds the adapter: the weights come from cfg.model
    model, tokenizer = load_policy(
        str(ckpt) if ckpt and not lora else cfg.model, device=device, dtype=torch.float32
    )  # fp32 master weights
    for module in model.modules():  # no dropout: ratios and KL compare like with like
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    if cfg.gradient_checkpointing:
        enable = (
            getattr(model, "activation_checkpointing_enable", None)
            or model.gradient_checkpointing_enable
        )  # transformers 5 name
        enable()
        model.config.use_cache = False
    if lora:  # after the dropout reset: lora_dropout stays as set
        model = lora_policy(model, cfg.lora, ckpt)
    if world.is_main and not (mem := memory_check(cfg, model, device)).ok:
        echo(  # an estimate: warn (a kernel OOM kill says nothing), do not refuse
            f"warning: a step may not fit in memory: {mem.detail}. Lower micro_batch_size or "
            "max_new_tokens, or set gradient_checkpointing=True (`grpo-gym doctor` breaks it down)"
        )
    if ckpt is None:
        learner = Learner.with_reference_copy(cfg, model, device, world)
    else:  # the reference is the run's synced copy if it has one, else the starting model
        ref_path = ckpt / "reference" if (ckpt / "reference").exists() else cfg.model
        reference = (
            load_policy(ref_path, device=device, dtype=torch.float32)[0]
            if cfg.beta > 0 and not lora  # LoRA: the policy with its adapters off
            else None
        )
        learner = Learner(cfg, model, reference, device, world)
    envs, eval_envs = (
        EnvPool(
            cfg.parsed_env_kwargs(),
            cfg.system_prompt,
            strict=cfg.strict_rewards,
            timeout_s=cfg.score_timeout_s,
            on_stuck=cfg.on_stuck,
            truncated_policy=policy,  # evaluation keeps each env's own (the benchmark's rule)
        )
        for policy in (cfg.truncated_reward, None)
    )
    if warning := template_warning(tokenizer, cfg.sampling.prompt_format):
        echo(warning)
    engine = make_engine(model, tokenizer, cfg.sampling, cfg.vllm, seed=cfg.seed)
    run = Run(
        cfg,
        run_dir.path,
        model,
        tokenizer,
        learner,
        engine,
        envs,
        eval_envs,
        echo,
        last_checkpoint=ckpt,
        world=world,
    )
    if ckpt is not None:
        state = load_trainer_state(ckpt)
        learner.load_state_dict(state, ckpt)
        set_rng_state(state["rng"])
        envs.levels.update(state.get("curriculum", {}))
        echo(f"resumed from {ckpt} at step {run_dir.start_step}")
    world.barrier()  # every rank has read the folder before rank 0 trims its logs
    if world.is_main:
        run_dir.prepare(cfg)
    world.barrier()
    return run
