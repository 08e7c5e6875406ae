"""``grpo-gym``: the command line, one layer on top of the libraries (which never import it).

    envs   grpo_gym.commands.envs   list, show and check environments
    train  grpo_gym.commands.train  GRPO training (flags generated from GRPOConfig)
    eval   grpo_gym.commands.eval   pass rates per environment (flags from EvalConfig)
    rewards grpo_gym.commands.rewards  audit a math reward against math-verify
    doctor grpo_gym.commands.doctor preflight checks: versions, device, model, template, envs, disk
    export grpo_gym.commands.export a checkpoint as a plain model folder (LoRA adapters merged in)

Flags are generated from the config dataclasses by ``grpo_gym.commands.flags``.

Errors a user can fix (bad flags, unknown env, missing model, a run folder in the way) print one
line and exit 2; a run that cannot go on (nothing left to train, a checkpoint that cannot be
written, a stuck env with ``--on-stuck abort``) prints one line and exits 1; a run stopped by
SIGINT/SIGTERM after saving exits 128 + the signal number (130, 143) and says how to resume.
The libraries name settings as Python arguments (``resume=True``); their errors are printed with
the flags instead (``--resume``, ``commands.flags.as_flags``). Set ``GRPO_GYM_DEBUG=1`` for the full traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

import grpo_gym

SUBCOMMAND_MODULES = (
    "grpo_gym.commands.envs",
    "grpo_gym.commands.train",
    "grpo_gym.commands.eval",
    "grpo_gym.commands.rewards",
    "grpo_gym.commands.doctor",
    "grpo_gym.commands.export",
)


class UserError(Exception):
    """An error caused by the user's input; printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grpo-gym",
        description="Gymnasium text environments with verifiable rewards, and a GRPO agent that trains language models on them.",
        epilog="Run 'grpo-gym COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"grpo-gym {grpo_gym.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def _user_error_types() -> tuple[type[BaseException], ...]:
    import gymnasium

    from grpo_gym.agent.engines.openai import ServerError
    from grpo_gym.agent.model import ModelLoadError

    return (
        UserError,
        ValueError,
        FileNotFoundError,
        ModelLoadError,
        ServerError,
        gymnasium.error.Error,
    )


def _run_error_types() -> tuple[type[BaseException], ...]:
    from grpo_gym.agent.errors import CheckpointWriteError, EnvStuckError, NothingToTrain

    return (NothingToTrain, CheckpointWriteError, EnvStuckError)


def _interrupted_type() -> type[BaseException]:
    from grpo_gym.agent.errors import TrainingInterrupted

    return TrainingInterrupted


def main(argv: list[str] | None = None) -> int:
    from grpo_gym.commands.flags import as_flags, long_flags

    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # e.g. for train --nproc's relaunch
    flags = long_flags(parser)
    try:
        return int(args.func(args) or 0)
    except _interrupted_type() as exc:  # the except clauses import the library only on an error
        print(f"grpo-gym {args.command}: {exc}", file=sys.stderr)
        return 128 + int(getattr(exc, "signum", 2))
    except _run_error_types() as exc:
        if os.environ.get("GRPO_GYM_DEBUG"):
            raise
        print(f"grpo-gym {args.command}: error: {as_flags(str(exc), flags)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("grpo-gym: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`grpo-gym envs list | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _user_error_types() as exc:
        if os.environ.get("GRPO_GYM_DEBUG"):
            raise
        print(f"grpo-gym {args.command}: error: {as_flags(str(exc), flags)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
