"""Run env calls (reset, step) on worker threads with a wall-time bound each: a stuck call is reported, never a silent hang.

``run_bounded`` runs each call on a pool of daemon threads. A call still running ``timeout_s``
after it started is abandoned: its result records the stack of the thread it is stuck in (for the
report), a fresh worker takes its place, and the rest go on. Python cannot kill a thread, so the
abandoned one runs on in the background; as a daemon it never holds up the process's exit, and the
caller must not reuse whatever the call was using (``EnvPool.discard``).

While the calls run, ``sys.stdout`` / ``sys.stderr`` writes from the worker threads are counted and
their first characters kept (``output_bytes``, ``output_head``) instead of flooding the terminal;
other threads print as usual.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TextIO, TypeVar, cast

T = TypeVar("T")
_HEAD = 400  # characters of a call's printed output kept for the report


@dataclass
class CallResult(Generic[T]):
    """What one bounded call gave: a value, an exception, or the stack it was stuck in."""

    value: T | None = None
    error: BaseException | None = None
    stuck_stack: str | None = None  # set when the call ran past the bound and was abandoned
    seconds: float = 0.0
    output_bytes: int = 0  # characters the call wrote to stdout/stderr
    output_head: str = ""


class _Captured:
    def __init__(self) -> None:
        self.count = 0
        self.head = ""


class _ThreadOutput:
    """Stands in for a stream: writes from a capturing thread are counted, others pass through."""

    def __init__(self, real: TextIO, local: threading.local) -> None:
        self._real = real
        self._local = local

    def write(self, text: str) -> int:
        buf: _Captured | None = getattr(self._local, "buf", None)
        if buf is None:
            return self._real.write(text)
        buf.count += len(text)
        if len(buf.head) < _HEAD:
            buf.head += text[: _HEAD - len(buf.head)]
        return len(text)

    def flush(self) -> None:
        self._real.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


_local = threading.local()


@contextmanager
def _captured_output() -> Iterator[None]:
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, _ThreadOutput(real_out, _local))
    sys.stderr = cast(TextIO, _ThreadOutput(real_err, _local))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = real_out, real_err


def _stack_of(thread_id: int) -> str:
    frame = sys._current_frames().get(thread_id)
    return (
        "".join(traceback.format_stack(frame))
        if frame is not None
        else "(the thread has no Python frame)"
    )


def run_bounded(
    calls: Sequence[Callable[[], T]], *, threads: int, timeout_s: float
) -> list[CallResult[T]]:
    """Run ``calls`` on up to ``threads`` workers; each may take at most ``timeout_s`` seconds (0 = no bound)."""
    results: list[CallResult[T]] = [CallResult() for _ in calls]
    started: dict[int, tuple[float, int]] = {}  # call index -> (start time, thread id)
    finished: set[int] = set()
    cond = threading.Condition()
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(calls)):
        todo.put(i)

    def worker() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            t0 = time.monotonic()
            with cond:
                started[i] = (t0, threading.get_ident())
            _local.buf = _Captured()
            value: T | None = None
            error: BaseException | None = None
            try:
                value = calls[i]()
            except BaseException as exc:  # handed to the caller, who decides
                error = exc
            buf, _local.buf = _local.buf, None
            with cond:
                if i in finished:  # abandoned as stuck; a replacement worker carries on
                    return
                results[i] = CallResult(
                    value, error, None, time.monotonic() - t0, buf.count, buf.head
                )
                finished.add(i)
                cond.notify_all()

    def spawn() -> None:
        threading.Thread(target=worker, daemon=True, name="grpo-gym-env").start()

    poll = min(0.5, timeout_s / 4) if timeout_s else 0.5
    with _captured_output():
        for _ in range(max(1, min(threads, len(calls)))):
            spawn()
        with cond:
            while len(finished) < len(calls):
                cond.wait(timeout=poll)
                now = time.monotonic()
                for i, (t0, tid) in list(started.items()):
                    if timeout_s and i not in finished and now - t0 > timeout_s:
                        results[i] = CallResult(stuck_stack=_stack_of(tid), seconds=now - t0)
                        finished.add(i)
                        spawn()
    return results
