"""Experiment trackers for ``GRPOConfig.report_to``: TensorBoard or Weights & Biases, or none.

Each tracker gets the run's config once and every step's flattened metrics. The packages are
optional extras (``pip install 'grpo-gym[tensorboard]'`` / ``[wandb]``); ``tracker_problem``
names the missing one when the config is made, before any model loads. wandb runs offline
(files under ``output_dir/wandb``, ``wandb sync`` uploads them later) unless ``WANDB_MODE`` is set
or ``WANDB_API_KEY`` holds a key.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any, Literal

ReportTo = Literal["none", "tensorboard", "wandb"]
_PACKAGE = {"tensorboard": "tensorboard", "wandb": "wandb"}  # report_to -> module and extra


def tracker_problem(report_to: str) -> str | None:
    """Why ``report_to`` cannot work here (one line with the fix), or None."""
    if report_to == "none":
        return None
    if report_to not in _PACKAGE:
        return f"report_to={report_to!r}: use none, tensorboard or wandb"
    package = _PACKAGE[report_to]
    if importlib.util.find_spec(package) is None:
        return (
            f"report_to={report_to} needs the {package} package: pip install 'grpo-gym[{package}]' "
            f"(in a checkout: pip install -e '.[{package}]'), or report_to=none"
        )
    return None


class Tracker:
    """Where one run's metrics go besides metrics.jsonl."""

    def log(self, scalars: dict[str, float], step: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class TensorBoardTracker(Tracker):
    """Event files under ``out/tb``: one scalar per metric, the config as text."""

    def __init__(self, out: Path, config: dict[str, Any]) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(out / "tb"))
        self.writer.add_text("config", "```json\n" + json.dumps(config, indent=2) + "\n```")

    def log(self, scalars: dict[str, float], step: int) -> None:
        for k, v in scalars.items():
            self.writer.add_scalar(k, v, step)

    def close(self) -> None:
        self.writer.close()


def wandb_mode() -> str:
    """``WANDB_MODE`` if set; else online with an API key in ``WANDB_API_KEY``, offline without."""
    return os.environ.get("WANDB_MODE") or (
        "online" if os.environ.get("WANDB_API_KEY") else "offline"
    )


class WandbTracker(Tracker):
    """A wandb run in ``out/wandb`` (wandb names that folder; offline by default, see ``wandb_mode``) with the config."""

    def __init__(self, out: Path, config: dict[str, Any]) -> None:
        import wandb

        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "grpo-gym"),
            name=out.resolve().name,
            dir=str(out),
            config=config,
            mode=wandb_mode(),  # type: ignore[arg-type]
        )

    def log(self, scalars: dict[str, float], step: int) -> None:
        self.run.log(scalars, step=step)

    def close(self) -> None:
        self.run.finish()


def make_tracker(report_to: str, out: Path, config: dict[str, Any]) -> Tracker | None:
    """The tracker ``report_to`` names, started for the run in ``out``; None for ``none``."""
    if report_to == "tensorboard":
        return TensorBoardTracker(out, config)
    if report_to == "wandb":
        return WandbTracker(out, config)
    return None
