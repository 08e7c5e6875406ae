"""The error every answer parser raises (:class:`MathParseError`)."""

from __future__ import annotations

__all__ = ["MathParseError"]


class MathParseError(ValueError):
    """The text is not a math expression the parsers accept (or names a number too large)."""
