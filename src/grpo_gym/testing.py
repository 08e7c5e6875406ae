"""A tiny random causal LM with a real tokenizer, for tests and CPU benchmarks.

The tokenizer is a byte-level BPE trained in-process with the ``tokenizers`` library on a
small corpus of prompts and answers, with ChatML special tokens and a chat template. Both are
written with ``save_pretrained`` so they load through ``load_policy`` exactly as a user's model.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from grpo_gym.agent.model import FALLBACK_CHAT_TEMPLATE

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

_CORPUS = [
    "What is 12 + 7? Put the final answer in \\boxed{}. The answer is \\boxed{19}.",
    "Solve for x: 3x - 4 = 11. x = 5. <think>add 4 then divide by 3</think><answer>5</answer>",
    'Write a JSON object with keys name and age: {"name": "Ada", "age": 36}',
    "- first point\n- second point\n- third point",
    "Simplify (x+1)^2 - x^2. Expand, factor, derivative d/dx of x^3 is 3x^2. \\frac{1}{2} \\sqrt{2}",
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 +-*/=()[]{}<>.,;:!?'\"",
    "system user assistant You are a helpful assistant. Answer with a number.",
]


def build_tiny_tokenizer(vocab_size: int = 400) -> PreTrainedTokenizerFast:
    """Byte-level BPE over a small corpus, with ChatML specials and a chat template."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
    )
    fast.chat_template = FALLBACK_CHAT_TEMPLATE
    return fast


def build_tiny_model(
    path: str | Path, *, seed: int = 0, hidden_size: int = 64, layers: int = 2
) -> Path:
    """Write a tiny random Llama and its tokenizer to ``path``; return the path."""
    path = Path(path)
    tokenizer = build_tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
