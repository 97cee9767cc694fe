"""The job window: one APScheduler job per planned broadcast of the coming hours, kept in step
with the plan; and after a restart, what was due while the daemon was down."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from broadcast.asrun import AsRunLog
from broadcast.daemon.cues import LOOK_BACK, prepare_lead_s
from broadcast.daemon.state import DaemonState
from broadcast.daemon.zones import Zones
from broadcast.onair import as_run_row, broadcast_topics
from broadcast.planner import Broadcast, plan

log = logging.getLogger("broadcast.daemon")


class JobWindow:
    """The jobs of the coming hours; each runs ``cue`` with its broadcast, a few seconds ahead."""

    def __init__(self, state: DaemonState, zones: Zones, asrun: AsRunLog,
                 scheduler: BackgroundScheduler, cue: Callable[[Broadcast], None]) -> None:
        self.state = state
        self.zones = zones
        self.asrun = asrun
        self.scheduler = scheduler
        self.cue = cue

    def _lead(self, broadcast: Broadcast) -> float:
        hooks = [zone.hooks.before_lead for zone in self.zones.of(broadcast)
                 if zone.hooks.before]
        return max(hooks, default=0.0) + prepare_lead_s(broadcast.items)

    def schedule(self, since: dt.datetime | None = None) -> tuple[int, int, int]:
        """Make the jobs match the plan from ``since`` (now) through the coming hours; return
        (added, removed, changed).

        Jobs come from the plan, not from weekday rules, so date ranges, skipped holidays and
        extra dates air exactly as ``broadcast agenda`` shows them.
        """
        now = dt.datetime.now(self.state.tz)
        since = since or now
        wanted = {b.key: b for b in plan(self.state.schedule, since,
                                         now + self.state.options.horizon)}
        added = removed = changed = 0
        with self.state.lock:
            for key, broadcast in list(self.state.planned.items()):
                if key in wanted or broadcast.start < now:
                    continue
                if key in self.state.cued:
                    self.state.withdrawn.add(key)
                else:
                    with contextlib.suppress(JobLookupError):
                        self.scheduler.remove_job(f"cue:{key}")
                del self.state.planned[key]
                removed += 1
            for key, broadcast in wanted.items():
                if key in self.state.cued:
                    continue
                old = self.state.planned.get(key)
                if old == broadcast and self.scheduler.get_job(f"cue:{key}") is not None:
                    continue
                if old is not None:
                    changed += 1
                else:
                    added += 1
                self.state.planned[key] = broadcast
                program = self.state.schedule.program(broadcast.program_id)
                lead = dt.timedelta(seconds=self._lead(broadcast))
                self.scheduler.add_job(
                    self.cue, DateTrigger(run_date=broadcast.start - lead), args=[broadcast],
                    id=f"cue:{key}", replace_existing=True,
                    misfire_grace_time=int((program.grace + lead).total_seconds()) or 1,
                )
        return added, removed, changed

    def catch_up(self, now: dt.datetime) -> None:
        """After a restart: air late what is still within its grace, log the rest as missed.

        Everything due since the daemon last said all was settled (see :meth:`settled_until`)
        and without a row in some zone is owed: a broadcast whose catch-up was cut short by
        another crash is found again.
        """
        settled = self.asrun.value("alive")
        since = max(now - LOOK_BACK, dt.datetime.fromisoformat(settled)) if settled else now
        for broadcast in plan(self.state.schedule, since, now):
            program = self.state.schedule.program(broadcast.program_id)
            zones = [z for z in self.zones.of(broadcast)
                     if not self.asrun.has(broadcast.key, z.id)]
            if not zones:
                continue
            late = now - broadcast.start
            if late <= program.grace:
                log.warning("%s was due %.0f s ago while the daemon was down: airing it now",
                            broadcast.key, late.total_seconds())
                with self.state.lock:
                    self.state.planned[broadcast.key] = broadcast
                threading.Thread(target=self.cue, args=(broadcast,), daemon=True).start()
                continue
            for zone in zones:
                self.asrun.add(as_run_row(
                    broadcast, zone.id, "missed",
                    topics=broadcast_topics(broadcast, self.state.schedule.base_dir),
                    reason=f"the daemon was not running at {broadcast.start:%H:%M:%S} and came "
                           f"back {late.total_seconds() / 60:.0f} min later, after its grace",
                ))
            log.error("missed: %s (the daemon was not running; grace %s)", broadcast.key,
                      program.grace)

    def settled_until(self, now: dt.datetime) -> dt.datetime:
        """The moment before which every broadcast in hand has a row in each of its zones: now,
        or the start of the oldest one still owed (being cued, caught up or waiting)."""
        with self.state.lock:
            due = [b for b in self.state.planned.values()
                   if b.start <= now and b.key not in self.state.withdrawn]
        owed = [b.start for b in due
                if any(not self.asrun.has(b.key, zone.id) for zone in self.zones.of(b))]
        return min([now, *owed])

    def forget_past(self) -> None:
        """Let go of the broadcasts further back than :data:`LOOK_BACK`."""
        with self.state.lock:
            past = dt.datetime.now(self.state.tz) - LOOK_BACK
            for key in [k for k, b in self.state.planned.items() if b.start < past]:
                del self.state.planned[key]
                self.state.cued.discard(key)
                self.state.withdrawn.discard(key)

    def upcoming(self, count: int = 5) -> list[Broadcast]:
        """The next broadcasts of the plan (of the next 8 days)."""
        now = dt.datetime.now(self.state.tz)
        return plan(self.state.schedule, now, now + dt.timedelta(days=8))[:count]

    def next_planned(self, count: int = 5) -> list[Broadcast]:
        """The next broadcasts that have a job."""
        now = dt.datetime.now(self.state.tz)
        with self.state.lock:
            found = sorted((b for b in self.state.planned.values() if b.start > now),
                           key=lambda b: b.start)
        return found[:count]
