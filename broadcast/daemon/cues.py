"""Cueing: at each broadcast's job, its audio (or its program's fallback) is made ready for its
zones, the zones' "before" hooks run, the outputs are prepared, and the cues go to the zones'
channels on the second."""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from broadcast.asrun import AsRunLog
from broadcast.bulletin import BulletinError
from broadcast.daemon.state import DaemonState
from broadcast.daemon.zones import Zones
from broadcast.errors import BroadcastError
from broadcast.onair import (
    RESUME_BACK_S,
    Cue,
    Hold,
    as_run_row,
    broadcast_topics,
    hook_env,
    report_hook,
    wait_until,
)
from broadcast.outputs.hooks import run_hook
from broadcast.outputs.player import RELAY_LEAD_S
from broadcast.planner import Broadcast, plan
from broadcast.prerender import (
    RenderStore,
    approval_rule,
    prepare_program,
    prepare_recording,
    prepare_script,
    schedule_chime,
)
from broadcast.render import RenderedAudio, RenderSettings, load_rendered
from broadcast.schedule import (
    AiredItem,
    AudioItem,
    Program,
    RelayItem,
    Schedule,
    ScriptItem,
    Zone,
)

log = logging.getLogger("broadcast.daemon")

LOOK_BACK = dt.timedelta(hours=24)
"""After a restart, broadcasts missed or cut while the daemon was down are looked for this far
back."""
_INSTANT = dt.timedelta(milliseconds=1)
PREPARE_LEAD_S = 2.0
"""The outputs are made ready this long before the start, so the sound starts on the second."""
RENDER_BUDGET_S = 30.0
"""A broadcast whose audio is not ready at its start waits this long for it, then its fallback
airs instead."""


def prepare_lead_s(items: Sequence[AiredItem]) -> float:
    """How long before its start a broadcast of ``items`` has its outputs made ready: longer
    with a live relay, which is connected and buffered then."""
    if any(isinstance(item, RelayItem) for item in items):
        return RELAY_LEAD_S
    return PREPARE_LEAD_S


Sound = Callable[[RenderSettings], RenderedAudio]
"""The audio of a broadcast for the zones that share these render settings."""


