"""A pool of worker processes that runs functions under a hard time limit.

Sympy can spend minutes inside one C-level call (``5^{5^{5^{5^5}}}``) where SIGALRM never
fires, so every symbolic check runs in a worker process. A call that overruns its limit is
abandoned: the worker is killed (SIGKILL), a fresh one starts at once in the background, and
the caller gets :class:`CheckTimeout`.

- Workers are fresh interpreters (the *spawn* start method, launched with ``subprocess`` so
  the parent's ``__main__`` is never re-imported); each imports sympy and the parsers once.
- Works from any thread: no signals, only sockets and ``poll``.
- Started on first use (one worker for the call, the rest of the pool and one spare worker
  in the background; the spare replaces a killed worker at once),
  killed at interpreter exit, and fork-safe: a forked child
  forgets the parent's workers and starts its own when it needs them.
- Workers die with the parent (PR_SET_PDEATHSIG) and have a memory cap
  (``$GRPO_GYM_MATH_WORKER_MEM_MB``, default 4096).

Public: :func:`run_limited`, :func:`get_pool`, :func:`shutdown_pool`, :class:`CheckTimeout`,
:class:`WorkerError`, :class:`WorkerPool`.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .math_config import default_workers
from .worker_process import CheckTimeout, WorkerError, _Worker

__all__ = ["CheckTimeout", "WorkerError", "WorkerPool", "get_pool", "run_limited", "shutdown_pool"]

T = TypeVar("T")
STARTUP_TIMEOUT = 120.0


class WorkerPool:
    """A fixed number of worker processes shared by all threads of this process.

    Args:
        size: the most workers alive at once (also the most checks running in parallel).
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"pool size {size}: use at least 1 worker")
        self.size = size
        self._idle: list[_Worker] = []
        self._busy = 0  # workers handed out or starting
        self._cond = threading.Condition()
        self._closed = False
        self._pid = os.getpid()
        self._spare: _Worker | None = None  # started, outside the pool until a kill
        self._spare_starting = False
        self._preload: tuple[str, ...] = ()  # modules every worker imports at start-up

    def __repr__(self) -> str:
        return f"WorkerPool(size={self.size}, idle={len(self._idle)}, busy={self._busy})"

    def resize(self, size: int) -> None:
        """Change the number of workers; extra idle workers are stopped."""
        if size < 1:
            raise ValueError(f"pool size {size}: use at least 1 worker")
        with self._cond:
            self.size = size
            extra = []
            while self._idle and len(self._idle) + self._busy > size:
                extra.append(self._idle.pop())
            self._cond.notify_all()
        for w in extra:
            w.close()

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise WorkerError("the math worker pool was shut down")
                if self._idle:
                    self._busy += 1
                    return self._idle.pop()
                if self._busy < self.size:
                    self._busy += 1
                    break
                self._cond.wait()
        try:  # start a worker outside the lock
            w = _spawner().submit(_Worker, self._preload).result()
            w.wait_ready(STARTUP_TIMEOUT)
        except BaseException:
            self._release(None)
            raise
        # then, in the background (not competing with this start): the other free slots
        # and the spare
        self._fill()
        self._start_spare()
        return w

    def _release(self, w: _Worker | None) -> None:
        with self._cond:
            self._busy -= 1
            if w is not None and not self._closed and len(self._idle) + self._busy < self.size:
                self._idle.append(w)
                w = None
            self._cond.notify()
        if w is not None:
            w.close()

    def run(self, fn: Callable[..., T], *args: Any, timeout: float, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` in a worker; at most ``timeout`` seconds of its time.

        ``fn`` must be picklable (a module-level function of an importable module).

        Raises:
            CheckTimeout: the call overran; its worker was killed (a new one starts on demand).
            WorkerError: ``fn`` raised (the message carries its error) or the worker died.
        """
        if timeout <= 0:
            raise ValueError(f"timeout={timeout!r}: use a positive number of seconds")
        data = pickle.dumps((fn, args, kwargs))  # fails here, not in a worker, if unpicklable
        return self._call(self._acquire(), data, timeout)  # type: ignore[no-any-return]

    def preload(self, *modules: str, timeout: float = STARTUP_TIMEOUT) -> None:
        """Make every worker import ``modules`` before it serves a call: the workers alive now
        (one call each, within ``timeout``) and every worker started later (replacements, the
        spare) at start-up. So no check's time limit pays for a slow import (reasoning-gym's
        takes seconds). Importing modules already preloaded does nothing."""
        new = tuple(m for m in dict.fromkeys(modules) if m not in self._preload)
        if not new:
            return
        with self._cond:
            self._preload += new
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.close()
        self.run_on_all(_import_modules, new, timeout=timeout)
        self._start_spare()

    def run_on_all(
        self, fn: Callable[..., T], *args: Any, timeout: float, **kwargs: Any
    ) -> list[T]:
        """Run ``fn(*args, **kwargs)`` once in each of the pool's ``size`` workers (starting
        missing ones), e.g. to clear their caches. Waits until every worker is free.

        Raises:
            CheckTimeout, WorkerError: as :meth:`run` (the remaining workers are released).
        """
        if timeout <= 0:
            raise ValueError(f"timeout={timeout!r}: use a positive number of seconds")
        data = pickle.dumps((fn, args, kwargs))
        workers: list[_Worker] = []
        try:
            for _ in range(self.size):
                workers.append(self._acquire())
        except BaseException:
            for w in workers:
                self._release(w)
            raise
        results: list[T] = []
        try:
            while workers:
                results.append(self._call(workers.pop(), data, timeout))
        finally:
            for w in workers:
                self._release(w)
        return results

    def _call(self, w: _Worker, data: bytes, timeout: float) -> Any:
        """Send one pickled job to an acquired worker and release it (or kill it)."""
        try:
            w.conn.send_bytes(data)
            if not w.conn.poll(timeout):
                self._replace(w)
                raise CheckTimeout(timeout)
            status, payload = w.conn.recv()
        except CheckTimeout:
            raise
        except (EOFError, OSError, BrokenPipeError) as exc:
            w.kill()
            self._release(None)
            raise WorkerError(
                f"math worker died during the call (exit code {w.proc.poll()})"
            ) from exc
        except BaseException:
            w.kill()
            self._release(None)
            raise
        self._release(w)
        if status == "err":
            raise WorkerError(str(payload))
        return payload

    def _replace(self, w: _Worker) -> None:
        """Kill a worker that overran and start its replacement in the background: the next
        call finds a ready worker (or waits only for the rest of its start-up) instead of
        paying a whole interpreter start. The slot counts as busy until the new one is ready."""
        with contextlib.suppress(OSError):
            w.proc.kill()
        with self._cond:
            spare, self._spare = self._spare, None
        if spare is None:
            self._start_in_background(w)
            return
        threading.Thread(target=w.kill, name="math-worker-reap", daemon=True).start()
        self._release(spare)  # the spare takes the killed worker's slot at once
        self._start_spare()

    def _start_spare(self) -> None:
        """Keep one started worker outside the pool, so that a worker killed for overrunning is
        replaced at once rather than after an interpreter start (seconds on a loaded machine)."""
        with self._cond:
            if self._spare is not None or self._spare_starting or self._closed:
                return
            self._spare_starting = True

        def start() -> None:
            new: _Worker | None = None
            try:
                new = _spawner().submit(_Worker, self._preload).result()
                new.wait_ready(STARTUP_TIMEOUT)
            except BaseException:
                new = None
            with self._cond:
                self._spare_starting = False
                keep = new is not None and not self._closed and self._spare is None
                keep = keep and new is not None and new.preload == self._preload
                if keep:
                    self._spare = new
            if new is not None and not keep:
                new.close()

        threading.Thread(target=start, name="math-worker-spare", daemon=True).start()

    def _fill(self) -> None:
        """Start workers for every free slot in the background (claimed as busy until ready)."""
        with self._cond:
            free = self.size - self._busy - len(self._idle)
            self._busy += max(free, 0)
        for _ in range(max(free, 0)):
            self._start_in_background(None)

    def _start_in_background(self, dead: _Worker | None) -> None:
        """Reap ``dead`` (if any) and start a worker for its slot, in a background thread."""

        def start() -> None:
            if dead is not None:
                dead.kill()
            try:
                new = _spawner().submit(_Worker, self._preload).result()
                new.wait_ready(STARTUP_TIMEOUT)
            except BaseException:
                self._release(None)
                return
            self._release(new)

        threading.Thread(target=start, name="math-worker-start", daemon=True).start()

    def shutdown(self) -> None:
        """Stop all idle workers; busy ones stop when their call returns."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            if self._spare is not None:
                idle.append(self._spare)
                self._spare = None
            self._cond.notify_all()
        if os.getpid() != self._pid:
            return  # a forked child must not touch its parent's workers
        for w in idle:
            w.close()


def _import_modules(names: tuple[str, ...]) -> None:
    """Import ``names`` (in a worker: ``WorkerPool.preload``)."""
    for name in names:
        importlib.import_module(name)


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()
_SPAWNER: ThreadPoolExecutor | None = None


def _spawner() -> ThreadPoolExecutor:
    """One long-lived thread that launches every worker.

    Linux delivers PR_SET_PDEATHSIG when the *thread* that forked the child exits, so workers
    must not be started from short-lived threads (e.g. a caller's executor).
    """
    global _SPAWNER
    with _POOL_LOCK:
        if _SPAWNER is None:
            _SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="math-worker-spawner")
        return _SPAWNER


def get_pool(size: int | None = None) -> WorkerPool:
    """The process-wide pool (created lazily; ``size`` resizes it when given)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._closed or _POOL._pid != os.getpid():
            _POOL = WorkerPool(size or default_workers())
            return _POOL
        pool = _POOL
    if size is not None and size != pool.size:
        pool.resize(size)
    return pool


def shutdown_pool() -> None:
    """Stop the process-wide pool (it restarts lazily if used again)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown()


def run_limited(fn: Callable[..., T], *args: Any, timeout: float, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` in the shared worker pool with a hard time limit.

    For other modules' own sympy checks, e.g.::

        from grpo_gym.rewards import run_limited, CheckTimeout
        try:
            ok = run_limited(is_fully_factored, answer_text, timeout=5.0)
        except CheckTimeout:
            ok = False

    ``fn`` must be a module-level function of an importable module (it is pickled by name);
    arguments and result must be picklable. Safe to call from any thread.

    Raises:
        CheckTimeout: ``fn`` ran longer than ``timeout`` seconds (the worker was killed).
        WorkerError: ``fn`` raised in the worker, or the worker died.
    """
    return get_pool().run(fn, *args, timeout=timeout, **kwargs)


def _after_fork_in_child() -> None:
    global _POOL, _POOL_LOCK, _SPAWNER
    _POOL = None
    _SPAWNER = None
    _POOL_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(shutdown_pool)
