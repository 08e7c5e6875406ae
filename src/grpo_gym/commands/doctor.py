"""``grpo-gym doctor``: preflight checks before a long run (the library's ``agent.doctor.run_checks``).

    grpo-gym doctor [--model M] [--env ID ...] [--output-dir D] [any train flag]

Prints one line per check (versions, device and memory, model loads, chat template, each env,
output folder, memory per step); each failure says how to fix it. Exits 1 if any check failed.
"""

from __future__ import annotations

import argparse

from grpo_gym.agent.config import GRPOConfig

from .flags import add_dataclass_args, dataclass_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="check the machine, model, envs and output folder before a run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--skip-model",
        action="store_true",
        help="do not load the model (no template or memory checks)",
    )
    add_dataclass_args(p, GRPOConfig)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from grpo_gym.agent.doctor import Check, run_checks

    cfg = dataclass_from_args(GRPOConfig, args, GRPOConfig())

    def show(c: Check) -> None:
        print(
            f"{'ok  ' if c.ok else 'FAIL'}  {c.name:<24}  {c.detail}"
            + ("" if c.ok else f"\n      fix: {c.fix}"),
            flush=True,
        )

    checks = run_checks(cfg, load_model=not args.skip_model, echo=show)
    failed = sum(not c.ok for c in checks)
    print(f"{len(checks)} checks, {failed} failed")
    return 1 if failed else 0
