"""Data-parallel GRPO on ``torch.distributed`` (launched by ``torchrun``): DDP or FSDP2.

One process per device; every process (rank) samples, scores and learns from its share of each
step's prompts. What makes N ranks train like one process with the same global batch:

* **Prompts.** Each step's B prompts are drawn exactly as one process draws them, then dealt out
  by group (``World.shard``: rank r takes prompts r, r + N, ...), so a group's G replies, rewards
  and advantages live on one rank.
* **Loss normaliser.** Sequence and token counts are summed over ranks before the backward pass
  (``Learner.update``); DDP and FSDP average gradients over ranks, so each rank's loss is scaled
  by N and the averaged gradient is the single-process gradient of the whole batch.
* **Matching collectives.** Ranks agree on the number of micro-batches (a rank with fewer, or
  none, runs empty ones that carry no loss) and on every stop, save and refill decision.

``World`` is the handful of collectives the loop needs; a 1-process run uses ``SINGLE``, whose
collectives are identities, so the single-process path runs the same code.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from .fieldhelp import help_text
from .logprobs import LogprobImpl, completion_logprobs

T = TypeVar("T")
Strategy = Literal["ddp", "fsdp"]


@dataclass
class DistributedConfig:
    """How a run spreads over processes (the ``--strategy`` / ``--nproc`` settings)."""

    strategy: Strategy = field(
        default="ddp",
        metadata=help_text(
            "with several processes: ddp (each holds the whole model; gradients all-reduced) or "
            "fsdp (FSDP2 fully_shard: weights, gradients and optimizer state sharded across ranks)"
        ),
    )
    nproc: int = field(
        default=1,
        metadata=help_text(
            "processes on this machine: grpo-gym train --nproc N starts torchrun for you "
            "(or launch torchrun --nproc-per-node N -m grpo_gym train ... yourself)"
        ),
    )
    dist_timeout_s: float = field(
        default=600.0,
        metadata=help_text(
            "process-group timeout: a rank that dies or hangs makes the job exit within this time"
        ),
    )

    def __post_init__(self) -> None:
        if self.strategy not in ("ddp", "fsdp"):
            raise ValueError(f"strategy={self.strategy!r}: use 'ddp' or 'fsdp'")
        if self.nproc < 1:
            raise ValueError(f"nproc={self.nproc}: use 1 or more processes")
        if self.dist_timeout_s <= 0:
            raise ValueError(f"dist_timeout_s={self.dist_timeout_s}: use a positive timeout")


@dataclass(frozen=True)
class World:
    """This process's rank among ``size`` and the collectives the loop needs."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    strategy: Strategy = "ddp"

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def sharded(self) -> bool:
        return self.size > 1 and self.strategy == "fsdp"

    def shard(self, items: Sequence[T]) -> list[T]:
        """This rank's share of ``items``: positions rank, rank + size, ..."""
        return list(items[self.rank :: self.size])

    def unshard(self, parts: Sequence[Sequence[T]]) -> list[T]:
        """Inverse of ``shard``: every rank's share (``gather`` order) back in the original order."""
        out: list[T] = []
        for i in range(max((len(p) for p in parts), default=0)):
            out += [p[i] for p in parts if i < len(p)]
        return out

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sum over ranks."""
        if self.size == 1:
            return [float(v) for v in values]
        t = torch.tensor(list(values), dtype=torch.float64, device=_comm_device())
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.tolist()

    def max(self, value: int) -> int:
        """The largest ``value`` over ranks."""
        if self.size == 1:
            return value
        t = torch.tensor([value], dtype=torch.int64, device=_comm_device())
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return int(t.item())

    def any(self, flag: bool) -> bool:
        """True on every rank if it is True on one."""
        return self.max(int(flag)) > 0

    def gather(self, obj: T) -> list[T]:
        """Every rank's ``obj``, in rank order (picklable objects)."""
        if self.size == 1:
            return [obj]
        out: list[Any] = [None] * self.size
        dist.all_gather_object(out, obj)
        return out

    def broadcast(self, obj: T) -> T:
        """Rank 0's ``obj`` on every rank."""
        if self.size == 1:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.size > 1:
            dist.barrier()


SINGLE = World()


def _comm_device() -> str:
    return f"cuda:{torch.cuda.current_device()}" if dist.get_backend() == "nccl" else "cpu"


def launched_world_size() -> int:
    """WORLD_SIZE as torchrun sets it (1 when not launched by torchrun)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def init_world(cfg: DistributedConfig, device: str) -> World:
    """Join the process group torchrun set up (``SINGLE`` when there is none)."""
    size = launched_world_size()
    if size <= 1:
        if cfg.nproc > 1:
            raise ValueError(
                f"nproc={cfg.nproc} but this process was not started by torchrun: on the command "
                f"line use grpo-gym train --nproc {cfg.nproc}; from Python launch your script with "
                f"torchrun --nproc-per-node {cfg.nproc} script.py"
            )
        return SINGLE
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda"):
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(
            "nccl" if device.startswith("cuda") else "gloo",
            timeout=timedelta(seconds=cfg.dist_timeout_s),
        )
    return World(dist.get_rank(), dist.get_world_size(), local_rank, cfg.strategy)


def rank_device(world: World, device: str) -> str:
    """Each rank's own CUDA device; CPU ranks share the CPU."""
    if device.startswith("cuda") and world.size > 1:
        return f"cuda:{world.local_rank}"
    return device


