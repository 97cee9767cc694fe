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
    """The PID of the daemon running for this state folder, or None when none runs (a
    'broadcast play' holding the lock is not a daemon)."""
    lock_path = state_dir / "daemon.lock"
    if not lock_path.exists():
        return None
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid, _, who = handle.read().strip().partition(" ")
            if who not in ("", "daemon"):
                return None
            return int(pid) if pid.isdigit() else -1
        return None


@contextlib.contextmanager
def single_instance(state_dir: Path, holder: str = "daemon") -> Iterator[None]:
    """Hold the ward's lock: two daemons would air everything twice (``holder`` says who
    holds it, for the others' error message)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    lock_path = state_dir / "daemon.lock"
    handle = lock_path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid, _, who = handle.read().strip().partition(" ")
            raise AlreadyRunning(
                f"another {who if who not in ('', 'daemon') else 'broadcast daemon'} "
                f"(PID {pid or 'unknown'}) is already "
                "airing for this ward. Wait for it to finish or stop it first; two would talk "
                "over each other."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {holder}")
        handle.flush()
        yield
    finally:
        handle.close()
