"""How a conversation becomes the prompt text: ``SamplingConfig.prompt_format``.

    chat   the tokenizer's chat template, with the generation prompt (instruct models). A
           tokenizer that ships none gets ChatML (``model.FALLBACK_CHAT_TEMPLATE``) and a warning:
           a base model has never seen those tokens.
    plain  for base models: the messages' texts in order, a blank line between them, then one
           newline where the reply starts::

               {system}\n\n{user}\n
               {system}\n\n{user}\n\n{reply}\n\n{follow-up}\n      (multi-turn)

Both engines (agent/engines/hf.py, vllm.py) render through ``render_prompt``, so training,
evaluation and every engine see the same text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

PromptFormat = Literal["chat", "plain"]
FALLBACK_MARK = "grpo_gym_fallback_template"  # set on a tokenizer that was given ChatML
_WARNED_MARK = "grpo_gym_template_warned"
log = logging.getLogger(__name__)


def plain_prompt(conversation: Sequence[dict[str, str]]) -> str:
    """The ``plain`` format: message texts joined by blank lines, then a newline."""
    return "\n\n".join(m["content"] for m in conversation) + "\n"


def render_prompt(tokenizer: Any, conversation: Sequence[dict[str, str]], fmt: str) -> str:
    """The prompt text for ``conversation`` in format ``fmt`` (``chat`` or ``plain``)."""
    if fmt == "plain":
        return plain_prompt(conversation)
    return tokenizer.apply_chat_template(
        list(conversation), add_generation_prompt=True, tokenize=False
    )


def template_warning(tokenizer: Any, fmt: str) -> str | None:
    """The first time per tokenizer: a warning (also logged) if ``chat`` format meets a tokenizer
    that had no chat template of its own; else None."""
    if fmt != "chat" or not getattr(tokenizer, FALLBACK_MARK, False):
        return None
    if getattr(tokenizer, _WARNED_MARK, False):
        return None
    setattr(tokenizer, _WARNED_MARK, True)
    msg = (
        "warning: the tokenizer has no chat template, so prompts use ChatML, which a base model "
        "has never seen: set prompt_format=plain for a base model, or give the tokenizer a "
        "chat_template"
    )
    log.warning(msg)
    return msg
