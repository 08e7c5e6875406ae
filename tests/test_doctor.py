"""`grpo-gym doctor`: preflight checks pass on a sound setup, and each failure says how to fix it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.doctor import _chat_template, estimate_step_bytes
from grpo_gym.cli import main


@pytest.fixture(autouse=True)
def _test_envs() -> None:
    """Registers grpo_gym_test/* when a test runs, not at collection (test_envs.py checks every env registered then)."""
    import tests.fixture_envs  # noqa: F401


def test_doctor_passes_on_the_tiny_model_and_a_sound_env(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "doctor",
            "--model",
            str(tiny_model_dir),
            "--env",
            "grpo_gym_test/Letter-v0",
            "--device",
            "cpu",
            "--output-dir",
            str(tmp_path / "run"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    for name in (
        "versions",
        "device",
        "model",
        "chat template",
        "memory per step",
        "env grpo_gym_test/Letter-v0",
        "output folder",
    ):
        assert f"ok    {name}" in out, name


def test_doctor_failures_say_how_to_fix(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code = main(
        [
            "doctor",
            "--skip-model",
            "--env",
            "grpo_gym_test/BrokenScorer-v0",
            "--device",
            "cpu",
            "--output-dir",
            str(blocker),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  env grpo_gym_test/BrokenScorer-v0" in out and "below its max_reward" in out
    assert "FAIL  output folder" in out and "is a file" in out
    assert out.count("fix: ") == 2


def test_a_template_that_rewrites_earlier_turns_fails_the_prefix_check(tiny_policy) -> None:
    _, tok = tiny_policy
    assert _chat_template(tok).ok
    # like templates that strip earlier turns' reasoning: the assistant turn renders differently once followed
    tok.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
        "{% if m['role'] == 'assistant' and not loop.last %}{{ m['content'].split('</think>')[-1] }}"
        "{% else %}{{ m['content'] }}{% endif %}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    check = _chat_template(tok)
    assert not check.ok and "earlier turns" in check.detail and "chat_template" in check.fix


def test_memory_estimate_grows_with_the_batch_and_shrinks_with_checkpointing() -> None:
    small = estimate_step_bytes(GRPOConfig(micro_batch_size=2), 135_000_000, 576, 30, 49152)
    big = estimate_step_bytes(GRPOConfig(micro_batch_size=16), 135_000_000, 576, 30, 49152)
    ckpt = estimate_step_bytes(
        GRPOConfig(micro_batch_size=16, gradient_checkpointing=True), 135_000_000, 576, 30, 49152
    )
    assert small["weights_and_optimizer"] == 135_000_000 * 4 * 5
    assert small["total"] < big["total"] and ckpt["activations"] < big["activations"]


def test_memory_estimate_with_lora_and_the_vllm_engine(tiny_model_dir: Path) -> None:
    """LoRA: weights + adapter states and no reference copy; vLLM: its weights and KV cache."""
    from transformers import AutoModelForCausalLM

    from grpo_gym.agent.doctor import lora_trainable_params
    from grpo_gym.agent.lora import LoraSettings, apply_lora

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    settings = LoraSettings(lora_r=4, lora_target_modules=("q_proj", "v_proj"))
    n = lora_trainable_params(model, settings)
    assert n == sum(p.numel() for p in apply_lora(model, settings).parameters() if p.requires_grad)
    full = GRPOConfig(beta=0.04)
    lora = GRPOConfig(beta=0.04, lora=dict(lora_r=4, lora_target_modules="q_proj,v_proj"))
    big = 135_000_000, 576, 30, 49152
    a = estimate_step_bytes(full, *big)
    b = estimate_step_bytes(lora, *big, trainable=1_000_000)
    assert a["weights_and_optimizer"] == 135_000_000 * 4 * 5  # weights, grad, 2 moments, reference
    assert b["weights_and_optimizer"] == 135_000_000 * 4 + 1_000_000 * 4 * 3
    vllm = GRPOConfig.from_dict(
        dict(engine="vllm", vllm=dict(vllm_dtype="float32", vllm_kv_cache_gib=2))
    )
    c = estimate_step_bytes(vllm, *big, device="cpu")
    assert c["vllm_engine"] == 135_000_000 * 4 + 2 * 2**30
    assert c["total"] == a["total"] + c["vllm_engine"] and "vllm_engine" not in a
    gpu = estimate_step_bytes(GRPOConfig.from_dict(dict(engine="vllm")), *big, device="cuda")
    assert gpu["vllm_engine"] == 135_000_000 * 2  # bf16 weights; its KV cache is a device fraction


def test_training_warns_before_a_step_that_may_not_fit(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step estimated above the free memory is announced before it runs (not an OOM kill)."""
    from grpo_gym.agent import doctor
    from grpo_gym.agent.trainer import train

    cfg = GRPOConfig.from_dict(
        dict(
            model=str(tiny_model_dir),
            env=("grpo_gym_test/Letter-v0",),
            steps=1,
            prompts_per_step=2,
            group_size=2,
            max_new_tokens=4,
            device="cpu",
            output_dir=str(tmp_path / "run"),
            eval_before_after=False,
            progress=False,
        )
    )
    lines: list[str] = []
    train(cfg, echo=lines.append)
    assert not any("may not fit" in line for line in lines)  # the tiny step fits
    monkeypatch.setattr(doctor, "available_memory", lambda device: (2**20, "1 MiB free"))
    lines.clear()
    train(dataclasses.replace(cfg, output_dir=str(tmp_path / "run2")), echo=lines.append)
    (warning,) = [line for line in lines if "may not fit" in line]
    assert "GiB per step" in warning and "micro_batch_size" in warning


def test_doctor_checks_a_benchmark_env_on_a_task_with_a_known_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # IFBench's first task (seed 0) has no reply known to follow it: doctor must look further
    argv = ["doctor", "--skip-model", "--env", "grpo_gym/IFBench-v0"]
    code = main([*argv, "--output-dir", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert "ok    env grpo_gym/IFBench-v0" in out and "reference scores 1" in out, out
    assert code == 0, out
