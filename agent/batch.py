"""Where rollouts become training tensors: advantages per reply, collated micro-batches.

Each micro-batch is padded only to its own longest prompt (left) and completion (right), so
short batches do not pay for the longest reply of the step. Replies to the same prompt are kept
next to each other, so a micro-batch holds whole GRPO groups whose shared prompt
``logprobs.completion_logprobs`` runs once per group instead of once per reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .rollout import Sample


@dataclass
class MicroBatch:
    """Tensors for one forward/backward pass over n sequences."""

    input_ids: Tensor  # [n, P+T] prompt left-padded, completion right-padded
    attention_mask: Tensor  # [n, P+T]
    loss_mask: Tensor  # [n, T] 1 on completion tokens that carry loss
    advantages: Tensor  # [n]
    completion_len: int  # T
    old_logp: Tensor | None = None  # [n, T], set when mu > 1
    ref_logp: Tensor | None = None  # [n, T], set when beta > 0
    sampled_logp: Tensor | None = None  # [n, T] the engine's log-probs of the sampled tokens (vLLM)

    def to(self, device: torch.device | str) -> MicroBatch:
        def move(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(device)

        return MicroBatch(
            self.input_ids.to(device),
            self.attention_mask.to(device),
            self.loss_mask.to(device),
            self.advantages.to(device),
            self.completion_len,
            move(self.old_logp),
            move(self.ref_logp),
            move(self.sampled_logp),
        )


def empty_micro_batch(device: torch.device | str) -> MicroBatch:
    """One two-token row with no loss tokens: a rank with nothing left to learn from runs it so
    that its forward and backward calls match the other ranks' (agent/distributed.py)."""
    return MicroBatch(
        torch.zeros((1, 2), dtype=torch.long, device=device),
        torch.ones((1, 2), dtype=torch.long, device=device),
        torch.zeros((1, 1), dtype=torch.float32, device=device),
        torch.zeros((1,), dtype=torch.float32, device=device),
        1,
    )


def collate(
    samples: Sequence[Sample],
    advantages: Sequence[float],
    pad_id: int,
    *,
    mask_truncated: bool = False,
) -> MicroBatch:
    """Pad ``samples`` into one micro-batch (prompts left, completions right)."""
    P = max(len(s.prompt_ids) for s in samples)
    T = max(max(len(s.completion_ids) for s in samples), 1)
    n = len(samples)
    ids = torch.full((n, P + T), pad_id, dtype=torch.long)  # [n, P+T]
    attn = torch.zeros((n, P + T), dtype=torch.long)  # [n, P+T]
    loss_mask = torch.zeros((n, T), dtype=torch.float32)  # [n, T]
    engine = all(s.sampled_logp is not None for s in samples)
    sampled = torch.zeros((n, T), dtype=torch.float32) if engine else None  # [n, T]
    for i, s in enumerate(samples):
        p, t = len(s.prompt_ids), len(s.completion_ids)
        ids[i, P - p : P] = s.prompt_ids
        ids[i, P : P + t] = s.completion_ids
        attn[i, P - p : P + t] = 1
        if sampled is not None and s.sampled_logp is not None:
            sampled[i, :t] = s.sampled_logp
        if not (mask_truncated and s.truncated):
            loss_mask[i, :t] = 1.0
    return MicroBatch(
        ids,
        attn,
        loss_mask,
        torch.tensor(list(advantages), dtype=torch.float32),
        T,
        sampled_logp=sampled,
    )


def micro_batches(
    samples: Sequence[Sample],
    advantages: Sequence[float],
    size: int,
    pad_id: int,
    *,
    mask_truncated: bool = False,
) -> list[MicroBatch]:
    """Split into micro-batches of ``size`` sequences, sorted to cut padding and keep groups together.

    Order: prompt length, then the prompt itself (replies to one prompt stay adjacent, so their
    prompt is computed once per micro-batch), then completion length.
    """
    prompts = [tuple(s.prompt_ids.tolist()) for s in samples]
    order = sorted(
        range(len(samples)),
        key=lambda i: (len(prompts[i]), prompts[i], len(samples[i].completion_ids)),
    )
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    return [
        collate(
            [samples[i] for i in c],
            [advantages[i] for i in c],
            pad_id,
            mask_truncated=mask_truncated,
        )
        for c in chunks
    ]
