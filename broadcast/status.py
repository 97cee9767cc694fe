"""The daemon's status, kept in a small JSON file that ``broadcast status`` reads.

The daemon writes the file (atomically, and only when something in it changed): what is airing
in each zone, the next broadcasts, whether the schedule's last edit could be used, how far
rendering ahead has come, and the last errors. The as-run log holds the history.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

from broadcast.fileio import KEPT_FILE_MODE, write_text_atomic


class StatusBoard:
    """The daemon's side: collects the parts and writes the file when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {"running": False}
        self._written = ""

    def _set(self, **values: Any) -> None:
        with self._lock:
            self._data.update(values)
            text = json.dumps(self._data, ensure_ascii=False, indent=2, sort_keys=True)
            if text == self._written:
                return
            write_text_atomic(self.path, text, KEPT_FILE_MODE)
            self._written = text

    def started(self, pid: int, schedule: str) -> None:
        self._set(running=True, pid=pid, schedule=schedule,
                  since=dt.datetime.now().astimezone().isoformat(timespec="seconds"))

    def stopped(self) -> None:
        self._set(running=False, airing={},
                  stopped=dt.datetime.now().astimezone().isoformat(timespec="seconds"))

    def prerender(self, *, running: bool, ready: int, total: int,
                  failed: list[dict[str, str]]) -> None:
        self._set(prerender={"running": running, "ready": ready, "total": total,
                             "failed": failed})

    def schedule_problem(self, problem: str | None) -> None:
        self._set(schedule_problem=problem)

    def update(self, **values: Any) -> None:
        self._set(**values)


def read_status(path: Path) -> dict[str, Any] | None:
    """What the daemon last wrote, or None when it never ran here."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
