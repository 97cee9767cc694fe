"""The daemon: airs every scheduled program on its zones at its time, by itself.

It wires the stages together and nothing more: the schedule (config), the plan (planner), the
audio (prerender) and the sound device (outputs). APScheduler fires one job per program; each job
finds the program's finished audio (rendered ahead at start) and plays it on the zones' devices.
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
from dataclasses import dataclass
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from broadcast.config import Schedule, load_schedule
from broadcast.errors import BroadcastError
from broadcast.outputs.device import NoSoundDevice, Playback, SoundDevice, find_sound_device
from broadcast.planner import Broadcast, occurrences, plan
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
        engines, note = schedule_engines(self.schedule, options.engine)
        if note:
            log.warning(note)
        self.settings = RenderSettings(
            engines=engines,
            lexicon=schedule_lexicon(self.schedule),
            target=schedule_target(self.schedule),
            cache=ChunkCache(options.state_dir / "tts-cache"),
        )
        self.store = RenderStore(options.state_dir / "renders")
        self.devices: dict[str, SoundDevice | None] = {}
        self._stop = threading.Event()
        self._playing: dict[str, Playback] = {}
        self._playing_lock = threading.Lock()
        self.scheduler = BackgroundScheduler(timezone=self.schedule.ward.tz)

    def _find_devices(self) -> dict[str, SoundDevice | None]:
        """The sound device for each zone, or None where there is none (said once, plainly)."""
        devices: dict[str, SoundDevice | None] = {}
        for zone in self.schedule.zones:
            sink = zone.outputs[0].sink if zone.outputs else None
            try:
                devices[zone.id] = find_sound_device(sink)
            except NoSoundDevice as exc:
                devices[zone.id] = None
                log.warning("zone %s: %s Broadcasts will be logged but not heard.", zone.id, exc)
        return devices

    def upcoming(self, count: int = 5) -> list[Broadcast]:
        now = dt.datetime.now(self.schedule.ward.tz)
        return plan(self.schedule, now, now + dt.timedelta(days=8))[:count]

    def prerender(self) -> None:
        """Render everything the next hours will air, so air time only has to play."""
        now = dt.datetime.now(self.schedule.ward.tz)
        for broadcast in plan(self.schedule, now, now + self.options.horizon):
            try:
                ready = prepare_program(self.schedule, broadcast, self.settings, self.store)
            except BroadcastError as exc:
                log.error("%s cannot be prepared: %s", broadcast.key, exc)
                continue
            log.info(
                "ready: %s, %.0f s, %.1f LUFS", broadcast.key, ready.figures.duration_s,
                ready.figures.integrated_lufs,
            )
            for warning in ready.warnings:
                log.warning("%s: %s", broadcast.key, warning)

    def _add_jobs(self) -> None:
        for program in self.schedule.programs:
            self.scheduler.add_job(
                self.air,
                CronTrigger(
                    day_of_week=",".join(program.days),
                    hour=program.start.hour,
                    minute=program.start.minute,
                    second=program.start.second,
                    timezone=self.schedule.ward.tz,
                ),
                args=[program.id],
                id=program.id,
                misfire_grace_time=int(GRACE.total_seconds()),
                coalesce=True,
                max_instances=1,
            )

    def air(self, program_id: str) -> None:
        """Air one program on its zones now (called by the scheduler at the program's time)."""
        program = self.schedule.program(program_id)
        now = dt.datetime.now(self.schedule.ward.tz)
        broadcast = occurrences(program, self.schedule, now.date())
        if broadcast is None:
            log.error("%s has no broadcast today; not aired", program_id)
            return
        late = (now - broadcast.start).total_seconds()
        if late > 1:
            log.warning("%s starts late by %.0f s", broadcast.key, late)
        try:
            audio = prepare_program(self.schedule, broadcast, self.settings, self.store)
        except BroadcastError as exc:
            log.error("%s not aired: %s", broadcast.key, exc)
            return
        self._play_on_zones(broadcast, audio)
        upcoming = self.upcoming(1)
        if upcoming:
            log.info("next: %s", describe(upcoming[0]))

    def _play_on_zones(self, broadcast: Broadcast, audio: RenderedAudio) -> None:
        by_device: dict[SoundDevice, list[str]] = {}
        for zone_id in broadcast.zone_ids:
            device = self.devices.get(zone_id)
            if device is None:
                log.error("%s not heard in zone %s: no sound device", broadcast.program_id,
                          zone_id)
                continue
            by_device.setdefault(device, []).append(zone_id)
        threads = [
            threading.Thread(
                target=self._play_one, args=(broadcast.program_id, audio, device, zones),
                daemon=True,
            )
            for device, zones in by_device.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _play_one(
        self, program_id: str, audio: RenderedAudio, device: SoundDevice, zones: list[str]
    ) -> None:
        key = f"{program_id}:{device.describe()}"
        playback = Playback(audio.path, device)
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
            self.prerender()
            self._add_jobs()
            self.scheduler.start()
            for broadcast in self.upcoming():
                log.info("scheduled: %s", describe(broadcast))
            self._stop.wait()
            log.info("stopping")
            with self._playing_lock:
                playing = list(self._playing.items())
            for key, playback in playing:
                log.warning("cut off: %s", key)
                playback.stop()
            self.scheduler.shutdown(wait=False)
            log.info("stopped")
