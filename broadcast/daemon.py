"""The daemon: airs every scheduled program on its zones at its time, by itself.

It wires the stages together: the schedule (config), the plan (planner), the audio (prerender),
the zones' outputs (outputs) and the as-run log (asrun, onair). APScheduler fires one job per
planned broadcast of the next hours, a few seconds before its start: the job gets the finished
audio, runs the zones' "before" hooks, prepares the outputs and hands the broadcast to each zone's
channel on the second. Hourly, the window rolls on and what comes into it is rendered ahead.

Edits to the schedule, its scripts and its lexicon are picked up while running: a valid edit
replaces only the broadcasts it changes; an invalid one is reported with file, line and column,
and the last good schedule keeps airing.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import fcntl
import logging
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from broadcast.asrun import AsRunLog, Row
from broadcast.bulletin import BulletinError
from broadcast.config import (
    AudioItem,
    Program,
    Schedule,
    ScriptItem,
    Zone,
    parse_schedule,
    read_schedule,
)
from broadcast.errors import BroadcastError
from broadcast.fileio import write_text_atomic
from broadcast.onair import Cue, ZoneChannel, hook_env, report_hook, wait_until
from broadcast.outputs import UnusableOutput, build_output
from broadcast.outputs.archive import Archive, ArchiveError
from broadcast.outputs.base import Output
from broadcast.outputs.device import NoSoundDevice, SoundCard, find_sound_device
from broadcast.outputs.hooks import run_hook
from broadcast.outputs.icecast import IcecastMount
from broadcast.planner import Broadcast, plan
from broadcast.prerender import (
    RenderStore,
    prepare_chime,
    prepare_program,
    prepare_recording,
    prepare_script,
    schedule_engines,
    schedule_lexicon,
    schedule_target,
)
from broadcast.render import RenderedAudio, RenderSettings
from broadcast.status import StatusBoard
from broadcast.tts import ChunkCache
from broadcast.watch import Watcher, watched_files

log = logging.getLogger("broadcast.daemon")

RENDERS_KEPT_UNUSED = dt.timedelta(days=30)
"""Rendered items and programs not used for this long are deleted (the disk stays bounded)."""
PREPARE_LEAD_S = 2.0
"""The outputs are made ready this long before the start, so the sound starts on the second."""
RENDER_BUDGET_S = 30.0
"""A broadcast whose audio is not ready at its start waits this long for it, then its fallback
airs instead."""
LOOK_BACK = dt.timedelta(hours=24)
"""After a restart, broadcasts missed while the daemon was down are logged back this far."""
POLL_S = 1.0


class AlreadyRunning(BroadcastError):
    """Another daemon holds this ward's lock."""


def lock_holder(state_dir: Path) -> int | None:
    """The PID of the daemon running for this state folder, or None when none runs."""
    lock_path = state_dir / "daemon.lock"
    if not lock_path.exists():
        return None
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        return None


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


