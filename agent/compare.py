"""Compare two eval reports: per-env deltas (B - A) with standard errors, flagging significant ones.

The standard error of a difference of two independent means is ``sqrt(se_a^2 + se_b^2)``;
a delta larger than two of them (about 95 % confidence) is marked significant. Metrics
compared: every pass@k present in both reports, and the mean reward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .report import EnvResult, EvalReport, pipe_table


@dataclass(frozen=True)
class Delta:
    """One metric of one env in both reports."""

    env_id: str
    metric: str
    a: float
    b: float
    stderr: float | None  # of b - a; None if either side has none

    @property
    def delta(self) -> float:
        return self.b - self.a

    @property
    def significant(self) -> bool:
        """``|b - a| > 2 * stderr`` (never, without a standard error)."""
        if self.stderr is None:
            return False
        if self.stderr == 0:
            return self.delta != 0
        return abs(self.delta) > 2 * self.stderr


@dataclass(frozen=True)
class Comparison:
    """All deltas, and the envs present in only one report."""

    a_name: str
    b_name: str
    deltas: list[Delta]
    only_a: list[str]
    only_b: list[str]

    @property
    def significant(self) -> list[Delta]:
        return [d for d in self.deltas if d.significant]


def _combined(se_a: float | None, se_b: float | None) -> float | None:
    if se_a is None or se_b is None:
        return None
    return math.sqrt(se_a**2 + se_b**2)


def _env_deltas(ra: EnvResult, rb: EnvResult) -> list[Delta]:
    out = [
        Delta(
            ra.env_id,
            f"pass@{k}",
            ra.pass_at_k[k],
            rb.pass_at_k[k],
            _combined(ra.pass_at_k_stderr.get(k), rb.pass_at_k_stderr.get(k)),
        )
        for k in sorted(set(ra.pass_at_k) & set(rb.pass_at_k))
    ]
    out.append(
        Delta(
            ra.env_id,
            "reward",
            ra.reward_mean,
            rb.reward_mean,
            _combined(ra.reward_stderr, rb.reward_stderr),
        )
    )
    return out


def compare(a: EvalReport, b: EvalReport) -> Comparison:
    """Deltas ``b - a`` for every env both reports evaluated."""
    by_b = {r.env_id: r for r in b.results}
    ids_a = [r.env_id for r in a.results]
    deltas = [d for ra in a.results if ra.env_id in by_b for d in _env_deltas(ra, by_b[ra.env_id])]
    return Comparison(
        a.provenance.model.name,
        b.provenance.model.name,
        deltas,
        only_a=[i for i in ids_a if i not in by_b],
        only_b=[i for i in by_b if i not in ids_a],
    )


def comparison_table(c: Comparison) -> str:
    """Env | Metric | A | B | Delta | ± Stderr | Significant (``*`` when |delta| > 2 stderr)."""
    rows = []
    for d in c.deltas:
        se = "" if d.stderr is None else f"{d.stderr:.4f}"
        rows.append(
            [
                d.env_id.split("/", 1)[-1],
                d.metric,
                f"{d.a:.4f}",
                f"{d.b:.4f}",
                f"{d.delta:+.4f}",
                "±" if se else "",
                se,
                "*" if d.significant else "",
            ]
        )
    table = pipe_table(
        ["Env", "Metric", "A", "B", "Delta", "", "Stderr", ">2se"], rows, {2, 3, 4, 6}
    )
    lines = [f"- A: {c.a_name}", f"- B: {c.b_name}", "", table, ""]
    if c.only_a:
        lines.append(f"- only in A: {', '.join(c.only_a)}")
    if c.only_b:
        lines.append(f"- only in B: {', '.join(c.only_b)}")
    lines.append(
        f"- {len(c.significant)} of {len(c.deltas)} differences exceed two standard errors (marked *)"
    )
    return "\n".join(lines)
