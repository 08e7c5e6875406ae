"""What sampling takes and gives: ``SamplingConfig`` in, a typed ``Generation`` out.

Training and evaluation share these types, so both see identical prompts and sampling whatever
engine draws the replies (``agent/engines``: the transformers engine by default). A *policy* is
anything callable as ``policy(conversations, n) -> list[str]`` (a scripted policy in tests, a
served model); an *engine* also returns the token tensors the update needs. Engines and the
OpenAI policy also take ``stop=`` (the envs' stop strings) and return each reply as a
``rewards.Reply`` whose ``finish_reason`` says whether it hit the token limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import torch
from torch import Tensor

from grpo_gym.rewards.types import Reply

EngineName = Literal["hf", "vllm", "openai"]

PREPACK_HELP = (
    "CPU float32: generate (and run the frozen reference) on oneDNN-prepacked weights: decoding "
    "about a quarter faster; one extra copy of the policy's weights while generating and of the "
    "reference's for the run"
)
STATIC_CACHE_HELP = (
    "preallocated (static) KV cache; on CUDA transformers then compiles the decoding step "
    "(the first call is slow; prompts are left-padded to multiples of 64 tokens so shapes repeat)"
)

Message = dict[str, str]  # {"role": ..., "content": ...}, the chat-template format
Conversation = list[Message]


class Policy(Protocol):
    """Maps B chat conversations to B*n replies (n consecutive replies per conversation)."""

    def __call__(self, conversations: Sequence[Conversation], n: int = 1) -> list[str]: ...


@dataclass(frozen=True)
class SamplingConfig:
    """How replies are sampled, and by which engine (shared by training and evaluation)."""

    engine: EngineName = field(
        default="hf",
        metadata={
            "help": "generation engine: hf (transformers generate), vllm (colocated vLLM; make vllm-setup), "
            "or openai (evaluation only: an OpenAI-compatible server at --base-url)"
        },
    )
    max_new_tokens: int = field(default=128, metadata={"help": "max tokens per reply"})
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature; 0 = greedy"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling threshold (1 = off)"})
    top_k: int = field(default=0, metadata={"help": "top-k sampling (0 = off)"})
    cpu_prepack: bool = field(default=True, metadata={"help": PREPACK_HELP})
    static_cache: bool = field(default=False, metadata={"help": STATIC_CACHE_HELP})
    prompt_format: Literal["chat", "plain"] = field(
        default="chat",
        metadata={
            "help": "chat: the tokenizer's chat template (ChatML with a warning if it has none); plain: for base models, the messages' texts separated by blank lines, then a newline (agent/prompts.py)"
        },
    )

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0 (0 = greedy), got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0 = off), got {self.top_k}")
        if self.prompt_format not in ("chat", "plain"):
            raise ValueError(f"prompt_format={self.prompt_format!r}: use chat or plain")


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
    texts: list[str]  # N decoded replies (special tokens removed), as ``Reply``: see below
    sampled_logp: Tensor | None = None  # [N, T] the engine's own log-probs of what it sampled

    def __post_init__(self) -> None:
        """Each text becomes a ``Reply`` that tells the scorer how it ended: ``"length"`` where
        the row hit ``max_new_tokens``, else ``"stop"`` (EOS or a stop string)."""
        self.texts = [
            Reply(text, "length" if bool(cut) else "stop")
            for text, cut in zip(self.texts, self.truncated.tolist(), strict=True)
        ]

    @property
    def input_ids(self) -> Tensor:
        return torch.cat([self.prompt_ids, self.completion_ids], dim=1)  # [N, P+T]

    @property
    def attention_mask(self) -> Tensor:
        return torch.cat([self.prompt_mask, self.completion_mask], dim=1)  # [N, P+T]


def cut_at_stop_strings(
    completion_ids: Tensor,
    mask: Tensor,
    truncated: Tensor,
    decode: Callable[[list[int]], str],
    stop: Sequence[str],
) -> None:
    """End each row at the token that completes its first stop string (in place).

    ``generate(stop_strings=...)`` stops a row there and pads the rest; this keeps only the
    sampled tokens in the mask (never a pad token that the model did not sample) and marks the
    row as stopped, not truncated. Binary search over decoded prefixes: O(T log T) per row.
    """
    if not stop:
        return
    for row in range(completion_ids.shape[0]):
        n = int(mask[row].sum())
        ids = completion_ids[row, :n].tolist()
        if not any(s in decode(ids) for s in stop):
            continue
        lo, hi = 1, n  # the shortest prefix holding a stop string
        while lo < hi:
            mid = (lo + hi) // 2
            if any(s in decode(ids[:mid]) for s in stop):
                hi = mid
            else:
                lo = mid + 1
        mask[row, lo:] = 0
        truncated[row] = False


def completion_mask(completion_ids: Tensor, eos_ids: Sequence[int]) -> tuple[Tensor, Tensor]:
    """1 on tokens up to and including the first EOS; also returns which rows never hit EOS.

    Args:
        completion_ids: ``[N, T]``.
    Returns:
        ``(mask [N, T] long, truncated [N] bool)``.
    """
    eos = torch.tensor(list(eos_ids), device=completion_ids.device)
    is_eos = torch.isin(completion_ids, eos)  # [N, T]
    T = completion_ids.shape[1]
    has_eos = is_eos.any(dim=1)  # [N]
    never = torch.full_like(has_eos, T, dtype=torch.long)
    first = torch.where(has_eos, is_eos.int().argmax(dim=1), never)  # [N]
    positions = torch.arange(T, device=completion_ids.device).unsqueeze(0)  # [1, T]
    return (positions <= first.unsqueeze(1)).long(), ~has_eos
