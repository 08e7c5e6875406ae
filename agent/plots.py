"""PNG plots for eval reports and training runs (optional: needs matplotlib; see ``INSTALL_HINT``).

* ``plot_pass_rates``: pass@k per env as bars with ±1 standard-error bars.
* ``plot_training_curve``: ``reward_mean`` and ``pass_rate`` against ``step`` from a run's
  ``metrics.jsonl``, in two panels (with 0/1 rewards the two curves are the same numbers).

Without matplotlib both raise ``PlotsUnavailable`` (an ``ImportError``) with the install hint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .report import EvalReport

INSTALL_HINT = "plots need matplotlib: pip install matplotlib (from a grpo-gym checkout: pip install -e '.[plot]')"


class PlotsUnavailable(ImportError):
    """matplotlib is not installed."""


def plots_available() -> bool:
    try:
        _pyplot()
    except PlotsUnavailable:
        return False
    return True


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, never a window
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotsUnavailable(INSTALL_HINT) from exc
    return plt


@dataclass(frozen=True)
class CurvePoint:
    """One training step of a metrics.jsonl."""

    step: int
    reward_mean: float | None
    pass_rate: float | None


def read_metrics(path: str | Path) -> list[CurvePoint]:
    """The points of a trainer ``metrics.jsonl`` (lines without ``step`` are skipped)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"training metrics {path}: no such file (a run writes OUTPUT_DIR/metrics.jsonl)"
        )
    points = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{i} is not JSON: {exc}") from exc
        if "step" in row:
            points.append(
                CurvePoint(int(row["step"]), row.get("reward_mean"), row.get("pass_rate"))
            )
    if not points:
        raise ValueError(f"{path} has no rows with a 'step' key: not a grpo-gym metrics.jsonl")
    return points


def _save(plt: Any, fig: Any, path: str | Path) -> Path:
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_pass_rates(report: EvalReport, path: str | Path, k: int = 1) -> Path:
    """Bar chart of pass@k per env with standard-error bars; returns ``path``."""
    plt = _pyplot()
    names = [r.short_id for r in report.results]
    values = [r.pass_at_k[k] for r in report.results]
    errors = [r.pass_at_k_stderr.get(k) or 0.0 for r in report.results]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(names) + 2), 3.5))
    ax.bar(range(len(names)), values, yerr=errors, capsize=4, color="#4c72b0")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(f"pass@{k} (held-out)")
    name = report.provenance.model.name
    short = name if len(name) <= 48 else "…" + name[-47:]  # a long checkpoint path would be cut off
    ax.set_title(f"{short}\npass@{k} per env (±1 s.e.)", fontsize=9)
    return _save(plt, fig, path)


def plot_training_curve(metrics: str | Path | list[CurvePoint], path: str | Path) -> Path:
    """Reward mean (top) and pass rate (bottom) against step; returns ``path``.

    Separate panels: with 0/1 rewards the two series are equal and one line would hide the other.
    """
    plt = _pyplot()
    points = read_metrics(metrics) if not isinstance(metrics, list) else metrics
    fig, axes = plt.subplots(2, 1, figsize=(6, 4.5), sharex=True)
    for ax, key, label in zip(
        axes, ("reward_mean", "pass_rate"), ("reward (mean)", "pass rate (train)"), strict=True
    ):
        xs = [p.step for p in points if getattr(p, key) is not None]
        ys = [getattr(p, key) for p in points if getattr(p, key) is not None]
        if xs:
            ax.plot(xs, ys, marker="o", markersize=2)
        ax.set_ylabel(label, fontsize=8)
    axes[-1].set_xlabel("step")
    axes[0].set_title("training curve", fontsize=9)
    return _save(plt, fig, path)
