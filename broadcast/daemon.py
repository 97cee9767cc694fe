"""The daemon: airs every scheduled program on its zones at its time, by itself.

It wires the stages together and nothing more: the schedule (config), the plan (planner), the
audio (prerender) and the sound device (outputs). APScheduler fires one job per planned
broadcast of the next hours (an hourly job adds the newly due ones and renders them ahead); each
job finds the broadcast's finished audio and plays it on its zones' devices.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from broadcast.config import Schedule, Zone, load_schedule
from broadcast.errors import BroadcastError
from broadcast.outputs.device import NoSoundDevice, Playback, SoundDevice, find_sound_device
from broadcast.planner import Broadcast, plan
from broadcast.prerender import (
    RenderStore,
    prepare_program,
    schedule_engines,
    schedule_lexicon,
    schedule_target,
)
from broadcast.render import RenderedAudio, RenderSettings
from broadcast.tts import ChunkCache

log = logging.getLogger("broadcast.daemon")

RENDERS_KEPT_UNUSED = dt.timedelta(days=30)
"""Rendered items and programs not used for this long are deleted (the disk stays bounded)."""

GRACE = dt.timedelta(minutes=10)
"""A program whose start was missed by less than this still airs, late."""


class AlreadyRunning(BroadcastError):
    """Another daemon holds this ward's lock."""


