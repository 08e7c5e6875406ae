"""Sampling fast paths: oneDNN-prepacked CPU weights and the static KV cache give the same samples."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from grpo_gym.agent.engines import HFSampler
from grpo_gym.agent.fast.prepack import prepack_available, prepacked_linears
from grpo_gym.agent.sampling import SamplingConfig

needs_onednn = pytest.mark.skipif(
    not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN"
)


def _linears(model: torch.nn.Module) -> list[torch.nn.Linear]:
    return [m for m in model.modules() if type(m) is torch.nn.Linear]


@needs_onednn
def test_packed_forward_matches_and_is_undone(tiny_policy) -> None:
    model, tok = tiny_policy
    ids = tok(["hello there", "x"], return_tensors="pt", padding=True)
    with torch.no_grad():
        want = model(**ids).logits
        assert prepack_available()
        with prepacked_linears(model, rows=2) as switched:
            assert switched == len(_linears(model)) > 0
            assert all("forward" in m.__dict__ for m in _linears(model))
            got = model(**ids).logits
        assert not any("forward" in m.__dict__ for m in _linears(model))
        again = model(**ids).logits
    assert torch.allclose(got, want, atol=1e-4)
    assert torch.equal(again, want)


@needs_onednn
def test_restored_after_an_error_and_hooked_layers_are_left_alone(tiny_policy) -> None:
    model, _ = tiny_policy
    hooked = _linears(model)[0]
    hooked.forward = lambda x: torch.nn.Linear.forward(hooked, x)  # as an accelerate hook would
    with pytest.raises(RuntimeError, match="boom"), prepacked_linears(model, rows=4) as switched:
        assert switched == len(_linears(model)) - 1
        raise RuntimeError("boom")
    assert [("forward" in m.__dict__) for m in _linears(model)] == [
        m is hooked for m in _linears(model)
    ]


def test_non_float32_weights_keep_the_plain_path(tiny_policy) -> None:
    model, _ = tiny_policy
    with prepacked_linears(model.to(torch.bfloat16), rows=4) as switched:
        assert switched == 0


def test_sampler_draws_the_same_replies_with_and_without_packing(
    tiny_policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grpo_gym.agent.engines import hf as sampling
    from grpo_gym.agent.fast import prepack

    model, tok = tiny_policy
    assert not prepack.worth_prepacking(model)  # the tiny model is not packed by default...
    monkeypatch.setattr(prepack, "MIN_PREPACK_BYTES", 0)  # ...so force it here
    calls: list[int] = []
    real = sampling.prepacked_linears

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sampling, "prepacked_linears", spy)
    cfg = SamplingConfig(max_new_tokens=12, temperature=1.0)
    convs = [
        [{"role": "user", "content": "hi"}],
        [{"role": "user", "content": "a longer prompt than that"}],
    ]
    out = {}
    for packed in (True, False):
        torch.manual_seed(0)
        out[packed] = HFSampler(model, tok, dataclasses.replace(cfg, cpu_prepack=packed)).generate(
            convs, n=3
        )
    assert calls == [1]  # packed once: for cpu_prepack=True only
    assert out[True].texts == out[False].texts
    assert torch.equal(out[True].completion_ids, out[False].completion_ids)


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_static_cache_samples_what_the_dynamic_cache_samples(
    tiny_policy, temperature: float
) -> None:
    """The static-cache path (compiled on CUDA) pads prompts to a multiple of 64 and skips the shared prefill."""
    model, tok = tiny_policy
    convs = [
        [{"role": "user", "content": "hi"}],
        [{"role": "user", "content": "a longer prompt than that"}],
    ]
    out = {}
    for static in (False, True):
        torch.manual_seed(0)
        cfg = SamplingConfig(max_new_tokens=10, temperature=temperature, static_cache=static)
        out[static] = HFSampler(model, tok, cfg).generate(convs, n=2 if temperature else 1)
    assert out[True].prompt_ids.shape[1] % 64 == 0 and out[False].prompt_ids.shape[1] % 64 != 0
    assert out[True].texts == out[False].texts


@needs_onednn
def test_trainer_repacks_the_reference_after_a_sync(
    tiny_model_dir, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Synced every step, the reference equals the policy at each KL estimate: KL ~ 0 (stale packs would give KL > 0)."""
    import tests.fixture_envs  # noqa: F401  (registers grpo_gym_test/* envs)
    from grpo_gym.agent.config import GRPOConfig
    from grpo_gym.agent.fast import prepack
    from grpo_gym.agent.trainer import train

    monkeypatch.setattr(prepack, "MIN_PREPACK_BYTES", 0)
    packs: list[int] = []
    real = prepack.prepacked_linears

    def spy(model, rows):
        packs.append(rows)
        return real(model, rows)

    monkeypatch.setattr("grpo_gym.agent.update.prepacked_linears", spy)
    kl = {}
    for packed in (True, False):
        cfg = GRPOConfig.from_dict(
            dict(
                model=str(tiny_model_dir),
                env=("grpo_gym_test/Letter-v0",),
                steps=3,
                prompts_per_step=2,
                group_size=4,
                max_new_tokens=12,
                lr=1e-2,
                beta=0.1,
                ref_sync_every=1,
                device="cpu",
                cpu_prepack=packed,
                output_dir=str(tmp_path / str(packed)),
                eval_before_after=False,
                progress=False,
                micro_batch_size=4,
            )
        )
        kl[packed] = [m["kl"] for m in train(cfg, echo=lambda s: None).history]
    assert len(packs) == 1 + 3  # once at the start, again after each of the 3 syncs
    assert max(abs(k) for k in kl[True] + kl[False]) < 1e-6
