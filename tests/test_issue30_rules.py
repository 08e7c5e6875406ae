"""Issue 30: unclosed trailing boxes, the official IFEval/IFBench headline, IFBench without its
extra, and the observation-space contract over many seeds (reasoning-gym's codeio)."""

from __future__ import annotations

import builtins
import json
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import grpo_gym.envs  # noqa: F401
from grpo_gym.envs.checks import CHECKS, OBSERVATION_SEEDS, run_checks
from grpo_gym.rewards import Task, math_reward
from grpo_gym.rewards.extract import extract_answer

RESULTS = Path(__file__).parents[1] / "benchmarks/results"


# ---- 1. an unclosed trailing box -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"so \boxed{21600} * 2 = \boxed{", "21600"),  # closed boxes before it still count
        (r"\boxed{1}, \boxed{2}, \boxed{", "1, 2"),
        (r"a = \boxed{2} and b = \boxed{5}, hence \boxed{7} so \boxed{7", "7"),
        (r"I get 7. \boxed{", "7"),  # no closed box: the other modes, as if it were not there
        (r"The answer is $\frac{1}{3}$ \boxed{", r"\frac{1}{3}"),
        (r"\boxed{a \boxed{b}", "b"),  # a closed box inside the unclosed one counts
    ],
)
def test_an_unclosed_trailing_box_is_no_answer(text: str, expected: str) -> None:
    assert extract_answer(text) == expected


def test_gsm8k_reply_276_is_judged_on_its_last_closed_box() -> None:
    """A 512-token training reply cut inside ``\\boxed{``: it was scored on the last number
    (the ``2`` of ``* 2 =``), equal to the gold by accident."""
    path = RESULTS / "learning-gsm8k-v0-smollm2-135m-10steps-512tok.after.samples.jsonl"
    row = json.loads(path.read_text().splitlines()[276])
    assert row["reply"].rstrip().endswith("\\boxed{") and row["passed"]
    assert extract_answer(row["reply"]) == "21600"
    assert math_reward(row["reply"], Task(prompt=row["prompt"], answer="2")).score == 0.0


# ---- 3. the official headline of IFEval and IFBench --------------------------------------------
@pytest.mark.parametrize("name", ["IFEval", "IFBench"])
def test_benchmark_reward_is_the_official_prompt_level_strict_verdict(name: str) -> None:
    new, old = gym.make(f"grpo_gym/{name}-v1").unwrapped, gym.make(f"grpo_gym/{name}-v0").unwrapped
    assert new.config.min_words == 0 and old.config.min_words == 8
    ids = {"IFEval": ["punctuation:no_comma"], "IFBench": ["format:no_whitespace"]}[name]
    task = Task(prompt="p", answer=None, metadata={"instruction_id_list": ids, "kwargs": [{}]})
    reply = "Fine." if name == "IFEval" else "Nowhitespace."
    result = new.score(reply, task)
    assert result.components["prompt_strict"] == 1.0 and result.score == 1.0
    assert new.is_success(result, task)
    assert old.score(reply, task).score == 0.0  # the opt-in gate (v0's default)
    assert gym.make(f"grpo_gym/{name}-v1", min_words=8).unwrapped.score(reply, task).score == 0.0


@pytest.mark.parametrize(
    ("name", "report"),
    [("IFEval", "ifeval-smollm2-135m-vllm"), ("IFBench", "ifbench-smollm2-135m-vllm")],
)
def test_committed_replies_pass_at_1_is_the_official_accuracy(name: str, report: str) -> None:
    env = gym.make(f"grpo_gym/{name}-v1").unwrapped
    tasks = {p.prompt: env._to_task(p) for p in env.problems_of("test")}
    rows = [json.loads(x) for x in (RESULTS / f"{report}.samples.jsonl").read_text().splitlines()]
    results = [env.score(r["reply"], tasks[r["prompt"]]) for r in rows]
    passed = sum(
        env.is_success(res, tasks[r["prompt"]]) for res, r in zip(results, rows, strict=True)
    )
    official = json.loads((RESULTS / f"{report}.json").read_text())
    strict = official["results"][0]["metrics"]["prompt_level_strict_acc"]
    assert passed / len(rows) == pytest.approx(strict, abs=1e-9)
    assert sum(r["passed"] for r in rows) < passed  # v0's gated pass@1 was below it


