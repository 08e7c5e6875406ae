"""``grpo-gym rewards audit``: where our math verifier and math-verify disagree, before you trust a reward.

    grpo-gym rewards audit --env grpo_gym/GSM8K-v0 --replies replies.jsonl [--json-out audit.json]
    grpo-gym rewards audit --env grpo_gym/GSM8K-v0 --model smollm2-135m --problems 50 --n 4

Replies come from a JSONL file or are sampled from a model on the env's test split. Each JSONL
line is either ``{"reply": ..., "gold": ...}`` (``prompt`` optional), or a line of
``grpo-gym eval --samples-out`` (``seed`` plus ``replies``): the gold answer is then the env's own
for that seed. Every reply is scored by our verifier and, when it is installed, by math-verify;
the report lists the disagreements both ways with each side's extracted answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .flags import check_output_file


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rewards",
        help="audit a math reward against math-verify",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmds = p.add_subparsers(dest="rewards_command", metavar="ACTION", required=True)
    a = cmds.add_parser(
        "audit",
        help="score replies with ours and math-verify; list disagreements both ways",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument(
        "--env", required=True, help="the env whose gold answers are audited (its test split)"
    )
    src = a.add_mutually_exclusive_group(required=True)
    src.add_argument("--replies", type=Path, help="JSONL of replies (see above)")
    src.add_argument(
        "--model", help="sample replies from this model instead ('smollm2-135m', a folder, ...)"
    )
    a.add_argument(
        "--problems",
        type=int,
        default=50,
        help="test problems to sample with --model (default: 50)",
    )
    a.add_argument("--n", type=int, default=4, help="replies per problem with --model (default: 4)")
    a.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="sampling temperature with --model (default: 1)",
    )
    a.add_argument(
        "--max-new-tokens",
        type=int,
        default=256,
        help="tokens per reply with --model (default: 256)",
    )
    a.add_argument(
        "--show", type=int, default=10, help="disagreements printed per direction (default: 10)"
    )
    a.add_argument("--json-out", help="write the whole report (every disagreement) as JSON here")
    a.set_defaults(func=run_audit)


def _gold(env: Any, seed: int) -> str:
    _, info = env.reset(seed=seed, options={"split": "test"})
    answer = info["task"].answer
    if answer is None:
        raise ValueError(
            "this env's tasks have no gold answer: audit checks math answers (e.g. --env grpo_gym/GSM8K-v0)"
        )
    return str(answer)


def _records_from_file(path: Path, env: Any) -> list[Any]:
    from grpo_gym.rewards.audit import AuditRecord

    if not path.is_file():
        raise FileNotFoundError(f"--replies {path}: no such file")
    records = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{lineno}: not JSON ({exc.msg})") from None
        replies = (
            (row.get("replies") or ([row["reply"]] if "reply" in row else None))
            if isinstance(row, dict)
            else None
        )
        if not replies or not ("gold" in row or "seed" in row):
            raise ValueError(
                f"{path}:{lineno}: need 'reply' (or 'replies') and 'gold' (or the env 'seed')"
            )
        gold = str(row["gold"]) if "gold" in row else _gold(env, int(row["seed"]))
        records += [AuditRecord(str(row.get("prompt", "")), str(r), gold) for r in replies]
    return records


def _records_from_model(args: argparse.Namespace, env_id: str, env: Any) -> list[Any]:
    from grpo_gym.agent.engines import make_engine
    from grpo_gym.agent.evaluate import evaluate
    from grpo_gym.agent.model import load_policy
    from grpo_gym.agent.sampling import SamplingConfig
    from grpo_gym.rewards.audit import AuditRecord

    model, tokenizer = load_policy(args.model)
    engine = make_engine(
        model,
        tokenizer,
        SamplingConfig(temperature=args.temperature, max_new_tokens=args.max_new_tokens),
    )
    report = evaluate(
        engine, [env_id], problems=args.problems, n=args.n if args.temperature > 0 else 1
    )
    return [
        AuditRecord(s.prompt, s.replies[-1] if s.replies else "", _gold(env, s.seed))
        for s in report.samples
    ]


def _line(d: Any) -> str:
    return (
        f"  #{d.index}: ours {d.ours_extracted!r} ({d.ours_reason or 'correct'}) | "
        f"reference {d.reference_extracted!r}{' error ' + d.reference_error if d.reference_error else ''}"
        f" | gold {d.record.gold!r} | reply ...{d.record.reply[-120:]!r}"
    )


def run_audit(args: argparse.Namespace) -> int:
    import gymnasium as gym

    from grpo_gym.envs import resolve_id
    from grpo_gym.rewards.audit import audit

    check_output_file(args.json_out, "--json-out")
    if args.problems < 1 or args.n < 1:
        raise ValueError("--problems and --n must be >= 1")
    env_id = resolve_id(args.env)
    env = gym.make(env_id).unwrapped
    records = (
        _records_from_file(args.replies, env)
        if args.replies
        else _records_from_model(args, env_id, env)
    )
    report = audit(records)
    print(f"{report.total} replies to {env_id}: ours correct {report.ours_correct}", end="")
    if report.reference_name is None:
        print(
            "; math-verify is not installed (pip install math-verify), so there is nothing to compare"
        )
    else:
        print(
            f", {report.reference_name} correct {report.reference_correct}, agreement {report.agreement:.1%}"
        )
        for title, items in (
            ("ours only (we said correct, the reference said wrong)", report.ours_only),
            ("reference only (the reference said correct, we said wrong)", report.reference_only),
        ):
            print(f"{title}: {len(items)}")
            for d in items[: args.show]:
                print(_line(d))
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        data = {"env": env_id, **asdict(report), "agreement": report.agreement}
        Path(args.json_out).write_text(json.dumps(data, indent=2))
        print(f"wrote {args.json_out}", file=sys.stderr)
    return 0
