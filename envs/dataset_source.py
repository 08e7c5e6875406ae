"""Reading the rows of a dataset: a local JSONL / Parquet / CSV file, a local folder, or a
``datasets.load_dataset`` id.

``load_rows(source, ...)`` returns a list of dicts (one per row). Errors are one line naming the
problem and the fix: a missing file, a malformed JSONL line (``file:line``), a missing optional
library (``pip install 'grpo-gym[datasets]'``), or a hub id that cannot be reached (use a local
file instead).
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: With ``line_numbers=True``, JSONL rows carry their line number under this key.
LINE_KEY = "__line__"
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json")
LOCAL_SUFFIXES = (*JSONL_SUFFIXES, ".parquet", ".csv")


class DatasetLoadError(ValueError):
    """A dataset could not be read; the message says why and what to do instead."""


class DatasetFileNotFoundError(DatasetLoadError, FileNotFoundError):
    """A local dataset path does not exist."""


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in LOCAL_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _jsonl_rows(path: Path, line_numbers: bool) -> list[dict[str, Any]]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as fh:
        text = fh.read()
    if path.name.lower().endswith(".json") and text.lstrip().startswith("["):
        data = json.loads(text)  # a JSON array of objects
        lines = [(i + 1, row) for i, row in enumerate(data)]
    else:
        lines = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                lines.append((lineno, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DatasetLoadError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
    for lineno, row in lines:
        if not isinstance(row, dict):
            raise DatasetLoadError(
                f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}"
            )
        rows.append({**row, LINE_KEY: lineno} if line_numbers else row)
    return rows


def _parquet_rows(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetLoadError(
            f"reading {path} needs pyarrow: pip install 'grpo-gym[datasets]'"
        ) from None
    return pq.read_table(path).to_pylist()


def _csv_rows(path: Path, line_numbers: bool) -> list[dict[str, Any]]:
    """The rows of a CSV file; with ``line_numbers`` each carries its line in the file (the
    header is line 1, so the first row is line 2; a row spanning lines counts its last)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return [{**row, LINE_KEY: reader.line_num} if line_numbers else dict(row) for row in reader]


def _hf_rows(source: str, config: str | None, split: str, local: bool) -> list[dict[str, Any]]:
    try:
        import datasets
    except ImportError:
        raise DatasetLoadError(
            f"loading {source!r} through Hugging Face datasets needs the 'datasets' package: "
            "pip install 'grpo-gym[datasets]', or pass a local .jsonl/.parquet/.csv file"
        ) from None
    try:
        ds = datasets.load_dataset(source, config, split=split)
    except Exception as exc:
        if local:
            raise DatasetLoadError(
                f"datasets.load_dataset({source!r}, split={split!r}) failed: "
                f"{type(exc).__name__}: {str(exc)[:300]}"
            ) from None
        raise DatasetLoadError(
            f"could not load {source!r} (config={config!r}, split={split!r}) from the Hugging Face "
            f"hub ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}). "
            "The hub is unreachable offline: download the data where it is reachable and pass "
            "the local file instead (source='data.jsonl' / .parquet / .csv, or a saved folder)"
        ) from None
    return [dict(row) for row in ds]


def load_rows(
    source: str | Path | list[Mapping[str, Any]],
    *,
    config: str | None = None,
    split: str = "train",
    line_numbers: bool = False,
) -> list[dict[str, Any]]:
    """The rows of ``source``.

    Args:
        source: a local ``.jsonl`` (``.jsonl.gz``, ``.json``), ``.parquet`` or ``.csv`` file; a
            local folder (read with ``datasets.load_dataset(folder)``); a hub id such as
            ``"openai/gsm8k"`` (``datasets.load_dataset(id, config, split=split)``, needs the
            hub); or a list of dicts (used as given).
        config: the dataset config name (hub ids only), e.g. ``"main"`` for GSM8K.
        split: the split to read from a folder or hub id (``"train"``, ``"test"``, ...).
        line_numbers: JSONL and CSV rows get their line number under ``LINE_KEY`` (for error
            messages).
    """
    if isinstance(source, list):
        return [dict(row) for row in source]
    path = Path(source).expanduser()
    if path.is_dir():
        return _hf_rows(str(path), config, split, local=True)
    if path.is_file():
        suffix = _suffix(path)
        if suffix in JSONL_SUFFIXES:
            rows = _jsonl_rows(path, line_numbers)
        elif suffix == ".parquet":
            rows = _parquet_rows(path)
        elif suffix == ".csv":
            rows = _csv_rows(path, line_numbers)
        else:
            raise DatasetLoadError(
                f"{path}: unknown file type {suffix!r}: use .jsonl, .jsonl.gz, .json, .parquet or .csv"
            )
        if not rows:
            raise DatasetLoadError(f"{path}: the file holds no problems (no rows)")
        return rows
    text = str(source)
    looks_local = text.startswith((".", "/", "~")) or _suffix(path) in LOCAL_SUFFIXES
    if looks_local or text.count("/") > 1:
        raise DatasetFileNotFoundError(f"no such file or folder: {text}")
    return _hf_rows(text, config, split, local=False)
