"""``prompt_format``: the chat template (with a warning when the tokenizer has none) or plain text."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

import tests.fixture_envs  # noqa: F401  (registers grpo_gym_test/* envs)
from grpo_gym.agent import load_policy
from grpo_gym.agent.engines import HFSampler
from grpo_gym.agent.prompts import plain_prompt, template_warning
from grpo_gym.agent.sampling import SamplingConfig
from grpo_gym.agent.trainer import train
from tests.helpers import tiny_cfg

CONV = [
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "What is 2+2?"},
]


@pytest.fixture()
def base_model_dir(tiny_model_dir: Path, tmp_path: Path) -> Path:
    """The tiny model with its chat template removed: a base model's folder."""
    out = tmp_path / "base"
    shutil.copytree(tiny_model_dir, out)
    (out / "chat_template.jinja").unlink(missing_ok=True)
    _, tok = load_policy(tiny_model_dir, device="cpu")
    tok.chat_template = None
    tok.save_pretrained(out)
    (out / "chat_template.jinja").unlink(missing_ok=True)
    return out


def test_plain_format_renders_the_texts_without_chat_tokens(tiny_policy) -> None:
    model, tok = tiny_policy
    plain = HFSampler(model, tok, SamplingConfig(prompt_format="plain"))
    follow_up = [
        *CONV,
        {"role": "assistant", "content": "5"},
        {"role": "user", "content": "Again?"},
    ]
    assert plain.render([CONV, follow_up]) == [
        "Answer briefly.\n\nWhat is 2+2?\n",
        "Answer briefly.\n\nWhat is 2+2?\n\n5\n\nAgain?\n",
    ]
    assert plain_prompt(CONV) == plain.render([CONV])[0]
    chat = HFSampler(model, tok, SamplingConfig()).render([CONV])[0]
    assert "<|im_start|>assistant" in chat  # the default stays the tokenizer's template
    with pytest.raises(ValueError, match="prompt_format='xml': use chat or plain"):
        SamplingConfig(prompt_format="xml")  # type: ignore[arg-type]


def test_missing_chat_template_warns_once(
    base_model_dir: Path, tiny_policy, caplog: pytest.LogCaptureFixture
) -> None:
    _, own = tiny_policy
    assert template_warning(own, "chat") is None  # a tokenizer with its own template: silent
    _, tok = load_policy(base_model_dir, device="cpu")
    assert template_warning(tok, "plain") is None
    with caplog.at_level(logging.WARNING, logger="grpo_gym.agent.prompts"):
        first = template_warning(tok, "chat")
        assert first is not None and "prompt_format=plain" in first
        assert template_warning(tok, "chat") is None  # once
    assert sum("no chat template" in r.message for r in caplog.records) == 1


def test_training_says_so_and_plain_format_trains(base_model_dir: Path, tmp_path: Path) -> None:
    said: list[str] = []
    train(tiny_cfg(base_model_dir, tmp_path / "chat", steps=1), echo=said.append)
    assert sum("no chat template" in s for s in said) == 1
    said.clear()
    cfg = tiny_cfg(base_model_dir, tmp_path / "plain", steps=1, prompt_format="plain")
    result = train(cfg, echo=said.append)
    assert result.steps == 1 and not any("no chat template" in s for s in said)
