"""Generation engines: where prompts become sampled replies (the first seam of the GRPO step).

An engine turns B conversations into ``n`` replies each and returns a typed ``Generation``
(prompt and completion token ids, masks, truncation flags, texts), so the rest of the step does
not care who sampled. After every optimizer step the trainer calls ``sync_weights(model)`` so the
engine samples from the current policy, never a stale one.

    hf    ``HFSampler`` (engines/hf.py): transformers ``generate`` on the training model itself.
    vllm  ``VLLMEngine`` (engines/vllm.py): an in-process ``vllm.LLM`` loaded with the policy's
          weights after every update; also reports its own log-probs of what it sampled.

``engines/openai.py`` is a plain ``Policy`` (texts only) over any OpenAI-compatible server, for
evaluating served models.

``make_engine`` picks one by ``SamplingConfig.engine``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from torch import nn

from ..sampling import Conversation, Generation, SamplingConfig
from .hf import HFSampler
from .vllm_settings import VLLMSettings


@runtime_checkable
class Engine(Protocol):
    """Samples replies with token tensors; follows the policy's weights through ``sync_weights``."""

    config: SamplingConfig

    def generate(
        self, conversations: Sequence[Conversation], n: int = 1, stop: Sequence[str] = ()
    ) -> Generation: ...

    def sync_weights(self, model: nn.Module) -> None: ...

    def close(self) -> None: ...

    def __call__(self, conversations: Sequence[Conversation], n: int = 1) -> list[str]: ...


def make_engine(
    model: nn.Module,
    tokenizer,
    config: SamplingConfig,
    vllm: VLLMSettings | None = None,
    *,
    seed: int = 0,
) -> Engine:
    """The engine ``config.engine`` names, sampling from ``model``'s current weights."""
    if config.engine == "hf":
        return HFSampler(model, tokenizer, config)
    if config.engine == "vllm":
        from .vllm import VLLMEngine

        return VLLMEngine(model, tokenizer, config, vllm, seed=seed)
    if config.engine == "openai":
        raise ValueError(
            "the openai engine is a served model (texts only, no weights to train or sync): "
            "use OpenAIChatPolicy (grpo-gym eval --engine openai --base-url URL), or hf / vllm"
        )
    raise ValueError(f"unknown engine {config.engine!r}: use 'hf' or 'vllm'")


__all__ = ["Engine", "HFSampler", "VLLMSettings", "make_engine"]