def test_a_checker_that_raises_on_a_reply_counts_it_as_not_followed() -> None:
    """IFBench's ``format:quote_unquote`` indexes into a reply stripped of punctuation."""
    from grpo_gym.envs.benchmark_data import shipped_rows
    from grpo_gym.envs.ifbench_checks import registry
    from grpo_gym.envs.ifeval_checks import check_reply

    row = next(r for r in shipped_rows("ifbench_test.jsonl") if r["key"] == "113")
    assert row["instruction_id_list"] == ["format:quote_unquote"]
    args = (row["instruction_id_list"], row["kwargs"], row["prompt"])
    (verdict,) = check_reply("%$#@!" * 40, *args, instructions=registry())
    assert not verdict.strict and not verdict.loose


# ---- 4. IFBench without its extra -------------------------------------------------------------
def _without_nltk(monkeypatch: pytest.MonkeyPatch) -> None:
    from grpo_gym.envs import ifbench_checks, ifeval_checks

    for mod in [m for m in sys.modules if m == "nltk" or m.startswith("nltk.")]:
        monkeypatch.delitem(sys.modules, mod)
    real = builtins.__import__

    def fake_import(name: str, *args, **kwargs):
        if name == "nltk" or name.startswith("nltk."):
            raise ModuleNotFoundError("No module named 'nltk'", name="nltk")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(ifbench_checks, "registry", ifbench_checks.registry.__wrapped__)
    monkeypatch.setattr(ifeval_checks, "registry", ifeval_checks.registry.__wrapped__)
    from grpo_gym.envs import ifbench, instruction_env

    monkeypatch.setattr(ifbench, "registry", ifbench_checks.registry)
    monkeypatch.setattr(instruction_env, "registry", ifeval_checks.registry)


