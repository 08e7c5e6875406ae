"""rewards.audit: disagreements between our verifier and a reference, both ways."""

from __future__ import annotations

import pytest

from grpo_gym.rewards.audit import AuditRecord, ReferenceVerdict, audit


def _substring_reference(gold: str, reply: str) -> ReferenceVerdict:
    """A stand-in reference: correct when the gold's text appears anywhere in the reply."""
    return ReferenceVerdict(gold in reply, gold if gold in reply else None)


RECORDS = [
    AuditRecord("1+1?", r"so \boxed{2}", "2"),  # both correct
    AuditRecord("half?", r"so \boxed{0.5}", r"\frac{1}{2}"),  # ours only
    AuditRecord("2+2?", r"so \boxed{5}", "4"),  # both wrong
    AuditRecord("2+2?", r"2+2=4? No: \boxed{5}", "4"),  # reference only
]


def test_disagreements_both_ways() -> None:
    report = audit(RECORDS, reference=_substring_reference, reference_name="strings")
    assert (report.total, report.ours_correct, report.reference_correct) == (4, 2, 2)
    assert report.reference_name == "strings"
    assert [d.index for d in report.ours_only] == [1]
    assert [d.index for d in report.reference_only] == [3]
    d = report.ours_only[0]
    assert (d.ours, d.reference, d.ours_extracted, d.reference_extracted) == (
        True,
        False,
        "0.5",
        None,
    )
    r = report.reference_only[0]
    assert (r.ours_extracted, r.reference_extracted, r.ours_reason) == ("5", "4", "not equivalent")
    assert report.agreement == 0.5


def test_without_a_reference_only_our_side_is_counted() -> None:
    report = audit(RECORDS, reference=None)
    assert (report.total, report.ours_correct, report.reference_correct) == (4, 2, None)
    assert report.ours_only == [] and report.reference_only == [] and report.agreement is None


def test_bad_records_say_how_to_fix() -> None:
    with pytest.raises(TypeError, match="AuditRecord"):
        audit([("p", "r", "g")], reference=None)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="reply must be a string"):
        AuditRecord("p", None, "g")  # type: ignore[arg-type]
