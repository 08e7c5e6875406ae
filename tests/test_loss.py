"""GRPO math against hand computations (DeepSeekMath eq. 3, k3 KL, DAPO / Dr. GRPO / GSPO variants)."""

from __future__ import annotations

import pytest
import torch

from grpo_gym.agent.loss import group_advantages, grpo_loss


def test_zero_std_group_gets_zero_advantage_not_nan() -> None:
    r = torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1], [0.0, 1.0, 0.0, 1.0]])
    for scale in ("group", "batch", "none"):
        a = group_advantages(r, scale=scale)
        assert torch.isfinite(a).all()
        assert torch.equal(a[0], torch.zeros(4)) and torch.equal(a[1], torch.zeros(4))


def test_advantages_by_hand() -> None:
    r = torch.tensor([[0.0, 1.0, 1.0, 2.0], [3.0, 5.0, 5.0, 3.0]])
    g = group_advantages(r, scale="group", eps=0.0)
    std0 = torch.tensor([0.0, 1.0, 1.0, 2.0]).std()  # unbiased, as torch.std
    assert torch.allclose(g[0], (torch.tensor([0.0, 1, 1, 2]) - 1.0) / std0)
    assert torch.allclose(g.mean(dim=1), torch.zeros(2), atol=1e-6)
    b = group_advantages(r, scale="batch", eps=0.0)
    assert torch.allclose(b[1], (torch.tensor([3.0, 5, 5, 3]) - 4.0) / r.std())
    n = group_advantages(r, scale="none")
    assert torch.allclose(n, torch.tensor([[-1.0, 0, 0, 1], [-1.0, 1, 1, -1]]))
    with pytest.raises(ValueError, match="G >= 2"):
        group_advantages(torch.zeros(3, 1))
    with pytest.raises(ValueError, match="unknown scale"):
        group_advantages(r, scale="median")  # type: ignore[arg-type]


