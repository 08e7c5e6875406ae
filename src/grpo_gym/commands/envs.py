"""``grpo-gym envs``: list, show and check environments.

    grpo-gym envs list [--json]
    grpo-gym envs show ID [--seed N] [--n K] [--split test] [--env-kwargs JSON] [--kwarg KEY=VALUE ...]
    grpo-gym envs check [ID ...] [--n K]

An ID may be Gymnasium's ``module:Name-v0``: the module (on PYTHONPATH, or a ``module.py`` in
the working folder) is imported first, so an env registered by your own code can be named.

``check`` runs, per env: Gymnasium's ``check_env``, every observation of 100 seeds (and of every
prompt of a finite benchmark) inside the observation space, seed determinism, the reference
reply earning ``max_reward``, and empty / "I don't know." / garbage replies scoring below it
without raising. It exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from grpo_gym.envs import list_envs, resolve_id
from grpo_gym.envs.checks import make_unwrapped, run_checks
from grpo_gym.envs.settings import check_env_settings

SOURCE_ORDER = ("built-in", "benchmark", "reasoning-gym", "plugin", "user")  # listing order


def _parse_kwarg(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--kwarg {text!r}: use KEY=VALUE, e.g. --kwarg digits=3")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def _env_kwargs(env_id: str, text: str) -> dict[str, Any]:
    """``--env-kwargs`` as train and eval take it: the env's settings, or keyed by its id."""
    from grpo_gym.agent.config import parse_env_kwargs

    return dict(parse_env_kwargs(text, (env_id,)).get(env_id, {}))


def cmd_list(args: argparse.Namespace) -> int:
    records = list_envs()
    if args.json:
        print(json.dumps([asdict(r) for r in records], indent=2))
        return 0
    width = max((len(r.id) for r in records), default=10)
    kind_w = max((len(r.reward_kind) for r in records), default=6)
    order = {src: i for i, src in enumerate(SOURCE_ORDER)}
    records = sorted(records, key=lambda r: (order.get(r.source, len(order)), r.family, r.id))
    print(f"{'ID':<{width}}  {'REWARD':<{kind_w}}  {'TURNS':<6}  DESCRIPTION")
    group = None
    for r in records:
        if (r.source, r.family) != group:  # one heading per source and family
            group = (r.source, r.family)
            print(f"\n[{r.source}: {r.family}]")
        turns = "multi" if r.multi_turn else "single"
        print(f"{r.id:<{width}}  {r.reward_kind:<{kind_w}}  {turns:<6}  {r.description}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    kwargs = _env_kwargs(args.id, args.env_kwargs) if args.env_kwargs else {}
    kwargs.update(_parse_kwarg(k) for k in args.kwarg)  # --kwarg K=V, the older spelling
    check_env_settings(args.id, kwargs)  # a wrong type: one line naming the setting's type
    env = make_unwrapped(args.id, **kwargs)
    split = args.split
    if split is None:  # train, or the split an evaluation-only env has (MATH500, IFEval: test)
        offered = tuple(getattr(env, "splits", ("train", "test")))
        split = "train" if "train" in offered or not offered else offered[0]
        if split != "train":
            print(
                f"note: {resolve_id(args.id)} has no train split: showing {split}", file=sys.stderr
            )
    for i in range(args.n):
        seed = args.seed + i
        prompt, info = env.reset(seed=seed, options={"split": split})
        print(f"--- {resolve_id(args.id)}  seed={seed}  split={split}")
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
        "id",
        help="env id, e.g. grpo_gym/Arithmetic-v0 (the grpo_gym/ prefix is optional), or "
        "'module:Name-v0' for an env registered by your own module (imported first)",
    )
    p.add_argument("--seed", type=int, default=0, help="first seed (default: 0)")
    p.add_argument("--n", type=int, default=3, help="number of samples (default: 3)")
    p.add_argument(
        "--split",
        choices=("train", "test"),
        default=None,
        help="split (default: train, or test for an evaluation-only env such as MATH500)",
    )
    p.add_argument(
        "--env-kwargs",
        default="",
        metavar="JSON",
        help="the env's settings as train and eval take them, e.g. --env-kwargs '{\"digits\": 1}'",
    )
    p.add_argument(
        "--kwarg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one setting (JSON value or plain string), repeatable, e.g. --kwarg digits=1; "
        "overrides --env-kwargs",
    )
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("check", help="run Gymnasium's check_env and reward sanity checks")
    p.add_argument("ids", nargs="*", help="env ids (default: every registered env)")
    p.add_argument("--n", type=int, default=3, help="seeds per check (default: 3)")
    p.set_defaults(func=cmd_check)
    return parser
