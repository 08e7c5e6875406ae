"""Engine log-probs through the update: carried sample -> micro-batch, drift metric, truncated IS."""

from __future__ import annotations

import pytest
import torch

from grpo_gym.agent.batch import collate
from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.logprobs import completion_logprobs
from grpo_gym.agent.loss import grpo_loss
from grpo_gym.agent.rollout import Sample
from grpo_gym.agent.update import Learner


def test_is_weights_scale_the_surrogate_not_the_kl() -> None:
    torch.manual_seed(0)
    logp = torch.randn(4, 5) * 0.1 - 1
    old = logp + 0.05 * torch.randn(4, 5)
    ref = logp + 0.1 * torch.randn(4, 5)
    adv, mask = torch.tensor([1.0, -1.0, 0.5, -0.5]), torch.ones(4, 5)
    half = torch.full((4, 5), 0.5)
    surrogate, _ = grpo_loss(logp, old, None, adv, mask, beta=0.0)
    weighted, _ = grpo_loss(logp, old, None, adv, mask, beta=0.0, is_weights=half)
    torch.testing.assert_close(weighted, 0.5 * surrogate)
    with_kl, _ = grpo_loss(logp, old, ref, adv, mask, beta=0.1)
    with_kl_weighted, _ = grpo_loss(logp, old, ref, adv, mask, beta=0.1, is_weights=half)
    torch.testing.assert_close(
        with_kl - with_kl_weighted, 0.5 * surrogate
    )  # the KL part is untouched


def test_collate_carries_engine_logprobs_only_when_every_sample_has_them() -> None:
    a = Sample(
        torch.tensor([1, 2]), torch.tensor([5, 6, 7]), 0, False, torch.tensor([-0.1, -0.2, -0.3])
    )
    b = Sample(torch.tensor([3]), torch.tensor([8]), 1, False, torch.tensor([-0.4]))
    mb = collate([a, b], [1.0, -1.0], pad_id=0)
    torch.testing.assert_close(
        mb.sampled_logp, torch.tensor([[-0.1, -0.2, -0.3], [-0.4, 0.0, 0.0]])
    )
    assert mb.to("cpu").sampled_logp is not None
    plain = Sample(torch.tensor([3]), torch.tensor([8]), 1, False)
    assert collate([a, plain], [1.0, -1.0], pad_id=0).sampled_logp is None


@pytest.mark.parametrize("tis_cap", [0.0, 1.1])
def test_learner_reports_drift_and_applies_truncated_is(tiny_policy, tis_cap: float) -> None:
    model, tokenizer = tiny_policy
    cfg = GRPOConfig(beta=0.0, lr=1e-3, tis_cap=tis_cap, device="cpu")
    ids = tokenizer(
        "<|im_start|>user\nabc<|im_end|>\n<|im_start|>assistant\nThe answer is 5.<|im_end|>",
        add_special_tokens=False,
    )["input_ids"]
    P = 6
    samples = [Sample(torch.tensor(ids[:P]), torch.tensor(ids[P:]), i, False) for i in range(2)]
    mb = collate(samples, [1.0, -1.0], pad_id=tokenizer.pad_token_id)
    with torch.no_grad():
        policy = completion_logprobs(
            model, mb.input_ids, mb.attention_mask, mb.completion_len, with_entropy=False
        )[0]
    gaps = torch.tensor([[0.3], [-0.3]])  # engine log-probs below / above the policy's
    mb.sampled_logp = policy - gaps  # [2, T]
    stats = Learner(cfg, model, None, "cpu").update([mb])
    assert stats.engine_drift == pytest.approx(0.3, abs=1e-4)
    if tis_cap:  # weights exp(0.3) capped at 1.1, and exp(-0.3)
        assert stats.tis_weight == pytest.approx(
            (1.1 + torch.tensor(-0.3).exp().item()) / 2, abs=1e-4
        )
    else:
        assert stats.tis_weight == 0.0


def test_tis_cap_is_validated() -> None:
    with pytest.raises(ValueError, match=r"tis_cap=0\.5"):
        GRPOConfig(tis_cap=0.5)
