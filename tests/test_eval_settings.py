"""``grpo-gym eval`` takes the same env settings as ``train``, defaults to a checkpoint's, and ``--problems all``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.evaluate import ALL_PROBLEMS, EvalConfig, evaluate
from grpo_gym.agent.trainer import train
from grpo_gym.cli import build_parser, main
from grpo_gym.commands.eval import config_from_args

ENV = "grpo_gym/Arithmetic-v0"


def _zero(conversations, n=1):
    """A scripted policy: every reply is \\boxed{0}."""
    return ["\\boxed{0}"] * (len(conversations) * n)


def test_eval_uses_env_settings_and_system_prompt() -> None:
    cfg = EvalConfig(
        env=(ENV,),
        env_kwargs='{"digits": 1, "terms": 2}',
        system_prompt="Be brief.",
        problems=4,
        n=1,
        progress=False,
    )
    seen: list[list[dict]] = []

    def policy(conversations, n=1):
        seen.extend(conversations)
        return ["\\boxed{0}"] * (len(conversations) * n)

    evaluate(policy, config=cfg)
    assert seen and all(c[0] == {"role": "system", "content": "Be brief."} for c in seen)
    numbers = [
        tok
        for c in seen
        for tok in c[-1]["content"].replace("(", " ").replace(")", " ").split()
        if tok.isdigit()
    ]
    assert numbers and all(len(tok) == 1 for tok in numbers)  # digits=1 reached the env


def test_problems_all_scores_each_test_problem_once_and_needs_a_finite_env() -> None:
    report = evaluate(
        _zero, ["grpo_gym/MathDataset-v0"], problems=ALL_PROBLEMS, n=1, progress=False
    )
    r = report.results[0]
    assert r.problems == r.distinct_prompts > 0
    from grpo_gym.agent.report import markdown

    assert "- every test-split problem per env x 1 samples" in markdown(report)
    with pytest.raises(ValueError, match="problems=all needs a benchmark env"):
        evaluate(_zero, [ENV], problems=ALL_PROBLEMS, n=1, progress=False)
    assert (
        config_from_args(build_parser().parse_args(["eval", "--problems", "all"])).problems
        == ALL_PROBLEMS
    )


def test_eval_of_a_checkpoint_defaults_to_its_runs_settings(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = GRPOConfig.from_dict(
        dict(
            model=str(tiny_model_dir),
            env=(ENV,),
            env_kwargs='{"digits": 1}',
            steps=1,
            prompts_per_step=1,
            group_size=2,
            max_new_tokens=5,
            device="cpu",
            output_dir=str(tmp_path / "run"),
            eval_before_after=False,
            progress=False,
        )
    )
    ckpt = train(cfg, echo=lambda s: None).checkpoint
    args = [
        "eval",
        "--model",
        str(ckpt),
        "--problems",
        "2",
        "--n",
        "1",
        "--device",
        "cpu",
        "--progress",
        "false",
        "--json-out",
        str(tmp_path / "r.json"),
    ]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "is a training checkpoint: using its run's settings" in err
    report = json.loads((tmp_path / "r.json").read_text())
    assert [r["env_id"] for r in report["results"]] == [ENV]
    assert (
        report["provenance"]["env_kwargs"] == {ENV: {"digits": 1}}
        and report["provenance"]["max_new_tokens"] == 5
    )
