"""Atomic checkpoints: model + tokenizer (save_pretrained), optimizer, scheduler, RNG, step, config.

A checkpoint is written into a temporary folder and renamed into place, so a kill never
leaves a half-written ``checkpoint-NNNNNN``. Inside it, ``manifest.json`` (the size and sha256
of every other file) is written last; ``verify_checkpoint`` checks it, so a checkpoint truncated,
edited or partly deleted after the fact is detected and ``latest_checkpoint`` falls back to the
newest good one. A full disk or an unwritable folder raises ``CheckpointWriteError`` naming the
folder and the space needed, and leaves the previous checkpoints as they were.
The folder is also a valid ``load_policy`` path (model files at its top level).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import CheckpointWriteError
from .files import apply_umask, temp_folder

STATE_FILE = "trainer_state.pt"
CONFIG_FILE = "grpo_config.json"
MANIFEST_FILE = "manifest.json"
_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS)
_NAME = re.compile(r"^checkpoint-(\d+)$")


def rng_state() -> dict[str, Any]:
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    output_dir: Path,
    step: int,
    model,
    tokenizer,
    trainer_state: dict[str, Any],
    config: dict[str, Any],
    reference=None,
    keep: int = 2,
    *,
    started: Path | None = None,
    weights: dict[str, Any] | None = None,
    reference_weights: dict[str, Any] | None = None,
) -> Path:
    """Write ``output_dir/checkpoint-{step:06d}`` atomically; prune older ones beyond ``keep``.

    ``started``: a temporary folder (``new_temp_folder``) already holding parts other processes
    wrote (sharded optimizer state); ``weights`` / ``reference_weights``: full state dicts to save
    instead of the modules' own (FSDP's sharded parameters gathered on this rank).
    """
    final = output_dir / f"checkpoint-{step:06d}"
    tmp: Path | None = started
    try:
        if tmp is None:
            tmp = new_temp_folder(output_dir)
        model.save_pretrained(tmp, state_dict=weights)
        tokenizer.save_pretrained(tmp)
        if reference is not None:
            reference.save_pretrained(tmp / "reference", state_dict=reference_weights)
        torch.save({**trainer_state, "step": step, "rng": rng_state()}, tmp / STATE_FILE)
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2))
        apply_umask(tmp)
        write_manifest(tmp)  # last: its presence means every file above was written whole
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except OSError as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno not in _WRITE_ERRNOS:
            raise
        raise _write_error(exc, output_dir, final, model, reference) from exc
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in list_checkpoints(output_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def new_temp_folder(output_dir: Path) -> Path:
    """A fresh ``.tmp-checkpoint-*`` folder in ``output_dir`` (renamed into place when complete)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    return temp_folder(output_dir, ".tmp-checkpoint-")  # the umask's mode, not mkdtemp's 0700


def _write_error(
    exc: OSError, output_dir: Path, final: Path, model, reference
) -> CheckpointWriteError:
    """A one-line error naming the folder, the free space and about how much a checkpoint needs."""
    previous = list_checkpoints(output_dir)
    need = _folder_bytes(previous[-1]) if previous else _estimate_bytes(model, reference)
    try:
        free = f"{shutil.disk_usage(output_dir).free / 1e9:.2f} GB free"
    except OSError:
        free = "free space unknown"
    kept = f"; {previous[-1].name} is intact" if previous else ""
    fix = (
        "make the folder writable or pass another output_dir=FOLDER"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
        else "free some space or pass another output_dir=FOLDER"
    )
    return CheckpointWriteError(
        exc.errno,
        f"cannot write {final.name} in {output_dir} ({exc.strerror}): {free}, "
        f"about {need / 1e9:.2f} GB needed{kept}; {fix}",
    )


def _estimate_bytes(model, reference) -> int:
    """Weights + two AdamW moments for the policy, weights for the reference."""
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    ref = (
        sum(p.numel() * p.element_size() for p in reference.parameters())
        if reference is not None
        else 0
    )
    return 3 * weights + ref


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(folder: Path) -> None:
    """``manifest.json``: {relative path: {size, sha256}} of every file in ``folder``."""
    files = sorted(f for f in folder.rglob("*") if f.is_file() and f.name != MANIFEST_FILE)
    entries = {
        f.relative_to(folder).as_posix(): {"size": f.stat().st_size, "sha256": _sha256(f)}
        for f in files
    }
    tmp = folder / (MANIFEST_FILE + ".tmp")
    tmp.write_text(json.dumps({"files": entries}, indent=1))
    os.replace(tmp, folder / MANIFEST_FILE)


def verify_checkpoint(path: Path) -> str | None:
    """None if every file matches ``manifest.json``, else what is wrong, in a few words.

    A checkpoint written before manifests existed has none; it is accepted if its state file is there.
    """
    manifest = path / MANIFEST_FILE
    if not manifest.exists():
        return (
            None
            if (path / STATE_FILE).exists()
            else f"no {MANIFEST_FILE} and no {STATE_FILE} (incomplete)"
        )
    try:
        entries = json.loads(manifest.read_text())["files"]
    except (ValueError, KeyError, TypeError):
        return f"{MANIFEST_FILE} is unreadable"
    for rel, want in entries.items():
        f = path / rel
        if not f.is_file():
            return f"{rel} is missing"
        size = f.stat().st_size
        if size != want["size"]:
            return (
                f"{rel} is {size} bytes, the manifest says {want['size']} (truncated or replaced)"
            )
        if _sha256(f) != want["sha256"]:
            return f"{rel} does not match its sha256 in the manifest (corrupt or edited)"
    return None


def list_checkpoints(output_dir: Path, *, complete_only: bool = True) -> list[Path]:
    """Checkpoint folders (with their state file unless ``complete_only=False``), oldest first."""
    if not output_dir.is_dir():
        return []
    found = [
        (int(m.group(1)), p)
        for p in output_dir.iterdir()
        if (m := _NAME.match(p.name))
        and p.is_dir()
        and (not complete_only or (p / STATE_FILE).exists())
    ]
    return [p for _, p in sorted(found)]


def checkpoint_step(path: Path) -> int:
    """The step a checkpoint folder holds, from its name ``checkpoint-NNNNNN``."""
    m = _NAME.match(path.name)
    if m is None:
        raise ValueError(f"{path} is not a checkpoint folder (checkpoint-NNNNNN)")
    return int(m.group(1))


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The newest checkpoint by name (unverified: see ``latest_good_checkpoint``)."""
    ckpts = list_checkpoints(output_dir)
    return ckpts[-1] if ckpts else None


def latest_good_checkpoint(output_dir: Path) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The newest checkpoint that passes ``verify_checkpoint``, and the newer ones that did not (with why)."""
    bad: list[tuple[Path, str]] = []
    for ckpt in reversed(list_checkpoints(output_dir, complete_only=False)):
        problem = verify_checkpoint(ckpt)
        if problem is None:
            return ckpt, bad
        bad.append((ckpt, problem))
    return None, bad


def load_trainer_state(path: Path) -> dict[str, Any]:
    return torch.load(path / STATE_FILE, weights_only=False)
