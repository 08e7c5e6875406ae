"""A run's output folder: what is already there, where a resume starts, and its log files.

``RunDir.open`` decides, before any model loads, whether ``cfg`` starts a new run or resumes the
newest checkpoint that verifies (newer damaged ones are reported, and set aside by ``prepare``);
Messages name settings as Python arguments (``resume=True``); the CLI shows them as flags.
``prepare`` then trims logs written after that checkpoint (a killed run's tail) and records the
settings in ``grpo_config.json``. A folder counts as a run once it has a completed step (a logged
metrics row or a checkpoint): such a folder is never started over, and a ``resume`` that finds
logs but no checkpoint refuses (``RunDirError``) rather than overwrite them; so does one that finds
no checkpoint at all (nothing to resume, as TRL's ``resume_from_checkpoint=True``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .checkpoint import CONFIG_FILE, checkpoint_step, latest_good_checkpoint, list_checkpoints
from .config import GRPOConfig
from .errors import RunDirError
from .lora import is_adapter_checkpoint

LOG_FILES = ("metrics.jsonl", "samples.jsonl")
# Settings whose change on resume makes the continued run a different experiment.
_RUN_SETTINGS = (
    "model",
    "env",
    "env_weights",
    "env_kwargs",
    "prompts_per_step",
    "group_size",
    "sampling",
    "lora",
    "beta",
    "loss_type",
    "lr",
    "mu",
    "seed",
)


@dataclass(frozen=True)
class RunDir:
    path: Path
    checkpoint: Path | None  # the checkpoint to resume from, if any
    echo: Callable[[str], None]
    damaged: tuple[Path, ...] = ()  # newer checkpoints that failed verification

    @property
    def start_step(self) -> int:
        return 0 if self.checkpoint is None else checkpoint_step(self.checkpoint)

    @classmethod
    def open(cls, cfg: GRPOConfig, echo: Callable[[str], None]) -> RunDir:
        out = Path(cfg.output_dir)
        if out.exists() and not out.is_dir():
            raise RunDirError(f"output_dir {out} is a file: choose a folder")
        logged = logged_steps(out / "metrics.jsonl")
        if not cfg.resume:
            if logged or list_checkpoints(out, complete_only=False):
                raise RunDirError(
                    f"{out} already holds a run ({logged} logged steps): pass resume=True to continue it, "
                    "or another output_dir=FOLDER"
                )
            return cls(out, None, echo)
        ckpt, damaged = latest_good_checkpoint(out)
        for path, problem in damaged:
            echo(
                f"skipping damaged checkpoint {path}: {problem}; "
                + (f"resuming from {ckpt.name} instead" if ckpt else "no older checkpoint verifies")
            )
        if ckpt is None and logged:
            what = (
                f"{len(damaged)} damaged checkpoint(s) and no good one"
                if damaged
                else "no checkpoint"
            )
            raise RunDirError(
                f"{out} holds {logged} logged steps (metrics.jsonl) but {what} to resume from, so resuming "
                f"would overwrite them: pass another output_dir=FOLDER, or move {out}'s logs away to start over there"
            )
        if ckpt is None:  # as TRL's resume_from_checkpoint=True: resuming needs a checkpoint
            if damaged:
                raise RunDirError(
                    f"nothing to resume in {out}: its {len(damaged)} checkpoint(s) are damaged and "
                    f"none verifies; move them away, or pass another output_dir=FOLDER"
                )
            raise RunDirError(
                f"nothing to resume in {out}: it holds no checkpoint; "
                f"to start a fresh run there, leave out resume=True"
            )
        if is_adapter_checkpoint(ckpt) != cfg.lora.enabled:
            held, fix = (
                ("a LoRA adapter", "resume with its LoRA settings (lora_r > 0)")
                if not cfg.lora.enabled
                else ("a whole model (a run without LoRA)", "resume with lora_r 0")
            )
            raise RunDirError(
                f"{ckpt} holds {held}: {fix}, e.g. `grpo-gym train --output-dir {out} --resume` "
                f"without LoRA flags uses the run's saved settings"
            )
        return cls(out, ckpt, echo, tuple(p for p, _ in damaged))

    def prepare(self, cfg: GRPOConfig) -> None:
        """Create the folder, set damaged checkpoints aside, warn about changed settings, trim logs, save the config."""
        self.path.mkdir(parents=True, exist_ok=True)
        for path in self.damaged:  # kept for inspection, out of the way of pruning and resuming
            aside = path.with_name("damaged-" + path.name)
            n = 1
            while aside.exists():
                aside, n = path.with_name(f"damaged-{n}-{path.name}"), n + 1
            path.rename(aside)
            self.echo(f"moved {path.name} to {aside.name}")
        if self.checkpoint is not None:
            self._warn_changed_settings(cfg)
        for name in LOG_FILES:
            _truncate_jsonl(self.path / name, self.start_step)
        (self.path / CONFIG_FILE).write_text(json.dumps(cfg.to_dict(), indent=2))

    def _warn_changed_settings(self, cfg: GRPOConfig) -> None:
        assert self.checkpoint is not None
        saved = GRPOConfig.from_dict(
            json.loads((self.checkpoint / CONFIG_FILE).read_text())
        ).to_dict()
        changed = [
            f"{k}: {saved.get(k)!r} -> {v!r}"
            for k, v in cfg.to_dict().items()
            if k in _RUN_SETTINGS and saved.get(k) != v
        ]
        if changed:
            self.echo(
                f"warning: resuming {self.checkpoint} with changed settings ({'; '.join(changed)}); "
                f"`grpo-gym train --config {self.checkpoint / CONFIG_FILE} --resume` continues with the saved ones"
            )


def _rows(path: Path) -> list[tuple[str, dict]]:
    """Each whole JSON line of ``path`` with its parsed value (a kill may leave a partial last line)."""
    if not path.exists():
        return []
    rows = []
    for ln in path.read_text().splitlines():
        try:
            value = json.loads(ln)
        except ValueError:
            continue
        if isinstance(value, dict):
            rows.append((ln, value))
    return rows


def logged_steps(path: Path) -> int:
    """How many completed steps ``metrics.jsonl`` records (0 for a run that failed at its start)."""
    return sum("step" in row for _, row in _rows(path))


def _truncate_jsonl(path: Path, last_step: int) -> None:
    """Keep only lines with ``step <= last_step`` (all lines go when starting from step 0)."""
    if not path.exists():
        return
    keep = [ln for ln, row in _rows(path) if row.get("step", 0) <= last_step]
    path.write_text("".join(ln + "\n" for ln in keep))
