"""Text spaces for prompts and replies.

``gymnasium.spaces.Text`` rejects every character outside its charset (alphanumeric by
default), so prompts with ``+`` or ``?`` and replies with ``×`` or emoji would fail
``check_env``. ``UnicodeText`` accepts any ``str`` up to ``max_length`` characters and samples
printable ASCII (sampling only matters to checkers and random agents).
"""

from __future__ import annotations

import string
from typing import Any

from gymnasium import spaces

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
