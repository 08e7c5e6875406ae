"""The GRPO loop on the tiny model: config validation, one step, learning, errors, resume."""

from __future__ import annotations

import dataclasses
import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import tests.fixture_envs  # noqa: F401  (registers grpo_gym_test/* envs)
from grpo_gym.agent import load_policy
from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.engines import HFSampler
from grpo_gym.agent.fast.prefill import shared_prefill
from grpo_gym.agent.logprobs import completion_logprobs
from grpo_gym.agent.rollout import EnvPool, PromptRequest, collect
from grpo_gym.agent.sampling import SamplingConfig
from grpo_gym.agent.trainer import train
from tests.helpers import tiny_cfg


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        (dict(group_size=1), "needs >= 2 replies"),
        (dict(temperature=0.0), "temperature > 0"),
        (dict(env_weights=(1.0, 2.0)), "one weight per env"),
        (dict(env_kwargs="{digits: 1}"), "not valid JSON"),
        (dict(ref_sync_every=5, beta=0.0), "needs a reference model"),
        (dict(steps=0), "steps must be >= 1"),
        (dict(overlong_penalty=200, max_new_tokens=128), "must be < max_new_tokens"),
    ],
)
def test_config_rejects_bad_settings_with_a_fix(kw: dict, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        GRPOConfig.from_dict(kw)


def test_config_roundtrip() -> None:
    cfg = GRPOConfig(
        env=("a/B-v0", "c/D-v0"), env_weights=(1.0, 3.0), env_kwargs='{"a/B-v0": {"digits": 2}}'
    )
    assert GRPOConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert cfg.parsed_env_kwargs() == {"a/B-v0": {"digits": 2}}


def test_logprobs_match_generation_scores(tiny_policy) -> None:
    """Training log-probs (left padding, position ids, logits_to_keep) equal those seen while sampling."""
    model, tok = tiny_policy
    sampler = HFSampler(model, tok, SamplingConfig(max_new_tokens=6, temperature=0.0))
    gen = sampler.generate(
        [
            [{"role": "user", "content": "hi"}],
            [{"role": "user", "content": "a much longer prompt here"}],
        ]
    )
    out = model.generate(
        input_ids=gen.prompt_ids,
        attention_mask=gen.prompt_mask,
        max_new_tokens=6,
        do_sample=False,
        output_logits=True,
        return_dict_in_generate=True,
        pad_token_id=tok.pad_token_id,
    )
    gen_logp = torch.stack([torch.log_softmax(s.float(), -1) for s in out.logits], 1)  # [N, T, V]
    T = gen.completion_ids.shape[1]
    want = gen_logp[:, :T].gather(-1, out.sequences[:, -T:].unsqueeze(-1)).squeeze(-1)
    logp, _ = completion_logprobs(model, gen.input_ids, gen.attention_mask, T)
    m = gen.completion_mask.bool()
    assert torch.allclose(logp[m], want[m], atol=1e-4)


def test_collect_groups_and_multi_turn(tiny_policy) -> None:
    model, tok = tiny_policy
    sampler = HFSampler(model, tok, SamplingConfig(max_new_tokens=5))
    reqs = [
        PromptRequest("grpo_gym_test/TwoTurn-v0", 7),
        PromptRequest("grpo_gym_test/Letter-v0", 9),
    ]
    ro = collect(sampler, reqs, 3, EnvPool())
    assert len(ro.episodes) == 6 and ro.rewards().shape == (2, 3)
    prompts = {e.conversation[0]["content"] for e in ro.episodes[:3]}
    assert len(prompts) == 1  # one group = one prompt
    two = ro.episodes[:3]
    assert all(e.turns in (1, 2) for e in two)
    assert len(ro.samples) == sum(e.turns for e in ro.episodes)
    for e in two:
        if e.turns == 2:
            assert [m["role"] for m in e.conversation] == ["user", "assistant", "user", "assistant"]


def test_one_step_changes_parameters_and_gives_finite_metrics(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    cfg = tiny_cfg(tiny_model_dir, tmp_path / "run", steps=1, mu=2)
    before, _ = load_policy(tiny_model_dir, device="cpu")
    res = train(cfg, echo=lambda s: None)
    after, _ = load_policy(res.checkpoint, device="cpu")
    changed = [
        not torch.equal(a, b) for a, b in zip(before.parameters(), after.parameters(), strict=True)
    ]
    assert any(changed)
    m = res.history[0]
    for key in (
        "loss",
        "kl",
        "reward_mean",
        "entropy",
        "grad_norm",
        "clip_low",
        "clip_high",
        "ratio",
        "time_generate",
        "samples_per_s",
    ):
        assert key in m and torch.isfinite(torch.tensor(float(m[key]))), key
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["step"] == 1
    assert json.loads((res.checkpoint / "grpo_config.json").read_text())["mu"] == 2


def test_tiny_model_learns_an_easy_env(tiny_model_dir: Path, tmp_path: Path) -> None:
    """An honest learning test: mean reward over the last steps clearly above the first steps."""
    cfg = tiny_cfg(
        tiny_model_dir,
        tmp_path / "learn",
        steps=30,
        prompts_per_step=2,
        group_size=8,
        lr=1e-2,
        beta=0.0,
        max_new_tokens=8,
        loss_type="bnpo",
    )
    res = train(cfg, echo=lambda s: None)
    r = [m["reward_mean"] for m in res.history]
    first, last = sum(r[:5]) / 5, sum(r[-5:]) / 5
    assert last > first + 0.2, r


def test_strict_rewards_raise_the_scorers_own_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    """The env's scorer raising is counted and scored 0 by default; strict_rewards re-raises it, naming env and seed."""
    cfg = tiny_cfg(
        tiny_model_dir,
        tmp_path / "lenient",
        env=("grpo_gym_test/BrokenScorer-v0",),
        steps=1,
        max_new_tokens=4,
    )
    res = train(cfg, echo=lambda s: None)
    assert res.history[0]["reward_errors"] == cfg.prompts_per_step * cfg.group_size
    strict = dataclasses.replace(cfg, output_dir=str(tmp_path / "strict"), strict_rewards=True)
    with pytest.raises(ZeroDivisionError, match="scorer bug") as caught:
        train(strict, echo=lambda s: None)
    notes = " ".join(getattr(caught.value, "__notes__", []))
    assert "grpo_gym_test/BrokenScorer-v0" in notes and "seed" in notes


def test_reward_errors_do_not_kill_the_run_unless_strict(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    class Boom:
        pass

    cfg = tiny_cfg(
        tiny_model_dir,
        tmp_path / "flaky",
        env=("grpo_gym_test/Flaky-v0",),
        steps=2,
        max_new_tokens=16,
        group_size=6,
    )
    res = train(cfg, echo=lambda s: None)
    assert sum(m["reward_errors"] for m in res.history) > 0  # the tiny model writes 'b' sometimes
    assert res.checkpoint is not None and (res.checkpoint / "trainer_state.pt").exists()
    strict = dataclasses.replace(cfg, output_dir=str(tmp_path / "strict"), strict_rewards=True)
    with pytest.raises(RuntimeError, match="flaky env exploded"):
        train(strict, echo=lambda s: None)
    del Boom


def test_resume_reproduces_an_uninterrupted_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    full = train(tiny_cfg(tiny_model_dir, tmp_path / "full", steps=4), echo=lambda s: None)
    train(tiny_cfg(tiny_model_dir, tmp_path / "part", steps=2), echo=lambda s: None)
    resumed = train(
        tiny_cfg(tiny_model_dir, tmp_path / "part", steps=4, resume=True), echo=lambda s: None
    )
    assert [m["step"] for m in resumed.history] == [3, 4]
    for a, b in zip(full.history[2:], resumed.history, strict=True):
        for key in ("reward_mean", "loss", "kl", "grad_norm"):
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-7), key
    fa, _ = load_policy(full.checkpoint, device="cpu")
    fb, _ = load_policy(resumed.checkpoint, device="cpu")
    for pa, pb in zip(fa.parameters(), fb.parameters(), strict=True):
        assert torch.allclose(pa, pb, atol=1e-6)


def test_existing_run_dir_needs_resume(tiny_model_dir: Path, tmp_path: Path) -> None:
    cfg = tiny_cfg(tiny_model_dir, tmp_path / "dup", steps=1)
    train(cfg, echo=lambda s: None)
    (tmp_path / "dup" / "checkpoint-000001").rename(tmp_path / "dup" / "moved")
    with pytest.raises(
        ValueError, match=r"pass resume=True to continue it, or another output_dir="
    ):
        train(cfg, echo=lambda s: None)


def test_dynamic_sampling_overlong_penalty_and_mixture(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    cfg = tiny_cfg(
        tiny_model_dir,
        tmp_path / "dapo",
        env=("grpo_gym_test/Letter-v0", "grpo_gym_test/TwoTurn-v0"),
        env_weights=(1.0, 1.0),
        steps=2,
        dynamic_sampling=True,
        max_sampling_rounds=2,
        overlong_penalty=4,
        max_new_tokens=8,
        eps_high=0.28,
        loss_type="dr_grpo",
        mask_truncated=True,
    )
    res = train(cfg, echo=lambda s: None)
    for m in res.history:
        assert 0.0 <= m["zero_std_groups"] <= 1.0
        assert set(m["reward_by_env"]) <= {"grpo_gym_test/Letter-v0", "grpo_gym_test/TwoTurn-v0"}
    # the tiny model rambles to max_new_tokens, so the soft overlong penalty pushes rewards below 0
    assert min(m["reward_mean"] for m in res.history) < 0


def test_curriculum_raises_difficulty_when_pass_rate_is_high(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    import grpo_gym.envs  # noqa: F401
    from grpo_gym.agent.rollout import EnvPool

    pool = EnvPool({"grpo_gym/Arithmetic-v0": {"digits": 3, "terms": 4}})
    env = pool.get("grpo_gym/Arithmetic-v0", 3)
    assert (
        pool.adjust_difficulty("grpo_gym/Arithmetic-v0", 0.5) is None
    )  # mid-range: user settings kept
    assert env.unwrapped.config.digits == 3 and env.unwrapped.config.terms == 4
    assert pool.adjust_difficulty("grpo_gym/Arithmetic-v0", 0.95) == 1
    assert pool.adjust_difficulty("grpo_gym/Arithmetic-v0", 0.9) == 2
    assert (
        env.unwrapped.difficulty == 2
        and pool.get("grpo_gym/Arithmetic-v0", 7).unwrapped.difficulty == 2
    )
    assert pool.adjust_difficulty("grpo_gym/Arithmetic-v0", 0.0) == 1
    assert pool.adjust_difficulty("grpo_gym_test/Letter-v0", 1.0) is None  # no levels: left alone


def test_metrics_flatten_for_scalar_loggers() -> None:
    from grpo_gym.agent.metrics import flatten as _flatten

    flat = _flatten(
        {"step": 3, "kl": 0.5, "ok": True, "eval": "text", "reward_by_env": {"a/B-v0": 1.0}}
    )
    assert flat == {"step": 3.0, "kl": 0.5, "reward_by_env/a/B-v0": 1.0}


def test_resume_after_a_kill_keeps_logs_consistent(tiny_model_dir: Path, tmp_path: Path) -> None:
    """A run killed after its last checkpoint leaves extra log lines; resuming drops and redoes them."""
    out = tmp_path / "killed"
    train(tiny_cfg(tiny_model_dir, out, steps=3, save_every=2), echo=lambda s: None)
    import shutil

    shutil.rmtree(
        out / "checkpoint-000003"
    )  # as if killed after step 3 was logged, before its save
    res = train(
        tiny_cfg(tiny_model_dir, out, steps=4, save_every=2, resume=True), echo=lambda s: None
    )
    steps = [json.loads(ln)["step"] for ln in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4] and [m["step"] for m in res.history] == [3, 4]


def test_cli_resume_uses_the_runs_saved_settings(tiny_model_dir: Path, tmp_path: Path) -> None:
    from grpo_gym.cli import main

    out = tmp_path / "cli-resume"
    args = [
        "train",
        "--model",
        str(tiny_model_dir),
        "--env",
        "grpo_gym_test/Letter-v0",
        "--steps",
        "1",
        "--group-size",
        "3",
        "--prompts-per-step",
        "2",
        "--max-new-tokens",
        "5",
        "--device",
        "cpu",
        "--output-dir",
        str(out),
        "--eval-before-after",
        "false",
        "--progress",
        "false",
    ]
    assert main(args) == 0
    # bare boolean flag; everything else comes from the run's grpo_config.json
    assert main(["train", "--output-dir", str(out), "--resume", "--steps", "2"]) == 0
    saved = json.loads((out / "checkpoint-000002" / "grpo_config.json").read_text())
    assert (
        saved["group_size"] == 3 and saved["model"] == str(tiny_model_dir) and saved["steps"] == 2
    )


def test_shared_prefill_samples_exactly_what_plain_generate_samples(tiny_policy) -> None:
    """Prompts of different lengths (left padding): the shared-prefix cache changes no logit or token."""
    import copy

    base, tok = tiny_policy
    model = copy.deepcopy(base)
    with torch.no_grad():  # sharpen attention so that a position error would show in the logits
        for name, p in model.named_parameters():
            if name.endswith(("q_proj.weight", "k_proj.weight")):
                p.mul_(30.0)
    sampler = HFSampler(model, tok, SamplingConfig(max_new_tokens=8, temperature=1.0))
    convs = [
        [{"role": "user", "content": "hi"}],
        [{"role": "user", "content": "a much longer prompt than the first one"}],
    ]
    enc = tok(sampler.render(convs), return_tensors="pt", padding=True, add_special_tokens=False)
    assert enc["attention_mask"][0, 0] == 0  # the first prompt is left-padded
    kw = dict(
        max_new_tokens=8,
        do_sample=True,
        temperature=1.0,
        top_p=1.0,
        top_k=0,
        pad_token_id=tok.pad_token_id,
        eos_token_id=sampler.eos_ids,
        output_logits=True,
        return_dict_in_generate=True,
    )
    ids, mask = (
        enc["input_ids"].repeat_interleave(4, 0),
        enc["attention_mask"].repeat_interleave(4, 0),
    )
    torch.manual_seed(0)
    plain = model.generate(input_ids=ids, attention_mask=mask, **kw)
    torch.manual_seed(0)
    shared = model.generate(
        input_ids=ids,
        attention_mask=mask,
        **kw,
        **shared_prefill(model, enc["input_ids"], enc["attention_mask"], 4),
    )
    assert torch.equal(plain.sequences, shared.sequences)
    for a, b in zip(plain.logits, shared.logits, strict=True):
        assert torch.allclose(a, b, atol=1e-4)
    torch.manual_seed(0)
    via_sampler = sampler.generate(convs, n=4)  # the public path takes the shared prefill
    P = enc["input_ids"].shape[1]
    m = via_sampler.completion_mask.bool()
    assert torch.equal(via_sampler.completion_ids[m], plain.sequences[:, P:][m])


def test_optimizer_is_fused_adamw_and_steps_like_the_plain_one(tiny_policy) -> None:
    from grpo_gym.agent.update import make_optimizer

    model, _ = tiny_policy
    cfg = GRPOConfig(env=("grpo_gym_test/Letter-v0",), lr=1e-2, weight_decay=0.1)
    fused = make_optimizer(model, cfg)
    assert fused.defaults["fused"] is True
    twin = [p.detach().clone().requires_grad_() for p in model.parameters()]
    plain = torch.optim.AdamW(twin, lr=1e-2, weight_decay=0.1)
    for step in range(3):
        for p, q in zip(model.parameters(), twin, strict=True):
            g = torch.randn_like(p, generator=torch.Generator().manual_seed(step))
            p.grad, q.grad = g.clone(), g.clone()
        fused.step()
        plain.step()
    for p, q in zip(model.parameters(), twin, strict=True):
        assert torch.allclose(p, q, atol=1e-6)


def test_keep_freed_memory_applies_on_glibc() -> None:
    from grpo_gym.agent.fast.memory import keep_freed_memory

    applied = keep_freed_memory()
    assert isinstance(applied, bool)
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert applied


_RSS_PROBE = """
import torch
from grpo_gym.agent.fast.memory import keep_freed_memory, release_freed_memory

def rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024

assert keep_freed_memory()
base = rss_mib()
big = torch.ones(64 << 20)  # 256 MiB, touched
del big
kept = rss_mib()
release_freed_memory()
print(base, kept, rss_mib())
"""


@pytest.mark.skipif(
    not Path("/proc/self/status").exists() or platform.libc_ver()[0] != "glibc",
    reason="glibc on Linux only",
)
@pytest.mark.slow  # subprocesses: `make test-slow`
def test_release_freed_memory_gives_the_kept_peak_back() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE], capture_output=True, text=True, check=True
    )
    base, kept, released = map(int, out.stdout.split())
    assert kept - base > 200  # the freed tensor stayed resident (kept for reuse)
    assert kept - released > 200  # and went back to the OS


def test_train_releases_the_kept_memory_at_its_end(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import grpo_gym.agent.trainer as trainer_mod

    calls: list[int] = []
    monkeypatch.setattr(trainer_mod, "release_freed_memory", lambda: calls.append(1) or True)
    train(tiny_cfg(tiny_model_dir, tmp_path / "run", steps=1), echo=lambda s: None)
    assert calls == [1]


def test_gradient_checkpointing_run_trains(tiny_model_dir: Path, tmp_path: Path) -> None:
    res = train(
        tiny_cfg(tiny_model_dir, tmp_path / "run", steps=1, gradient_checkpointing=True),
        echo=lambda s: None,
    )
    m = res.history[0]
    assert m["grad_norm"] > 0 and torch.isfinite(torch.tensor(m["loss"]))
