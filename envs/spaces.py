"""Text spaces for prompts and replies.

``gymnasium.spaces.Text`` rejects every character outside its charset (alphanumeric by
default), so prompts with ``+`` or ``?`` and replies with ``×`` or emoji would fail
``check_env``. ``UnicodeText`` accepts any ``str`` up to ``max_length`` characters and samples
printable ASCII (sampling only matters to checkers and random agents).

Importing this module also registers ``UnicodeText`` with Gymnasium's shared-memory functions,
so ``gymnasium.make_vec(..., vectorization_mode="async")`` carries every prompt, in any script,
from the worker processes (see "async vector envs" below).
"""

from __future__ import annotations

import multiprocessing as mp
import string
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import shared_memory as _shm

PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " \n"


class UnicodeText(spaces.Text):
    """A ``Text`` space that contains any string of at most ``max_length`` characters."""

    def __init__(self, max_length: int, *, min_length: int = 0, seed: Any = None) -> None:
        super().__init__(max_length, min_length=min_length, charset=PRINTABLE, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )


# ---- async vector envs ----------------------------------------------------------------------
# Gymnasium's AsyncVectorEnv reads shared memory once, at construction, into
# ``self.observations``; for ``Text`` that is an immutable tuple of str, so every later
# observation came back as the first buffer (all "a"), and characters outside the charset could
# not be written at all. For ``UnicodeText`` the buffer holds (length, code points...) per env
# and the "read" is a live view that ``deepcopy`` (AsyncVectorEnv's default ``copy=True``)
# turns into a plain tuple of str.


class SharedTextBatch(Sequence[str]):
    """A live view of the prompts of ``n`` envs held in one shared int32 buffer."""

    def __init__(self, buffer: Any, max_length: int, n: int) -> None:
        self._buffer, self._width, self._n = buffer, max_length + 1, n

    def _rows(self) -> np.ndarray:
        return np.frombuffer(self._buffer.get_obj(), dtype=np.int32).reshape(self._n, self._width)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self)[index]
        row = self._rows()[index]
        return "".join(map(chr, row[1 : 1 + int(row[0])].tolist()))

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(self._n))

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, Sequence) else other)

    def __repr__(self) -> str:
        return repr(tuple(self))


@_shm.create_shared_memory.register(UnicodeText)
def _create_unicode_shm(space: UnicodeText, n: int = 1, ctx: Any = mp) -> Any:
    return ctx.Array(np.dtype(np.int32).char, n * (space.max_length + 1))


@_shm.read_from_shared_memory.register(UnicodeText)
def _read_unicode_shm(space: UnicodeText, shared_memory: Any, n: int = 1) -> SharedTextBatch:
    return SharedTextBatch(shared_memory, space.max_length, n)


@_shm.write_to_shared_memory.register(UnicodeText)
def _write_unicode_shm(space: UnicodeText, index: int, value: str, shared_memory: Any) -> None:
    width = space.max_length + 1
    codes = np.fromiter(map(ord, value[: space.max_length]), dtype=np.int32)
    row = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)[
        index * width : (index + 1) * width
    ]
    row[0] = len(codes)
    row[1 : 1 + len(codes)] = codes
