"""The update seam: reference log-probs, then ``mu`` clipped-surrogate passes over the micro-batches.

``Learner`` owns what an update changes (the policy, its optimizer and schedule) and the frozen
reference it is held to. ``Learner.update(batches)`` is the only call the GRPO step makes; a
distributed strategy plugs in here (global loss normalisers, gradient all-reduce) without
touching the loop. The loss itself is ``loss.grpo_loss``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import nn

from .batch import MicroBatch
from .config import GRPOConfig
from .fast.prepack import prepacked_linears, worth_prepacking
from .logprobs import completion_logprobs
from .lora import adapters_off, is_lora
from .loss import grpo_loss

log = logging.getLogger(__name__)


@dataclass
class UpdateStats:
    """What one ``Learner.update`` did (token-weighted means over the batch, averaged over mu)."""

    loss: float = 0.0
    kl: float = 0.0
    clip_low: float = 0.0
    clip_high: float = 0.0
    ratio: float = 0.0
    entropy: float = 0.0
    grad_norm: float = 0.0
    skipped_updates: int = 0  # passes whose gradient was not finite (weights left unchanged)
    engine_drift: float = (
        0.0  # mean |log pi_old - log pi_engine| per token (engines that report log-probs)
    )
    tis_weight: float = 0.0  # mean truncated importance weight (tis_cap > 0)
    lr: float = 0.0
    time_reference: float = 0.0
    time_train: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def make_optimizer(model: nn.Module, cfg: GRPOConfig) -> torch.optim.AdamW:
    """AdamW, fused (one pass over each tensor) where this torch has it for the device.

    Measured on CPU for SmolLM2-135M's 135M parameters: 0.11 s per step fused, 0.37 s for the
    default per-tensor loop, 0.64 s for the foreach variant.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    try:
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    except (
        RuntimeError,
        TypeError,
        ValueError,
    ):  # an older torch, or no fused kernel for the device
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def make_scheduler(
    opt: torch.optim.Optimizer, cfg: GRPOConfig, total_updates: int
) -> torch.optim.lr_scheduler.LambdaLR:
    def factor(update: int) -> float:
        if cfg.warmup_steps and update < cfg.warmup_steps:
            return (update + 1) / cfg.warmup_steps
        if cfg.lr_schedule == "cosine":
            progress = (update - cfg.warmup_steps) / max(1, total_updates - cfg.warmup_steps)
            return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        return 1.0

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def autocast(device: str, dtype: str) -> contextlib.AbstractContextManager:
    """bf16 autocast over fp32 master weights on CUDA; nothing on CPU."""
    if device.startswith("cuda") and dtype in ("auto", "bfloat16", "bf16"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class Learner:
    """Policy + optimizer + schedule, and the frozen reference (None when beta = 0)."""

    def __init__(
        self, cfg: GRPOConfig, model: nn.Module, reference: nn.Module | None, device: str
    ) -> None:
        self.cfg, self.model, self.reference, self.device = cfg, model, reference, device
        if reference is not None:
            reference.eval().requires_grad_(False)
        self.optimizer = make_optimizer(model, cfg)
        self.scheduler = make_scheduler(self.optimizer, cfg, cfg.steps * cfg.mu)
        self._ref_pack = contextlib.ExitStack()  # CPU: the reference runs on packed weights
        self._pack_reference()

    @classmethod
    def with_reference_copy(cls, cfg: GRPOConfig, model: nn.Module, device: str) -> Learner:
        """A learner whose reference is a frozen copy of ``model`` as it is now (beta > 0).

        A LoRA policy gets no copy: its reference is itself with the adapters off (``_ref``).
        """
        copied = cfg.beta > 0 and not is_lora(model)
        return cls(cfg, model, copy.deepcopy(model) if copied else None, device)

    def _ref(self) -> contextlib.AbstractContextManager[nn.Module | None]:
        """The frozen reference: its own module, or a LoRA policy with its adapters switched off."""
        if self.reference is None and self.cfg.beta > 0 and is_lora(self.model):
            return adapters_off(self.model)
        return contextlib.nullcontext(self.reference)

    def _logps(
        self, model: nn.Module, mb: MicroBatch, *, with_entropy: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return completion_logprobs(
            model,
            mb.input_ids,
            mb.attention_mask,
            mb.completion_len,
            temperature=self.cfg.sampling.temperature,
            with_entropy=with_entropy,
            impl=self.cfg.logprobs,
        )

    def update(self, batches: list[MicroBatch]) -> UpdateStats:
        """Reference / old log-probs, then ``mu`` optimizer passes over all micro-batches.

        Each micro-batch's loss is normalised by the WHOLE batch's sequence and token counts, so
        the accumulated gradient equals one big batch's (loss.grpo_loss, ``total_*``).
        """
        cfg, model = self.cfg, self.model
        t0 = time.perf_counter()
        n_seq = sum(mb.input_ids.shape[0] for mb in batches)
        n_tok = int(sum(mb.loss_mask.sum().item() for mb in batches))
        with torch.inference_mode(), autocast(self.device, cfg.dtype), self._ref() as reference:
            for mb in batches:
                if reference is not None:
                    mb.ref_logp = self._logps(reference, mb)[0].float().clone()
        t_ref = time.perf_counter() - t0
        if cfg.mu > 1:  # pi_old: the policy that sampled, frozen for the mu passes
            with torch.no_grad(), autocast(self.device, cfg.dtype):
                for mb in batches:
                    mb.old_logp = self._logps(model, mb)[0].float()
        model.train()
        stats = UpdateStats()
        for _ in range(cfg.mu):
            self.optimizer.zero_grad(
                set_to_none=not self.device.startswith("cpu")
            )  # CPU: reuse grad buffers
            for mb in batches:
                with autocast(self.device, cfg.dtype):
                    logp, ent = self._logps(model, mb, with_entropy=True)  # [n, T]
                old = (
                    mb.old_logp if mb.old_logp is not None else logp.detach()
                )  # mu = 1: ratio 1, same gradient
                is_weights = None
                if mb.sampled_logp is not None:  # the engine sampled with its own numerics (vLLM)
                    gap = old.float() - mb.sampled_logp  # [n, T] log pi_old - log pi_engine
                    stats.engine_drift += (
                        (gap.abs() * mb.loss_mask).sum().item() / max(n_tok, 1) / cfg.mu
                    )
                    if cfg.tis_cap:
                        is_weights = gap.exp().clamp(max=cfg.tis_cap)  # [n, T]
                        stats.tis_weight += (
                            (is_weights * mb.loss_mask).sum().item() / max(n_tok, 1) / cfg.mu
                        )
                loss, m = grpo_loss(
                    logp,
                    old,
                    mb.ref_logp,
                    mb.advantages,
                    mb.loss_mask,
                    eps_low=cfg.eps_low,
                    eps_high=cfg.eps_high,
                    beta=cfg.beta,
                    loss_type=cfg.loss_type,
                    ratio_level=cfg.ratio_level,
                    max_completion_length=cfg.sampling.max_new_tokens,
                    total_sequences=n_seq,
                    total_tokens=n_tok,
                    is_weights=is_weights,
                )
                loss.backward()
                w = (
                    mb.loss_mask.sum().item() / max(n_tok, 1) / cfg.mu
                )  # this micro-batch's share of the tokens
                stats.kl += m["kl"] * w
                stats.clip_low += m["clip_low"] * w
                stats.clip_high += m["clip_high"] * w
                stats.ratio += m["ratio"] * w
                stats.loss += loss.item() / cfg.mu
                stats.entropy += (ent * mb.loss_mask).sum().item() / max(n_tok, 1) / cfg.mu
            self._optimizer_step(stats)
        model.eval()
        stats.time_reference = t_ref
        stats.time_train = time.perf_counter() - t0 - t_ref
        stats.lr = float(self.scheduler.get_last_lr()[0])
        return stats

    def _optimizer_step(self, stats: UpdateStats) -> None:
        """Clip, then step, unless the gradient is not finite (never write NaN into the weights)."""
        cfg = self.cfg
        max_norm = cfg.max_grad_norm if cfg.max_grad_norm > 0 else float("inf")
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)
        if bool(torch.isfinite(torch.as_tensor(grad_norm))):
            stats.grad_norm += float(grad_norm) / cfg.mu
            self.optimizer.step()
        else:
            stats.skipped_updates += 1
            log.warning("non-finite gradient norm %s: update skipped", float(grad_norm))
        self.scheduler.step()

    def sync_reference(self) -> None:
        """Copy the policy into the reference (``ref_sync_every``)."""
        if self.reference is not None:
            self.reference.load_state_dict(self.model.state_dict())
            self._pack_reference()

    def _pack_reference(self) -> None:
        self._ref_pack.close()  # packed copies of the old weights go first
        if (
            self.reference is not None
            and self.cfg.sampling.cpu_prepack
            and worth_prepacking(self.reference)
        ):
            self._ref_pack.enter_context(
                prepacked_linears(self.reference, rows=self.cfg.micro_batch_size)
            )

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])

    def close(self) -> None:
        self._ref_pack.close()
