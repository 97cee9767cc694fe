"""The archive the daemon keeps when the schedule asks for one: a copy of every airing with its
record, and old copies pruned."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

from broadcast.asrun import Row
from broadcast.daemon.state import DaemonState
from broadcast.onair import Cue
from broadcast.outputs.archive import Archive, ArchiveError

log = logging.getLogger("broadcast.daemon")


class Archiving:
    """Saves each airing to the schedule's archive and prunes it (both do nothing when off)."""

    def __init__(self, state: DaemonState) -> None:
        self.state = state

    def save(self, cue: Cue, row: Row) -> None:
        """Keep a copy of what ``cue`` aired, with ``row`` as its record."""
        schedule = self.state.schedule
        settings = schedule.archive
        if not settings.enabled:
            return
        archive = Archive(schedule.resolve(settings.folder), settings.keep_days, self.state.tz)
        record = {
            "program_id": row.program_id, "program_name": row.program_name, "zone": row.zone,
            "priority": row.priority, "scheduled": row.scheduled.isoformat(),
            "started": row.started.isoformat() if row.started else None,
            "ended": row.ended.isoformat() if row.ended else None,
            "outcome": row.outcome, "reason": row.reason, "outputs": row.outputs,
            "engine": row.engine, "loudness_lufs": row.loudness_lufs, "items": row.items,
        }
        try:
            archive.save(cue.audio.path, row.started or row.scheduled, row.program_id, record)
        except ArchiveError as exc:
            log.error("%s: %s", cue.describe(), exc)

    def prune(self) -> None:
        """Remove the copies older than the schedule keeps them."""
        schedule = self.state.schedule
        settings = schedule.archive
        if settings.enabled:
            archive = Archive(schedule.resolve(settings.folder), settings.keep_days,
                              self.state.tz)
            with contextlib.suppress(ArchiveError, OSError):
                pruned = archive.prune(dt.datetime.now(self.state.tz))
                if pruned:
                    log.info("archive: removed %d copies older than %d days", pruned,
                             settings.keep_days)
