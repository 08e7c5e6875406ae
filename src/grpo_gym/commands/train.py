"""``grpo-gym train``: flags generated from ``GRPOConfig``; ``--preset demo`` is the README's main job."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from grpo_gym.agent.checkpoint import CONFIG_FILE
from grpo_gym.agent.config import PRESETS, GRPOConfig

from .flags import add_dataclass_args, dataclass_from_args, load_config_file


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a model with GRPO on one or more envs",
        description="Train a causal LM with GRPO (DeepSeekMath) on grpo-gym environments. "
        "Every GRPOConfig field is a flag; --preset or --config give the base, flags override it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="a named base config (demo: the README's 10-minute CPU run)",
    )
    p.add_argument(
        "--config",
        type=Path,
        help="a JSON, YAML (.yaml/.yml) or TOML (.toml) file of GRPOConfig fields "
        "(e.g. a run's grpo_config.json); flags given too override its values",
    )
    add_dataclass_args(p, GRPOConfig)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> GRPOConfig:
    base: dict = {}
    if getattr(args, "preset", None):
        base.update(PRESETS[args.preset])
    if getattr(args, "config", None):
        base.update(load_config_file(args.config))
    elif getattr(
        args, "resume", False
    ):  # continue a run with its own settings; flags still override
        saved = (
            Path(
                getattr(args, "output_dir", None) or base.get("output_dir") or GRPOConfig.output_dir
            )
            / CONFIG_FILE
        )
        if saved.is_file():
            base = json.loads(saved.read_text())
    return dataclass_from_args(GRPOConfig, args, GRPOConfig.from_dict(base))


def run(args: argparse.Namespace) -> int:
    from grpo_gym.agent.trainer import train

    cfg = config_from_args(args)
    result = train(cfg)
    print(f"checkpoint: {result.checkpoint}")
    print(f"metrics:    {result.output_dir / 'metrics.jsonl'}")
    return 0
