"""Hooks: commands run around a zone's broadcast, e.g. to switch its amplifier on and off.

A hook is one line of shell, run by ``/bin/sh`` in a process group of its own, with the airing
described in environment variables (``BROADCAST_ZONE``, ``BROADCAST_PROGRAM``, ``BROADCAST_PHASE``,
``BROADCAST_START``). A hook that runs too long is stopped with everything it started. A failing
hook never raises: the result says what happened, for the log.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass

OUTPUT_LIMIT = 2048
"""How much of a hook's output is kept (its end)."""
STOP_GRACE_S = 1.0
"""How long a timed-out hook has to end after SIGTERM before its whole group is killed."""
_POLL_S = 0.05
"""How often the shell is checked while something it started still holds the output open."""


@dataclass(frozen=True)
class HookResult:
    """How a hook ended. ``exit_code`` is None when it timed out or could not start."""

    command: str
    ok: bool
    exit_code: int | None
    timed_out: bool
    output: str
    duration_s: float

    def describe(self, name: str | None = None) -> str:
        """One plain log line, naming the hook ``name`` (e.g. 'before') or else its command."""
        hook = f"hook '{name or self.command}'"
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        said = f": {lines[-1]}" if lines else ""
        if self.ok:
            return f"{hook} ran in {self.duration_s:.1f} s{said}"
        if self.timed_out:
            return (f"{hook} timed out after {self.duration_s:.0f} s and was stopped{said}. "
                    "Check the command, or give it a longer hooks timeout.")
        if self.exit_code is None:
            return f"{hook} could not start{said}"
        if self.exit_code < 0:
            return f"{hook} was killed by {_signal_name(-self.exit_code)}{said}"
        if self.exit_code in (126, 127):
            return (f"{hook} failed with exit code {self.exit_code}{said}. "
                    "Check the command's name, path and permissions in schedule.yaml.")
        return f"{hook} failed with exit code {self.exit_code}{said}"


class _Tail:
    """The last :data:`OUTPUT_LIMIT` bytes read from a pipe."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.data = b""
        self.closed = False
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)

    def read_ready(self, wait_s: float) -> None:
        """Read what arrives within ``wait_s`` seconds (at most one chunk)."""
        if self._poll.poll(wait_s * 1000):
            self._take(os.read(self.fd, 65536))

    def drain(self) -> None:
        """Read what is already there, without waiting."""
        os.set_blocking(self.fd, False)
        with contextlib.suppress(BlockingIOError):
            while not self.closed:
                self._take(os.read(self.fd, 65536))

    def _take(self, chunk: bytes) -> None:
        self.closed = not chunk
        self.data = (self.data + chunk)[-OUTPUT_LIMIT:]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace").lstrip("\ufffd").strip()


def run_hook(command: str, *, timeout_s: float, env: Mapping[str, str]) -> HookResult:
    """Run ``command`` through /bin/sh with ``env`` added to the environment; never raises."""
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            ["/bin/sh", "-c", command], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env={**os.environ, **env}, process_group=0,
        )
    except (OSError, ValueError) as exc:
        return HookResult(command, False, None, False, str(exc), time.monotonic() - started)
    assert process.stdout is not None
    with process.stdout as pipe:
        tail = _Tail(pipe.fileno())
        deadline = started + timeout_s
        finished = _wait(process, tail, deadline)
        if not finished:
            _stop_group(process)
        tail.drain()
    exit_code = process.wait()
    duration = time.monotonic() - started
    if not finished:
        return HookResult(command, False, None, True, tail.text(), duration)
    return HookResult(command, exit_code == 0, exit_code, False, tail.text(), duration)


def _wait(process: subprocess.Popen[bytes], tail: _Tail, deadline: float) -> bool:
    """Collect output until the shell ends; False when ``deadline`` passes first.

    The shell's end is what counts: something it left running in the background may keep the
    output open, and is not waited for.
    """
    while not tail.closed:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        tail.read_ready(min(remaining, _POLL_S))
        if process.poll() is not None:
            return True
    try:
        process.wait(max(deadline - time.monotonic(), 0.0))
    except subprocess.TimeoutExpired:
        return False
    return True


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the hook's whole process group, then SIGKILL to whatever is left of it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_GRACE_S)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
