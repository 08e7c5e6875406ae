"""The labelled verification set: for every MATH-500 and GSM8K test gold, replies that must verify
True (equivalent rewritings) and replies that must verify False (perturbed answers).

Run (from the repository root) to regenerate ``tests/data/verify_labelled.jsonl``:

    .venv/bin/python benchmarks/labelled_set.py

Each row: ``{"source", "id", "gold", "reply", "label", "kind"}``. Labels hold by construction,
never by asking a verifier: a rewriting changes only the notation (box, dollar signs, sentence,
``\\dfrac``/``\\frac``, spacing, digit grouping, number words, an exact decimal, a correct rounding of
an irrational value to 6 significant digits); a perturbation changes the value (a digit, ``+1``, a
sign, a factor of 10, a dropped element, a wrong rounding).
"""

from __future__ import annotations

import json
import re
import sys
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "benchmarks"
OUT = ROOT / "tests" / "data" / "verify_labelled.jsonl"

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def in_words(n: int) -> str | None:
    """English words for 0..99 (``twenty-one``), else None."""
    if not 0 <= n < 100:
        return None
    if n < 20:
        return _ONES[n]
    return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])


def _grouped(n: int) -> str:
    return f"{n:,}"


def _digit_changed(gold: str) -> str | None:
    """The gold with its first digit changed (+1 mod 10), or None if it has no digit (the first:
    a last digit may be a unit's exponent, ``15\\mbox{ cm}^2``, which changes no value)."""
    m = re.search(r"\d", gold)
    if not m:
        return None
    i = m.start()
    return gold[:i] + str((int(gold[i]) + 1) % 10) + gold[i + 1 :]


def _exact_number(gold: str) -> Fraction | None:
    s = gold.replace(",", "").replace("\\!", "").replace("\\$", "").strip()
    if re.fullmatch(r"-?\d+(?:\.\d+)?|-?\.\d+", s):
        return Fraction(s)
    m = re.fullmatch(r"(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}", s)
    if m and int(m.group(3)):
        return Fraction(int(m.group(2)), int(m.group(3))) * (-1 if m.group(1) else 1)
    return None


def _terminating(x: Fraction) -> bool:
    d = x.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _decimal_text(x: Fraction) -> str:
    """An exact decimal for a terminating fraction."""
    s = f"{float(x):.12f}".rstrip("0").rstrip(".")
    assert Fraction(s) == x
    return s


_IRRATIONAL = {  # a gold form, its value rounded to 6 significant digits, a wrong rounding
    r"\sqrt{2}": ("1.41421", "1.41422"),
    r"\sqrt{3}": ("1.73205", "1.73204"),
    r"\pi": ("3.14159", "3.14158"),
    r"2\pi": ("6.28319", "6.28318"),
}


def rows_for(source: str, ident: str, gold: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []

    def add(reply: str, label: bool, kind: str) -> None:
        out.append(
            {
                "source": source,
                "id": ident,
                "gold": gold,
                "reply": reply,
                "label": label,
                "kind": kind,
            }
        )

    add(rf"The answer is $\boxed{{{gold}}}$.", True, "boxed")
    add(f"So the final answer is ${gold}$.", True, "final_answer_sentence")
    add(rf"\boxed{{ {gold} }}", True, "spacing")
    if r"\dfrac" in gold or r"\frac" in gold:
        other = (
            gold.replace(r"\dfrac", r"\frac")
            if r"\dfrac" in gold
            else gold.replace(r"\frac", r"\dfrac")
        )
        add(rf"\boxed{{{other}}}", True, "dfrac_frac")
    value = _exact_number(gold)
    if value is not None:
        if value.denominator == 1:
            n = int(value)
            if abs(n) >= 1000 and "," not in gold:
                add(rf"\boxed{{{_grouped(n)}}}", True, "digit_grouping")
            words = in_words(n)
            if words:
                add(f"The final answer is {words}.", True, "number_words")
            add(rf"\boxed{{{n + 1}}}", False, "plus_one")
            if n:
                add(rf"\boxed{{{n * 10}}}", False, "times_ten")
                add(rf"\boxed{{{-n}}}", False, "sign")
        else:
            if _terminating(value):
                add(rf"\boxed{{{_decimal_text(value)}}}", True, "exact_decimal")
            add(rf"\boxed{{\frac{{{value.numerator}}}{{{value.denominator}}}}}", True, "fraction")
            add(
                rf"\boxed{{\frac{{{value.numerator + 1}}}{{{value.denominator}}}}}",
                False,
                "numerator",
            )
            add(rf"\boxed{{{float(value) * 1.01:.6g}}}", False, "off_by_one_percent")
    else:
        add(rf"\boxed{{{gold} + 1}}", False, "plus_one")
        changed = _digit_changed(gold)
        if changed is not None and changed != gold:
            add(rf"\boxed{{{changed}}}", False, "digit_changed")
        if gold.startswith("(") and gold.count(",") >= 1 and "\\" not in gold:
            inner = gold[1:-1].split(",")
            add(rf"\boxed{{({','.join(inner[:-1])})}}", False, "element_dropped")
    if gold in _IRRATIONAL:
        right, wrong = _IRRATIONAL[gold]
        add(rf"\boxed{{{right}}}", True, "correct_rounding")
        add(rf"\boxed{{{wrong}}}", False, "wrong_rounding")
    return out


def build() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for line in (DATA / "math500_test.jsonl").read_text().splitlines():
        item = json.loads(line)
        rows += rows_for("math500", item["unique_id"], item["answer"].strip())
    for i, line in enumerate((DATA / "gsm8k_test.jsonl").read_text().splitlines()):
        item = json.loads(line)
        rows += rows_for("gsm8k", f"test/{i}", item["answer"].split("####")[-1].strip())
    return rows


def main() -> int:
    rows = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(json.dumps(r) + "\n" for r in rows))
    n_true = sum(bool(r["label"]) for r in rows)
    print(f"wrote {OUT}: {len(rows)} rows ({n_true} must verify True, {len(rows) - n_true} False)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
