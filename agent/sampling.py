"""Where a prompt becomes samples: chat formatting, batched ``generate``, completion masks.

The same code serves training and evaluation, so both see identical prompts and sampling.
A *policy* is anything callable as ``policy(conversations, n) -> list[str]``; ``HFSampler``
is the transformers one and also returns the token tensors the trainer needs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Protocol

import torch
from torch import Tensor

from .prepack import prepacked_linears, worth_prepacking

PREPACK_HELP = ("CPU float32: generate (and run the frozen reference) on oneDNN-prepacked weights: decoding about a "
                "quarter faster; one extra copy of the policy's weights while generating and of the reference's for the run")
STATIC_CACHE_HELP = ("preallocated (static) KV cache; on CUDA transformers then compiles the decoding step "
                     "(the first call is slow; prompts are left-padded to multiples of 64 tokens so shapes repeat)")
STATIC_PAD_MULTIPLE = 64
MIN_PREPACK_TOKENS = 8  # below this, packing the weights costs more than it saves

Message = dict[str, str]  # {"role": ..., "content": ...}, the chat-template format
Conversation = list[Message]


class Policy(Protocol):
    """Maps B chat conversations to B*n replies (n consecutive replies per conversation)."""

    def __call__(self, conversations: Sequence[Conversation], n: int = 1) -> list[str]: ...


@dataclass(frozen=True)
class SamplingConfig:
    """How replies are sampled (shared by training and evaluation)."""

    max_new_tokens: int = field(default=128, metadata={"help": "max tokens per reply"})
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature; 0 = greedy"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling threshold (1 = off)"})
    top_k: int = field(default=0, metadata={"help": "top-k sampling (0 = off)"})
    cpu_prepack: bool = field(default=True, metadata={"help": PREPACK_HELP})
    static_cache: bool = field(default=False, metadata={"help": STATIC_CACHE_HELP})

    @classmethod
    def of(cls, config: object) -> SamplingConfig:
        """The sampling fields of a larger config (``GRPOConfig``, ``EvalConfig``), by name."""
        return cls(**{f.name: getattr(config, f.name) for f in fields(cls)})

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0 (0 = greedy), got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0 = off), got {self.top_k}")


@dataclass
class Generation:
    """A batch of sampled replies with the tensors needed to score and train on them.

    Row order: the n replies to conversation 0, then the n replies to conversation 1, ...
    """

    prompt_ids: Tensor  # [N, P] left-padded
    prompt_mask: Tensor  # [N, P]
    completion_ids: Tensor  # [N, T] right-padded after EOS
    completion_mask: Tensor  # [N, T] 1 up to and including the first EOS
    truncated: Tensor  # [N] bool: no EOS within max_new_tokens
    texts: list[str]  # N decoded replies (special tokens removed)

    @property
    def input_ids(self) -> Tensor:
        return torch.cat([self.prompt_ids, self.completion_ids], dim=1)  # [N, P+T]

    @property
    def attention_mask(self) -> Tensor:
        return torch.cat([self.prompt_mask, self.completion_mask], dim=1)  # [N, P+T]


def completion_mask(completion_ids: Tensor, eos_ids: Sequence[int]) -> tuple[Tensor, Tensor]:
    """1 on tokens up to and including the first EOS; also returns which rows never hit EOS.

    Args:
        completion_ids: ``[N, T]``.
    Returns:
        ``(mask [N, T] long, truncated [N] bool)``.
    """
    is_eos = torch.isin(completion_ids, torch.tensor(list(eos_ids), device=completion_ids.device))  # [N, T]
    T = completion_ids.shape[1]
    has_eos = is_eos.any(dim=1)  # [N]
    first = torch.where(has_eos, is_eos.int().argmax(dim=1), torch.full_like(has_eos, T, dtype=torch.long))  # [N]
    positions = torch.arange(T, device=completion_ids.device).unsqueeze(0)  # [1, T]
    return (positions <= first.unsqueeze(1)).long(), ~has_eos


class HFSampler:
    """Samples replies from a transformers causal LM with its chat template."""

    def __init__(self, model: torch.nn.Module, tokenizer, config: SamplingConfig | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config or SamplingConfig()
        eos = getattr(model.generation_config, "eos_token_id", None)
        eos_list = eos if isinstance(eos, list) else [eos]
        self.eos_ids = sorted({i for i in [*eos_list, tokenizer.eos_token_id] if i is not None})

    def render(self, conversations: Sequence[Conversation]) -> list[str]:
        return [
            self.tokenizer.apply_chat_template(list(c), add_generation_prompt=True, tokenize=False)
            for c in conversations
        ]

    @torch.no_grad()
    def generate(self, conversations: Sequence[Conversation], n: int = 1) -> Generation:
        """Sample ``n`` replies to each conversation in one batched ``generate`` call."""
        device = next(self.model.parameters()).device
        texts = self.render(conversations)
        cfg = self.config
        pad_multiple = STATIC_PAD_MULTIPLE if cfg.static_cache else None  # same cache shape call after call
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, pad_to_multiple_of=pad_multiple, add_special_tokens=False)
        prompt_ids = enc["input_ids"].repeat_interleave(n, dim=0).to(device)  # [N, P]
        prompt_mask = enc["attention_mask"].repeat_interleave(n, dim=0).to(device)  # [N, P]
        greedy = cfg.temperature == 0
        kwargs = dict(
            max_new_tokens=cfg.max_new_tokens,
            do_sample=not greedy,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self.eos_ids,
        )
        if cfg.static_cache:
            kwargs["cache_implementation"] = "static"
        if not greedy:
            kwargs.update(temperature=cfg.temperature, top_p=cfg.top_p, top_k=cfg.top_k)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        was_training = self.model.training
        self.model.eval()
        prepack = cfg.cpu_prepack and cfg.max_new_tokens >= MIN_PREPACK_TOKENS and worth_prepacking(self.model)
        with prepacked_linears(self.model, rows=len(prompt_ids)) if prepack else contextlib.nullcontext():
            if n > 1 and prompt_ids.shape[1] > 1 and not cfg.static_cache:  # prefill each distinct prompt once, share its KV cache
                kwargs.update(self._shared_prefill(enc["input_ids"].to(device), enc["attention_mask"].to(device), n))
            out = self.model.generate(input_ids=prompt_ids, attention_mask=prompt_mask, **kwargs)  # [N, P+T]
        self.model.train(was_training)
        completion_ids = out[:, prompt_ids.shape[1] :]  # [N, T]
        mask, truncated = completion_mask(completion_ids, self.eos_ids)
        completion_ids = completion_ids.masked_fill(mask == 0, self.tokenizer.pad_token_id)
        replies = self.tokenizer.batch_decode(completion_ids, skip_special_tokens=True)
        return Generation(prompt_ids, prompt_mask, completion_ids, mask, truncated, replies)

    def _shared_prefill(self, ids: Tensor, mask: Tensor, n: int) -> dict[str, object]:
        """KV cache of prompts[:, :-1] for B prompts, repeated n times: generate skips that prefill.

        Sampling is unchanged (same tokens for the same seed); the prefill costs B rows, not B*n.
        """
        from .logprobs import _cache_kwarg, position_ids

        out = self.model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1], position_ids=position_ids(mask)[:, :-1],
                         use_cache=True, logits_to_keep=1)
        cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
        if cache is None or not hasattr(cache, "batch_repeat_interleave"):
            return {}
        cache.batch_repeat_interleave(n)  # [B, ...] -> [B*n, ...]
        return {_cache_kwarg(self.model): cache}

    def __call__(self, conversations: Sequence[Conversation], n: int = 1) -> list[str]:
        return self.generate(conversations, n).texts
