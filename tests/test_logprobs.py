"""``completion_logprobs`` against the plain definition: one full forward, log_softmax, gather.

Every fast path (split head over real tokens only, shared-prompt KV cache, one sparse embedding
lookup) must give the same log-probs at real completion tokens and the same parameter gradients.
"""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from grpo_gym.agent.fast import logprobs
from grpo_gym.agent.fast.logprobs import fast_completion_logprobs
from grpo_gym.agent.logprobs import completion_logprobs, plain_completion_logprobs, position_ids


def _model(tied: bool) -> LlamaForCausalLM:
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=97,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        tie_word_embeddings=tied,
    )
    return LlamaForCausalLM(cfg).float()


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Two groups of 3 replies (prompts of different lengths, left-padded), ragged completions."""
    g = torch.Generator().manual_seed(1)
    P, T = 6, 5
    prompts = [torch.randint(3, 97, (4,), generator=g), torch.randint(3, 97, (6,), generator=g)]
    lengths = [5, 2, 4, 1, 5, 3]
    ids = torch.zeros((6, P + T), dtype=torch.long)
    attn = torch.zeros((6, P + T), dtype=torch.long)
    for i, t in enumerate(lengths):
        p = prompts[i // 3]
        ids[i, P - len(p) : P] = p
        ids[i, P : P + t] = torch.randint(3, 97, (t,), generator=g)
        attn[i, P - len(p) : P + t] = 1
    weights = torch.randn((6, T), generator=g)  # an arbitrary loss over the log-probs
    return ids, attn, weights, T


def _naive(model, ids, attn, T, temperature):
    logits = model(input_ids=ids, attention_mask=attn, position_ids=position_ids(attn)).logits[
        :, -T - 1 : -1
    ]
    return (
        torch.log_softmax(logits.float() / temperature, -1)
        .gather(-1, ids[:, -T:, None])
        .squeeze(-1)
    )  # [N, T]


def _value_and_grads(fn, model, weights, real):
    model.zero_grad(set_to_none=True)
    logp = fn()
    (logp * weights * real).sum().backward()
    return logp.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize(
    ("share", "split"), [(True, True), (False, True), (True, False), (False, False)]
)
def test_every_path_matches_the_plain_forward(
    tied: bool, share: bool, split: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model(tied)
    ids, attn, weights, T = _batch()
    real = attn[:, -T:].float()
    want, want_grads = _value_and_grads(
        lambda: _naive(model, ids, attn, T, 0.7), model, weights, real
    )
    shared_calls: list[bool] = []
    real_shared = logprobs._shared_prefix_states

    def spy(*args, **kwargs):
        out = real_shared(*args, **kwargs)
        shared_calls.append(out is not None)
        return out

    monkeypatch.setattr(logprobs, "_shared_prefix_states", spy)
    got, got_grads = _value_and_grads(
        lambda: fast_completion_logprobs(
            model, ids, attn, T, temperature=0.7, share_prompt=share, split_head=split
        )[0],
        model,
        weights,
        real,
    )
    assert shared_calls == ([True] if share else [])  # the path under test really ran
    m = real.bool()
    assert torch.allclose(got[m], want[m], atol=1e-5)
    for name, g in want_grads.items():
        assert not got_grads[name].is_sparse, name
        assert torch.allclose(got_grads[name], g, atol=1e-5), name


def test_split_head_is_used_for_plain_llama_and_not_for_other_models() -> None:
    assert logprobs._split_head(_model(True)) is not None
    biased = _model(False)
    biased.lm_head = torch.nn.Linear(32, 97, bias=True)  # temperature cannot move inside the head
    assert logprobs._split_head(biased) is None
    other = _model(True)
    other.config.model_type = "gemma2"  # soft-caps its logits: must go through its own forward
    assert logprobs._split_head(other) is None


def test_entropy_and_reference_mode() -> None:
    model = _model(True)
    ids, attn, _, T = _batch()
    real = attn[:, -T:].bool()
    logits = (
        model(input_ids=ids, attention_mask=attn, position_ids=position_ids(attn))
        .logits[:, -T - 1 : -1]
        .float()
    )
    p = torch.softmax(logits, -1)
    want_ent = -(p * torch.log_softmax(logits, -1)).sum(-1)
    logp, ent = completion_logprobs(model, ids, attn, T)
    assert torch.allclose(ent[real], want_ent[real], atol=1e-4)
    assert torch.all(logp[~real] == 0) and not ent.requires_grad
    with torch.inference_mode():  # the reference forward: no gradient, same values
        ref, ref_ent = completion_logprobs(model, ids, attn, T, with_entropy=False)
    assert torch.allclose(ref[real], logp.detach()[real], atol=1e-6) and torch.all(ref_ent == 0)


def test_rows_without_completion_tokens() -> None:
    model = _model(True)
    ids, attn, _, T = _batch()
    attn[:, -T:] = 0  # every completion empty: nothing reaches the head
    logp, ent = completion_logprobs(model, ids, attn, T)
    assert logp.shape == (6, T) and torch.all(logp == 0) and torch.all(ent == 0)


def test_label_logprob_gradient_and_entropy() -> None:
    torch.manual_seed(0)
    logits = torch.randn(7, 11, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 11, (7,))
    assert torch.autograd.gradcheck(lambda x: logprobs._LabelLogProb.apply(x, labels)[0], (logits,))
    logp, ent = logprobs._LabelLogProb.apply(logits, labels)
    want = torch.log_softmax(logits, -1)
    assert torch.allclose(logp, want.gather(-1, labels[:, None]).squeeze(-1))
    assert torch.allclose(ent, -(want.exp() * want).sum(-1)) and not ent.requires_grad


def test_selective_log_softmax_chunks_and_no_grad_path() -> None:
    torch.manual_seed(0)
    logits, labels = torch.randn(5, 3, 13), torch.randint(0, 13, (5, 3))
    want = torch.log_softmax(logits, -1).gather(-1, labels[..., None]).squeeze(-1)
    for rows in (1, 2, 8):
        for ent in (True, False):
            got, e = logprobs.selective_log_softmax(
                logits, labels, chunk_rows=rows, with_entropy=ent
            )
            assert got.shape == (5, 3) and torch.allclose(got, want, atol=1e-6)
            assert torch.all(e == 0) != ent


def test_gradient_checkpointing_takes_the_full_forward_with_equal_gradients() -> None:
    model = _model(True)
    ids, attn, weights, T = _batch()
    real = attn[:, -T:].float()
    model.train()
    want, want_grads = _value_and_grads(
        lambda: _naive(model, ids, attn, T, 1.0), model, weights, real
    )
    (
        getattr(model, "activation_checkpointing_enable", None)
        or model.gradient_checkpointing_enable
    )()
    got, got_grads = _value_and_grads(
        lambda: completion_logprobs(model, ids, attn, T)[0], model, weights, real
    )
    m = real.bool()
    assert torch.allclose(got[m], want[m], atol=1e-5)
    for name, g in want_grads.items():
        assert torch.allclose(got_grads[name], g, atol=1e-5), name


def test_plain_path_is_the_definition_in_values_gradients_and_entropy() -> None:
    model = _model(True)
    ids, attn, weights, T = _batch()
    real = attn[:, -T:].float()
    want, want_grads = _value_and_grads(
        lambda: _naive(model, ids, attn, T, 0.7), model, weights, real
    )
    got, got_grads = _value_and_grads(
        lambda: completion_logprobs(model, ids, attn, T, temperature=0.7, impl="plain")[0],
        model,
        weights,
        real,
    )
    assert torch.allclose(got, want, atol=1e-6)  # every position, padding included
    for name, g in want_grads.items():
        assert torch.allclose(got_grads[name], g, atol=1e-6), name
    _, ent = plain_completion_logprobs(model, ids, attn, T)
    _, fast_ent = completion_logprobs(model, ids, attn, T, impl="fast")
    m = real.bool()
    assert torch.allclose(ent[m], fast_ent[m], atol=1e-4) and not ent.requires_grad


def test_unknown_impl_is_an_error() -> None:
    model = _model(True)
    ids, attn, _, T = _batch()
    with pytest.raises(ValueError, match="'fast' or 'plain'"):
        completion_logprobs(model, ids, attn, T, impl="turbo")  # type: ignore[arg-type]
