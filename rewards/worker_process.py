"""One math worker process: started with ``subprocess``, ready handshake, kill and close.

The pool of them (time limits, spares, replacement after a kill) is ``rewards/pool.py``.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from multiprocessing import Pipe
from multiprocessing.connection import Connection


class CheckTimeout(TimeoutError):
    """A limited call ran past its time limit; its worker was killed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"check exceeded its {seconds:g} s time limit; the worker was killed")
        self.seconds = seconds


class WorkerError(RuntimeError):
    """The function raised inside the worker, or the worker died (message says which)."""


class _Worker:
    """One worker process and the parent's end of its socket."""

    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        parent_end, child_end = Pipe(duplex=True)
        fd = child_end.fileno()
        self.preload = preload  # modules it imports before saying ready
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "grpo_gym.rewards._worker", str(fd), *preload],
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            child_end.close()
        self.conn: Connection = parent_end

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            self.kill()
            raise WorkerError(f"math worker did not start within {timeout:g} s")
        try:
            msg = self.conn.recv()
        except (EOFError, OSError) as exc:
            self.kill()
            raise WorkerError(
                f"math worker died while starting (exit code {self.proc.poll()})"
            ) from exc
        if not (isinstance(msg, tuple) and msg[0] == "ready"):
            self.kill()
            raise WorkerError(f"math worker sent {msg!r} instead of 'ready'")

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(OSError):
            self.conn.close()
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            self.proc.wait(timeout=5)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()  # EOF: the worker exits its loop
        try:
            self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            self.kill()
