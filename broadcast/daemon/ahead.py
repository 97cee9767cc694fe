"""Rendering ahead: everything the next hours will air is rendered before its time, so air time
only has to play."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from broadcast.daemon.state import DaemonState
from broadcast.daemon.zones import Zones
from broadcast.errors import BroadcastError
from broadcast.planner import plan
from broadcast.prerender import RenderStore, prepare_program
from broadcast.status import StatusBoard

log = logging.getLogger("broadcast.daemon")


class RenderAhead:
    """Renders the broadcasts of the coming hours, and says how far it has come in the status."""

    def __init__(self, state: DaemonState, zones: Zones, store: RenderStore,
                 board: StatusBoard) -> None:
        self.state = state
        self.zones = zones
        self.store = store
        self.board = board

    def run(self) -> None:
        """Render everything the next hours will air, so air time only has to play."""
        now = dt.datetime.now(self.state.tz)
        upcoming = plan(self.state.schedule, now, now + self.state.options.horizon)
        ready = 0
        failed: list[dict[str, str]] = []
        self.board.prerender(running=True, ready=0, total=len(upcoming), failed=[])
        for number, broadcast in enumerate(upcoming, 1):
            if self.state.stopping.is_set():
                return
            problem = None
            for settings in self.zones.groups(self.zones.of(broadcast)):
                try:
                    audio = prepare_program(self.state.schedule, broadcast, settings, self.store)
                except BroadcastError as exc:
                    problem = str(exc)
                    log.error("%s cannot be prepared: %s", broadcast.key, exc)
                    continue
                except Exception as exc:
                    problem = f"unexpected error: {exc}"
                    log.exception("%s cannot be prepared (unexpected error)", broadcast.key)
                    continue
                log.info("ready %d/%d: %s, %.0f s, %.1f LUFS", number, len(upcoming),
                         broadcast.key, audio.figures.duration_s, audio.figures.integrated_lufs)
                for warning in audio.warnings:
                    log.warning("%s: %s", broadcast.key, warning)
            if problem is None:
                ready += 1
            else:
                failed.append({"broadcast": broadcast.key, "error": problem.splitlines()[0]})
            self.board.prerender(running=True, ready=ready, total=len(upcoming), failed=failed)
        self.board.prerender(running=False, ready=ready, total=len(upcoming), failed=failed)

    def in_background(self) -> None:
        threading.Thread(target=self._guarded, args=(self.run,), name="prerender",
                         daemon=True).start()

    @staticmethod
    def _guarded(work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:
            log.exception("unexpected error while rendering ahead")