@contextlib.contextmanager
def single_instance(state_dir: Path) -> Iterator[None]:
    """Hold the ward's lock: two daemons would air everything twice."""
    state_dir.mkdir(parents=True, exist_ok=True)
    lock_path = state_dir / "daemon.lock"
    handle = lock_path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise AlreadyRunning(
                f"another broadcast daemon (PID {holder}) is already running for this ward. "
                "Stop it first; two would air everything twice."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


@dataclass(frozen=True)
class DaemonOptions:
    schedule_path: Path
    state_dir: Path
    engine: str | None = None
    horizon: dt.timedelta = dt.timedelta(hours=48)


def describe(broadcast: Broadcast) -> str:
    return (
        f"{broadcast.start:%Y-%m-%d %H:%M:%S %z} {broadcast.program_name} ({broadcast.program_id})"
        f" -> {', '.join(broadcast.zone_ids) or 'no zones'}"
    )


class Daemon:
    """Runs until stopped by SIGTERM or SIGINT."""

    def __init__(self, options: DaemonOptions) -> None:
        self.options = options
        self.schedule: Schedule = load_schedule(options.schedule_path)
        self.settings = self._current_settings()
        self.store = RenderStore(options.state_dir / "renders")
        self.devices: dict[str, SoundDevice | None] = {}
        self._stop = threading.Event()
        self._playing: dict[str, Playback] = {}
        self._playing_lock = threading.Lock()
        self.scheduler = BackgroundScheduler(timezone=self.schedule.ward.tz)

    def _current_settings(self) -> RenderSettings:
        """Render settings with the engines usable now (``auto`` asks whether Google answers)."""
        engines, note = schedule_engines(self.schedule, self.options.engine)
        if note:
            log.warning(note)
        return RenderSettings(
            engines=engines,
            lexicon=schedule_lexicon(self.schedule),
            target=schedule_target(self.schedule),
            cache=ChunkCache(self.options.state_dir / "tts-cache"),
        )

    @staticmethod
    def _sink(zone: Zone) -> str | None:
        return zone.outputs[0].sink if zone.outputs else None

    def _find_device(self, zone: Zone) -> SoundDevice | None:
        """Look again for a zone's sound device (the sound server may have started since)."""
        try:
            device = find_sound_device(self._sink(zone))
        except NoSoundDevice:
            return None
        log.info("zone %s: sound device found: %s", zone.id, device.describe())
        self.devices[zone.id] = device
        return device

    def _find_devices(self) -> dict[str, SoundDevice | None]:
        """The sound device for each zone, or None where there is none (said once, plainly)."""
        devices: dict[str, SoundDevice | None] = {}
        for zone in self.schedule.zones:
            try:
                devices[zone.id] = find_sound_device(self._sink(zone))
            except NoSoundDevice as exc:
                devices[zone.id] = None
                log.warning("zone %s: %s Broadcasts will be logged but not heard.", zone.id, exc)
        return devices

    def upcoming(self, count: int = 5) -> list[Broadcast]:
        now = dt.datetime.now(self.schedule.ward.tz)
        return plan(self.schedule, now, now + dt.timedelta(days=8))[:count]

    def _settings_for(self, zone: Zone) -> RenderSettings:
        """Render settings for a zone: the schedule's, with the zone's own loudness target."""
        if zone.target_lufs is None:
            return self.settings
        return replace(self.settings, target=replace(self.settings.target,
                                                     integrated_lufs=zone.target_lufs))

    def _zone_groups(self, broadcast: Broadcast) -> dict[RenderSettings, list[Zone]]:
        """The broadcast's zones grouped by the render settings they need."""
        groups: dict[RenderSettings, list[Zone]] = {}
        for zone in self.schedule.zones:
            if zone.id in broadcast.zone_ids:
                groups.setdefault(self._settings_for(zone), []).append(zone)
        return groups

    def prerender(self) -> None:
        """Render everything the next hours will air, so air time only has to play."""
        now = dt.datetime.now(self.schedule.ward.tz)
        for broadcast in plan(self.schedule, now, now + self.options.horizon):
            if self._stop.is_set():
                return
            for settings in self._zone_groups(broadcast):
                try:
                    ready = prepare_program(self.schedule, broadcast, settings, self.store)
                except BroadcastError as exc:
                    log.error("%s cannot be prepared: %s", broadcast.key, exc)
                    continue
                except Exception:
                    log.exception("%s cannot be prepared (unexpected error)", broadcast.key)
                    continue
                log.info(
                    "ready: %s, %.0f s, %.1f LUFS", broadcast.key, ready.figures.duration_s,
                    ready.figures.integrated_lufs,
                )
                for warning in ready.warnings:
                    log.warning("%s: %s", broadcast.key, warning)

    def _schedule_window(self) -> None:
        """Give every broadcast of the coming hours its own job, once.

        Jobs come from the plan, not from weekday rules, so date ranges, skipped holidays and
        extra dates air exactly as ``broadcast agenda`` shows them.
        """
        now = dt.datetime.now(self.schedule.ward.tz)
        for broadcast in plan(self.schedule, now, now + self.options.horizon):
            if self.scheduler.get_job(broadcast.key) is not None:
                continue
            self.scheduler.add_job(
                self.air,
                DateTrigger(run_date=broadcast.start),
                args=[broadcast],
                id=broadcast.key,
                misfire_grace_time=int(GRACE.total_seconds()),
            )

    def _roll(self) -> None:
        """Hourly: schedule and render what has come inside the horizon.

        The engines are looked at again, so a ward whose internet comes back gets Google's voice
        from the next renders on; whatever is already rendered keeps airing meanwhile.
        """
        self._schedule_window()
        self.settings = self._current_settings()
        removed = self.store.prune(RENDERS_KEPT_UNUSED)
        if removed:
            log.info("removed %d renders not used for %d days", removed,
                     RENDERS_KEPT_UNUSED.days)
        self.prerender()

    def air(self, broadcast: Broadcast) -> None:
        """Air one broadcast on its zones now (called by the scheduler at its time)."""
        now = dt.datetime.now(self.schedule.ward.tz)
        late = (now - broadcast.start).total_seconds()
        if late > 1:
            log.warning("%s starts late by %.0f s", broadcast.key, late)
        playbacks: list[tuple[RenderedAudio, SoundDevice, float, list[str]]] = []
        for settings, zones in self._zone_groups(broadcast).items():
            try:
                audio = prepare_program(self.schedule, broadcast, settings, self.store)
            except BroadcastError as exc:
                log.error("%s not aired in %s: %s", broadcast.key,
                          ", ".join(z.id for z in zones), exc)
                continue
            except Exception:
                log.exception("%s not aired in %s (unexpected error)", broadcast.key,
                              ", ".join(z.id for z in zones))
                continue
            by_output: dict[tuple[SoundDevice, float], list[str]] = {}
            for zone in zones:
                device = self.devices.get(zone.id) or self._find_device(zone)
                if device is None:
                    log.error("%s not heard in zone %s: no sound device", broadcast.key, zone.id)
                    continue
                by_output.setdefault((device, zone.gain_db), []).append(zone.id)
            playbacks += [(audio, device, gain, ids) for (device, gain), ids in by_output.items()]
        threads = [
            threading.Thread(target=self._play_one, args=(broadcast.program_id, *playback),
                             daemon=True)
            for playback in playbacks
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        upcoming = self.upcoming(1)
        if upcoming:
            log.info("next: %s", describe(upcoming[0]))

    def _play_one(
        self, program_id: str, audio: RenderedAudio, device: SoundDevice, gain_db: float,
        zones: list[str],
    ) -> None:
        if self._stop.is_set():
            log.warning("%s not aired on %s: stopping", program_id, ", ".join(zones))
            return
        key = f"{program_id}:{device.describe()}:{','.join(zones)}"
        try:
            playback = Playback(audio.path, device, gain_db)
        except (BroadcastError, OSError) as exc:
            log.error("%s not aired on %s: %s", program_id, ", ".join(zones), exc)
            return
        with self._playing_lock:
            self._playing[key] = playback
        log.info("airing %s on %s (%s), %.0f s", program_id, ", ".join(zones),
                 device.describe(), audio.figures.duration_s)
        result = playback.wait()
        with self._playing_lock:
            self._playing.pop(key, None)
        if result.completed:
            log.info("aired %s on %s", program_id, ", ".join(zones))
        else:
            log.error("%s cut short on %s: %s", program_id, ", ".join(zones), result.error)

    def stop(self, *_: object) -> None:
        self._stop.set()

    def run(self) -> None:
        """Pre-render, schedule, and air until SIGTERM or SIGINT."""
        with single_instance(self.options.state_dir):
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
            self.devices = self._find_devices()
            log.info(
                "ward %s: %d zones, %d programs, engine %s",
                self.schedule.ward.name, len(self.schedule.zones), len(self.schedule.programs),
                " then ".join(engine.identity for engine in self.settings.engines),
            )
            # Jobs first, renders second: a broadcast due while the first renders run still airs
            # (rendered on the spot if need be).
            self._schedule_window()
            self.scheduler.add_job(self._roll, IntervalTrigger(hours=1), id="roll",
                                   coalesce=True, max_instances=1)
            self.scheduler.start()
            for broadcast in self.upcoming():
                log.info("scheduled: %s", describe(broadcast))
            self.prerender()
            self._stop.wait()
            log.info("stopping")
            self.scheduler.shutdown(wait=False)
            with self._playing_lock:
                playing = list(self._playing.items())
            for key, playback in playing:
                log.warning("cut off: %s", key)
                playback.stop()
            log.info("stopped")
