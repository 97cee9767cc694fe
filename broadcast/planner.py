"""Planning: which broadcasts air when, as plain data computed from the schedule and the calendar.

The plan depends only on the schedule and the dates asked for, never on what ran before, so a
restarted daemon computes exactly the same broadcasts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from broadcast.config import WEEKDAYS, Item, Program, Schedule


@dataclass(frozen=True)
class Broadcast:
    """One occurrence of a program: when it starts, which zones carry it, what it airs.

    ``items`` are concrete: every pick a rotation makes for this occurrence is already made.
    """

    program_id: str
    program_name: str
    start: dt.datetime
    zone_ids: tuple[str, ...]
    priority: str
    items: tuple[Item, ...]

    @property
    def key(self) -> str:
        """A stable name for this occurrence (program and scheduled start)."""
        return f"{self.program_id}@{self.start.isoformat()}"


def occurrences(program: Program, schedule: Schedule, day: dt.date) -> Broadcast | None:
    """The program's broadcast on ``day`` (local calendar date), if it airs that day."""
    if WEEKDAYS[day.weekday()] not in program.days:
        return None
    start = dt.datetime.combine(day, program.start, tzinfo=schedule.ward.tz)
    zones = tuple(zone.id for zone in schedule.zones_for(program.zones))
    return Broadcast(
        program.id, program.name, start, zones, program.priority, tuple(program.items)
    )


def plan(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[Broadcast]:
    """Every broadcast starting at or after ``start`` and before ``end``, in time order."""
    tz = schedule.ward.tz
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    found: list[Broadcast] = []
    while day <= last:
        for program in schedule.programs:
            broadcast = occurrences(program, schedule, day)
            if broadcast is not None and start <= broadcast.start < end:
                found.append(broadcast)
        day += dt.timedelta(days=1)
    found.sort(key=lambda b: (b.start, b.program_id))
    return found
