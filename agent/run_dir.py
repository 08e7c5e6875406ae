"""A run's output folder: what is already there, where a resume starts, and its log files.

``RunDir.open`` decides, before any model loads, whether ``cfg`` starts a new run or resumes the
newest complete checkpoint; ``prepare`` then trims logs written after that checkpoint (a killed
run's tail) and records the settings in ``grpo_config.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .checkpoint import CONFIG_FILE, checkpoint_step, latest_checkpoint
from .config import GRPOConfig

LOG_FILES = ("metrics.jsonl", "samples.jsonl")
# Settings whose change on resume makes the continued run a different experiment.
_RUN_SETTINGS = ("model", "env", "env_weights", "env_kwargs", "prompts_per_step", "group_size", "sampling",
                 "beta", "loss_type", "lr", "mu", "seed")


@dataclass(frozen=True)
class RunDir:
    path: Path
    checkpoint: Path | None  # the checkpoint to resume from, if any
    echo: Callable[[str], None]

    @property
    def start_step(self) -> int:
        return 0 if self.checkpoint is None else checkpoint_step(self.checkpoint)

    @classmethod
    def open(cls, cfg: GRPOConfig, echo: Callable[[str], None]) -> RunDir:
        out = Path(cfg.output_dir)
        ckpt = latest_checkpoint(out) if cfg.resume else None
        if cfg.resume and ckpt is None:
            echo(f"no checkpoint in {out}; starting from scratch")
        if not cfg.resume and (out / "metrics.jsonl").exists():
            raise ValueError(f"{out} already holds a run: pass --resume to continue it, or choose another --output-dir")
        return cls(out, ckpt, echo)

    def prepare(self, cfg: GRPOConfig) -> None:
        """Create the folder, warn about changed settings, trim logs past the checkpoint, save the config."""
        self.path.mkdir(parents=True, exist_ok=True)
        if self.checkpoint is not None:
            self._warn_changed_settings(cfg)
        for name in LOG_FILES:
            _truncate_jsonl(self.path / name, self.start_step)
        (self.path / CONFIG_FILE).write_text(json.dumps(cfg.to_dict(), indent=2))

    def _warn_changed_settings(self, cfg: GRPOConfig) -> None:
        assert self.checkpoint is not None
        saved = GRPOConfig.from_dict(json.loads((self.checkpoint / CONFIG_FILE).read_text())).to_dict()
        changed = [f"{k}: {saved.get(k)!r} -> {v!r}" for k, v in cfg.to_dict().items()
                   if k in _RUN_SETTINGS and saved.get(k) != v]
        if changed:
            self.echo(f"warning: resuming {self.checkpoint} with changed settings ({'; '.join(changed)}); "
                      f"`grpo-gym train --config {self.checkpoint / CONFIG_FILE} --resume` continues with the saved ones")


def _truncate_jsonl(path: Path, last_step: int) -> None:
    """Keep only lines with ``step <= last_step`` (all lines go when starting from step 0)."""
    if not path.exists():
        return
    keep = [ln for ln in path.read_text().splitlines() if ln.strip() and json.loads(ln).get("step", 0) <= last_step]
    path.write_text("".join(ln + "\n" for ln in keep))
