"""What every output is: a place that takes a broadcast's sound as raw PCM, in real time.

A zone airs through one or more outputs. For each airing, the output opens a :class:`Sink` a
moment before the start (so nothing has to start up on the second), is fed the program's samples
as they are due, and then either finishes (the last sample has been heard or sent) or is cut off.
"""

from __future__ import annotations

from typing import Protocol

from broadcast.errors import BroadcastError

SAMPLE_RATE = 48000
"""Every output takes signed 16-bit little-endian mono PCM at this rate."""
BYTES_PER_SECOND = SAMPLE_RATE * 2


class OutputError(BroadcastError):
    """An output cannot take or carry the sound (device gone, server down, disk full)."""


class Sink(Protocol):
    """One airing on one output."""

    def write(self, pcm: bytes) -> None:
        """Queue samples; blocks while the output is more than a moment ahead of real time.

        Raises :class:`OutputError` when the output has failed.
        """

    def finish(self) -> None:
        """Block until every sample written has been played or sent, then release the output.

        Raises :class:`OutputError` when the output failed before the end.
        """

    def abort(self) -> None:
        """Cut the sound off now and release the output (safe to call more than once)."""


class Output(Protocol):
    """Where a zone's sound goes: a sound card, an Icecast mount, a file."""

    def describe(self) -> str:
        """A short name for logs and the as-run log, e.g. ``icecast 127.0.0.1:8000/khu-pho-1``."""

    def start(self) -> None:
        """Get ready ahead of airings (a stream connects, for receivers to join); never waits."""

    def check(self) -> None:
        """Raise :class:`OutputError` saying why airings would fail now (each looks again)."""

    def open(self, label: str) -> Sink:
        """Get ready to air; the sink takes samples at once. ``label`` names the airing."""

    def close(self) -> None:
        """Release what the output holds between airings (a stream connection, a process)."""


class OutputBase:
    """``start``, ``check`` and ``close`` with nothing to do, for outputs to keep or override."""

    def start(self) -> None:
        """Nothing to get ready ahead of the airings."""

    def check(self) -> None:
        """Nothing to look at ahead of the airings."""

    def close(self) -> None:
        """Nothing is held between airings."""


class UnusableOutput(OutputBase):
    """An output whose settings cannot be used (a missing password, say).

    Every airing on it fails with the reason, so the zone's other outputs still air and the
    as-run log says why this one did not.
    """

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem

    def describe(self) -> str:
        return self.name

    def check(self) -> None:
        raise OutputError(self.problem)

    def open(self, label: str) -> Sink:
        raise OutputError(self.problem)
