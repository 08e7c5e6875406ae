"""LoRA in training: flags, adapters-only updates, the base as reference, checkpoints, export, resume."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest
import torch

import tests.fixture_envs  # noqa: F401  (registers grpo_gym_test/* envs)
from grpo_gym.agent import load_policy, update
from grpo_gym.agent.batch import micro_batches
from grpo_gym.agent.engines import HFSampler
from grpo_gym.agent.env_pool import EnvPool
from grpo_gym.agent.errors import RunDirError
from grpo_gym.agent.logprobs import completion_logprobs
from grpo_gym.agent.lora import LoraSettings, apply_lora, is_lora
from grpo_gym.agent.step import grpo_step, sample_groups
from grpo_gym.agent.trainer import train
from grpo_gym.cli import main
from tests.helpers import tiny_cfg

pytest.importorskip("peft", reason="LoRA tests need the lora extra (make setup installs it)")

LORA = dict(lora_r=4, lora_alpha=16.0, lora_target_modules=("q_proj", "v_proj", "up_proj"))


def _logp(model, mb) -> torch.Tensor:
    with torch.no_grad():
        return completion_logprobs(
            model, mb.input_ids, mb.attention_mask, mb.completion_len, with_entropy=False
        )[0]


def test_lora_steps_move_only_adapters_and_the_reference_is_the_base(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_copy(obj: object) -> None:
        raise AssertionError("a LoRA learner must not copy the model for its reference")

    monkeypatch.setattr(update, "copy", types.SimpleNamespace(deepcopy=no_copy))
    cfg = tiny_cfg(tiny_model_dir, tmp_path, lr=5e-2, beta=0.1, max_new_tokens=8, lora=LORA)
    base, tokenizer = load_policy(tiny_model_dir, device="cpu")
    model, _ = load_policy(tiny_model_dir, device="cpu")
    model = apply_lora(model, cfg.lora)
    learner = update.Learner.with_reference_copy(cfg, model, "cpu")
    assert learner.reference is None
    before = {k: v.clone() for k, v in model.state_dict().items()}
    engine, envs = HFSampler(model, tokenizer, cfg.sampling), EnvPool()
    kls = [
        grpo_step(cfg, engine, envs, learner, s, tokenizer.pad_token_id).update.kl for s in range(3)
    ]
    rollout, _ = sample_groups(cfg, engine, envs, 3)
    envs.close()
    assert kls[0] == pytest.approx(0, abs=1e-6) and kls[-1] > 1e-4  # the policy left the base

    after = model.state_dict()
    moved = {k for k in after if not torch.equal(after[k], before[k])}
    assert moved and all("lora_" in k for k in moved), sorted(moved)
    assert any("lora_B" in k for k in moved)

    (mb,) = micro_batches(rollout.samples, [0.0] * len(rollout.samples), 64, 0)
    with learner._ref() as reference, torch.no_grad():  # the base model's log-probs, exactly
        ref_logp = learner._logps(reference, mb)[0]
        torch.testing.assert_close(ref_logp, _logp(base, mb), rtol=0, atol=1e-6)
    assert (_logp(model, mb) - _logp(base, mb)).abs().max() > 1e-3  # adapters back on after


def _cli_lora_run(model_dir: Path, out: Path, steps: int, *extra: str) -> int:
    return main(
        [
            "train",
            *("--model", str(model_dir), "--env", "grpo_gym_test/Letter-v0"),
            *("--steps", str(steps), "--prompts-per-step", "2", "--group-size", "4"),
            *("--max-new-tokens", "8", "--lr", "5e-2", "--beta", "0.04", "--device", "cpu"),
            *("--lora-r", "4", "--lora-alpha", "16", "--lora-dropout", "0"),
            *("--lora-target-modules", "q_proj,v_proj,up_proj"),
            *("--output-dir", str(out), "--eval-before-after", "false", "--progress", "false"),
            *extra,
        ]
    )


def test_lora_checkpoint_holds_the_adapter_and_exports_a_plain_model(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    from transformers import AutoModelForCausalLM

    from grpo_gym.agent.lora import load_lora_checkpoint

    assert _cli_lora_run(tiny_model_dir, tmp_path / "run", 2) == 0
    ckpt = tmp_path / "run" / "checkpoint-000002"
    adapter = json.loads((ckpt / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and set(adapter["target_modules"]) == {"q_proj", "v_proj", "up_proj"}
    assert (ckpt / "adapter_model.safetensors").is_file()
    assert not (ckpt / "model.safetensors").exists()  # no copy of the base weights
    saved = json.loads((ckpt / "grpo_config.json").read_text())["lora"]
    assert saved["lora_r"] == 4 and saved["lora_alpha"] == 16

    out = tmp_path / "merged"
    assert main(["export", "--checkpoint", str(ckpt), "--output", str(out)]) == 0
    exported = AutoModelForCausalLM.from_pretrained(out)  # plain transformers, no peft
    assert not is_lora(exported)
    trained = load_lora_checkpoint(load_policy(tiny_model_dir, device="cpu")[0], ckpt)
    ids = torch.tensor([[5, 17, 42, 99, 120, 7, 3]])
    with torch.no_grad():
        want = trained(input_ids=ids).logits
        torch.testing.assert_close(exported(input_ids=ids).logits, want, rtol=0, atol=1e-5)
        base = load_policy(tiny_model_dir, device="cpu")[0](input_ids=ids).logits
        assert (want - base).abs().max() > 1e-3  # the adapter is in the export
        # load_policy (eval, doctor) reads a LoRA checkpoint as its merged model
        merged, _ = load_policy(ckpt, device="cpu")
        torch.testing.assert_close(merged(input_ids=ids).logits, want, rtol=0, atol=1e-5)

    assert main(["export", "--checkpoint", str(ckpt), "--output", str(out)]) == 2  # not empty
    assert main(["export", "--checkpoint", str(tmp_path), "--output", str(tmp_path / "x")]) == 2


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_lora_resume_reproduces_an_uninterrupted_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    def cfg(out: str, steps: int, **kw):
        return tiny_cfg(tiny_model_dir, tmp_path / out, steps=steps, lr=5e-2, lora=LORA, **kw)

    full = train(cfg("full", 4), echo=lambda s: None)
    train(cfg("part", 2), echo=lambda s: None)
    resumed = train(cfg("part", 4, resume=True), echo=lambda s: None)
    assert [m["step"] for m in resumed.history] == [3, 4]
    for a, b in zip(full.history[2:], resumed.history, strict=True):
        for key in ("reward_mean", "loss", "kl", "grad_norm"):
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-7), key
    assert full.history[-1]["kl"] > 0  # the base-model reference is in the loss
    from safetensors.torch import load_file

    fa = load_file(full.checkpoint / "adapter_model.safetensors")
    fb = load_file(resumed.checkpoint / "adapter_model.safetensors")
    assert fa.keys() == fb.keys() and fa
    for k in fa:
        torch.testing.assert_close(fa[k], fb[k], rtol=0, atol=1e-6)

    with pytest.raises(RunDirError, match="holds a LoRA adapter: resume with its LoRA settings"):
        train(
            tiny_cfg(tiny_model_dir, tmp_path / "part", steps=5, resume=True), echo=lambda s: None
        )


def test_lora_settings_are_checked_with_the_run() -> None:
    with pytest.raises(ValueError, match="with LoRA the reference is the base model"):
        tiny_cfg(Path("m"), Path("o"), lora=LORA, ref_sync_every=2)
    with pytest.raises(ValueError, match="lora_dropout"):
        tiny_cfg(Path("m"), Path("o"), lora=dict(lora_r=4, lora_dropout=1.5))
    cfg = tiny_cfg(Path("m"), Path("o"), lora=dict(LORA, lora_target_modules=["q_proj"]))
    assert cfg.lora == LoraSettings(lora_r=4, lora_alpha=16.0, lora_target_modules=("q_proj",))
    assert type(cfg).from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg  # run-folder JSON
