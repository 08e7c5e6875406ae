"""Audit a math reward before trusting it: score (prompt, reply, gold) records with our verifier
and with a reference verifier (Hugging Face math-verify when it is installed) and list the
disagreements in both directions, with each side's extracted answer.

This is the library behind ``grpo-gym rewards audit``; it never samples a model or reads files.

>>> report = audit([AuditRecord("1+1?", r"so \\boxed{2}", "2")], reference=None)
>>> (report.total, report.ours_correct, report.reference_name)
(1, 1, None)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .math_config import MathVerifyConfig, resolve_config
from .math_reward import math_reward
from .types import Task

__all__ = [
    "AuditRecord",
    "AuditReport",
    "Disagreement",
    "ReferenceVerdict",
    "audit",
    "math_verify_reference",
]


@dataclass(frozen=True)
class AuditRecord:
    """One reply to audit: the prompt it answered, the reply, and the gold answer."""

    prompt: str
    reply: str
    gold: str

    def __post_init__(self) -> None:
        for name in ("prompt", "reply", "gold"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(
                    f"AuditRecord.{name} must be a string, got {type(getattr(self, name)).__name__}"
                )


@dataclass(frozen=True)
class ReferenceVerdict:
    """What the reference verifier said: correct or not, and the answer it extracted."""

    correct: bool
    extracted: str | None = None
    error: str | None = None


Reference = Callable[[str, str], ReferenceVerdict]
"""A reference verifier: ``(gold, reply) -> ReferenceVerdict``."""


@dataclass(frozen=True)
class Disagreement:
    """A record the two verifiers scored differently.

    Attributes:
        index: position of the record in the audited sequence.
        record: the record itself.
        ours: our verdict; ``reference`` is the reference's (always ``not ours``).
        ours_extracted, reference_extracted: the answer each side extracted from the reply.
        ours_reason: why we said no ("not equivalent", "timeout", ...), None when we said yes.
        reference_error: the reference's error, if it raised.
    """

    index: int
    record: AuditRecord
    ours: bool
    reference: bool
    ours_extracted: str | None
    reference_extracted: str | None
    ours_reason: str | None
    reference_error: str | None = None


@dataclass(frozen=True)
class AuditReport:
    """The outcome of :func:`audit`.

    Attributes:
        total: records audited.
        ours_correct: records our verifier scored correct.
        reference_name: the reference verifier's name, or None when none was available (then
            only our scores are counted and both disagreement lists are empty).
        reference_correct: records the reference scored correct (None without a reference).
        ours_only: we said correct, the reference said wrong (a possible false positive of
            ours, or a miss of the reference).
        reference_only: the reference said correct, we said wrong.
    """

    total: int
    ours_correct: int
    reference_name: str | None
    reference_correct: int | None
    ours_only: list[Disagreement] = field(default_factory=list)
    reference_only: list[Disagreement] = field(default_factory=list)

    @property
    def agreement(self) -> float | None:
        """Share of records both sides scored alike (None without a reference)."""
        if self.reference_name is None or not self.total:
            return None
        return 1 - (len(self.ours_only) + len(self.reference_only)) / self.total


def math_verify_reference() -> Reference | None:
    """Hugging Face math-verify as a reference, or None when it is not installed."""
    try:
        from math_verify import parse
        from math_verify import verify as mv_verify
    except ImportError:
        return None

    def judge(gold: str, reply: str) -> ReferenceVerdict:
        try:
            pred = parse(reply)
            ok = bool(
                mv_verify(parse(gold if "$" in gold or "\\boxed" in gold else f"${gold}$"), pred)
            )
            return ReferenceVerdict(ok, str(pred[-1]) if pred else None)
        except Exception as exc:  # a reference failure is a "no", reported with its error
            return ReferenceVerdict(False, None, f"{type(exc).__name__}: {exc}"[:300])

    return judge


_DEFAULT = object()


def audit(
    records: Iterable[AuditRecord],
    *,
    config: MathVerifyConfig | None = None,
    reference: Reference | object | None = _DEFAULT,
    reference_name: str = "math-verify",
) -> AuditReport:
    """Score every record with our verifier and with ``reference``; return the disagreements.

    Args:
        records: the (prompt, reply, gold) records.
        config: our verifier's settings (defaults when None).
        reference: a ``(gold, reply) -> ReferenceVerdict`` callable; by default math-verify when
            importable; None audits our side only.
        reference_name: the name reported for ``reference``.
    """
    cfg = resolve_config(config, {})
    judge = math_verify_reference() if reference is _DEFAULT else reference
    if judge is not None and not callable(judge):
        raise TypeError("reference must be a (gold, reply) -> ReferenceVerdict callable or None")
    total = ours_correct = ref_correct = 0
    ours_only: list[Disagreement] = []
    reference_only: list[Disagreement] = []
    for i, rec in enumerate(records):
        if not isinstance(rec, AuditRecord):
            raise TypeError(
                f"record {i} is a {type(rec).__name__}: pass AuditRecord(prompt, reply, gold)"
            )
        total += 1
        res = math_reward(rec.reply, Task(prompt=rec.prompt, answer=rec.gold), config=cfg)
        ours = res.score == 1.0
        ours_correct += ours
        if judge is None:
            continue
        verdict = judge(rec.gold, rec.reply)  # type: ignore[operator]
        ref_correct += verdict.correct
        if verdict.correct != ours:
            item = Disagreement(
                i,
                rec,
                ours,
                verdict.correct,
                res.extracted,
                verdict.extracted,
                res.reason,
                verdict.error,
            )
            (ours_only if ours else reference_only).append(item)
    return AuditReport(
        total=total,
        ours_correct=ours_correct,
        reference_name=reference_name if judge is not None else None,
        reference_correct=ref_correct if judge is not None else None,
        ours_only=ours_only,
        reference_only=reference_only,
    )
