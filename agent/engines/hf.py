"""The transformers engine: batched ``generate`` on prompts rendered by ``prompts.render_prompt``.

It samples from the training model itself, so ``sync_weights`` has nothing to do. It uses two
speed-ups from ``agent/fast``: one prefill per distinct prompt (with the dynamic KV cache, on any
device) and, on CPU, oneDNN-prepacked weights; both draw the same tokens as the plain path
(tests/test_sampling_fast_paths.py). A reply ends at EOS, at ``max_new_tokens`` or after one of
the envs' stop strings (transformers' ``stop_strings``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import torch

from ..fast.prefill import shared_prefill
from ..fast.prepack import prepacked_linears, worth_prepacking
from ..prompts import render_prompt
from ..sampling import (
    Conversation,
    Generation,
    SamplingConfig,
    completion_mask,
    cut_at_stop_strings,
)

STATIC_PAD_MULTIPLE = 64  # static cache: prompts padded to a multiple so shapes repeat
MIN_PREPACK_TOKENS = 8  # below this, packing the weights costs more than it saves


class HFSampler:
    """Samples replies from a transformers causal LM with its chat template (an ``Engine``)."""

    def __init__(self, model: Any, tokenizer: Any, config: SamplingConfig | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config or SamplingConfig()
        eos = getattr(model.generation_config, "eos_token_id", None)
        eos_list = eos if isinstance(eos, list) else [eos]
        self.eos_ids = sorted({i for i in [*eos_list, tokenizer.eos_token_id] if i is not None})

    def render(self, conversations: Sequence[Conversation]) -> list[str]:
        return [render_prompt(self.tokenizer, c, self.config.prompt_format) for c in conversations]

    @torch.no_grad()
    def generate(
        self, conversations: Sequence[Conversation], n: int = 1, stop: Sequence[str] = ()
    ) -> Generation:
        """Sample ``n`` replies to each conversation in one batched ``generate`` call; a reply
        ends at EOS, at ``max_new_tokens`` or right after the first of the ``stop`` strings."""
        device = next(self.model.parameters()).device
        cfg = self.config
        pad_multiple = STATIC_PAD_MULTIPLE if cfg.static_cache else None
        enc = self.tokenizer(
            self.render(conversations),
            return_tensors="pt",
            padding=True,
            pad_to_multiple_of=pad_multiple,
            add_special_tokens=False,
        )
        ids, mask = enc["input_ids"].to(device), enc["attention_mask"].to(device)  # [B, P]
        prompt_ids = ids.repeat_interleave(n, dim=0)  # [N, P]
        prompt_mask = mask.repeat_interleave(n, dim=0)  # [N, P]
        kwargs: dict[str, object] = dict(
            max_new_tokens=cfg.max_new_tokens,
            do_sample=cfg.temperature > 0,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self.eos_ids,
        )
        if cfg.static_cache:
            kwargs["cache_implementation"] = "static"
        if stop:
            kwargs.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        if cfg.temperature > 0:
            kwargs.update(temperature=cfg.temperature, top_p=cfg.top_p, top_k=cfg.top_k)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        was_training = self.model.training
        self.model.eval()
        prepack = (
            cfg.cpu_prepack
            and cfg.max_new_tokens >= MIN_PREPACK_TOKENS
            and worth_prepacking(self.model)
        )
        with (
            prepacked_linears(self.model, rows=len(prompt_ids))
            if prepack
            else contextlib.nullcontext()
        ):
            if n > 1 and prompt_ids.shape[1] > 1 and not cfg.static_cache:
                kwargs.update(shared_prefill(self.model, ids, mask, n))
            out = self.model.generate(
                input_ids=prompt_ids, attention_mask=prompt_mask, **kwargs
            )  # [N, P+T]
        self.model.train(was_training)
        completion_ids = out[:, prompt_ids.shape[1] :]  # [N, T]
        comp_mask, truncated = completion_mask(completion_ids, self.eos_ids)
        cut_at_stop_strings(completion_ids, comp_mask, truncated, self._decode, stop)
        completion_ids = completion_ids.masked_fill(comp_mask == 0, self.tokenizer.pad_token_id)
        replies = self.tokenizer.batch_decode(completion_ids, skip_special_tokens=True)
        return Generation(prompt_ids, prompt_mask, completion_ids, comp_mask, truncated, replies)

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=False)

    def sync_weights(self, model: torch.nn.Module) -> None:
        """Nothing to do: this engine samples from the training model itself."""

    def close(self) -> None:
        """Nothing to release."""

    def __call__(
        self, conversations: Sequence[Conversation], n: int = 1, stop: Sequence[str] = ()
    ) -> list[str]:
        return self.generate(conversations, n, stop).texts
