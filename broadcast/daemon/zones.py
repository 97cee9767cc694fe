"""The zones the daemon airs on: each one's render settings, outputs and on-air channel, kept in
step with the schedule."""

from __future__ import annotations

import logging
from dataclasses import replace

from broadcast.asrun import AsRunLog
from broadcast.audio import LoudnessTarget
from broadcast.daemon.state import DaemonState
from broadcast.errors import BroadcastError
from broadcast.onair import ArchiveFn, ZoneChannel
from broadcast.outputs import build_output
from broadcast.outputs.base import Output, OutputError
from broadcast.planner import Broadcast
from broadcast.prerender import approval_rule, schedule_engines, schedule_lexicon
from broadcast.render import RenderSettings
from broadcast.schedule import Schedule, Zone
from broadcast.schedule.outputs import OutputSettings
from broadcast.tts import ChunkCache
from broadcast.tts.speaker import EngineBreaker
from broadcast.vietnamese import default_lexicon

log = logging.getLogger("broadcast.daemon")


class Zones:
    """The schedule's zones: render settings, outputs and channels (see the module doc)."""

    def __init__(self, state: DaemonState, asrun: AsRunLog, archive: ArchiveFn) -> None:
        self.state = state
        self.asrun = asrun
        self.archive = archive
        self.breaker = EngineBreaker()
        """Shared by every render, so one engine failure spares the renders after it."""
        self.settings = self._current_settings()
        self.outputs: dict[str, list[Output]] = {}
        self.channels: dict[str, ZoneChannel] = {}
        self._zone_setup: dict[str, Zone] = {}

    def _current_settings(self) -> RenderSettings:
        """Render settings with the engines usable now (``auto`` asks whether Google answers)."""
        engines, note = schedule_engines(self.state.schedule, self.state.options.engine)
        if note:
            log.warning(note)
        try:
            lexicon = schedule_lexicon(self.state.schedule)
        except BroadcastError as exc:
            log.error("%s Reading with the built-in lexicon only until it is fixed.", exc)
            lexicon = default_lexicon()
        return RenderSettings(
            engines=engines,
            lexicon=lexicon,
            target=LoudnessTarget.from_settings(self.state.schedule.loudness),
            cache=ChunkCache(self.state.options.state_dir / "tts-cache"),
            breaker=self.breaker,
            called_off=self.state.stopping,
        )

    def refresh_settings(self) -> None:
        """Look at the schedule and the engines again."""
        self.settings = self._current_settings()

    def settings_for(self, zone: Zone) -> RenderSettings:
        """Render settings for a zone: the schedule's, with the zone's own loudness target."""
        if zone.target_lufs is None:
            return self.settings
        return replace(self.settings, target=replace(self.settings.target,
                                                     integrated_lufs=zone.target_lufs))

    def of(self, broadcast: Broadcast) -> list[Zone]:
        """The schedule's zones that ``broadcast`` airs on."""
        return [zone for zone in self.state.schedule.zones if zone.id in broadcast.zone_ids]

    def groups(self, zones: list[Zone]) -> dict[RenderSettings, list[Zone]]:
        """Zones grouped by the render settings they need (one render per group)."""
        groups: dict[RenderSettings, list[Zone]] = {}
        for zone in zones:
            groups.setdefault(self.settings_for(zone), []).append(zone)
        return groups

    def apply(self) -> list[tuple[str, Output]]:
        """Outputs and channels for the schedule's zones; return the outputs built anew.

        Changed outputs are rebuilt, the outputs of zones taken out of the schedule are closed.
        """
        schedule = self.state.schedule
        built: list[tuple[str, Output]] = []
        kept = {zone.id for zone in schedule.zones}
        for zone_id in [z for z in self.outputs if z not in kept]:
            for output in self.outputs.pop(zone_id):
                output.close()
            del self._zone_setup[zone_id]
        for zone in schedule.zones:
            if zone.id not in self.channels:
                self.channels[zone.id] = ZoneChannel(zone.id, self.asrun, self.archive)
            old = self._zone_setup.get(zone.id)
            if old is None or old.outputs != zone.outputs:
                for output in self.outputs.get(zone.id, []):
                    output.close()
                self.outputs[zone.id] = [
                    build_output(_idle_approved(output, schedule), schedule.base_dir)
                    for output in zone.outputs
                ]
                built += [(zone.id, output) for output in self.outputs[zone.id]]
            self._zone_setup[zone.id] = zone
        return built

    def start(self, built: list[tuple[str, Output]]) -> None:
        """Start outputs just built (receivers stay connected between broadcasts) and say which
        cannot air now."""
        for zone_id, output in built:
            output.start()
            try:
                output.check()
            except OutputError as exc:
                log.error("zone %s: %s", zone_id, exc)

    def close(self) -> None:
        """Stop every channel (what airs is cut, what waits is dropped) and release the outputs."""
        for channel in self.channels.values():
            channel.stop()
        for outputs in self.outputs.values():
            for output in outputs:
                output.close()


def _idle_approved(output: OutputSettings, schedule: Schedule) -> OutputSettings:
    """An output's settings with its idle sound only if the ward's rule approves it: receivers
    hear it between broadcasts, so unapproved sound is left out (silence instead)."""
    idle = getattr(output, "idle", None)
    if idle is None:
        return output
    try:
        approval_rule(schedule).approve_recording(schedule.ward_file(idle, sound=True))
    except BroadcastError as exc:
        log.error("%s: the idle sound is not aired: %s", output.describe(), exc)
        return output.model_copy(update={"idle": None})
    return output
