"""Rendering ahead: everything the next hours will air is rendered before its time, so air time
only has to play.

Renders run in a small pool, in order of airing. A new pass (after an edit) replaces the one
under way: what that pass had not started is dropped, and a render both need is made once. Each
render must be ready a little before its broadcast (its deadline), so a slow or unreachable
engine gives way to the next one in time. After an engine failed, a pass runs again once the
engine's cool-down is over, so the preferred voice comes back without waiting for the next edit.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from broadcast.daemon.cues import PREPARE_LEAD_S
from broadcast.daemon.state import DaemonState
from broadcast.daemon.zones import Zones
from broadcast.errors import BroadcastError
from broadcast.planner import Broadcast, plan
from broadcast.prerender import RenderStore, prepare_program
from broadcast.render import RenderedAudio, RenderSettings
from broadcast.schedule import Schedule
from broadcast.status import StatusBoard

log = logging.getLogger("broadcast.daemon")

AHEAD_WORKERS = 2
"""Renders made side by side: one slow render does not hold up the broadcasts behind it."""


class RenderAhead:
    """Renders the broadcasts of the coming hours, and says how far it has come in the status."""

    def __init__(self, state: DaemonState, zones: Zones, store: RenderStore,
                 board: StatusBoard) -> None:
        self.state = state
        self.zones = zones
        self.store = store
        self.board = board
        self._pool = concurrent.futures.ThreadPoolExecutor(AHEAD_WORKERS, "render-ahead")
        self._lock = threading.Lock()
        self._pass = 0
        self._queued: list[concurrent.futures.Future[RenderedAudio]] = []
        self._again: threading.Timer | None = None

    def close(self) -> None:
        """Drop the renders not started (those under way end on their own)."""
        with self._lock:
            if self._again is not None:
                self._again.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _render(self, schedule: Schedule, broadcast: Broadcast,
                settings: RenderSettings) -> RenderedAudio:
        due = broadcast.start - dt.timedelta(seconds=PREPARE_LEAD_S)
        return prepare_program(schedule, broadcast, replace(settings, deadline=due.timestamp()),
                               self.store)

    def run(self) -> None:
        """Render everything the next hours will air, so air time only has to play."""
        now = dt.datetime.now(self.state.tz)
        schedule = self.state.schedule
        upcoming = plan(schedule, now, now + self.state.options.horizon)
        with self._lock:
            self._pass += 1
            number = self._pass
            for queued in self._queued:
                queued.cancel()
            jobs = [(broadcast, [self._pool.submit(self._render, schedule, broadcast, settings)
                                 for settings in self.zones.groups(self.zones.of(broadcast))])
                    for broadcast in upcoming]
            self._queued = [job for _, group in jobs for job in group]
        ready = 0
        failed: list[dict[str, str]] = []
        self.board.prerender(running=True, ready=0, total=len(upcoming), failed=[])
        for index, (broadcast, group) in enumerate(jobs, 1):
            problem = None
            for job in group:
                try:
                    audio = self._result(job, number)
                except concurrent.futures.CancelledError:
                    return  # a newer pass took over
                except BroadcastError as exc:
                    problem = str(exc)
                    log.error("%s cannot be prepared: %s", broadcast.key, exc)
                    continue
                except Exception as exc:
                    problem = f"unexpected error: {exc}"
                    log.exception("%s cannot be prepared (unexpected error)", broadcast.key)
                    continue
                log.info("ready %d/%d: %s, %.0f s, %.1f LUFS", index, len(upcoming),
                         broadcast.key, audio.figures.duration_s, audio.figures.integrated_lufs)
                for warning in audio.warnings:
                    log.warning("%s: %s", broadcast.key, warning)
            if problem is None:
                ready += 1
            else:
                failed.append({"broadcast": broadcast.key, "error": problem.splitlines()[0]})
            self.board.prerender(running=True, ready=ready, total=len(upcoming), failed=failed)
        self.board.prerender(running=False, ready=ready, total=len(upcoming), failed=failed)
        self._again_after_cool_down()

    def _result(self, job: concurrent.futures.Future[RenderedAudio],
                number: int) -> RenderedAudio:
        """The job's audio; cancelled when the daemon stops or a newer pass takes over."""
        while True:
            try:
                return job.result(timeout=1.0)
            except concurrent.futures.TimeoutError:
                if self.state.stopping.is_set() or self._pass != number:
                    raise concurrent.futures.CancelledError from None

    def _again_after_cool_down(self) -> None:
        breaker = self.zones.breaker
        if not any(breaker.is_open(engine) for engine in self.zones.settings.engines[:-1]):
            return
        with self._lock:
            if self._again is not None and self._again.is_alive():
                return
            self._again = threading.Timer(breaker.cool_down_s + 1.0, self.in_background)
            self._again.daemon = True
            self._again.start()

    def in_background(self) -> None:
        threading.Thread(target=self._guarded, args=(self.run,), name="prerender",
                         daemon=True).start()

    @staticmethod
    def _guarded(work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:
            log.exception("unexpected error while rendering ahead")
