"""The vLLM engine (real vLLM on CPU, `make test-vllm`): weight sync, token layout, errors.

Tests marked ``vllm`` run only where vLLM imports (.venv-vllm); the error-path tests at the
bottom need no vLLM and run in every venv.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from transformers import LlamaConfig

import tests.fixture_envs  # noqa: F401  (registers grpo_gym_test/* envs)
from grpo_gym.agent import load_policy
from grpo_gym.agent.engines import HFSampler
from grpo_gym.agent.engines.vllm import VLLMEngine, VLLMSettings, VLLMUnavailable, check_vllm
from grpo_gym.agent.logprobs import completion_logprobs
from grpo_gym.agent.sampling import SamplingConfig

HAS_VLLM = importlib.util.find_spec("vllm") is not None
needs_vllm = pytest.mark.skipif(
    not HAS_VLLM, reason="vLLM is not installed: `make test-vllm` runs these in .venv-vllm"
)

CONVS = [
    [{"role": "user", "content": "What is 12 + 7? Put the final answer in \\boxed{}."}],
    [
        {"role": "system", "content": "Answer with a number."},
        {"role": "user", "content": "Solve for x: 3x - 4 = 11."},
    ],
    [{"role": "user", "content": "abc"}],
]
SAMPLING = SamplingConfig(max_new_tokens=24, temperature=1.0)


@pytest.fixture(scope="module")
def engine_and_policy(tiny_vllm_dir: Path):
    model, tokenizer = load_policy(tiny_vllm_dir, device="cpu")
    engine = VLLMEngine(
        model,
        tokenizer,
        SAMPLING,
        VLLMSettings(vllm_dtype="float32", vllm_kv_cache_gib=0.25),
        seed=0,
    )
    yield engine, model, tokenizer
    engine.close()


def _drift(model, gen) -> tuple[float, float]:
    """(max, mean) |engine log-prob - policy log-prob| over the sampled tokens."""
    T = gen.completion_ids.shape[1]
    with torch.no_grad():
        logp, _ = completion_logprobs(
            model,
            gen.input_ids,
            gen.attention_mask,
            T,
            temperature=SAMPLING.temperature,
            with_entropy=False,
        )
    diff = (logp - gen.sampled_logp).abs()[gen.completion_mask.bool()]
    return diff.max().item(), diff.mean().item()


@pytest.mark.vllm
@needs_vllm
def test_engine_follows_the_policy_only_after_a_sync(engine_and_policy, restore_policy) -> None:
    engine, model, _ = engine_and_policy
    torch.manual_seed(0)
    gen = engine.generate(CONVS, n=4)
    assert gen.completion_mask.sum() > 3 * 4  # real replies were sampled
    synced_max, _ = _drift(model, gen)
    assert synced_max < 2e-3, f"engine and policy disagree right after a sync: {synced_max}"

    with torch.no_grad():  # an update the engine has not seen
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    _, stale_mean = _drift(model, engine.generate(CONVS, n=4))
    assert stale_mean > 50 * synced_max, (
        f"stale weights went unnoticed: {stale_mean} vs {synced_max}"
    )

    engine.sync_weights(model)  # same prompts: a stale prefix cache would show here
    fresh_max, _ = _drift(model, engine.generate(CONVS, n=4))
    assert fresh_max < 2e-3, f"after a sync the engine still samples old weights: {fresh_max}"


@pytest.fixture()
def restore_policy(engine_and_policy):
    """Put the shared model (and its engine) back as loaded after a test that changes its weights."""
    engine, model, _ = engine_and_policy
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    yield
    model.load_state_dict(saved)
    engine.sync_weights(model)


@pytest.mark.vllm
@needs_vllm
def test_token_layout_matches_the_hf_sampler(engine_and_policy) -> None:
    engine, model, tokenizer = engine_and_policy
    hf = HFSampler(model, tokenizer, SAMPLING).generate(CONVS, n=2)
    gen = engine.generate(CONVS, n=2)
    # same template, same ids
    torch.testing.assert_close(gen.prompt_ids, hf.prompt_ids, rtol=0, atol=0)
    torch.testing.assert_close(gen.prompt_mask, hf.prompt_mask, rtol=0, atol=0)
    for g in (gen, hf):
        lengths = g.completion_mask.sum(dim=1)
        for row in range(len(g.texts)):
            n_tok = int(lengths[row])
            assert g.completion_mask[row, :n_tok].all() and not g.completion_mask[row, n_tok:].any()
            ids = g.completion_ids[row, :n_tok].tolist()
            eos_at = [i for i, t in enumerate(ids) if t in engine.eos_ids]
            if g.truncated[row]:
                assert not eos_at and n_tok == SAMPLING.max_new_tokens
            else:
                assert eos_at == [n_tok - 1]  # 1 up to and including the first EOS, nothing after
            assert (g.completion_ids[row, n_tok:] == tokenizer.pad_token_id).all()
            assert g.texts[row] == tokenizer.decode(ids, skip_special_tokens=True)
    assert gen.sampled_logp.shape == gen.completion_ids.shape
    assert (gen.sampled_logp[gen.completion_mask == 0] == 0).all() and (
        gen.sampled_logp[gen.completion_mask == 1] <= 0
    ).all()


@pytest.mark.vllm
@needs_vllm
def test_lora_policy_syncs_merged_weights(engine_and_policy, restore_policy) -> None:
    pytest.importorskip("peft")
    from grpo_gym.agent.lora import LoraSettings, apply_lora

    engine, model, _ = engine_and_policy
    lora = apply_lora(
        model,
        LoraSettings(
            lora_r=4, lora_alpha=16, lora_target_modules=("q_proj", "v_proj", "down_proj")
        ),
    )
    with torch.no_grad():
        for name, p in lora.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.2)  # adapters that change the outputs
    engine.sync_weights(lora)
    gen = engine.generate(CONVS, n=3)
    merged_max, _ = _drift(lora, gen)
    assert merged_max < 2e-3
    with lora.disable_adapter():
        _, base_mean = _drift(lora, gen)
    assert base_mean > 50 * merged_max  # the adapters really reached the engine
    lora.unload()  # leave the shared model plain for other tests


def test_missing_vllm_names_the_make_target(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real(name, *a)
    )
    with pytest.raises(VLLMUnavailable, match="make vllm-setup"):
        check_vllm(LlamaConfig(), "cpu")


@pytest.mark.vllm
@needs_vllm
def test_unusable_device_and_model_are_named() -> None:
    from vllm.platforms import current_platform

    other = "cuda" if current_platform.device_type == "cpu" else "cpu"
    with pytest.raises(
        VLLMUnavailable, match=f"runs on {current_platform.device_type}, not on '{other}'"
    ):
        check_vllm(LlamaConfig(), other)
    with pytest.raises(
        VLLMUnavailable,
        match=r"does not support the model architecture \['NoSuchLMForCausalLM'\]: use --engine hf",
    ):
        check_vllm(LlamaConfig(architectures=["NoSuchLMForCausalLM"]), current_platform.device_type)
    with pytest.raises(
        VLLMUnavailable, match=r"does not support head_dim=16 \(supported: \[32, 64"
    ):
        check_vllm(LlamaConfig(hidden_size=64, num_attention_heads=4), "cpu")


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="vllm_gpu_memory_utilization"):
        VLLMSettings(vllm_gpu_memory_utilization=0)
    with pytest.raises(ValueError, match="vllm_dtype"):
        VLLMSettings(vllm_dtype="int8")
    with pytest.raises(ValueError, match="vllm_kv_cache_gib"):
        VLLMSettings(vllm_kv_cache_gib=0)


def _vllm_run(model_dir: Path, tmp_path: Path, **kw: object):
    """A GRPOConfig sampling with an fp32 vLLM engine on the Letter env (``kw`` on top)."""
    from grpo_gym.agent.config import GRPOConfig

    base: dict[str, object] = dict(
        model=str(model_dir),
        env=("grpo_gym_test/Letter-v0",),
        prompts_per_step=2,
        sampling=dict(engine="vllm", max_new_tokens=8, temperature=1.0),
        vllm=dict(vllm_dtype="float32", vllm_kv_cache_gib=0.25),
        tis_cap=2.0,
        device="cpu",
        output_dir=str(tmp_path / "run"),
        eval_before_after=False,
        progress=False,
        seed=0,
    )
    return GRPOConfig.from_dict({**base, **kw})


@pytest.mark.vllm
@needs_vllm
def test_grpo_with_the_vllm_engine_learns_an_easy_env(
    engine_and_policy, tiny_vllm_dir: Path, tmp_path: Path
) -> None:
    """The same honest learning test as the HF engine's, sampling with vLLM synced every step.

    It starts from the saved tiny model: the module's shared model is changed in memory by
    other tests (a noised copy collapses to one reply per prompt within 3 steps at this lr,
    with either engine, and then has no signal to learn from). The module's engine stays
    alive meanwhile, so this also checks that two engines in one process keep their weights apart.
    """
    from grpo_gym.agent.trainer import train

    other, other_model, _ = engine_and_policy
    cfg = _vllm_run(
        tiny_vllm_dir, tmp_path, steps=30, group_size=8, lr=1e-2, beta=0.0, loss_type="bnpo"
    )
    res = train(cfg, echo=lambda s: None)
    r = [m["reward_mean"] for m in res.history]
    first, last = sum(r[:5]) / 5, sum(r[-5:]) / 5
    assert last > first + 0.2, r
    drift = [m["engine_drift"] for m in res.history]
    assert all(0 < d < 1e-3 for d in drift), (
        drift
    )  # fp32 engine: same numbers up to rounding, every step
    assert all(0.99 < m["tis_weight"] <= 1.01 for m in res.history)
    # 30 syncs of the training engine left the other engine on its own model's weights
    untouched_max, _ = _drift(other_model, other.generate(CONVS, n=2))
    assert untouched_max < 2e-3, untouched_max


@pytest.mark.vllm
@needs_vllm
def test_lora_training_with_the_vllm_engine_syncs_merged_weights(
    tiny_vllm_dir: Path, tmp_path: Path
) -> None:
    """A LoRA run sampling with vLLM: every step the engine gets base + adapters, merged."""
    pytest.importorskip("peft")
    from grpo_gym.agent.trainer import train

    lora = dict(lora_r=4, lora_alpha=16, lora_target_modules=("q_proj", "v_proj"))
    cfg = _vllm_run(tiny_vllm_dir, tmp_path, steps=4, group_size=4, lr=5e-2, lora=lora)
    res = train(cfg, echo=lambda s: None)
    assert res.history[-1]["kl"] > 1e-5  # the adapters moved the policy off the base ...
    drift = [m["engine_drift"] for m in res.history]
    assert all(0 < d < 1e-3 for d in drift), drift  # ... and the engine sampled the moved policy
    assert res.checkpoint is not None and (res.checkpoint / "adapter_config.json").is_file()


@pytest.mark.vllm
@needs_vllm
def test_engine_stops_at_a_stop_string_and_says_how_each_reply_ended(engine_and_policy) -> None:
    import string

    from grpo_gym.rewards import finish_reason

    engine, _, tokenizer = engine_and_policy
    free = engine.generate(CONVS[:1], n=8)
    reasons = [finish_reason(t) for t in free.texts]
    assert set(reasons) <= {"stop", "length"}
    assert reasons == ["length" if bool(t) else "stop" for t in free.truncated]
    texts = [
        tokenizer.decode(ids[m.bool()].tolist())
        for ids, m in zip(free.completion_ids, free.completion_mask, strict=True)
    ]
    letters = [c for c in string.ascii_letters if any(c in t for t in texts)]
    assert letters, f"no letters in the tiny model's replies {texts!r}"
    stop = max(letters, key=lambda c: sum(c in t for t in texts))  # the most widespread letter
    stopped = engine.generate(CONVS[:1], n=8, stop=(stop,))
    reached = 0
    for i in range(8):
        kept = stopped.completion_ids[i][stopped.completion_mask[i].bool()].tolist()
        if stop in tokenizer.decode(kept):  # a reply that reached the stop ends right after it
            reached += 1
            assert stop not in tokenizer.decode(kept[:-1]) and not bool(stopped.truncated[i])
            assert finish_reason(stopped.texts[i]) == "stop"
    assert reached, f"no reply reached the stop string {stop!r}"
