"""Errors a training run raises on purpose, each a one-line message naming the problem and the fix.

The command line (``grpo_gym.cli``) maps each to its own non-zero exit code; Python callers catch
them by type. They sit in one file so the library and the CLI agree on them.
"""

from __future__ import annotations

from pathlib import Path


class RunDirError(ValueError):
    """The output folder's contents conflict with what was asked (e.g. logs but no checkpoint)."""


class NothingToTrain(RuntimeError):
    """A resume that would train zero steps (the checkpoint is already at ``steps``)."""


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (full disk, unwritable folder); the previous one is intact."""

    def __str__(self) -> str:
        return str(self.strerror)


class EnvStuckError(RuntimeError):
    """An env's reset or step ran past ``score_timeout_s`` and ``on_stuck`` is ``abort``."""


class TrainingInterrupted(Exception):
    """SIGINT/SIGTERM stopped the run after a step; a checkpoint to resume from was written."""

    def __init__(self, message: str, *, signum: int, step: int, checkpoint: Path | None) -> None:
        super().__init__(message)
        self.signum = signum
        self.step = step
        self.checkpoint = checkpoint