def _inputs(N: int = 4, T: int = 5, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    logp = (-torch.rand(N, T, generator=g) * 3).requires_grad_()
    mask = torch.ones(N, T)
    mask[0, 3:] = 0
    mask[2, 1:] = 0
    adv = torch.randn(N, generator=g)
    ref = -torch.rand(N, T, generator=g) * 3
    return logp, mask, adv, ref


def test_ratio_one_beta_zero_is_plain_policy_gradient() -> None:
    logp, mask, adv, _ = _inputs()
    loss, m = grpo_loss(logp, logp.detach(), None, adv, mask, beta=0.0)
    loss.backward()
    lengths = mask.sum(1, keepdim=True)
    expected = (
        -adv[:, None] * mask / lengths / logp.shape[0]
    )  # d/dlogp of -(1/N) sum_i (1/|o_i|) sum_t A_i logp
    assert torch.allclose(logp.grad, expected, atol=1e-6)
    assert torch.allclose(loss, -(adv * 1.0).mean(), atol=1e-6)  # value: ratio = 1
    assert m["ratio"] == pytest.approx(1.0) and m["kl"] == 0.0


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_clipping_stops_gradient_exactly_in_clipped_region(sign: float) -> None:
    eps = 0.2
    old = torch.zeros(1, 4)
    # log-ratios: far below, inside, inside, far above the clip range
    logp = torch.tensor([[-0.5, -0.1, 0.1, 0.5]], requires_grad=True)
    adv = torch.tensor([sign])
    loss, m = grpo_loss(logp, old, None, adv, torch.ones(1, 4), eps_low=eps, eps_high=eps, beta=0.0)
    loss.backward()
    g = logp.grad[0]
    assert g[1] != 0 and g[2] != 0  # inside the range: gradient flows
    if sign > 0:  # A > 0: clipped above (ratio > 1+eps), unclipped below (min picks r*A)
        assert g[3] == 0 and g[0] != 0
        assert m["clip_high"] == pytest.approx(0.25) and m["clip_low"] == 0
    else:  # A < 0: clipped below (ratio < 1-eps), unclipped above
        assert g[0] == 0 and g[3] != 0
        assert m["clip_low"] == pytest.approx(0.25) and m["clip_high"] == 0


def test_kl_zero_when_policy_equals_reference_and_positive_otherwise() -> None:
    logp, mask, adv, ref = _inputs()
    _, m = grpo_loss(logp, logp.detach(), logp.detach().clone(), adv, mask, beta=0.1)
    assert m["kl"] == pytest.approx(0.0, abs=1e-7)
    _, m2 = grpo_loss(logp, logp.detach(), ref, adv, mask, beta=0.1)
    d = ref - logp.detach()
    k3 = torch.exp(d) - d - 1
    assert m2["kl"] == pytest.approx(((k3 * mask).sum() / mask.sum()).item(), rel=1e-5)
    with pytest.raises(ValueError, match="ref_logp is required"):
        grpo_loss(logp, logp.detach(), None, adv, mask, beta=0.1)


def test_masked_tokens_get_no_gradient() -> None:
    logp, mask, adv, ref = _inputs()
    for loss_type in ("grpo", "bnpo", "dr_grpo"):
        logp.grad = None
        loss, _ = grpo_loss(
            logp,
            logp.detach() + 0.05,
            ref,
            adv,
            mask,
            beta=0.04,
            loss_type=loss_type,
            max_completion_length=5,
        )
        loss.backward()
        assert torch.all(logp.grad[mask == 0] == 0)
        assert torch.any(logp.grad[mask == 1] != 0)


def test_each_loss_type_against_hand_computation() -> None:
    logp, mask, adv, ref = _inputs()
    old = logp.detach() + 0.03
    beta = 0.05
    ratio = torch.exp(logp.detach() - old)
    per_tok = -torch.minimum(ratio * adv[:, None], ratio.clamp(0.8, 1.2) * adv[:, None])
    d = ref - logp.detach()
    per_tok = per_tok + beta * (torch.exp(d) - d - 1)
    N = logp.shape[0]
    want = {
        "grpo": ((per_tok * mask).sum(1) / mask.sum(1)).mean(),
        "bnpo": (per_tok * mask).sum() / mask.sum(),
        "dr_grpo": (per_tok * mask).sum() / (N * 7),
    }
    for loss_type, expected in want.items():
        loss, _ = grpo_loss(
            logp, old, ref, adv, mask, beta=beta, loss_type=loss_type, max_completion_length=7
        )
        assert loss.item() == pytest.approx(expected.item(), rel=1e-5), loss_type
    with pytest.raises(ValueError, match="max_completion_length"):
        grpo_loss(logp, old, ref, adv, mask, loss_type="dr_grpo")


def test_sequence_level_ratio_is_length_normalised() -> None:
    logp, mask, adv, _ = _inputs()
    old = logp.detach() - 0.01 * torch.arange(5.0)
    _, m = grpo_loss(logp, old, None, adv, mask, beta=0.0, ratio_level="sequence")
    seq = torch.exp(((logp.detach() - old) * mask).sum(1) / mask.sum(1))  # [N]
    expected = ((seq[:, None].expand_as(mask) * mask).sum() / mask.sum()).item()
    assert m["ratio"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("loss_type", ["grpo", "bnpo", "dr_grpo"])
def test_gradient_accumulation_equals_one_big_batch(loss_type: str) -> None:
    logp, mask, adv, ref = _inputs(N=6, T=5, seed=3)
    mask[4, 2:] = 0
    old = logp.detach() + 0.02
    full, _ = grpo_loss(logp, old, ref, adv, mask, loss_type=loss_type, max_completion_length=5)
    full.backward()
    g_full = logp.grad.clone()
    logp.grad = None
    total_seq, total_tok = mask.shape[0], int(mask.sum())
    acc = 0.0
    for idx in (slice(0, 2), slice(2, 6)):  # unequal micro-batches with unequal token counts
        part, _ = grpo_loss(
            logp[idx],
            old[idx],
            ref[idx],
            adv[idx],
            mask[idx],
            loss_type=loss_type,
            max_completion_length=5,
            total_sequences=total_seq,
            total_tokens=total_tok,
        )
        part.backward()
        acc += part.item()
    assert acc == pytest.approx(full.item(), rel=1e-5)
    assert torch.allclose(logp.grad, g_full, atol=1e-7)
