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
    from grpo_gym.agent.engines.vllm_settings import VLLMUnavailable
    from grpo_gym.agent.model import ModelLoadError

    return (
        UserError,
        ValueError,
        FileNotFoundError,
        ModelLoadError,
        ServerError,
        VLLMUnavailable,
        gymnasium.error.Error,
    )


def _run_error_types() -> tuple[type[BaseException], ...]:
    from grpo_gym.agent.errors import CheckpointWriteError, EnvStuckError, NothingToTrain

    return (NothingToTrain, CheckpointWriteError, EnvStuckError)


def _interrupted_type() -> type[BaseException]:
    from grpo_gym.agent.errors import TrainingInterrupted

    return TrainingInterrupted


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _long_options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings if s.startswith("--")}


def unknown_option_message(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """One line for the first ``--option`` the command does not have, with its close matches.

    Checked before argparse parses (whose own message is the top-level usage without a hint, or
    for ``eval`` a complaint about ``{compare}``). An option counts as known if the command, or a
    command above it, has it or an option it abbreviates (argparse takes unique prefixes).
    """
    import difflib

    chain = [parser]
    known = _long_options(parser)
    unknown: list[str] = []
    for tok in argv:
        if tok == "--":
            break
        subs = _subparsers(chain[-1])
        if not tok.startswith("-") and tok in subs:
            chain.append(subs[tok])
            known |= _long_options(subs[tok])
        elif tok.startswith("--") and " " not in tok:  # argparse reads "--- a b" as a value
            name = tok.split("=", 1)[0]
            if not any(option.startswith(name) for option in known):
                unknown.append(name)
    if not unknown:
        return None
    sub = chain[-1]
    options = sorted(_long_options(sub) - {"--help"})
    close = difflib.get_close_matches(unknown[0], options, n=3, cutoff=0.6)
    hint = (
        f"did you mean {' or '.join(close)}?"
        if close
        else f"see '{sub.prog} --help' for its options"
    )
    more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
    return f"{sub.prog}: error: unrecognized option {unknown[0]}{more}: {hint}"


def main(argv: list[str] | None = None) -> int:
    from grpo_gym.commands.flags import as_flags, long_flags

    parser = build_parser()
    message = unknown_option_message(parser, list(sys.argv[1:] if argv is None else argv))
    if message:
        print(message, file=sys.stderr)
        return 2
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
