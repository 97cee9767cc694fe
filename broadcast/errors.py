"""Errors that reach the operator.

Every error a user can cause is a :class:`BroadcastError`: its message is short, plain, names
the file (with line and column when known) and says what to do next. The CLI prints the message
without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """A place in a text file, 1-based line and column as editors show them."""

    path: Path
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return str(self.path)
        if self.column is None:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"


class BroadcastError(Exception):
    """An error with a message meant for the operator."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"
