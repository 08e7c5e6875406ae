"""Entry point of one worker process of :mod:`grpo_gym.rewards.pool` (a fresh interpreter).

Run as ``python -m grpo_gym.rewards._worker FD [MODULE ...]``: FD is a socket connected to the
parent. The worker imports sympy, the parsers and the MODULEs (``WorkerPool.preload``) once,
says ``ready``, then loops: receive ``(fn, args, kwargs)``, reply ``("ok", result)`` or
``("err", message)``. It exits on EOF, and the kernel kills it if the parent dies
(PR_SET_PDEATHSIG on Linux).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import traceback
from multiprocessing.connection import Connection


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL us when the parent exits (works even inside long C calls)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except Exception:  # not Linux: EOF on the socket still ends the loop
        pass


def _limit_memory() -> None:
    """Cap the address space (``$GRPO_GYM_MATH_WORKER_MEM_MB``, default 4096) so a runaway
    expression fails with MemoryError instead of swapping the machine."""
    try:
        import resource

        mb = int(os.environ.get("GRPO_GYM_MATH_WORKER_MEM_MB", "4096"))
        if mb > 0:
            resource.setrlimit(resource.RLIMIT_AS, (mb * 1024 * 1024, mb * 1024 * 1024))
    except Exception:
        pass


def main(argv: list[str]) -> int:
    """Serve jobs on the socket whose fd is ``argv[1]`` until EOF."""
    conn = Connection(int(argv[1]))
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:  # parent already gone
        return 0
    _limit_memory()
    from . import equivalence, mathparse  # noqa: F401  (import sympy + parsers once)

    mathparse.parse_answer("1+x")  # warm the LaTeX parser
    for name in argv[2:]:  # WorkerPool.preload: imported before any call's time limit starts
        with contextlib.suppress(Exception):  # the first call that needs it reports the error
            importlib.import_module(name)
    try:
        conn.send(("ready", os.getpid()))
    except BrokenPipeError:  # the parent exited while this worker started
        return 0
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return 0
        if msg is None:
            return 0
        try:
            fn, args, kwargs = msg
            reply: tuple[str, object] = ("ok", fn(*args, **kwargs))
        except BaseException as exc:  # report everything; the worker keeps serving
            reply = ("err", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return 0
        except Exception as exc:  # unpicklable result
            conn.send(("err", f"result not picklable: {type(exc).__name__}: {exc}"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