@pytest.mark.parametrize("env_id", ["grpo_gym/IFBench-v1", "grpo_gym/IFEval-v1"])
def test_a_missing_nltk_is_one_line_naming_the_extra(
    env_id: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from grpo_gym.cli import main
    from grpo_gym.envs.ifeval_checks import IFEvalUnavailable

    _without_nltk(monkeypatch)
    with pytest.raises(
        IFEvalUnavailable, match=r"nltk is missing\): pip install 'grpo-gym\[ifeval\]'"
    ):
        gym.make(env_id)
    assert main(["envs", "show", env_id]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "pip install 'grpo-gym[ifeval]'" in err and "nltk" in err, err


# ---- 5. every observation in the observation space ----------------------------------------------
def test_codeio_observations_stay_in_the_space_and_its_noise_is_captured(
    capfd: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("reasoning_gym")
    env = gym.make("reasoning_gym/codeio-v0").unwrapped
    limit = env.observation_space.max_length
    redrawn = []
    for seed in (28, 161, 162, 0, 1, 299):  # 28, 161 (14,752 chars) and 162 were too long
        prompt, info = env.reset(seed=seed)
        assert env.observation_space.contains(prompt), (seed, len(prompt))
        redrawn.append(info["task"].metadata["redraws"])
        again, _ = gym.make("reasoning_gym/codeio-v0").unwrapped.reset(seed=seed)
        assert again == prompt  # the redraw is decided by the seed
    assert redrawn[:3] == [1, 1, 1] and redrawn[3:5] == [0, 0] and limit == 8192
    assert "scipy" in info["task"].metadata["generator_output"]  # seed 299's generator said so
    out, err = capfd.readouterr()
    assert "Error generating" not in out + err and "SyntaxWarning" not in out + err


def test_envs_check_samples_enough_seeds_to_catch_a_3_percent_violation() -> None:
    assert OBSERVATION_SEEDS >= 100 and 1 - 0.97**OBSERVATION_SEEDS >= 0.95
    assert "observations" in CHECKS


def test_envs_check_catches_an_env_whose_observations_leave_the_space() -> None:
    import grpo_gym.envs as ge

    class Sometimes(ge.TextEnv):
        def generate_task(self, rng):
            n = int(rng.integers(100))
            return Task(prompt="x" * (9000 if n < 3 else 10), answer="1")  # 3 % of the seeds

        def score(self, reply, task):
            return ge.RewardResult(score=float(reply.strip() == "1"))

        def reference(self, task):
            return "1"

    ge.register("test_issue30/Sometimes-v0", Sometimes)
    try:
        results = {r.check: r for r in run_checks("test_issue30/Sometimes-v0", n=2)}
    finally:
        gym.registry.pop("test_issue30/Sometimes-v0")
    assert (
        not results["observations"].ok and "outside UnicodeText" in results["observations"].detail
    )


def _sweep_ids() -> list[str]:
    from grpo_gym.envs import list_envs

    return [r.id for r in list_envs() if r.id.split("/")[0] in ("grpo_gym", "reasoning_gym")]


#: reasoning-gym generators that take 0.4-0.9 s per reset on the 2-core dev machine (100 seeds:
#: 38-84 s); the others take at most 0.2 s.
HEAVY = {"arc_agi", "figlet_font", "futoshiki", "group_anagrams", "knight_swap"}


@pytest.mark.slow
@pytest.mark.parametrize("env_id", _sweep_ids())
def test_observation_space_contract_over_hundreds_of_seeds(env_id: str) -> None:
    """200 seeds per env (100 for ``HEAVY``), and every prompt of a finite benchmark."""
    env = gym.make(env_id).unwrapped
    space = env.observation_space
    seeds = 100 if env_id.split("/")[1].removesuffix("-v0") in HEAVY else 200
    splits = getattr(env, "splits", ("train", "test"))
    for split in splits:
        for problem in env.problems_of(split) if hasattr(env, "problems_of") else []:
            assert space.contains(problem.prompt), (split, len(problem.prompt))
    for seed in range(seeds):  # the first split: the splits share one generator
        prompt, _ = env.reset(seed=seed, options={"split": splits[0]})
        assert space.contains(prompt), (seed, len(prompt))


@pytest.mark.parametrize(
    ("reply", "gold", "prompt", "score"),
    [
        # an amount in cents where the question counts dollars is another amount (GSM8K #65, #160)
        ("The net profit is 40 - 20 = 20 cents.", "20", "sells each for $2.00: net profit?", 0.0),
        ("so the final answer is 10 cents", "10", "How much change from $20?", 0.0),
        ("so the final answer is 50 cents", "0.5", "How much change from $20?", 1.0),
        ("It costs 25 cents.", "25", "How many cents does one cost?", 1.0),
        # a computation of constants ending in its value (MATH-500 #454): the value counts
        ("So $1+\\frac{1}{2}+\\frac{1}{4}+\\cdots = 4$", "4", "Find a.", 1.0),
        ("So $1+\\frac{1}{2}+\\frac{1}{4}+\\cdots = 5$", "4", "Find a.", 0.0),
        ("So $x + \\frac{1}{2} = 4$", "4", "Find a.", 0.0),  # names a variable: not its value
    ],
)
def test_money_units_and_computations_ending_in_their_value(
    reply: str, gold: str, prompt: str, score: float
) -> None:
    assert math_reward(reply, Task(prompt, gold)).score == score


def test_an_ifbench_report_states_the_data_it_was_scored_on() -> None:
    from grpo_gym.agent import evaluate

    def say_nothing(conversations: list, n: int = 1) -> list[str]:
        return [""] * (len(conversations) * n)

    report = evaluate(say_nothing, ["grpo_gym/IFBench-v1"], problems=2, n=1, seed=0)
    assert any("294-prompt test set" in n and "key 268" in n for n in report.provenance.notes)
    arith = evaluate(say_nothing, ["grpo_gym/Arithmetic-v0"], problems=2, n=1, seed=0)
    assert arith.provenance.notes == []