class Cues:
    """Cues each broadcast when its job runs (see the module doc)."""

    def __init__(self, state: DaemonState, zones: Zones, store: RenderStore,
                 asrun: AsRunLog) -> None:
        self.state = state
        self.zones = zones
        self.store = store
        self.asrun = asrun
        self._render_pool = concurrent.futures.ThreadPoolExecutor(2, "render")

    def close(self) -> None:
        """Give up the renders under way."""
        self._render_pool.shutdown(wait=False, cancel_futures=True)

    def cue(self, broadcast: Broadcast) -> None:
        """A few seconds ahead: get the audio, run hooks, prepare outputs, air on the second."""
        key = broadcast.key
        with self.state.lock:
            if key in self.state.cued:
                return
            self.state.cued.add(key)
            self.state.planned[key] = broadcast
        schedule = self.state.schedule
        zones = [z for z in self.zones.of(broadcast) if not self.asrun.has(key, z.id)]
        if not zones:
            return
        try:
            program = schedule.program(broadcast.program_id)
        except BroadcastError:
            with self.state.lock:
                self.state.withdrawn.add(key)
            log.warning("%s was taken out of the schedule: not aired", key)
            return
        self.air(schedule, program, broadcast, zones)

    def air(self, schedule: Schedule, program: Program, broadcast: Broadcast,
            zones: list[Zone], *, sound: Sound | None = None,
            releases: dict[str, Hold] | None = None) -> list[Cue]:
        """Get the audio (or the fallback), run the before-hooks, prepare the outputs and hand
        the cues to the zones' channels on the second; return the cues handed over. A broadcast
        withdrawn meanwhile (an edit took it out, an operator cancelled it) is not aired.

        ``sound`` gives the audio for a group of zones when it is not the broadcast's program
        (a chime alone); ``releases`` names the hold each zone's cue ends.
        """
        key = broadcast.key
        cues = self._cues(schedule, program, broadcast, zones, sound)
        for cue in cues:
            cue.releases = (releases or {}).get(cue.zone)
        hooks = self._run_before_hooks(cues, {z.id: z for z in zones}, broadcast)
        ready_at = broadcast.start - dt.timedelta(seconds=prepare_lead_s(broadcast.items))
        if not wait_until(ready_at, self.state.stopping):
            return []
        with self.state.lock:
            if key in self.state.withdrawn:
                log.warning("%s was withdrawn: not aired", key)
                return []
        for cue in cues:
            with contextlib.suppress(BroadcastError, OSError):
                cue.prepare()
        if not wait_until(broadcast.start, self.state.stopping):
            for cue in cues:
                if cue.airing is not None:
                    cue.airing.abandon()
            return []
        for cue in cues:
            self.zones.channels[cue.zone].submit(cue)
        for thread in hooks:
            thread.join()
        return cues

    def _cues(self, schedule: Schedule, program: Program, broadcast: Broadcast,
              zones: list[Zone], sound: Sound | None = None) -> list[Cue]:
        cues: list[Cue] = []
        for settings, group in self.zones.groups(zones).items():
            outcome = reason = None
            try:
                audio = self.store.intact(
                    self._audio_within_budget(schedule, broadcast, settings) if sound is None
                    else sound(settings))
            except BroadcastError as exc:
                outcome = "refused" if isinstance(exc, BulletinError) else "failed"
                fallback = self._fallback(schedule, program, settings)
                if fallback is None:
                    self._not_aired(broadcast, group, outcome, str(exc))
                    continue
                audio, what = fallback
                reason = f"{exc} The fallback ({what}) aired instead."
                log.error("%s: %s", broadcast.key, reason)
            cues += [self._cue(broadcast, program, zone, audio, settings, outcome, reason)
                     for zone in group]
        return cues

    def _cue(self, broadcast: Broadcast, program: Program, zone: Zone, audio: RenderedAudio,
             settings: RenderSettings, outcome: str | None, reason: str | None) -> Cue:
        return Cue(
            broadcast=broadcast, zone=zone.id, audio=audio, outputs=self.zones.outputs[zone.id],
            gain_db=zone.gain_db, target=settings.target,
            on_interrupt=program.on_interrupt, after_hook=zone.hooks.after,
            after_delay_s=zone.hooks.after_delay, hook_timeout_s=zone.hooks.timeout,
            outcome=outcome, reason=reason, problems=list(audio.notes),
            topics=broadcast_topics(broadcast, self.state.schedule.base_dir),
        )

    def follow_up_cuts(self, now: dt.datetime) -> None:
        """After a restart: finish what a crash (or an emergency, when the crash came before
        its follow-up aired) cut, as each program's ``on_interrupt`` says, if the daemon is back
        within the program's grace. The cut attempt's row says where the sound stopped."""
        for cut in self.asrun.recover(now):
            log.error("%s in %s was cut off when the daemon stopped: marked interrupted",
                      cut.occurrence, cut.zone)
        schedule = self.state.schedule
        for row in self.asrun.cut_and_not_followed(now - LOOK_BACK):
            what = f"{row.occurrence} in {row.zone}"
            try:
                program = schedule.program(row.program_id)
            except BroadcastError:
                log.warning("%s was cut and is no longer in the schedule: not aired again", what)
                continue
            assert row.ended is not None
            away = now - row.ended
            if program.on_interrupt == "drop":
                log.warning("%s was cut; its program says drop: not aired again", what)
                continue
            if away > program.grace:
                log.error("%s was cut %.0f s ago, after its grace (%s): not aired again",
                          what, away.total_seconds(), program.grace)
                continue
            found = [b for b in plan(schedule, row.scheduled, row.scheduled + _INSTANT)
                     if b.key == row.occurrence]
            zone = next((z for z in schedule.zones if z.id == row.zone), None)
            audio = load_rendered(Path(row.audio)) if row.audio else None
            if audio is not None:
                try:
                    audio = self.store.intact(audio)
                except BroadcastError as exc:
                    log.error("%s: %s", what, exc)
                    audio = None
            if not found or zone is None or audio is None:
                log.error("%s was cut and cannot be aired again (its program, zone or audio is "
                          "gone)", what)
                continue
            broadcast = found[0]
            with self.state.lock:
                # Planned but not marked cued: the broadcast may still be owed in zones the
                # crash caught before it reached them, and the catch-up must cue it there.
                self.state.planned[broadcast.key] = broadcast
            offset = 0.0
            if program.on_interrupt == "resume":
                offset = max(0.0, (row.played_s or 0.0) - RESUME_BACK_S)
            settings = self.zones.settings_for(zone)
            cue = self._cue(broadcast, program, zone, audio, settings, None, None).follow_up(
                attempt=row.attempt + 1, offset_s=offset,
                reason=f"{program.on_interrupt} after the daemon came back "
                       f"({away.total_seconds():.0f} s after the cut)",
            )
            log.warning("%s was cut %.0f s ago: it will %s now", what, away.total_seconds(),
                        program.on_interrupt)
            self.zones.channels[zone.id].submit(cue)

    def _audio_within_budget(self, schedule: Schedule, broadcast: Broadcast,
                             settings: RenderSettings) -> RenderedAudio:
        """The broadcast's audio: kept from rendering ahead, or rendered now within budget."""
        due = broadcast.start - dt.timedelta(seconds=PREPARE_LEAD_S)
        job = self._render_pool.submit(prepare_program, schedule, broadcast,
                                       replace(settings, deadline=due.timestamp()), self.store)
        now = dt.datetime.now(self.state.tz)
        budget = (broadcast.start - now).total_seconds() + RENDER_BUDGET_S
        try:
            return job.result(timeout=max(budget, 1.0))
        except concurrent.futures.TimeoutError:
            raise BroadcastError(
                f"its audio was not ready {RENDER_BUDGET_S:.0f} s after the start (rendering "
                "goes on, for next time)."
            ) from None
        except BroadcastError:
            raise
        except Exception as exc:
            log.exception("%s: unexpected error while rendering", broadcast.key)
            raise BroadcastError(f"unexpected error while rendering: {exc}") from exc

    def _fallback(self, schedule: Schedule, program: Program,
                  settings: RenderSettings) -> tuple[RenderedAudio, str] | None:
        item = program.fallback
        if item is None:
            return None
        try:
            if isinstance(item, ScriptItem):
                path = schedule.ward_file(item.script)
                audio = prepare_script(path, settings, self.store, rule=approval_rule(schedule))
                what = f"script {item.script}"
            elif isinstance(item, AudioItem):
                path = schedule.ward_file(item.audio, sound=True)
                audio = prepare_recording(path, settings.target, self.store,
                                          rule=approval_rule(schedule))
                what = f"audio {item.audio}"
            else:
                audio = schedule_chime(schedule, item.chime, settings.target, self.store)
                what = "chime"
            return self.store.intact(audio), what
        except BroadcastError as exc:
            log.error("the fallback of %s cannot be prepared either: %s", program.id, exc)
            return None

    def _not_aired(self, broadcast: Broadcast, zones: list[Zone], outcome: str,
                   reason: str) -> None:
        for zone in zones:
            self.asrun.add(as_run_row(
                broadcast, zone.id, outcome, reason=reason,
                topics=broadcast_topics(broadcast, self.state.schedule.base_dir)))
        log.error("%s: %s in %s: %s", outcome, broadcast.key,
                  ", ".join(zone.id for zone in zones), reason)

    def _run_before_hooks(self, cues: list[Cue], zones: dict[str, Zone],
                          broadcast: Broadcast) -> list[threading.Thread]:
        threads = []
        for cue in cues:
            hooks = zones[cue.zone].hooks
            if hooks.before is None:
                continue
            when = broadcast.start - dt.timedelta(seconds=hooks.before_lead)
            thread = threading.Thread(
                target=self._before_hook, args=(cue, hooks.before, hooks.timeout, when),
                name=f"hook {cue.zone}", daemon=True,
            )
            thread.start()
            threads.append(thread)
        return threads

    def _before_hook(self, cue: Cue, command: str, timeout_s: float,
                     when: dt.datetime) -> None:
        if not wait_until(when, self.state.stopping):
            return
        result = run_hook(command, timeout_s=timeout_s, env=hook_env(cue, "before"))
        report_hook(result, "before", cue, self.asrun, None)
