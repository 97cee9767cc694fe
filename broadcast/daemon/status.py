"""What the daemon puts in its status file: what airs in each zone, the next broadcasts, and the
last errors."""

from __future__ import annotations

import datetime as dt
import logging
from collections import deque

from broadcast.daemon.manual import ManualDesk
from broadcast.daemon.state import DaemonState
from broadcast.daemon.window import JobWindow
from broadcast.daemon.zones import Zones
from broadcast.status import StatusBoard


class RecentErrors(logging.Handler):
    """Keeps the last error lines for ``broadcast status``."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: deque[str] = deque(maxlen=10)

    def emit(self, record: logging.LogRecord) -> None:
        when = dt.datetime.fromtimestamp(record.created).astimezone()
        self.lines.append(f"{when:%Y-%m-%d %H:%M:%S} {record.getMessage().splitlines()[0]}")


class StatusWriter:
    """Puts how things stand now in the status file."""

    def __init__(self, state: DaemonState, zones: Zones, window: JobWindow,
                 board: StatusBoard, desk: ManualDesk) -> None:
        self.state = state
        self.desk = desk
        self.zones = zones
        self.window = window
        self.board = board
        self.errors = RecentErrors()

    def write(self) -> None:
        airing = {}
        for zone_id, channel in self.zones.channels.items():
            cue = channel.current
            if cue is not None and channel.current_since is not None:
                manual = cue.broadcast.request
                airing[zone_id] = {
                    "broadcast": cue.broadcast.key, "program": cue.broadcast.program_name,
                    "since": channel.current_since.isoformat(timespec="seconds"),
                    "length_s": round(cue.audio.figures.duration_s - cue.offset_s),
                    "waiting": len(channel.waiting()),
                    "requested_by": None if manual is None else manual.requested_by,
                }
        self.board.update(
            schedule=str(self.state.options.schedule_path), airing=airing,
            upcoming=[{"start": b.start.isoformat(), "program": b.program_name,
                       "id": b.program_id, "zones": list(b.zone_ids), "priority": b.priority}
                      for b in self.window.next_planned()],
            requests=self.desk.pending(),
            errors=list(self.errors.lines),
        )
