"""The machine a benchmark ran on, recorded in every results JSON (import beside the scripts)."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


def _proc_field(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def describe_machine(packages: tuple[str, ...] = ()) -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python, CUDA device (if torch sees one) and package versions."""
    mem = _proc_field("/proc/meminfo", "MemTotal")
    versions: dict[str, str | None] = {}
    for name in packages:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    gpu = None
    try:
        import torch

        gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    except ImportError:
        pass
    return {
        "cpu_model": _proc_field("/proc/cpuinfo", "model name")
        or platform.processor()
        or "unknown",
        "cpu_cores": os.cpu_count(),
        "ram_gib": round(int(mem.split()[0]) / 1024**2, 1) if mem else None,
        "gpu": gpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }
