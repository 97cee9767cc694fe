"""What the daemon's parts share: how it was started, the schedule airing now, and the broadcasts
it has in hand."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcast.planner import Broadcast
from broadcast.schedule import Schedule


@dataclass(frozen=True)
class DaemonOptions:
    schedule_path: Path
    state_dir: Path
    engine: str | None = None
    horizon: dt.timedelta = dt.timedelta(hours=48)


class DaemonState:
    """The schedule airing now and the broadcasts in hand; ``lock`` guards both.

    A broadcast is ``planned`` once it has a job, ``cued`` once its job has run, and
    ``withdrawn`` when an edit took it out of the schedule after it was cued. ``stopping`` is set
    when the daemon is asked to stop.
    """

    def __init__(self, options: DaemonOptions, schedule: Schedule) -> None:
        self.options = options
        self.schedule = schedule
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.planned: dict[str, Broadcast] = {}
        self.cued: set[str] = set()
        self.withdrawn: set[str] = set()

    @property
    def tz(self) -> ZoneInfo:
        return self.schedule.ward.tz
