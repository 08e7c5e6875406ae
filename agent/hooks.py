"""What hangs off the GRPO loop: each a small hook called after every step, in list order.

``trainer.train`` runs ``grpo_step`` and then every hook's ``on_step(run, step, result, metrics)``;
a hook may add to the metrics row before the logging hooks write it. ``on_end`` runs once when
the loop stops (also after an error).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .checkpoint import checkpoint_step
from .distributed import full_weights
from .env_pool import EnvPool
from .evaluate import evaluate
from .metrics import flatten
from .plots import plot_training_curve, plots_available
from .report import (
    EvalReport,
    ModelInfo,
    describe_model,
    format_summary,
    save_json,
    save_markdown,
)
from .trackers import make_tracker

if TYPE_CHECKING:
    from .step import StepResult
    from .trainer import Run


class Hook:
    """Base hook: does nothing."""

    def on_step(self, run: Run, step: int, res: StepResult, m: dict[str, Any]) -> None:
        """After step ``step`` (1-based) was taken; ``m`` is its metrics row."""

    def on_end(self, run: Run) -> None:
        """Once, when the loop stops."""


def evaluate_policy(run: Run, envs: EnvPool, step: int = 0) -> EvalReport:
    """Held-out greedy (``eval_temperature``) pass rates of the current policy on every env; the
    report names what was evaluated (``policy_info``)."""
    cfg = run.cfg
    engine = run.make_engine(dataclasses.replace(cfg.sampling, temperature=cfg.eval_temperature))
    with full_weights(run.learner.policy, run.world):  # FSDP: whole weights while sampling
        return evaluate(
            engine,
            list(cfg.env),
            problems=cfg.eval_problems,
            n=1,
            seed=cfg.seed + 12345,
            envs=envs,
            progress=cfg.progress and run.world.is_main,
            world=run.world,
            model=policy_info(run, step),
        )


def policy_info(run: Run, step: int) -> ModelInfo:
    """What an evaluation during a run scores: the starting model (step 0, with its hash), or the
    policy after ``step`` steps of this run, with the hash of the checkpoint saved at that step
    when there is one (the final evaluation's)."""
    if step == 0:
        return describe_model(run.cfg.model)
    name = f"{run.cfg.model} after {step} steps of the run in {run.out}"
    ckpt = run.last_checkpoint
    if ckpt is not None and checkpoint_step(ckpt) == step:
        return dataclasses.replace(describe_model(ckpt), name=name, checkpoint_step=step)
    return ModelInfo(name, checkpoint_step=step)


class Curriculum(Hook):
    """Every ``every`` steps, move each env one difficulty level by its recent pass rate."""

    def __init__(self, every: int) -> None:
        self.every = every

    def on_step(self, run: Run, step: int, res: StepResult, m: dict[str, Any]) -> None:
        if step % self.every:
            return
        window = [*run.history, m][-self.every :]
        levels = {}
        for env_id in {e for row in window for e in row.get("pass_by_env", {})}:
            rates = [
                row["pass_by_env"][env_id] for row in window if env_id in row.get("pass_by_env", {})
            ]
            level = run.envs.adjust_difficulty(env_id, sum(rates) / len(rates))
            if level is not None:
                levels[env_id] = level
        m["difficulty"] = levels


class ReferenceSync(Hook):
    """Every ``every`` steps, copy the policy into the frozen reference."""

    def __init__(self, every: int) -> None:
        self.every = every

    def on_step(self, run: Run, step: int, res: StepResult, m: dict[str, Any]) -> None:
        if step % self.every == 0:
            run.learner.sync_reference()


class PeriodicEval(Hook):
    """Every ``every`` steps (not the last: the final evaluation follows), held-out pass@1."""

    def __init__(self, every: int) -> None:
        self.every = every

    def on_step(self, run: Run, step: int, res: StepResult, m: dict[str, Any]) -> None:
        if step % self.every or step >= run.cfg.steps:
            return
        ev = evaluate_policy(run, run.eval_envs, step)
        m["eval"] = {f"pass@1/{r.env_id}": r.pass_at_k[1] for r in ev.results}
        run.echo(f"step {step}: " + format_summary(ev))


class EnvHealth(Hook):
    """Adds how the envs behaved to the metrics row: calls the watchdog abandoned, characters printed."""

    def on_step(self, run: Run, step: int, res: StepResult, m: dict[str, Any]) -> None:
        m["env_stuck"] = res.rollout.stuck
        m["env_output_chars"] = res.rollout.output_chars


class MetricsLog(Hook):
    """One JSON row per step in ``metrics.jsonl``; scalars to the ``report_to`` tracker, if any."""

    def __init__(self, run: Run) -> None:
        self.file = (run.out / "metrics.jsonl").open("a")
        self.tracker = make_tracker(run.cfg.report_to, run.out, run.cfg.to_dict())

    def on_step(self, run: Run, step: int, res: StepResult, m: dict[str, Any]) -> None:
        self.file.write(json.dumps(m) + "\n")
        self.file.flush()
        if self.tracker is not None:
            self.tracker.log(flatten(m), step)

    def on_end(self, run: Run) -> None:
        self.file.close()
        if self.tracker is not None:
            self.tracker.close()


class CurvesPlot(Hook):
    """At the end, the run's reward and pass-rate curves as ``curves.png`` (with matplotlib)."""

    def on_end(self, run: Run) -> None:
        metrics = run.out / "metrics.jsonl"
        if plots_available() and metrics.is_file() and metrics.stat().st_size:
            plot_training_curve(metrics, run.out / "curves.png")


def save_eval(out: Path, report: EvalReport, name: str) -> None:
    """``report`` as ``out/{name}.json`` and ``out/{name}.md`` (e.g. eval_before, eval_after)."""
    save_json(report, out / f"{name}.json")
    save_markdown(report, out / f"{name}.md")


class SampleLog(Hook):
    """Every ``every`` steps, the first group's conversations in ``samples.jsonl``."""

    def __init__(self, run: Run, every: int) -> None:
        self.every = every
        self.file = (run.out / "samples.jsonl").open("a")

    def on_step(self, run: Run, step: int, res: StepResult, m: dict[str, Any]) -> None:
        if (step - 1) % self.every:
            return
        for e in res.rollout.episodes[: run.cfg.group_size]:
            row = {
                "step": step,
                "env": e.env_id,
                "seed": e.seed,
                "reward": e.reward,
                "success": e.success,
                "conversation": e.conversation,
            }
            self.file.write(json.dumps(row) + "\n")
        self.file.flush()

    def on_end(self, run: Run) -> None:
        self.file.close()


class Callback(Hook):
    """The user's ``on_step(step, metrics)`` callable."""

    def __init__(self, fn: Callable[[int, dict[str, Any]], None]) -> None:
        self.fn = fn

    def on_step(self, run: Run, step: int, res: StepResult, m: dict[str, Any]) -> None:
        self.fn(step, m)


class PeriodicCheckpoint(Hook):
    """An atomic checkpoint every ``every`` steps or ``minutes`` minutes, whichever comes first.

    Not after the last step: the final checkpoint follows. 0 turns a bound off.
    """

    def __init__(self, every: int, minutes: float) -> None:
        self.every = every
        self.seconds = minutes * 60.0
        self.last = time.monotonic()

    def on_step(self, run: Run, step: int, res: StepResult, m: dict[str, Any]) -> None:
        due = (self.every and step % self.every == 0) or (
            self.seconds and time.monotonic() - self.last >= self.seconds
        )
        due = run.world.broadcast(bool(due))  # rank 0's clock decides for every rank
        if due and step < run.cfg.steps:
            run.save(step)
            self.last = time.monotonic()


def default_hooks(run: Run, on_step: Callable[[int, dict[str, Any]], None] | None) -> list[Hook]:
    """The hooks ``cfg`` asks for, in the order they run."""
    cfg = run.cfg
    hooks: list[Hook] = []
    if cfg.curriculum_every:
        hooks.append(Curriculum(cfg.curriculum_every))
    if cfg.ref_sync_every and run.learner.reference is not None:
        hooks.append(ReferenceSync(cfg.ref_sync_every))
    if cfg.eval_every:
        hooks.append(PeriodicEval(cfg.eval_every))
    hooks.append(EnvHealth())
    if run.world.is_main:  # every rank sees the whole step's metrics; rank 0 writes them
        hooks.append(MetricsLog(run))
        if cfg.sample_every:
            hooks.append(SampleLog(run, cfg.sample_every))
        if on_step is not None:
            hooks.append(Callback(on_step))
    if cfg.save_every or cfg.save_every_minutes:
        hooks.append(PeriodicCheckpoint(cfg.save_every, cfg.save_every_minutes))
    if run.world.is_main:
        hooks.append(CurvesPlot())
    return hooks
