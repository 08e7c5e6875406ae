"""Checkpoints of an FSDP2 run: full weights, and the optimizer state as shards (torch.distributed.checkpoint).

A sharded run's checkpoint is the usual folder (agent/checkpoint.py: atomic, with a manifest)
whose model files hold the FULL weights, gathered on rank 0, so it loads with
``from_pretrained`` and resumes at any world size and with either strategy. The optimizer
state, the largest part, is written by every rank into ``optimizer/`` with
``torch.distributed.checkpoint`` (each rank its own shard, no gather); loading it re-shards it
for the world that resumes (2 -> 1, 1 -> 2) through ``get/set_optimizer_state_dict``, which also
serve an unsharded model. A checkpoint of an unsharded run (optimizer in ``trainer_state.pt``,
keyed by parameter index) resumes under FSDP by naming each entry after its parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

OPTIMIZER_DIR = "optimizer"  # the sharded optimizer state inside a checkpoint folder


def full_state_dict(module: nn.Module) -> dict[str, Any]:
    """Every rank calls this; rank 0 gets the whole (unsharded, CPU) state dict, others ``{}``."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(
        module, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
    )


def save_optimizer_shards(model: nn.Module, optimizer: torch.optim.Optimizer, folder: Path) -> None:
    """Every rank writes its shard of the optimizer state into ``folder/optimizer``."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

    state = {"optimizer": get_optimizer_state_dict(model, optimizer)}
    dcp.save(state, checkpoint_id=str(folder / OPTIMIZER_DIR))


def load_optimizer(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    checkpoint: Path,
    state: dict[str, Any],
    *,
    sharded: bool,
) -> None:
    """Restore the optimizer state of ``checkpoint`` for this run's model, whatever wrote it."""
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        get_optimizer_state_dict,
        set_optimizer_state_dict,
    )

    if (checkpoint / OPTIMIZER_DIR).is_dir():  # written by an FSDP run: re-shard for this one
        import torch.distributed.checkpoint as dcp

        box = {"optimizer": get_optimizer_state_dict(model, optimizer)}
        dcp.load(box, checkpoint_id=str(checkpoint / OPTIMIZER_DIR))
        set_optimizer_state_dict(model, optimizer, box["optimizer"])
    elif sharded:  # an unsharded run's state, keyed by parameter index: name the entries
        set_optimizer_state_dict(
            model,
            optimizer,
            _by_name(model, state["optimizer"]),
            options=StateDictOptions(full_state_dict=True),
        )
    else:
        optimizer.load_state_dict(state["optimizer"])


def _by_name(model: nn.Module, osd: dict[str, Any]) -> dict[str, Any]:
    """``optimizer.state_dict()`` keyed by parameter names instead of indices."""
    names = [n for n, p in model.named_parameters() if p.requires_grad]  # the optimizer's order
    return {
        "state": {names[i]: s for i, s in osd["state"].items()},
        "param_groups": [
            {**g, "params": [names[i] for i in g["params"]]} for g in osd["param_groups"]
        ],
    }
