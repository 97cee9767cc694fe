"""The daemon itself: builds its parts, runs them, and stops them on SIGTERM or SIGINT."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from broadcast.asrun import AsRunLog
from broadcast.control.client import socket_path
from broadcast.daemon.ahead import RenderAhead
from broadcast.daemon.archiving import Archiving
from broadcast.daemon.control import ControlServer
from broadcast.daemon.cues import Cues
from broadcast.daemon.lock import single_instance
from broadcast.daemon.manual import ManualDesk
from broadcast.daemon.reload import POLL_S, Reloader, load_at_start
from broadcast.daemon.state import DaemonOptions, DaemonState
from broadcast.daemon.status import StatusWriter
from broadcast.daemon.window import JobWindow
from broadcast.daemon.zones import Zones
from broadcast.fileio import private_folder
from broadcast.planner import Broadcast
from broadcast.prerender import RenderStore
from broadcast.status import StatusBoard

log = logging.getLogger("broadcast.daemon")

RENDERS_KEPT_UNUSED = dt.timedelta(days=30)
"""Rendered items and programs not used for this long are deleted (the disk stays bounded)."""


def describe(broadcast: Broadcast) -> str:
    return (
        f"{broadcast.start:%Y-%m-%d %H:%M:%S %z} {broadcast.program_name} ({broadcast.program_id})"
        f" -> {', '.join(broadcast.zone_ids) or 'no zones'}"
    )


class Daemon:
    """Runs until stopped by SIGTERM or SIGINT."""

    def __init__(self, options: DaemonOptions) -> None:
        self.state = DaemonState(options, load_at_start(options))
        private_folder(options.state_dir)
        self.store = RenderStore(options.state_dir / "renders", keep_last_good=True)
        self.asrun = AsRunLog(options.state_dir / "as-run.sqlite")
        self.board = StatusBoard(options.state_dir / "status.json")
        self.scheduler = BackgroundScheduler(timezone=self.state.tz)
        self.archiving = Archiving(self.state)
        self.zones = Zones(self.state, self.asrun, self.archiving.save)
        self.cues = Cues(self.state, self.zones, self.store, self.asrun)
        self.window = JobWindow(self.state, self.zones, self.asrun, self.scheduler, self.cues.cue)
        self.ahead = RenderAhead(self.state, self.zones, self.store, self.board)
        self.desk = ManualDesk(self.state, self.zones, self.cues, self.store, self.scheduler,
                               self.asrun)
        self.control = ControlServer(socket_path(options.state_dir),
                                     lambda: self.state.schedule.control, self.desk.handle)
        self.status = StatusWriter(self.state, self.zones, self.window, self.board, self.desk)
        self.reloader = Reloader(self.state, self.zones, self.window, self.ahead, self.status,
                                 self.board, self.store)

    def _heartbeat(self) -> None:
        """Remember until when everything due has had its turn: after a restart, what is still
        owed from then on is caught up or logged as missed."""
        settled = self.window.settled_until(dt.datetime.now(self.state.tz))
        self.asrun.set_value("alive", settled.isoformat())

    def _roll(self) -> None:
        """Hourly: schedule and render what has come inside the horizon.

        The engines are looked at again, so a ward whose internet comes back gets Google's voice
        from the next renders on; whatever is already rendered keeps airing meanwhile.
        """
        with self.state.lock:
            self.window.schedule()
            self.zones.refresh_settings()
            self.window.forget_past()
        removed = self.store.prune(RENDERS_KEPT_UNUSED)
        if removed:
            log.info("removed %d renders not used for %d days", removed,
                     RENDERS_KEPT_UNUSED.days)
        self.archiving.prune()
        self.ahead.run()

    def stop(self, *_: object) -> None:
        self.state.stopping.set()

    def run(self) -> None:
        """Pre-render, schedule, and air until SIGTERM or SIGINT."""
        schedule = self.state.schedule
        with single_instance(self.state.options.state_dir):
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
            logging.getLogger("broadcast").addHandler(self.status.errors)
            log.info(
                "ward %s: %d zones, %d programs, engine %s",
                schedule.ward.name, len(schedule.zones), len(schedule.programs),
                " then ".join(engine.identity for engine in self.zones.settings.engines),
            )
            self.board.started(os.getpid(), str(self.state.options.schedule_path))
            self.reloader.keep_good_scripts()
            self.zones.start(self.zones.apply())
            now = dt.datetime.now(self.state.tz)
            self.cues.follow_up_cuts(now)
            self.window.catch_up(now)
            self._heartbeat()
            # Jobs first, renders second: a broadcast due while the first renders run still airs
            # (rendered on the spot if need be).
            self.window.schedule(since=now)
            self.scheduler.add_job(self._roll, IntervalTrigger(hours=1), id="roll",
                                   coalesce=True, max_instances=1)
            self.scheduler.add_job(self._heartbeat, IntervalTrigger(minutes=1), id="alive",
                                   coalesce=True, max_instances=1)
            self.scheduler.start()
            for broadcast in self.window.upcoming():
                log.info("scheduled: %s", describe(broadcast))
            watcher = threading.Thread(target=self.reloader.watch, name="watch", daemon=True)
            watcher.start()
            self.desk.warm()
            self.desk.restore()
            self.control.open()
            self.status.write()
            self.ahead.run()
            self.state.stopping.wait()
            log.info("stopping")
            self.control.close()
            self.scheduler.shutdown(wait=False)
            self.zones.close()
            self.cues.close()
            self.ahead.close()
            watcher.join(timeout=POLL_S * 2)
            self._heartbeat()
            self.board.stopped()
            self.asrun.close()
            log.info("stopped")
