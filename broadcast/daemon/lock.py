"""The ward's lock: one daemon per state folder, or everything would air twice."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from broadcast.errors import BroadcastError


class AlreadyRunning(BroadcastError):
    """Another daemon holds this ward's lock."""


def lock_holder(state_dir: Path) -> int | None:
    """The PID of the daemon running for this state folder, or None when none runs."""
    lock_path = state_dir / "daemon.lock"
    if not lock_path.exists():
        return None
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        return None


@contextlib.contextmanager
def single_instance(state_dir: Path) -> Iterator[None]:
    """Hold the ward's lock: two daemons would air everything twice."""
    state_dir.mkdir(parents=True, exist_ok=True)
    lock_path = state_dir / "daemon.lock"
    handle = lock_path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise AlreadyRunning(
                f"another broadcast daemon (PID {holder}) is already running for this ward. "
                "Stop it first; two would air everything twice."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()
