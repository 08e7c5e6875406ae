"""Share the CPU with other processes: use the cores they leave free, and say when it is busy.

A 2-core laptop with a browser or an IDE running is the common case. torch's intra-op pool
assumes it owns every core; when another process keeps one busy, each parallel region waits for
a thread that is not running. grpo-gym sets passive OpenMP waits (grpo_gym/__init__.py) and, with
``threads=0`` (the default), starts with one torch thread per core that other processes leave
free, measured from /proc/stat over a short window before the model loads. Set ``threads``
explicitly, or ``GRPO_GYM_CPU_SHARE=0``, to keep torch's own choice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import torch

WINDOW_S = 0.3


def _busy_and_total() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs since boot; None where /proc/stat is unavailable."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values[:8]) - idle, sum(values[:8])


def _own_jiffies() -> int:
    fields = Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def busy_cores(window_s: float = WINDOW_S) -> float | None:
    """How many cores other processes kept busy over ``window_s`` seconds (None: unknown)."""
    start = _busy_and_total()
    if start is None:
        return None
    own0 = _own_jiffies()
    time.sleep(window_s)
    end = _busy_and_total()
    if end is None or end[1] <= start[1]:
        return None
    others = (end[0] - start[0]) - (_own_jiffies() - own0)
    return max(0.0, others / (end[1] - start[1]) * (os.cpu_count() or 1))


def choose_threads(threads: int, echo: Callable[[str], None]) -> None:
    """Set torch's thread count: ``threads`` if given, else the cores other processes leave free."""
    if threads:
        torch.set_num_threads(threads)
        return
    if os.environ.get("GRPO_GYM_CPU_SHARE") == "0":
        return
    cores = torch.get_num_threads()
    busy = busy_cores()
    if busy is None or busy < 0.5:
        return
    free = max(1, min(cores, round((os.cpu_count() or cores) - busy)))
    if free < cores:
        torch.set_num_threads(free)
    echo(
        f"note: other processes keep about {busy:.1f} of {os.cpu_count()} cores busy; "
        f"training uses {free} thread(s) (threads=N to choose; expect slower steps)"
    )