def close_world() -> None:
    """Leave the process group (after the last ``train`` of a process; later calls join anew)."""
    if dist.is_initialized():
        dist.destroy_process_group()


class LogprobModule(nn.Module):
    """``completion_logprobs`` of a causal LM as one module's forward.

    DDP and FSDP act on a module's ``forward``; the fast log-prob path calls the decoder and the
    head separately, so the whole computation is wrapped as one forward for them to see.
    """

    def __init__(self, model: nn.Module, impl: LogprobImpl, temperature: float) -> None:
        super().__init__()
        self.model, self.impl, self.temperature = model, impl, temperature

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        completion_len: int,
        with_entropy: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return completion_logprobs(
            self.model,
            input_ids,
            attention_mask,
            completion_len,
            temperature=self.temperature,
            with_entropy=with_entropy,
            impl=self.impl,
        )


def wrap(module: LogprobModule, world: World, *, trainable: bool) -> nn.Module:
    """The module the learner calls: DDP or FSDP2 over ``module`` with several ranks, else itself.

    FSDP2 shards every decoder layer, then the rest (embeddings, norm, head) at the root; this
    changes ``module.model``'s parameters in place, so it must run before the optimizer is built.
    A frozen reference is sharded the same way under FSDP and left as it is under DDP.
    """
    if world.size == 1:
        return module
    if world.strategy == "fsdp":
        from torch.distributed.fsdp import fully_shard

        for layer in decoder_layers(module.model):
            fully_shard(layer)
        fully_shard(module)
        # FSDP sets itself up on the root's first forward; generation calls the layers directly,
        # so run one two-token forward through the root now (every rank, same point).
        device = next(module.parameters()).device
        with torch.no_grad():
            ids = torch.zeros((1, 2), dtype=torch.long, device=device)
            module(ids, torch.ones_like(ids), 1)
        # the root keeps its weights whole after a forward: shard them again before the
        # optimizer is built on them (FSDPModule.reshard)
        getattr(module, "reshard")()  # noqa: B009
        return module
    if not trainable:
        return module
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(module)


def decoder_layers(model: nn.Module) -> list[nn.Module]:
    """The repeated transformer blocks (``model.model.layers`` for Llama-style models).

    A LoRA policy (a peft model) is looked into through its base model: its blocks are the base
    model's, with the adapters inside them, so each block is sharded with its adapters.
    """
    get_base = getattr(model, "get_base_model", None)
    if callable(get_base):
        model = get_base()
    for path in ("model.layers", "transformer.h", "gpt_neox.layers", "model.decoder.layers"):
        obj: Any = model
        for part in path.split("."):
            obj = getattr(obj, part, None)
        if isinstance(obj, nn.ModuleList):
            return list(obj)
    raise ValueError(
        f"strategy=fsdp cannot find the decoder layers of {type(model).__name__}: "
        "use strategy=ddp for this model"
    )


@contextlib.contextmanager
def no_grad_sync(wrapped: nn.Module, skip: bool) -> Iterator[None]:
    """Accumulate this backward's gradients locally (``skip``), syncing only on the last one."""
    if not skip:
        yield
        return
    no_sync = getattr(wrapped, "no_sync", None)
    if no_sync is not None:  # DDP
        with no_sync():
            yield
        return
    set_sync = getattr(wrapped, "set_requires_gradient_sync", None)
    if set_sync is None:  # one process
        yield
        return
    set_sync(False)  # FSDP2
    try:
        yield
    finally:
        set_sync(True)


@contextlib.contextmanager
def full_weights(wrapped: nn.Module, world: World) -> Iterator[None]:
    """FSDP2: hold every layer's full weights (one all-gather each) while generating.

    Ranks generate different numbers of tokens; with the weights kept whole, no collective runs
    during generation, so they cannot fall out of step. Nothing to do without FSDP.
    """
    if not world.sharded:
        yield
        return
    from torch.distributed.fsdp import FSDPModule

    units = [m for m in wrapped.modules() if isinstance(m, FSDPModule)]
    for m in units:
        m.set_reshard_after_forward(False, recurse=False)
        m.unshard()
    try:
        yield
    finally:
        for m in units:
            m.reshard()
            m.set_reshard_after_forward(True, recurse=False)


def full_value(t: torch.Tensor) -> torch.Tensor:
    """A DTensor's full value (FSDP2 gradient norms), any other tensor as it is."""
    full = getattr(t, "full_tensor", None)
    return full() if callable(full) else t
