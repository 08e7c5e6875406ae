"""Ctrl-C and SIGTERM during training: finish the step, save, say how to resume; twice quits at once.

``StopSignals`` is a context manager around the training loop. The first SIGINT or SIGTERM only
records the request (``requested``); the loop stops after the step in progress, writes a
checkpoint and raises ``TrainingInterrupted``. A second signal raises ``KeyboardInterrupt`` on the
spot: checkpoints are written to a temporary folder and renamed, so even that leaves every
``checkpoint-NNNNNN`` whole. Outside the main thread (where Python cannot install signal handlers)
it does nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Turns the first SIGINT/SIGTERM into a request to stop after the current step."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.requested: int | None = None  # the signal number, once one arrived
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested is not None:
            self.__exit__(None, None, None)  # a third signal gets the default behaviour
            raise KeyboardInterrupt(f"{signal.Signals(signum).name} again: stopping at once")
        self.requested = signum
        self.echo(
            f"{signal.Signals(signum).name}: stopping after this step and saving a checkpoint "
            "(send it again to stop at once)"
        )
