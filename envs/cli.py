"""``grpo-gym envs``: list, show and check environments.

    grpo-gym envs list [--json]
    grpo-gym envs show ID [--seed N] [--n K] [--split test] [--kwarg KEY=VALUE ...]
    grpo-gym envs check [ID ...] [--n K]

``check`` runs, per env: Gymnasium's ``check_env``, seed determinism, the reference reply
earning ``max_reward``, and empty / "I don't know." / garbage replies scoring below it without
raising. It exits 1 if any check fails. Also runnable as ``python -m grpo_gym.envs.cli``.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
from gymnasium.utils.env_checker import check_env

from .base import TextEnv
from .registry import list_envs, resolve_id

#: Replies that must score strictly below the reference.
BAD_REPLIES: tuple[str, ...] = (
    "",
    "I don't know.",
    "qwerty uiop }{ \\boxed{ \\frac{ ^^ $$",
    "The answer is \\boxed{banana}.",
    "%$#@!" * 40,
)


@dataclass(frozen=True)
class CheckResult:
    env_id: str
    check: str
    ok: bool
    detail: str = ""


def _parse_kwarg(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--kwarg {text!r}: use KEY=VALUE, e.g. --kwarg digits=3")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def make_unwrapped(env_id: str, **kwargs: Any) -> TextEnv:
    env = gym.make(resolve_id(env_id), **kwargs).unwrapped
    if not isinstance(env, TextEnv):
        raise ValueError(f"{env_id} is not a grpo_gym TextEnv")
    return env


# ---- checks ------------------------------------------------------------------------------------
def _check_gymnasium(env_id: str, n: int) -> str:
    env = make_unwrapped(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=False)
    notes = sorted({str(w.message).split("\n")[0] for w in caught})
    return "; ".join(notes)


def _check_determinism(env_id: str, n: int) -> str:
    a, b = make_unwrapped(env_id), make_unwrapped(env_id)
    prompts = []
    for seed in range(n):
        pa, pb = a.reset(seed=seed)[0], b.reset(seed=seed)[0]
        if pa != pb or a.reset(seed=seed)[0] != pa:
            raise AssertionError(f"seed {seed} gave different prompts")
        prompts.append(pa)
    if n > 2 and len(set(prompts)) == 1:
        raise AssertionError(f"{n} different seeds all gave the same prompt")
    return f"{len(set(prompts))} distinct prompts from {n} seeds"


def _check_reference(env_id: str, n: int) -> str:
    env = make_unwrapped(env_id)
    for seed in range(n):
        for split in ("train", "test"):
            _, info = env.reset(seed=seed, options={"split": split})
            result = env.score(info["reference"], info["task"])
            if result.score < env.max_reward - 1e-9:
                raise AssertionError(
                    f"seed {seed} {split}: reference scored {result.score} < {env.max_reward} ({result.reason}, {result.error})"
                )
    return f"{2 * n} references score {env.max_reward}"


def _check_bad_replies(env_id: str, n: int) -> str:
    env = make_unwrapped(env_id)
    for seed in range(n):
        _, info = env.reset(seed=seed)
        for reply in BAD_REPLIES:
            result = env.score(reply, info["task"])
            if not result.score < env.max_reward:
                raise AssertionError(
                    f"seed {seed}: reply {reply[:30]!r} scored {result.score}, the maximum"
                )
    return f"{len(BAD_REPLIES) * n} bad replies score below {env.max_reward}"


CHECKS: dict[str, Callable[[str, int], str]] = {
    "check_env": _check_gymnasium,
    "determinism": _check_determinism,
    "reference_max": _check_reference,
    "bad_replies_low": _check_bad_replies,
}


def run_checks(env_id: str, n: int = 3) -> list[CheckResult]:
    """Run every check in ``CHECKS`` on ``env_id`` (never raises; failures are results)."""
    results = []
    for name, fn in CHECKS.items():
        try:
            results.append(CheckResult(env_id, name, True, fn(env_id, n)))
        except Exception as exc:
            results.append(CheckResult(env_id, name, False, f"{type(exc).__name__}: {exc}"))
    return results


# ---- commands ----------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    records = list_envs()
    if args.json:
        print(json.dumps([asdict(r) for r in records], indent=2))
        return 0
    width = max((len(r.id) for r in records), default=10)
    kind_w = max((len(r.reward_kind) for r in records), default=6)
    print(f"{'ID':<{width}}  {'REWARD':<{kind_w}}  {'TURNS':<6}  DESCRIPTION")
    for r in records:
        turns = "multi" if r.multi_turn else "single"
        print(f"{r.id:<{width}}  {r.reward_kind:<{kind_w}}  {turns:<6}  {r.description}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    kwargs = dict(_parse_kwarg(k) for k in args.kwarg)
    env = make_unwrapped(args.id, **kwargs)
    for i in range(args.n):
        seed = args.seed + i
        prompt, info = env.reset(seed=seed, options={"split": args.split})
        print(f"--- {resolve_id(args.id)}  seed={seed}  split={args.split}")
        print(f"PROMPT:    {prompt}")
        print(f"REFERENCE: {info['reference']}")
        if info["task"].answer is not None:
            print(f"ANSWER:    {info['task'].answer}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    ids = [resolve_id(i) for i in args.ids] or [r.id for r in list_envs()]
    failed = 0
    for env_id in ids:
        for result in run_checks(env_id, args.n):
            failed += not result.ok
            status = "ok  " if result.ok else "FAIL"
            print(f"{status}  {env_id:<32}  {result.check:<16}  {result.detail}", flush=True)
    print(f"{len(ids)} env(s) checked, {failed} failure(s)")
    return 1 if failed else 0


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``envs`` (with ``list``, ``show``, ``check``) to the top-level CLI."""
    parser = subparsers.add_parser(
        "envs",
        help="list, show and check environments",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="envs_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="list registered environments")
    p.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="sample prompts with their reference replies")
    p.add_argument(
        "id", help="env id, e.g. grpo_gym/Arithmetic-v0 (the grpo_gym/ prefix is optional)"
    )
    p.add_argument("--seed", type=int, default=0, help="first seed (default: 0)")
    p.add_argument("--n", type=int, default=3, help="number of samples (default: 3)")
    p.add_argument(
        "--split", choices=("train", "test"), default="train", help="split (default: train)"
    )
    p.add_argument(
        "--kwarg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="constructor kwarg (JSON value or plain string), repeatable, e.g. --kwarg digits=1",
    )
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("check", help="run Gymnasium's check_env and reward sanity checks")
    p.add_argument("ids", nargs="*", help="env ids (default: every registered env)")
    p.add_argument("--n", type=int, default=3, help="seeds per check (default: 3)")
    p.set_defaults(func=cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point (``python -m grpo_gym.envs.cli ...``) with the same one-line errors."""
    parser = argparse.ArgumentParser(prog="grpo-gym")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, gym.error.Error) as exc:
        print(f"grpo-gym envs: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
