"""``grpo-gym eval`` end to end with the tiny model: report files, flags, errors, compare."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from grpo_gym.cli import main

from .test_evaluate import PARITY, PARITY2, _report, register_test_envs

register_test_envs()


def _eval_args(model_dir: Path, out: Path, *extra: str) -> list[str]:
    return [
        "eval",
        "--model",
        str(model_dir),
        "--env",
        PARITY,
        "--env",
        PARITY2,
        "--problems",
        "2",
        "--n",
        "2",
        "--k",
        "1,2",
        "--max-new-tokens",
        "4",
        "--seed",
        "5",
        "--device",
        "cpu",
        "--json-out",
        str(out / "r.json"),
        "--md-out",
        str(out / "r.md"),
        "--samples-out",
        str(out / "s.jsonl"),
        *extra,
    ]


def test_eval_writes_all_reports(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text('{"step": 1, "reward_mean": 0.2, "pass_rate": 0.1}\n')
    assert main(_eval_args(tiny_model_dir, tmp_path, "--training-metrics", str(metrics))) == 0
    out = capsys.readouterr().out
    assert "| Env" in out and "pass@2" in out and "Parity-v0" in out

    data = json.loads((tmp_path / "r.json").read_text())
    prov = data["provenance"]
    assert prov["model"]["name"] == str(tiny_model_dir) and len(prov["model"]["sha256"]) == 64
    for key in (
        "package_version",
        "env_versions",
        "temperature",
        "top_p",
        "max_new_tokens",
        "seed",
        "problem_seeds",
        "device",
        "date",
        "wall_s",
    ):
        assert key in prov, key
    assert (
        prov["env_versions"] == {PARITY: 0, PARITY2: 1}
        and prov["seed"] == 5
        and prov["device"] == "cpu"
    )
    import grpo_gym

    assert prov["package_version"] == grpo_gym.__version__
    results = {r["env_id"]: r for r in data["results"]}
    assert set(results) == {PARITY, PARITY2}
    r = results[PARITY]
    for key in (
        "pass_at_k",
        "pass_at_k_stderr",
        "reward_mean",
        "reward_stderr",
        "reply_chars",
        "reply_tokens",
        "truncated",
        "timeouts",
        "errors",
        "problems",
        "samples_per_problem",
    ):
        assert key in r, key
    assert (
        set(r["pass_at_k"]) == {"1", "2"} and r["problems"] == 2 and r["samples_per_problem"] == 2
    )

    lines = [json.loads(x) for x in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert len(lines) == 2 * 2 * 2  # envs x problems x samples
    for key in (
        "env_id",
        "seed",
        "prompt",
        "reply",
        "reward",
        "components",
        "passed",
        "reply_tokens",
    ):
        assert key in lines[0], key

    md = (tmp_path / "r.md").read_text()
    assert "| Env" in md and "pass@1" in md and str(tiny_model_dir) in md
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "pip install" in md  # said why there are no plots
    else:
        assert (
            "![pass@1 per env](r.pass_rates.png)" in md
            and (tmp_path / "r.pass_rates.png").is_file()
        )
        assert (
            "![training curve](r.training_curve.png)" in md
            and (tmp_path / "r.training_curve.png").is_file()
        )


def test_eval_without_matplotlib_still_writes_markdown(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(_eval_args(tiny_model_dir, tmp_path)) == 0
    assert "pip install" in capsys.readouterr().err
    assert "no plots" in (tmp_path / "r.md").read_text()
    assert (
        main(_eval_args(tiny_model_dir, tmp_path, "--plots", "on")) == 2
    )  # asked for plots: error
    assert "matplotlib" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--n", "2", "--k", "1,4"], "set --n 4 or leave 4 out of --k"),
        (["--env", "grpo_gym_evaltest/Nope-v0"], "Nope-v0"),
        (["--problems", "0"], "problems must be >= 1"),
    ],
)
def test_eval_user_errors_are_one_line(
    tiny_model_dir: Path, tmp_path: Path, capsys, extra: list[str], message: str
) -> None:
    assert main(_eval_args(tiny_model_dir, tmp_path, *extra)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.startswith("grpo-gym eval: error:") and "\n" not in err


def test_greedy_forces_one_sample_and_says_so(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    assert (
        main(_eval_args(tiny_model_dir, tmp_path, "--temperature", "0", "--n", "4", "--k", "1,4"))
        == 0
    )
    assert "n set to 1" in capsys.readouterr().err
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["provenance"]["samples_per_problem"] == 1 and data["provenance"]["k"] == [1]


def test_suite_all_includes_registered_envs(tiny_model_dir: Path) -> None:
    from grpo_gym.agent.evaluate import resolve_env_ids
    from grpo_gym.cli import build_parser
    from grpo_gym.commands.eval import config_from_args

    args = build_parser().parse_args(["eval", "--suite", "all", "--env", "a,b", "--env", "c"])
    cfg = config_from_args(args)
    assert cfg.env == ("a", "b", "c") and cfg.suite == "all"
    ids = resolve_env_ids((), "all")
    assert PARITY in ids and PARITY2 in ids


def test_compare_subcommand(tmp_path: Path, capsys) -> None:
    from grpo_gym.agent.report import save_json

    a = save_json(_report([False] * 18 + [True] * 2, "model-A"), tmp_path / "a.json")
    b = save_json(_report([True] * 18 + [False] * 2, "model-B"), tmp_path / "b.json")
    assert main(["eval", "compare", str(a), str(b), "--md-out", str(tmp_path / "cmp.md")]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "pass@1" in line)
    assert "+0.8000" in row and row.rstrip("| ").endswith("*")
    assert "model-A" in out and "model-B" in out and (tmp_path / "cmp.md").is_file()
    assert main(["eval", "compare", str(a), str(tmp_path / "missing.json")]) == 2


def test_vllm_engine_settings_reach_the_eval_config() -> None:
    from grpo_gym.cli import build_parser
    from grpo_gym.commands.eval import config_from_args

    argv = ["eval", "--env", "a", "--engine", "vllm", "--vllm-kv-cache-gib", "6"]
    cfg = config_from_args(build_parser().parse_args([*argv, "--vllm-dtype", "float32"]))
    assert cfg.sampling.engine == "vllm" and cfg.vllm.vllm_kv_cache_gib == 6.0
    assert cfg.vllm.vllm_dtype == "float32"
    with pytest.raises(ValueError, match="vllm_dtype 'int8'"):
        config_from_args(build_parser().parse_args([*argv, "--vllm-dtype", "int8"]))