class _RecentErrors(logging.Handler):
    """Keeps the last error lines for ``broadcast status``."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: deque[str] = deque(maxlen=10)

    def emit(self, record: logging.LogRecord) -> None:
        when = dt.datetime.fromtimestamp(record.created).astimezone()
        self.lines.append(f"{when:%Y-%m-%d %H:%M:%S} {record.getMessage().splitlines()[0]}")


class Daemon:
    """Runs until stopped by SIGTERM or SIGINT."""

    def __init__(self, options: DaemonOptions) -> None:
        self.options = options
        self.schedule: Schedule = self._load_at_start()
        self.settings = self._current_settings()
        self.store = RenderStore(options.state_dir / "renders")
        self.asrun = AsRunLog(options.state_dir / "as-run.sqlite")
        self.tz = self.schedule.ward.tz
        self._stop = threading.Event()
        self._lock = threading.RLock()
        self._planned: dict[str, Broadcast] = {}
        self._cued: set[str] = set()
        self._withdrawn: set[str] = set()
        self._render_pool = concurrent.futures.ThreadPoolExecutor(2, "render")
        self.outputs: dict[str, list[Output]] = {}
        self.channels: dict[str, ZoneChannel] = {}
        self._zone_setup: dict[str, Zone] = {}
        self._apply_zones()
        self.watcher = Watcher(watched_files(self.schedule))
        self.errors = _RecentErrors()
        self.status = StatusBoard(options.state_dir / "status.json")
        self.scheduler = BackgroundScheduler(timezone=self.tz)

    @property
    def _last_good(self) -> Path:
        return self.options.state_dir / "last-good-schedule.yaml"

    def _load_at_start(self) -> Schedule:
        """The schedule; if its last edit is broken, the last good one this daemon aired.

        A broken edit followed by a restart (a power cut, say) must not silence the ward. With
        no good schedule ever seen here, the errors are all there is to say.
        """
        try:
            schedule, text = read_schedule(self.options.schedule_path)
        except BroadcastError as exc:
            if not self._last_good.is_file():
                raise
            log.error("%s\nStarting with the last good schedule instead (saved %s). Fix the "
                      "file; the fix is picked up as soon as it is saved.", exc,
                      dt.datetime.fromtimestamp(self._last_good.stat().st_mtime)
                      .astimezone().strftime("%Y-%m-%d %H:%M"))
            return parse_schedule(self._last_good.read_text(encoding="utf-8"),
                                  self.options.schedule_path.resolve())
        self._keep_good(text)
        return schedule

    def _keep_good(self, text: str) -> None:
        with contextlib.suppress(OSError):
            write_text_atomic(self._last_good, text)

    # --- settings ----------------------------------------------------------------------------

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

    def _settings_for(self, zone: Zone) -> RenderSettings:
        """Render settings for a zone: the schedule's, with the zone's own loudness target."""
        if zone.target_lufs is None:
            return self.settings
        return replace(self.settings, target=replace(self.settings.target,
                                                     integrated_lufs=zone.target_lufs))

    def _zones_of(self, broadcast: Broadcast) -> list[Zone]:
        return [zone for zone in self.schedule.zones if zone.id in broadcast.zone_ids]

    def _groups(self, zones: list[Zone]) -> dict[RenderSettings, list[Zone]]:
        """Zones grouped by the render settings they need (one render per group)."""
        groups: dict[RenderSettings, list[Zone]] = {}
        for zone in zones:
            groups.setdefault(self._settings_for(zone), []).append(zone)
        return groups

    def _apply_zones(self) -> None:
        """Outputs and channels for the schedule's zones; changed outputs are rebuilt, the
        outputs of zones taken out of the schedule are closed."""
        kept = {zone.id for zone in self.schedule.zones}
        for zone_id in [z for z in self.outputs if z not in kept]:
            for output in self.outputs.pop(zone_id):
                output.close()
            del self._zone_setup[zone_id]
        for zone in self.schedule.zones:
            if zone.id not in self.channels:
                self.channels[zone.id] = ZoneChannel(zone.id, self.asrun, self._archive)
            old = self._zone_setup.get(zone.id)
            if old is None or old.outputs != zone.outputs:
                for output in self.outputs.get(zone.id, []):
                    output.close()
                self.outputs[zone.id] = [
                    build_output(output, self.schedule.base_dir) for output in zone.outputs
                ]
                for built in self.outputs[zone.id]:
                    if isinstance(built, UnusableOutput):
                        log.error("zone %s: %s", zone.id, built.problem)
                    elif isinstance(built, IcecastMount):
                        built.start()  # receivers stay connected between broadcasts
            self._zone_setup[zone.id] = zone

    # --- rendering ahead ---------------------------------------------------------------------

    def prerender(self) -> None:
        """Render everything the next hours will air, so air time only has to play."""
        now = dt.datetime.now(self.tz)
        upcoming = plan(self.schedule, now, now + self.options.horizon)
        ready = 0
        failed: list[dict[str, str]] = []
        self.status.prerender(running=True, ready=0, total=len(upcoming), failed=[])
        for number, broadcast in enumerate(upcoming, 1):
            if self._stop.is_set():
                return
            problem = None
            for settings in self._groups(self._zones_of(broadcast)):
                try:
                    audio = prepare_program(self.schedule, broadcast, settings, self.store)
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
            self.status.prerender(running=True, ready=ready, total=len(upcoming), failed=failed)
        self.status.prerender(running=False, ready=ready, total=len(upcoming), failed=failed)

    def _prerender_in_background(self) -> None:
        threading.Thread(target=self._guarded, args=(self.prerender,), name="prerender",
                         daemon=True).start()

    @staticmethod
    def _guarded(work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:
            log.exception("unexpected error while rendering ahead")

    # --- jobs --------------------------------------------------------------------------------

    def _lead(self, broadcast: Broadcast) -> float:
        hooks = [zone.hooks.before_lead for zone in self._zones_of(broadcast)
                 if zone.hooks.before]
        return max(hooks, default=0.0) + PREPARE_LEAD_S

    def _plan_window(self) -> dict[str, Broadcast]:
        now = dt.datetime.now(self.tz)
        return {b.key: b for b in plan(self.schedule, now, now + self.options.horizon)}

    def _schedule_window(self) -> tuple[int, int, int]:
        """Make the jobs match the plan of the coming hours; return (added, removed, changed).

        Jobs come from the plan, not from weekday rules, so date ranges, skipped holidays and
        extra dates air exactly as ``broadcast agenda`` shows them.
        """
        wanted = self._plan_window()
        added = removed = changed = 0
        now = dt.datetime.now(self.tz)
        with self._lock:
            for key, broadcast in list(self._planned.items()):
                if key in wanted or broadcast.start < now:
                    continue
                if key in self._cued:
                    self._withdrawn.add(key)
                else:
                    with contextlib.suppress(JobLookupError):
                        self.scheduler.remove_job(f"cue:{key}")
                del self._planned[key]
                removed += 1
            for key, broadcast in wanted.items():
                if key in self._cued:
                    continue
                old = self._planned.get(key)
                if old == broadcast and self.scheduler.get_job(f"cue:{key}") is not None:
                    continue
                if old is not None:
                    changed += 1
                else:
                    added += 1
                self._planned[key] = broadcast
                program = self.schedule.program(broadcast.program_id)
                lead = dt.timedelta(seconds=self._lead(broadcast))
                self.scheduler.add_job(
                    self._cue, DateTrigger(run_date=broadcast.start - lead), args=[broadcast],
                    id=f"cue:{key}", replace_existing=True,
                    misfire_grace_time=int((program.grace + lead).total_seconds()) or 1,
                )
        return added, removed, changed

    def _catch_up(self) -> None:
        """After a restart: air late what is still within its grace, log the rest as missed."""
        now = dt.datetime.now(self.tz)
        for row in self.asrun.recover(now):
            log.error("%s in %s was cut off when the daemon stopped: marked interrupted",
                      row.occurrence, row.zone)
        alive = self.asrun.value("alive")
        since = max(now - LOOK_BACK, dt.datetime.fromisoformat(alive)) if alive else now
        for broadcast in plan(self.schedule, since, now):
            program = self.schedule.program(broadcast.program_id)
            zones = [z for z in self._zones_of(broadcast)
                     if not self.asrun.has(broadcast.key, z.id)]
            if not zones:
                continue
            late = now - broadcast.start
            if late <= program.grace:
                log.warning("%s was due %.0f s ago while the daemon was down: airing it now",
                            broadcast.key, late.total_seconds())
                threading.Thread(target=self._cue, args=(broadcast,), daemon=True).start()
                continue
            for zone in zones:
                self.asrun.add(Row(
                    occurrence=broadcast.key, zone=zone.id, program_id=broadcast.program_id,
                    program_name=broadcast.program_name, priority=broadcast.priority,
                    scheduled=broadcast.start, outcome="missed",
                    reason=f"the daemon was not running at {broadcast.start:%H:%M:%S} and came "
                           f"back {late.total_seconds() / 60:.0f} min later, after its grace",
                ))
            log.error("missed: %s (the daemon was not running; grace %s)", broadcast.key,
                      program.grace)

    def _cue(self, broadcast: Broadcast) -> None:
        """A few seconds ahead: get the audio, run hooks, prepare outputs, air on the second."""
        key = broadcast.key
        with self._lock:
            if key in self._cued:
                return
            self._cued.add(key)
            self._planned[key] = broadcast
        schedule = self.schedule
        zones = [z for z in self._zones_of(broadcast) if not self.asrun.has(key, z.id)]
        if not zones:
            return
        try:
            program = schedule.program(broadcast.program_id)
        except BroadcastError:
            log.warning("%s was taken out of the schedule: not aired", key)
            return
        cues = self._cues(schedule, program, broadcast, zones)
        hooks = self._run_before_hooks(cues, {z.id: z for z in zones}, broadcast)
        ready_at = broadcast.start - dt.timedelta(seconds=PREPARE_LEAD_S)
        if not wait_until(ready_at, self._stop):
            return
        with self._lock:
            if key in self._withdrawn:
                log.warning("%s was taken out of the schedule: not aired", key)
                return
        for cue in cues:
            with contextlib.suppress(BroadcastError, OSError):
                cue.prepare()
        if not wait_until(broadcast.start, self._stop):
            for cue in cues:
                if cue.airing is not None:
                    cue.airing.abandon()
            return
        for cue in cues:
            self.channels[cue.zone].submit(cue)
        for thread in hooks:
            thread.join()

    def _cues(self, schedule: Schedule, program: Program, broadcast: Broadcast,
              zones: list[Zone]) -> list[Cue]:
        cues: list[Cue] = []
        for settings, group in self._groups(zones).items():
            outcome = reason = None
            try:
                audio = self._audio_within_budget(schedule, broadcast, settings)
            except BroadcastError as exc:
                outcome = "refused" if isinstance(exc, BulletinError) else "failed"
                fallback = self._fallback(schedule, program, settings)
                if fallback is None:
                    self._not_aired(broadcast, group, outcome, str(exc))
                    continue
                audio, what = fallback
                reason = f"{exc} The fallback ({what}) aired instead."
                log.error("%s: %s", broadcast.key, reason)
            for zone in group:
                cues.append(Cue(
                    broadcast=broadcast, zone=zone.id, audio=audio,
                    outputs=self.outputs[zone.id], gain_db=zone.gain_db,
                    on_interrupt=program.on_interrupt, after_hook=zone.hooks.after,
                    after_delay_s=zone.hooks.after_delay, hook_timeout_s=zone.hooks.timeout,
                    outcome=outcome, reason=reason,
                ))
        return cues

    def _audio_within_budget(self, schedule: Schedule, broadcast: Broadcast,
                             settings: RenderSettings) -> RenderedAudio:
        """The broadcast's audio: kept from rendering ahead, or rendered now within budget."""
        job = self._render_pool.submit(prepare_program, schedule, broadcast, settings,
                                       self.store)
        budget = (broadcast.start - dt.datetime.now(self.tz)).total_seconds() + RENDER_BUDGET_S
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
                path = schedule.resolve(item.script)
                return prepare_script(path, settings, self.store), f"script {item.script}"
            if isinstance(item, AudioItem):
                path = schedule.resolve(item.audio)
                return prepare_recording(path, settings.target, self.store), f"audio {item.audio}"
            return prepare_chime(schedule.chime_file(item.chime), settings.target,
                                 self.store), "chime"
        except BroadcastError as exc:
            log.error("the fallback of %s cannot be prepared either: %s", program.id, exc)
            return None

    def _not_aired(self, broadcast: Broadcast, zones: list[Zone], outcome: str,
                   reason: str) -> None:
        for zone in zones:
            self.asrun.add(Row(
                occurrence=broadcast.key, zone=zone.id, program_id=broadcast.program_id,
                program_name=broadcast.program_name, priority=broadcast.priority,
                scheduled=broadcast.start, outcome=outcome, reason=reason,
            ))
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
        if not wait_until(when, self._stop):
            return
        result = run_hook(command, timeout_s=timeout_s, env=hook_env(cue, "before"))
        report_hook(result, "before", cue, self.asrun, None)

    def _archive(self, cue: Cue, row: Row) -> None:
        settings = self.schedule.archive
        if not settings.enabled:
            return
        archive = Archive(self.schedule.resolve(settings.folder), settings.keep_days, self.tz)
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

    # --- reloading ---------------------------------------------------------------------------

    def _watch(self) -> None:
        """Poll for edits (and keep the status file current) until stopped."""
        while not self._stop.wait(POLL_S):
            try:
                changed = self.watcher.poll()
                if changed:
                    self.reload(changed)
                self._write_status()
            except Exception:
                log.exception("unexpected error while watching for edits")

    def reload(self, changed: list[Path]) -> None:
        names = ", ".join(path.name for path in changed[:5])
        more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        log.info("files changed: %s%s", names, more)
        try:
            schedule, text = read_schedule(self.options.schedule_path)
        except BroadcastError as exc:
            # The status first: whoever reads the log line can then see it in 'status' too.
            self.status.schedule_problem(str(exc))
            log.error("the edit cannot be used; still airing the last good schedule.\n%s", exc)
            return
        with self._lock:
            self.schedule = schedule
            self.tz = schedule.ward.tz
            self.settings = self._current_settings()
            self._apply_zones()
            added, removed, changed_jobs = self._schedule_window()
        self.watcher.watch(watched_files(schedule))
        self._keep_good(text)
        self.status.schedule_problem(None)
        log.info("reloaded: %d broadcasts added, %d removed, %d changed; rendering what changed",
                 added, removed, changed_jobs)
        self._prerender_in_background()

    # --- status ------------------------------------------------------------------------------

    def upcoming(self, count: int = 5) -> list[Broadcast]:
        now = dt.datetime.now(self.tz)
        return plan(self.schedule, now, now + dt.timedelta(days=8))[:count]

    def _write_status(self) -> None:
        airing = {}
        for zone_id, channel in self.channels.items():
            cue = channel.current
            if cue is not None and channel.current_since is not None:
                airing[zone_id] = {
                    "broadcast": cue.broadcast.key, "program": cue.broadcast.program_name,
                    "since": channel.current_since.isoformat(timespec="seconds"),
                    "length_s": round(cue.audio.figures.duration_s - cue.offset_s),
                    "waiting": len(channel.waiting()),
                }
        self.status.update(
            schedule=str(self.options.schedule_path), airing=airing,
            upcoming=[{"start": b.start.isoformat(), "program": b.program_name,
                       "id": b.program_id, "zones": list(b.zone_ids), "priority": b.priority}
                      for b in self._next_five()],
            errors=list(self.errors.lines),
        )

    def _next_five(self) -> list[Broadcast]:
        now = dt.datetime.now(self.tz)
        with self._lock:
            found = sorted((b for b in self._planned.values() if b.start > now),
                           key=lambda b: b.start)
        return found[:5]

    def _heartbeat(self) -> None:
        """Remember the daemon was alive now (after a restart, what was missed is known)."""
        self.asrun.set_value("alive", dt.datetime.now(self.tz).isoformat())

    def _roll(self) -> None:
        """Hourly: schedule and render what has come inside the horizon.

        The engines are looked at again, so a ward whose internet comes back gets Google's voice
        from the next renders on; whatever is already rendered keeps airing meanwhile.
        """
        with self._lock:
            self._schedule_window()
            self.settings = self._current_settings()
            past = dt.datetime.now(self.tz) - LOOK_BACK
            for key in [k for k, b in self._planned.items() if b.start < past]:
                del self._planned[key]
                self._cued.discard(key)
                self._withdrawn.discard(key)
        removed = self.store.prune(RENDERS_KEPT_UNUSED)
        if removed:
            log.info("removed %d renders not used for %d days", removed,
                     RENDERS_KEPT_UNUSED.days)
        settings = self.schedule.archive
        if settings.enabled:
            archive = Archive(self.schedule.resolve(settings.folder), settings.keep_days, self.tz)
            with contextlib.suppress(ArchiveError, OSError):
                pruned = archive.prune(dt.datetime.now(self.tz))
                if pruned:
                    log.info("archive: removed %d copies older than %d days", pruned,
                             settings.keep_days)
        self.prerender()

    def _check_sound_devices(self) -> None:
        """Say once, at start, which zones have no sound device (it is looked for again at
        every broadcast)."""
        for zone_id, outputs in self.outputs.items():
            for output in outputs:
                if not isinstance(output, SoundCard):
                    continue
                try:
                    find_sound_device(output.sink)
                except NoSoundDevice as exc:
                    log.warning("zone %s: %s Broadcasts will be logged as failed until one is "
                                "connected.", zone_id, exc)

    # --- running -----------------------------------------------------------------------------

    def stop(self, *_: object) -> None:
        self._stop.set()

    def run(self) -> None:
        """Pre-render, schedule, and air until SIGTERM or SIGINT."""
        with single_instance(self.options.state_dir):
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
            logging.getLogger("broadcast").addHandler(self.errors)
            log.info(
                "ward %s: %d zones, %d programs, engine %s",
                self.schedule.ward.name, len(self.schedule.zones), len(self.schedule.programs),
                " then ".join(engine.identity for engine in self.settings.engines),
            )
            self.status.started(os.getpid(), str(self.options.schedule_path))
            self._check_sound_devices()
            self._catch_up()
            self._heartbeat()
            # Jobs first, renders second: a broadcast due while the first renders run still airs
            # (rendered on the spot if need be).
            self._schedule_window()
            self.scheduler.add_job(self._roll, IntervalTrigger(hours=1), id="roll",
                                   coalesce=True, max_instances=1)
            self.scheduler.add_job(self._heartbeat, IntervalTrigger(minutes=1), id="alive",
                                   coalesce=True, max_instances=1)
            self.scheduler.start()
            for broadcast in self.upcoming():
                log.info("scheduled: %s", describe(broadcast))
            watcher = threading.Thread(target=self._watch, name="watch", daemon=True)
            watcher.start()
            self._write_status()
            self.prerender()
            self._stop.wait()
            log.info("stopping")
            self.scheduler.shutdown(wait=False)
            for channel in self.channels.values():
                channel.stop()
            for outputs in self.outputs.values():
                for output in outputs:
                    output.close()
            self._render_pool.shutdown(wait=False, cancel_futures=True)
            watcher.join(timeout=POLL_S * 2)
            self._heartbeat()
            self.status.stopped()
            self.asrun.close()
            log.info("stopped")
