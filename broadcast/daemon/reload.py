"""Reloading: edits to the schedule, its scripts and its lexicon are picked up while running.

A valid edit replaces only the broadcasts it changes; an invalid one is reported with file, line
and column, and the last good schedule keeps airing. That schedule is kept on disk too, so a
broken edit followed by a restart does not silence the ward.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from pathlib import Path

from broadcast.daemon.ahead import RenderAhead
from broadcast.daemon.state import DaemonOptions, DaemonState
from broadcast.daemon.status import StatusWriter
from broadcast.daemon.window import JobWindow
from broadcast.daemon.zones import Zones
from broadcast.errors import BroadcastError
from broadcast.fileio import write_text_atomic
from broadcast.prerender import RenderStore, approval_rule
from broadcast.schedule import SCRIPT_SUFFIXES, Schedule
from broadcast.schedule_file import parse_schedule, read_schedule
from broadcast.status import StatusBoard
from broadcast.watch import Watcher, watched_files

log = logging.getLogger("broadcast.daemon")

POLL_S = 1.0


def _last_good(options: DaemonOptions) -> Path:
    return options.state_dir / "last-good-schedule.yaml"


def load_at_start(options: DaemonOptions) -> Schedule:
    """The schedule; if its last edit is broken, the last good one this daemon aired.

    A broken edit followed by a restart (a power cut, say) must not silence the ward. With
    no good schedule ever seen here, the errors are all there is to say.
    """
    last_good = _last_good(options)
    try:
        schedule, text = read_schedule(options.schedule_path)
    except Exception as exc:
        problem = str(exc) if isinstance(exc, BroadcastError) else (
            f"{options.schedule_path}: cannot be read ({type(exc).__name__}: {exc}).")
        if not last_good.is_file():
            raise NoScheduleToAir(problem) from None
        log.error("%s\nStarting with the last good schedule instead (saved %s). Fix the "
                  "file; the fix is picked up as soon as it is saved.", problem,
                  dt.datetime.fromtimestamp(last_good.stat().st_mtime)
                  .astimezone().strftime("%Y-%m-%d %H:%M"))
        try:
            return parse_schedule(last_good.read_text(encoding="utf-8"),
                                  options.schedule_path.resolve())
        except (BroadcastError, OSError, UnicodeDecodeError):
            raise NoScheduleToAir(f"{problem}\nThe last good schedule ({last_good}) cannot "
                                  "be used either.") from None
    keep_good(options, text)
    for warning in schedule.warnings:
        log.warning("%s", warning)
    return schedule


class NoScheduleToAir(BroadcastError):
    """Neither the schedule nor a last good one can be aired: the daemon stops with
    :attr:`exit_code` (EX_CONFIG), which the service unit does not restart on, so a broken
    file is reported once instead of in a restart loop."""

    exit_code = 78

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem}\nNothing can be aired until the schedule is fixed; then "
                         "start the daemon again.")


def keep_good(options: DaemonOptions, text: str) -> None:
    with contextlib.suppress(OSError):
        write_text_atomic(_last_good(options), text)


class Reloader:
    """Watches the schedule's files and applies each edit that settles (see the module doc)."""

    def __init__(self, state: DaemonState, zones: Zones, window: JobWindow, ahead: RenderAhead,
                 status: StatusWriter, board: StatusBoard, store: RenderStore) -> None:
        self.state = state
        self.zones = zones
        self.window = window
        self.ahead = ahead
        self.status = status
        self.board = board
        self.store = store
        self.watcher = Watcher(watched_files(state.schedule))

    def keep_good_scripts(self) -> None:
        """Keep a copy of every good, approved script the schedule names, so a script broken
        before its broadcast was ever rendered still has a last good version to air."""
        for path in watched_files(self.state.schedule):
            if path.suffix.lower() in SCRIPT_SUFFIXES:
                with contextlib.suppress(BroadcastError, OSError):
                    self.store.approved_bulletin(path, approval_rule(self.state.schedule))

    def watch(self) -> None:
        """Poll for edits (and keep the status file current) until stopped.

        Whatever goes wrong on the way is reported like a broken edit (in the log and in
        ``status``), with what failed; the last good schedule keeps airing.
        """
        while not self.state.stopping.wait(POLL_S):
            try:
                changed = self.watcher.poll()
                if changed:
                    self.reload(changed)
                self.status.write()
            except Exception as exc:
                problem = (f"the edit could not be read ({type(exc).__name__}: {exc}). Check "
                           f"{self.state.options.schedule_path.name} and the files it names.")
                with contextlib.suppress(Exception):
                    self.board.schedule_problem(problem)
                log.exception("%s Still airing the last good schedule.", problem)

    def reload(self, changed: list[Path]) -> None:
        names = ", ".join(path.name for path in changed[:5])
        more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        log.info("files changed: %s%s", names, more)
        try:
            schedule, text = read_schedule(self.state.options.schedule_path)
        except BroadcastError as exc:
            # The status first: whoever reads the log line can then see it in 'status' too.
            self.board.schedule_problem(str(exc))
            log.error("the edit cannot be used; still airing the last good schedule.\n%s", exc)
            return
        with self.state.lock:
            self.state.schedule = schedule
            self.zones.refresh_settings()
            built = self.zones.apply()
            added, removed, changed_jobs = self.window.schedule()
        self.zones.start(built)
        self.watcher.watch(watched_files(schedule))
        self.keep_good_scripts()
        keep_good(self.state.options, text)
        self.board.schedule_problem(None)
        log.info("reloaded: %d broadcasts added, %d removed, %d changed; rendering what changed",
                 added, removed, changed_jobs)
        for warning in schedule.warnings:
            log.warning("%s", warning)
        self.ahead.in_background()
