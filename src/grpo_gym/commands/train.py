"""``grpo-gym train``: flags generated from ``GRPOConfig``; ``--preset demo`` is the README's main job."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from grpo_gym.agent.checkpoint import CONFIG_FILE
from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.presets import PRESETS

from .config_file import read_config
from .flags import add_dataclass_args, dataclass_from_args


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
        base.update(read_config(args.config, GRPOConfig))
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
    from grpo_gym.agent.distributed import close_world, launched_world_size
    from grpo_gym.agent.trainer import train

    cfg = config_from_args(args)
    if cfg.distributed.nproc > 1 and launched_world_size() == 1:
        return launch_torchrun(cfg.distributed.nproc, args.argv)
    try:
        result = train(cfg)
    finally:
        close_world()
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 speaks for the job
        print(f"checkpoint: {result.checkpoint}")
        print(f"metrics:    {result.output_dir / 'metrics.jsonl'}")
    return 0


def launch_torchrun(nproc: int, argv: list[str]) -> int:
    """``grpo-gym train --nproc N ...``: the same command under ``torchrun --standalone``.

    Each of the N processes runs ``python -m grpo_gym`` with these arguments and finds itself
    launched (WORLD_SIZE is set), so it joins the process group instead of launching again.
    torchrun stops every process when one fails, and exits non-zero.
    """
    argv = _without_nproc(argv)  # torchrun would take --nproc as its own --nproc-per-node
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        "-m",
        "grpo_gym",
        *argv,
    ]
    print(
        f"starting {nproc} processes: torchrun --standalone --nproc-per-node={nproc} -m grpo_gym "
        + " ".join(argv),
        file=sys.stderr,
    )
    return subprocess.call(cmd)


def _without_nproc(argv: list[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out
