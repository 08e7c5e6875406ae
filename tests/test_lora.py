"""LoRA: only adapters train, adapters-off is the base model, merged weights and export match."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from grpo_gym.agent import load_policy
from grpo_gym.agent.logprobs import completion_logprobs
from grpo_gym.agent.lora import (
    LoraSettings,
    adapter_base_model,
    adapters_off,
    apply_lora,
    export_merged,
    is_lora,
    load_lora_checkpoint,
    merged_state_dict,
)

pytest.importorskip("peft", reason="LoRA tests need the lora extra (make setup installs it)")

SETTINGS = LoraSettings(lora_r=4, lora_alpha=8, lora_target_modules=("q_proj", "v_proj", "up_proj"))


def _sequence(tokenizer) -> tuple[torch.Tensor, torch.Tensor, int]:
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is 12 + 7?"}], add_generation_prompt=True, tokenize=False
    )
    ids = tokenizer(
        prompt + "The answer is \\boxed{19}.<|im_end|>",
        return_tensors="pt",
        add_special_tokens=False,
    )["input_ids"]
    T = len(
        tokenizer("The answer is \\boxed{19}.<|im_end|>", add_special_tokens=False)["input_ids"]
    )
    return ids, torch.ones_like(ids), T


def _logp(model, seq) -> torch.Tensor:
    ids, mask, T = seq
    with torch.no_grad():
        return completion_logprobs(model, ids, mask, T, with_entropy=False)[0]


def _train_step(model, seq, lr: float = 0.05) -> None:
    ids, mask, T = seq
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    loss = -completion_logprobs(model, ids, mask, T, with_entropy=False)[0].sum()
    loss.backward()
    opt.step()


def test_only_adapter_weights_train_and_adapters_off_is_the_base(tiny_policy) -> None:
    model, tokenizer = tiny_policy
    seq = _sequence(tokenizer)
    base_logp = _logp(model, seq)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lora = apply_lora(model, SETTINGS)
    assert is_lora(lora) and not is_lora(torch.nn.Linear(1, 1))
    trainable = {n for n, p in lora.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    torch.testing.assert_close(_logp(lora, seq), base_logp)  # B = 0: a no-op at the start
    _train_step(lora, seq)
    after = lora.state_dict()
    changed = {
        k for k, v in after.items() if "lora_B" in k and not torch.equal(v, torch.zeros_like(v))
    }
    assert changed, "no adapter weight moved"
    for name, value in after.items():
        if "lora_" not in name:
            plain = name.removeprefix("base_model.model.").replace(".base_layer.", ".")
            assert torch.equal(value, before[plain]), f"base weight {plain} changed"
    trained = _logp(lora, seq)
    assert (trained - base_logp).abs().max() > 1e-3  # the adapters do something ...
    with adapters_off(lora) as reference:
        # ... and switch off exactly
        torch.testing.assert_close(_logp(reference, seq), base_logp, rtol=0, atol=1e-6)
    torch.testing.assert_close(_logp(lora, seq), trained)  # back on after the block


def test_merged_weights_checkpoint_and_export(
    tiny_policy, tiny_model_dir: Path, tmp_path: Path
) -> None:
    from transformers import AutoModelForCausalLM

    model, tokenizer = tiny_policy
    seq = _sequence(tokenizer)
    lora = apply_lora(model, SETTINGS)
    _train_step(lora, seq)
    trained = _logp(lora, seq)

    plain, _ = load_policy(tiny_model_dir, device="cpu")
    state = merged_state_dict(lora)
    assert not any("lora_" in k or "base_layer" in k for k in state)
    missing, unexpected = plain.load_state_dict(state, strict=True), None
    assert unexpected is None and not missing.missing_keys
    torch.testing.assert_close(_logp(plain, seq), trained, rtol=0, atol=1e-5)
    # merging did not touch the trained weights
    torch.testing.assert_close(_logp(lora, seq), trained)

    ckpt = tmp_path / "checkpoint"
    lora.save_pretrained(ckpt)
    tokenizer.save_pretrained(ckpt)
    assert (ckpt / "adapter_model.safetensors").exists() and not (
        ckpt / "model.safetensors"
    ).exists()
    assert Path(adapter_base_model(ckpt)) == tiny_model_dir

    resumed = load_lora_checkpoint(load_policy(tiny_model_dir, device="cpu")[0], ckpt)
    torch.testing.assert_close(_logp(resumed, seq), trained, rtol=0, atol=1e-6)
    assert any(p.requires_grad for n, p in resumed.named_parameters() if "lora_" in n)

    out = export_merged(ckpt, tmp_path / "merged")
    exported = AutoModelForCausalLM.from_pretrained(out)  # plain transformers, no peft
    assert not is_lora(exported)
    torch.testing.assert_close(_logp(exported, seq), trained, rtol=0, atol=1e-5)


def test_settings_and_targets_are_checked(tiny_policy) -> None:
    model, _ = tiny_policy
    with pytest.raises(ValueError, match="lora_r must be >= 0"):
        LoraSettings(lora_r=-1)
    with pytest.raises(ValueError, match="lora_dropout"):
        LoraSettings(lora_r=4, lora_dropout=1.0)
    assert LoraSettings(lora_r=2, lora_target_modules="q_proj, v_proj").lora_target_modules == (
        "q_proj",
        "v_proj",
    )
    with pytest.raises(
        ValueError, match=r"\['qkv'\] are not linear layers of this model: choose from .*q_proj"
    ):
        apply_lora(model, LoraSettings(lora_r=4, lora_target_modules=("q_proj", "qkv")))
    every = apply_lora(model, LoraSettings(lora_r=2, lora_target_modules=("all-linear",)))
    n_adapters = sum("lora_A" in n for n, _ in every.named_parameters())
    assert n_adapters == 2 * 7  # 2 layers x 7 projections


def test_missing_peft_names_the_extra(monkeypatch, tiny_policy) -> None:
    monkeypatch.setitem(sys.modules, "peft", None)
    with pytest.raises(ImportError, match=r"pip install 'grpo-gym\[lora\]'"):
        apply_lora(tiny_policy[0], SETTINGS)
