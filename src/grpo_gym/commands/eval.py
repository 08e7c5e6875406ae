"""``grpo-gym eval``: held-out pass rates per env (flags generated from ``EvalConfig``).

    grpo-gym eval --model M --env Arithmetic-v0 [--env ID ...] [--suite all] --n 8 --k 1,4,8 \\
        --problems 32 --temperature 1 --seed 0 --json-out r.json --md-out r.md --samples-out s.jsonl
    grpo-gym eval --engine openai --base-url http://127.0.0.1:8000/v1 --model NAME --env ID ...
    grpo-gym eval compare A.json B.json [--md-out diff.md]

With ``--engine openai`` the replies come from any OpenAI-compatible server (vLLM, SGLang,
llama.cpp's server, a hosted API) and ``--model`` is the name it serves; nothing loads here.

The results table goes to stdout, progress and notes to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from grpo_gym.agent.checkpoint import CONFIG_FILE
from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.engines.openai import OpenAIConfig
from grpo_gym.agent.evaluate import EvalConfig, resolve_env_ids
from grpo_gym.agent.report import (
    EvalReport,
    results_table,
    save_json,
    save_markdown,
    save_samples_jsonl,
)
from grpo_gym.agent.sampling import SamplingConfig

from .flags import add_dataclass_args, check_output_file, dataclass_from_args


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="pass rates per env on held-out (test split) problems; 'eval compare A.json B.json'",
        description="Evaluate a model on the test split of grpo-gym envs: pass@k (unbiased estimator), "
        "mean reward with standard errors, reply lengths, truncation. Every EvalConfig field is a flag. "
        "Use 'grpo-gym eval compare A.json B.json' to compare two JSON reports.",
    )
    add_dataclass_args(p, EvalConfig, skip=("env",))
    add_dataclass_args(p, OpenAIConfig, skip=_FROM_EVAL)  # the server, with --engine openai
    p.add_argument(
        "--env",
        dest="env",
        action="append",
        default=argparse.SUPPRESS,
        metavar="ID",
        help="env id to evaluate (namespace optional); repeat the flag or give a comma list; "
        "'module:Name-v0' imports module (your code registering an env) first",
    )
    p.set_defaults(func=run)
    cmds = p.add_subparsers(dest="eval_command", required=False, metavar="{compare}")
    c = cmds.add_parser(
        "compare",
        help="per-env deltas between two JSON reports, marking those > 2 standard errors",
        description="Compare two 'grpo-gym eval --json-out' reports: B - A per env and metric, "
        "with stderr sqrt(se_a^2 + se_b^2); '*' marks |delta| > 2 stderr.",
    )
    c.add_argument("report_a", type=Path, metavar="A.json")
    c.add_argument("report_b", type=Path, metavar="B.json")
    c.add_argument(
        "--md-out",
        dest="compare_md_out",
        type=Path,
        help="also write the comparison as Markdown here",
    )
    c.set_defaults(func=run_compare)


def config_from_args(args: argparse.Namespace) -> EvalConfig:
    """``EvalConfig`` from the parsed flags (``--env`` values flattened, comma lists split).

    A training checkpoint as ``--model`` lends its run's envs, env settings, system prompt and
    reply length to every one of those the flags leave out (noted in ``EvalConfig.notes``).
    """
    if hasattr(args, "env"):
        args.env = tuple(e.strip() for item in args.env for e in item.split(",") if e.strip())
    cfg = dataclass_from_args(EvalConfig, args)
    saved = Path(cfg.model) / CONFIG_FILE
    if not saved.is_file():
        return cfg
    run = GRPOConfig.from_dict(json.loads(saved.read_text()))
    taken: dict[str, object] = {}
    if not hasattr(args, "env") and not hasattr(args, "suite"):
        taken["env"] = run.env
    if not hasattr(args, "env_kwargs") and "env" in taken:
        taken["env_kwargs"] = run.env_kwargs
    if not hasattr(args, "system_prompt"):
        taken["system_prompt"] = run.system_prompt
    if not hasattr(args, "max_new_tokens"):
        taken["sampling"] = dataclasses.replace(
            cfg.sampling, max_new_tokens=run.sampling.max_new_tokens
        )
    shown = {
        k: (v.max_new_tokens if isinstance(v, SamplingConfig) else v) for k, v in taken.items() if v
    }
    cfg = dataclasses.replace(cfg, **taken)  # type: ignore[arg-type]
    note = f"{cfg.model} is a training checkpoint: using its run's settings {shown} (flags override them)"
    object.__setattr__(cfg, "notes", (*cfg.notes, note))
    return cfg


_FROM_EVAL = ("model", "seed")  # OpenAIConfig fields that EvalConfig's --model and --seed give
_SERVER_FIELDS = tuple(f.name for f in dataclasses.fields(OpenAIConfig) if f.name not in _FROM_EVAL)


def served_config(args: argparse.Namespace, cfg: EvalConfig) -> OpenAIConfig | None:
    """The server to evaluate with ``--engine openai`` (None for a local model); checked up front."""
    given = {name: getattr(args, name) for name in _SERVER_FIELDS if hasattr(args, name)}
    if cfg.sampling.engine != "openai":
        if given:
            flag = "--" + next(iter(given)).replace("_", "-")
            raise ValueError(
                f"{flag} is a setting of --engine openai: add --engine openai or drop it"
            )
        return None
    if "base_url" not in given:
        raise ValueError(
            "--engine openai needs --base-url, the server's API root (e.g. http://127.0.0.1:8000/v1)"
        )
    if not hasattr(args, "model"):
        raise ValueError(
            "--engine openai needs --model NAME, the name the server serves (GET BASE_URL/models lists them)"
        )
    return OpenAIConfig(model=cfg.model, seed=cfg.seed, **given)


def _evaluate_served(server: OpenAIConfig, env_ids: list[str], cfg: EvalConfig) -> EvalReport:
    from grpo_gym.agent.engines.openai import OpenAIChatPolicy
    from grpo_gym.agent.evaluate import evaluate

    policy = OpenAIChatPolicy(server, cfg.sampling)
    policy.check_server()  # unreachable, or not serving --model: one line, before any request
    report = evaluate(
        policy, env_ids, config=cfg, model=f"{server.model} at {server.base_url}", log=_err
    )
    st = policy.stats
    _err(
        f"server: {st.samples} samples, {st.failed} failed (scored 0), {st.retries} retries, "
        f"{st.timeouts} timeouts, {st.truncated} cut at max tokens"
        + (f"; errors: {'; '.join(st.errors)}" if st.errors else "")
    )
    return report


def _check_env_settings(cfg: EvalConfig, env_ids: list[str]) -> None:
    """Fail before loading a model on env settings of the wrong type, unknown or out of range."""
    from grpo_gym.agent.config import parse_env_kwargs
    from grpo_gym.envs import make as make_env
    from grpo_gym.envs.settings import check_env_settings

    env_kwargs = parse_env_kwargs(cfg.env_kwargs, tuple(env_ids))
    for env_id in env_ids:
        if env_id in env_kwargs:
            check_env_settings(env_id, env_kwargs[env_id])
            make_env(env_id, **env_kwargs[env_id]).close()


def _check_outputs(cfg: EvalConfig) -> None:
    """Fail before loading a model on output settings that cannot work."""
    from grpo_gym.agent.plots import INSTALL_HINT, plots_available

    if cfg.plots == "on":
        if cfg.md_out is None:
            raise ValueError(
                "--plots on: plots are written beside the Markdown report, so pass --md-out FILE too"
            )
        if not plots_available():
            raise ValueError(f"--plots on: {INSTALL_HINT}")
    for path, flag in (
        (cfg.json_out, "--json-out"),
        (cfg.md_out, "--md-out"),
        (cfg.samples_out, "--samples-out"),
    ):
        check_output_file(path, flag)
    if cfg.training_metrics is not None and not Path(cfg.training_metrics).is_file():
        raise FileNotFoundError(f"--training-metrics {cfg.training_metrics}: no such file")


def _plots(report: EvalReport, cfg: EvalConfig, md_path: Path) -> tuple[dict[str, str], list[str]]:
    """Write the PNGs beside ``md_path``; return (caption -> relative path, notes)."""
    from grpo_gym.agent.plots import (
        INSTALL_HINT,
        plot_pass_rates,
        plot_training_curve,
        plots_available,
    )

    if cfg.plots == "off":
        return {}, []
    if not plots_available():
        _err(f"note: {INSTALL_HINT}; skipping plots")
        return {}, [f"no plots: {INSTALL_HINT}"]
    stem = md_path.with_suffix("")
    images = {"pass@1 per env": plot_pass_rates(report, f"{stem}.pass_rates.png")}
    if cfg.training_metrics:
        images["training curve"] = plot_training_curve(
            cfg.training_metrics, f"{stem}.training_curve.png"
        )
    return {caption: p.name for caption, p in images.items()}, []


def write_outputs(report: EvalReport, cfg: EvalConfig) -> list[Path]:
    """Write the files the config asks for (JSON, samples JSONL, Markdown with plots)."""
    written = []
    if cfg.json_out:
        written.append(save_json(report, cfg.json_out))
    if cfg.samples_out:
        written.append(save_samples_jsonl(report, cfg.samples_out))
    if cfg.md_out:
        md_path = Path(cfg.md_out)
        images, notes = _plots(report, cfg, md_path)
        written += [md_path.parent / rel for rel in images.values()]
        written.append(save_markdown(report, md_path, images, notes))
    return written


def run(args: argparse.Namespace) -> int:
    from grpo_gym.agent.engines import make_engine
    from grpo_gym.agent.evaluate import evaluate
    from grpo_gym.agent.model import load_policy
    from grpo_gym.agent.prompts import template_warning
    from grpo_gym.agent.report import describe_model

    cfg = config_from_args(args)
    server = served_config(args, cfg)
    for note in cfg.notes:
        _err(f"note: {note}")
    env_ids = resolve_env_ids(cfg.env, cfg.suite)
    _check_env_settings(cfg, env_ids)
    _check_outputs(cfg)
    if server is None and cfg.sampling.engine == "vllm":
        from grpo_gym.agent.engines.vllm_settings import check_vllm_installed

        check_vllm_installed()  # the install hint, before any model loads
    if server is not None:
        report = _evaluate_served(server, env_ids, cfg)
    else:
        model, tokenizer = load_policy(
            cfg.model, device=None if cfg.device == "auto" else cfg.device, dtype=cfg.dtype
        )
        if warning := template_warning(tokenizer, cfg.sampling.prompt_format):
            _err(warning)
        engine = make_engine(model, tokenizer, cfg.sampling, cfg.vllm)
        report = evaluate(engine, env_ids, config=cfg, model=describe_model(cfg.model), log=_err)
    print(results_table(report))
    for path in write_outputs(report, cfg):
        _err(f"wrote {path}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from grpo_gym.agent.compare import compare, comparison_table
    from grpo_gym.agent.report import load_json

    text = comparison_table(compare(load_json(args.report_a), load_json(args.report_b)))
    print(text)
    if args.compare_md_out:
        args.compare_md_out.parent.mkdir(parents=True, exist_ok=True)
        args.compare_md_out.write_text(f"# grpo-gym eval comparison\n\n{text}\n")
        _err(f"wrote {args.compare_md_out}")
    return 0
