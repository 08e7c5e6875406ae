"""Atomic checkpoints: model + tokenizer (save_pretrained), optimizer, scheduler, RNG, step, config.

A checkpoint is written into a temporary folder and renamed into place, so a kill never
leaves a half-written ``checkpoint-NNNNNN``; a folder with that name is always complete.
The folder is also a valid ``load_policy`` path (model files at its top level).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

STATE_FILE = "trainer_state.pt"
CONFIG_FILE = "grpo_config.json"
_NAME = re.compile(r"^checkpoint-(\d+)$")


def rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(output_dir: Path, step: int, model, tokenizer, trainer_state: dict[str, Any], config: dict[str, Any],
                    reference=None, keep: int = 2) -> Path:
    """Write ``output_dir/checkpoint-{step:06d}`` atomically; prune older ones beyond ``keep``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    final = output_dir / f"checkpoint-{step:06d}"
    tmp = Path(tempfile.mkdtemp(dir=output_dir, prefix=".tmp-checkpoint-"))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if reference is not None:
            reference.save_pretrained(tmp / "reference")
        torch.save({**trainer_state, "step": step, "rng": rng_state()}, tmp / STATE_FILE)
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in list_checkpoints(output_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(output_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    if not output_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in output_dir.iterdir() if (m := _NAME.match(p.name)) and (p / STATE_FILE).exists()]
    return [p for _, p in sorted(found)]


def checkpoint_step(path: Path) -> int:
    """The step a checkpoint folder holds, from its name ``checkpoint-NNNNNN``."""
    m = _NAME.match(path.name)
    if m is None:
        raise ValueError(f"{path} is not a checkpoint folder (checkpoint-NNNNNN)")
    return int(m.group(1))


def latest_checkpoint(output_dir: Path) -> Path | None:
    ckpts = list_checkpoints(output_dir)
    return ckpts[-1] if ckpts else None


def load_trainer_state(path: Path) -> dict[str, Any]:
    return torch.load(path / STATE_FILE, weights_only=False)
