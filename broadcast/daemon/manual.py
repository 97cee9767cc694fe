"""Manual broadcasts: what operators ask the running daemon for through its control socket.

Every request that airs becomes a broadcast like a scheduled one (zone queues and priorities,
amplifier hooks, every output, archive, an as-run row) whose as-run rows say ``origin: manual``,
who asked and with what arguments. Everything is checked before anything changes: unknown zones,
a file outside the ward folder, an unapproved script, a time already past or inside the quiet
hours each get a one-line error. A request for later waits as a job of the daemon's scheduler
until its time (``broadcast queue`` lists it, ``broadcast cancel`` takes it back).

An emergency holds its zones, cuts what is on, airs the alert tone at once, and airs its message
as soon as it is rendered; nothing else starts in between.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from pydantic import TypeAdapter, ValidationError

from broadcast.approval import ApprovalRule, approval_path, write_approval
from broadcast.asrun import AsRunLog
from broadcast.bulletin import notice_script, read_bulletin
from broadcast.control.protocol import (
    Cancel,
    Emergency,
    Play,
    Queue,
    Relay,
    Request,
    Say,
    Stop,
    Targets,
    Timing,
    decode_request,
    encode_request,
)
from broadcast.daemon.control import Answer, Peer, may_say
from broadcast.daemon.cues import PREPARE_LEAD_S, Cues, prepare_lead_s
from broadcast.daemon.state import DaemonState
from broadcast.daemon.zones import Zones
from broadcast.errors import BroadcastError
from broadcast.fileio import read_at_most, write_text_atomic
from broadcast.onair import Cue, Hold, as_run_row
from broadcast.planner import Broadcast, ManualRequest, latest_occurrence
from broadcast.prerender import RenderStore, approval_rule, prepare_program, schedule_chime
from broadcast.render import RenderedAudio, RenderSettings
from broadcast.schedule import (
    AUDIO_SUFFIXES,
    SCRIPT_SUFFIXES,
    AiredItem,
    AudioItem,
    ChimeItem,
    Program,
    RelayItem,
    RotationItem,
    Schedule,
    ScriptItem,
    SilenceItem,
    Zone,
)
from broadcast.schedule.values import Clock, say_length
from broadcast.vietnamese import to_spoken

log = logging.getLogger("broadcast.manual")

REPEAT_PAUSE_S = 2.0
"""The pause between the readings of a message repeated back to back."""
FORGET_AFTER = dt.timedelta(minutes=10)
"""A request whose last broadcast started this long ago is no longer listed."""
RESTORE_GRACE = dt.timedelta(minutes=10)
"""A booked broadcast whose time came while the daemon was down still airs this late."""
MAX_KEPT_BYTES = 4 * 1024 * 1024
_CLOCK: TypeAdapter[dt.time] = TypeAdapter(Clock)


@dataclass(frozen=True)
class Booking:
    """A request for later, kept in the state folder so that a restart does not lose it."""

    id: int
    peer: Peer
    request: str
    """The request as the client sent it (JSON)."""
    starts: tuple[dt.datetime, ...]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "pid": self.peer.pid, "uid": self.peer.uid, "gid": self.peer.gid,
                "request": self.request, "starts": [s.isoformat() for s in self.starts]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Booking:
        return cls(int(data["id"]), Peer(int(data["pid"]), int(data["uid"]), int(data["gid"])),
                   str(data["request"]),
                   tuple(dt.datetime.fromisoformat(start) for start in data["starts"]))


@dataclass
class Pending:
    """A request with broadcasts still to come."""

    id: int
    command: str
    what: str
    requested_by: str
    zones: tuple[str, ...]
    starts: list[dt.datetime]
    keys: list[str]
    booking: Booking
    jobs: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "command": self.command, "what": self.what,
                "requested_by": self.requested_by, "zones": list(self.zones),
                "starts": [start.isoformat(timespec="seconds") for start in self.starts]}


@dataclass(frozen=True)
class _Order:
    """What a request airs, worked out and checked, before anything is done about it."""

    program: Program
    items: tuple[AiredItem, ...]
    what: str


def _mine(request_id: int) -> Callable[[Cue], bool]:
    def which(cue: Cue) -> bool:
        manual = cue.broadcast.request
        return manual is not None and manual.id == request_id
    return which


def _zone_names(zones: list[Zone]) -> str:
    return ", ".join(zone.id for zone in zones)


class ManualDesk:
    """Answers the control requests (see the module doc)."""

    def __init__(self, state: DaemonState, zones: Zones, cues: Cues, store: RenderStore,
                 scheduler: BackgroundScheduler, asrun: AsRunLog) -> None:
        self.state = state
        self.zones = zones
        self.cues = cues
        self.store = store
        self.scheduler = scheduler
        self.asrun = asrun
        self._number = asrun.next_number
        self._lock = threading.Lock()
        self._pending: dict[int, Pending] = {}

    # -- the requests ---------------------------------------------------------------------

    def handle(self, request: Request, peer: Peer, booked: Booking | None = None) -> Answer:
        """Do what ``request`` asks, or raise :class:`BroadcastError` saying why not.
        ``booked``: a request for later made before a restart, booked again as it was."""
        if isinstance(request, Play):
            return self._play(request, peer, booked)
        if isinstance(request, Say):
            return self._say(request, peer, booked)
        if isinstance(request, Emergency):
            return self._emergency(request, peer)
        if isinstance(request, Stop):
            return self._stop(request, peer)
        if isinstance(request, Queue):
            return self._queue()
        if isinstance(request, Cancel):
            return self._cancel(request, peer)
        assert isinstance(request, Relay)
        return self._relay(request, peer, booked)

    def _play(self, request: Play, peer: Peer, booked: Booking | None) -> Answer:
        schedule = self.state.schedule
        zones = self._zones(schedule, request)
        order = self._order_for(schedule, request.target, request.priority, request.repeat,
                                request.every)
        return self._book(schedule, request, peer, zones, order, booked)

    def _say(self, request: Say, peer: Peer, booked: Booking | None) -> Answer:
        schedule = self.state.schedule
        zones = self._zones(schedule, request)
        number = booked.id if booked is not None else self._number("request")
        script, _ = self._typed_notice(schedule, request.text, peer, number, request.approval)
        what = f"typed notice ({len(request.text)} characters)"
        if request.at is not None or request.every is not None:
            order = _Order(self._program("say", f"notice from {peer.user}", request.priority),
                           self._repeated((ChimeItem(), ScriptItem(script=script)), request),
                           what)
            return self._book(schedule, request, peer, zones, order, booked, number=number)
        self._starts(schedule, request, request.priority, self._lead(zones))
        message = _Order(self._program("say", f"notice from {peer.user}", request.priority),
                         self._repeated((ScriptItem(script=script),), request), what)
        length = self._announce(schedule, zones, self._manual(number, request, peer),
                                request.priority, None, message)
        log.info("request #%d from %s: %s on %s, now", number, peer.user, what,
                 _zone_names(zones))
        return Answer(f"#{number}: {what} ({length:.0f} s) on {_zone_names(zones)}, now.",
                      {"id": number, "zones": [zone.id for zone in zones],
                       "length_s": round(length, 1),
                       "starts": [dt.datetime.now(self.state.tz).isoformat(timespec="seconds")]})

    def _relay(self, request: Relay, peer: Peer, booked: Booking | None) -> Answer:
        schedule = self.state.schedule
        zones = self._zones(schedule, request)
        source = schedule.relay_source(request.source)
        if source is None:
            names = ", ".join(s.name for s in schedule.relay_sources) or "none yet"
            raise BroadcastError(f"'{request.source}' is not in relay_sources of "
                                 f"{schedule.source.name}, and only those may be relayed "
                                 f"(sources: {names}). Add it there first.")
        length = dt.timedelta(seconds=request.duration)
        item = RelayItem(relay=source.name, duration=length)
        order = _Order(self._program("relay", f"relay {source.name}", request.priority),
                       self._repeated((item,), request),
                       f"relay {source.name} for {say_length(length.total_seconds())}")
        return self._book(schedule, request, peer, zones, order, booked)

    def _emergency(self, request: Emergency, peer: Peer) -> Answer:
        schedule = self.state.schedule
        zones = self._zones(schedule, request)
        number = self._number("request")
        if request.text is not None:
            script, schedule = self._typed_notice(schedule, request.text, peer, number,
                                                  request.approval, emergency=True)
            items: tuple[AiredItem, ...] = (ScriptItem(script=script),)
            what = f"typed emergency message ({len(request.text)} characters)"
        elif request.target is not None:
            order = self._order_for(schedule, request.target, "emergency", 1, None, chime=False)
            items, what = order.items, order.what
        else:
            raise BroadcastError("say what to air: a script, an audio file, a program, or "
                                 "--text \"...\".")
        message = _Order(self._program("emergency", f"emergency: {what}", "emergency"),
                         self._repeated(items, Timing(repeat=request.repeat)), what)
        log.warning("emergency #%d from %s on %s: %s", number, peer.user, _zone_names(zones),
                    what)
        self._announce(schedule, zones, self._manual(number, request, peer), "emergency",
                       "alert", message)
        return Answer(f"Emergency #{number} on {_zone_names(zones)}: the alert tone, then the "
                      "message.", {"id": number, "zones": [zone.id for zone in zones]})

    def _announce(self, schedule: Schedule, zones: list[Zone], manual: ManualRequest,
                  priority: str, chime: str | None, message: _Order) -> float:
        """Air ``chime`` at once (an emergency first cuts what is on), render the message
        meanwhile, and air it right after; the zones are held so that nothing else starts in
        between. Return the message's length."""
        emergency = priority == "emergency"
        channels = {zone.id: self.zones.channels[zone.id] for zone in zones}
        allow = ((lambda cue: cue.priority == "emergency") if emergency else _mine(manual.id))
        holds = {zone_id: channel.hold(allow) for zone_id, channel in channels.items()}
        try:
            if emergency:
                for channel in channels.values():
                    channel.interrupt(message.program.name)
            opening = self._program(message.program.id, message.program.name, priority)
            start = dt.datetime.now(schedule.ward.tz) + self._lead(zones)
            tone = Broadcast(f"{message.program.id}-{chime or 'chime'}", opening.name, start,
                             tuple(channels), priority,
                             (ChimeItem(chime=chime),), request=manual)

            def sound(settings: RenderSettings) -> RenderedAudio:
                return schedule_chime(schedule, chime, settings.target, self.store)

            tone_s = max(sound(settings).figures.duration_s for settings in
                         self.zones.groups(zones))
            sounding = threading.Thread(target=self.cues.air, args=(schedule, opening, tone,
                                                                    zones),
                                        kwargs={"sound": sound}, name="opening", daemon=True)
            sounding.start()
            words = Broadcast(message.program.id, message.program.name,
                              start + dt.timedelta(seconds=tone_s), tone.zone_ids, priority,
                              message.items, request=manual)
            try:
                length = self._prerender(schedule, words, zones)
            except BroadcastError as exc:
                log.error("request #%d: the opening airs, but the words cannot: %s",
                          manual.id, exc)
                raise BroadcastError(f"the opening airs, but the words cannot: {exc}") from None
            finally:
                sounding.join()
            self.cues.air(schedule, message.program, words, zones, releases=holds)
        finally:
            for zone_id, hold in holds.items():
                if not self._carried(zone_id, hold):
                    channels[zone_id].release(hold)
        return length

    def _carried(self, zone_id: str, hold: Hold) -> bool:
        """Whether a cue waiting in the zone will end ``hold`` when it leaves the queue."""
        return any(cue.releases is hold for cue in self.zones.channels[zone_id].waiting())

    def _stop(self, request: Stop, peer: Peer) -> Answer:
        zones = self._zones(self.state.schedule, request)
        verb = "stopped" if request.command == "stop" else "skipped"
        why = f"{verb} by {peer.user}"
        cut: list[str] = []
        dropped = 0
        for zone in zones:
            channel = self.zones.channels[zone.id]
            was = channel.cut_current(why)
            if was is not None:
                cut.append(f"{was.broadcast.program_name} in {zone.id}")
            if request.command == "stop":
                dropped += len(channel.drop_waiting(why))
        words = f"{verb.capitalize()}: {', '.join(cut)}." if cut else "Nothing was airing."
        if dropped:
            words += f" {dropped} waiting broadcast(s) dropped."
        later = [p.id for p in self._still_pending()]
        if later:
            words += (" Requests for later still stand: "
                      f"{', '.join(f'#{n}' for n in later)} (broadcast cancel ID).")
        return Answer(words, {"cut": cut, "dropped": dropped})

    def _queue(self) -> Answer:
        zones: dict[str, Any] = {}
        for zone_id, channel in self.zones.channels.items():
            current = channel.current
            zones[zone_id] = {
                "airing": None if current is None else _cue_record(current),
                "since": None if channel.current_since is None
                else channel.current_since.isoformat(timespec="seconds"),
                "waiting": [_cue_record(cue) for cue in channel.waiting()],
            }
        pending = [p.describe() for p in self._still_pending()]
        return Answer(f"{len(pending)} request(s) for later.",
                      {"zones": zones, "requests": pending})

    def _cancel(self, request: Cancel, peer: Peer) -> Answer:
        why = f"cancelled by {peer.user}"
        with self._lock:
            pending = self._pending.pop(request.id, None)
        self._keep()
        if pending is not None:
            for job in pending.jobs:
                with contextlib.suppress(JobLookupError):
                    self.scheduler.remove_job(job)
            with self.state.lock:
                self.state.withdrawn.update(pending.keys)
        mine = _mine(request.id)
        dropped = cut = 0
        for channel in self.zones.channels.values():
            dropped += len(channel.drop_waiting(why, mine))
            cut += channel.cut_current(why, mine) is not None
        if pending is None and not dropped and not cut:
            raise BroadcastError(f"there is no request #{request.id} waiting or airing. See "
                                 "'broadcast queue'.")
        log.warning("request #%d %s", request.id, why)
        return Answer(f"Request #{request.id} cancelled.", {"id": request.id, "cut": cut,
                                                            "dropped": dropped})

    # -- working out what to air ----------------------------------------------------------

    def _zones(self, schedule: Schedule, targets: Targets) -> list[Zone]:
        if targets.all or not (targets.zones or targets.groups):
            return list(schedule.zones)
        ids = [zone.id for zone in schedule.zones]
        groups = sorted({group for zone in schedule.zones for group in zone.groups})
        for name in targets.zones:
            if name not in ids:
                raise BroadcastError(f"there is no zone '{name}'. Zones: {', '.join(ids)}.")
        for name in targets.groups:
            if name not in groups:
                raise BroadcastError(f"there is no group '{name}'. Groups: "
                                     f"{', '.join(groups) or 'none'}.")
        return [zone for zone in schedule.zones
                if zone.id in targets.zones or set(targets.groups) & set(zone.groups)]

    def _order_for(self, schedule: Schedule, target: str, priority: str, repeat: int,
                   every: float | None, *, chime: bool = True) -> _Order:
        """A program of the schedule, or a script or audio file of the ward, checked."""
        program = next((p for p in schedule.programs if p.id == target), None)
        timing = Timing(repeat=repeat, every=every)
        if program is not None:
            today = dt.datetime.now(schedule.ward.tz).date()
            found = latest_occurrence(program, schedule, today)
            if found is not None:
                items = found.items
            elif not any(isinstance(item, RotationItem) for item in program.items):
                items = tuple(item for item in program.items
                              if not isinstance(item, RotationItem))
            else:
                raise BroadcastError(f"program {program.id} has not aired in the last year, so "
                                     "its rotation has picked nothing yet.")
            manual = program.model_copy(update={"priority": priority})
            return _Order(manual, self._repeated(items, timing), f"program {program.id}")
        path = self._ward_file(schedule, target)
        name = path.relative_to(schedule.base_dir.resolve()).as_posix()
        if path.suffix.lower() in SCRIPT_SUFFIXES:
            bulletin, _ = read_bulletin(path)
            bulletin = approval_rule(schedule).approve(bulletin)
            opening = (ChimeItem(),) if chime else ()
            return _Order(self._program("manual", bulletin.title, priority),
                          self._repeated((*opening, ScriptItem(script=path)), timing),
                          f"script {name}")
        approval_rule(schedule).approve_recording(path)
        return _Order(self._program("manual", path.name, priority),
                      self._repeated((AudioItem(audio=path),), timing), f"audio {name}")

    def _ward_file(self, schedule: Schedule, target: str) -> Path:
        """``target`` as a file inside the ward folder (links followed), or why it cannot be."""
        ward = schedule.base_dir.resolve()
        path = Path(target)
        real = (path if path.is_absolute() else ward / path).resolve()
        if not real.is_relative_to(ward):
            raise BroadcastError(f"{target} is outside the ward folder ({ward}). Copy it into "
                                 "the ward folder first.")
        if real.suffix.lower() not in (*SCRIPT_SUFFIXES, *AUDIO_SUFFIXES):
            programs = ", ".join(p.id for p in schedule.programs) or "none"
            raise BroadcastError(f"'{target}' is not a program of the schedule (programs: "
                                 f"{programs}), a script (.md, .txt) or an audio file.")
        if not real.is_file():
            raise BroadcastError(f"there is no file {real}. Check the name.")
        return real

    def _typed_notice(self, schedule: Schedule, text: str, peer: Peer, number: int,
                      approval: dict[str, Any] | None, *, emergency: bool = False,
                      ) -> tuple[Path, Schedule]:
        """Words typed on the spot, as a script; and the schedule to air it with.

        Signed by an approver at the CLI, the notice airs as any signed script. Unsigned, it is
        approved by whoever typed it, which only users the schedule lets ``say`` (and the
        daemon's own user and root) may do, and only where the ward accepts that: a ward that
        asks for signed words refuses it, except an emergency when ``control:
        unsigned_emergency`` allows (logged as unsigned). A typed emergency, signed or not, is
        only for users the schedule lets ``say``: it cuts in everywhere, quiet hours too.
        """
        if not to_spoken(text, self.zones.settings.lexicon).strip(" \n.,;:!?-"):
            raise BroadcastError("the text has nothing to read aloud. Type the notice's words.")
        path = self.state.options.state_dir / "notices" / f"notice-{number:06d}.md"
        header = {"category": "thông báo", "author": peer.user}
        signed_ward = approval_rule(schedule).signed
        if emergency and not may_say(peer, schedule.control):
            raise BroadcastError(f"user {peer.user} may not air typed emergency messages. Ask "
                                 "the administrator to add you to 'control: say' in "
                                 "schedule.yaml, or play an approved script.")
        if approval is not None:
            write_text_atomic(path, notice_script(text, **header))
            write_approval(path, approval)
            try:
                bulletin = ApprovalRule.of("signed", schedule.base_dir).approve(
                    read_bulletin(path)[0])
            except BroadcastError as exc:
                path.unlink()
                approval_path(path).unlink()
                if signed_ward:
                    raise BroadcastError(f"the notice's signature does not hold: {exc.message}"
                                         ) from None
            else:
                if not signed_ward:
                    assert bulletin.approved_by is not None
                    write_text_atomic(path, notice_script(text, **header,
                                                          approved_by=bulletin.approved_by))
                return path, schedule
        if not may_say(peer, schedule.control):
            raise BroadcastError(f"user {peer.user} may not air typed notices. Ask the "
                                 "administrator to add you to 'control: say' in schedule.yaml, "
                                 "or play an approved script.")
        unsigned = signed_ward
        if unsigned and not (emergency and schedule.control.unsigned_emergency):
            raise BroadcastError("this ward airs only signed words. Sign the notice with your "
                                 "approver key (add --key FILE), or play an approved script.")
        if unsigned:
            log.warning("request #%d: an UNSIGNED emergency message from %s airs "
                        "(control: unsigned_emergency allows it)", number, peer.user)
            schedule = schedule.model_copy(update={"approval": "header"})
        approved_by = f"{peer.user} ({'UNSIGNED emergency' if unsigned else 'typed notice'})"
        today = dt.datetime.now(self.state.tz).date()
        write_text_atomic(path, notice_script(text, **header, approved_by=approved_by,
                                              approved_on=today))
        return path, schedule

    @staticmethod
    def _program(program_id: str, name: str, priority: str) -> Program:
        """A program for a request that is not one of the schedule's."""
        return Program(id=program_id, name=name, start=dt.time(), priority=priority,
                       items=[SilenceItem(silence=1)])

    @staticmethod
    def _repeated(items: tuple[AiredItem, ...], timing: Timing) -> tuple[AiredItem, ...]:
        """``items`` read ``repeat`` times back to back (when no ``every`` spaces them)."""
        if timing.every is not None or timing.repeat == 1:
            return items
        pause: tuple[AiredItem, ...] = (SilenceItem(silence=REPEAT_PAUSE_S),)
        return items + (pause + items) * (timing.repeat - 1)

    def _lead(self, zones: list[Zone]) -> dt.timedelta:
        """How long the zones' amplifiers need before the sound (their before-hooks)."""
        return dt.timedelta(seconds=max(
            (zone.hooks.before_lead for zone in zones if zone.hooks.before), default=0.0))

    def _starts(self, schedule: Schedule, timing: Timing, priority: str,
                lead: dt.timedelta) -> list[dt.datetime]:
        now = dt.datetime.now(schedule.ward.tz)
        if timing.at is None:
            first = now + lead
        else:
            try:
                clock = _CLOCK.validate_python(timing.at)
            except ValidationError as exc:
                problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
                raise BroadcastError(f"--at: {problem}.") from None
            first = dt.datetime.combine(now.date(), clock, tzinfo=schedule.ward.tz)
            if first < now + lead:
                raise BroadcastError(f"{clock:%H:%M:%S} has already passed today. Give a later "
                                     "time, or leave out --at to air it now.")
        count = timing.repeat if timing.every is not None else 1
        step = dt.timedelta(seconds=timing.every or 0)
        starts = [first + step * n for n in range(count)]
        quiet = schedule.ward.quiet_hours
        if priority != "emergency":
            for start in starts:
                if quiet.contains(start.time()):
                    raise BroadcastError(
                        f"{start:%H:%M} is inside the quiet hours ({quiet.start:%H:%M}-"
                        f"{quiet.end:%H:%M}): only emergencies may air then.")
        return starts

    def _manual(self, number: int, request: Request, peer: Peer) -> ManualRequest:
        arguments = request.model_dump(exclude={"command", "approval"}, exclude_defaults=True)
        return ManualRequest(number, request.command, peer.user,
                             json.dumps(arguments, ensure_ascii=False, sort_keys=True))

    def _prerender(self, schedule: Schedule, broadcast: Broadcast, zones: list[Zone]) -> float:
        """Render the broadcast for each group of zones now (its problems come back as errors);
        return its length in seconds."""
        length = 0.0
        for settings in self.zones.groups(zones):
            audio = prepare_program(schedule, broadcast, settings, self.store)
            length = max(length, audio.figures.duration_s)
        return length

    # -- booking ----------------------------------------------------------------------------

    def _book(self, schedule: Schedule, request: Play | Say | Relay, peer: Peer,
              zones: list[Zone], order: _Order, booked: Booking | None,
              number: int | None = None) -> Answer:
        """Check the times, render, and air now or book a job for each later time (kept in the
        state folder until they have aired)."""
        priority = request.priority
        hooks = self._lead(zones)
        prepare = dt.timedelta(seconds=prepare_lead_s(order.items))
        # Now means as soon as the amplifiers are on, and any relay is connected and buffered.
        relays = prepare if prepare > dt.timedelta(seconds=PREPARE_LEAD_S) else dt.timedelta(0)
        lead = max(hooks, relays)
        if booked is None:
            self._starts(schedule, request, priority, lead)  # a bad time, before rendering
        number = booked.id if booked is not None else (number or self._number("request"))
        manual = self._manual(number, request, peer)
        zone_ids = tuple(zone.id for zone in zones)
        draft = Broadcast(order.program.id, order.program.name,
                          dt.datetime.now(schedule.ward.tz), zone_ids, priority, order.items,
                          request=manual)
        length = self._prerender(schedule, draft, zones)
        starts = (list(booked.starts) if booked is not None
                  else self._starts(schedule, request, priority, lead))
        broadcasts = [dataclasses.replace(draft, start=start) for start in starts]
        pending = Pending(number, request.command, order.what, peer.user, zone_ids,
                          [b.start for b in broadcasts], [b.key for b in broadcasts],
                          booking=Booking(number, peer, encode_request(request).decode(),
                                          tuple(starts)))
        later = [b for b in broadcasts
                 if b.start - hooks - prepare > dt.datetime.now(schedule.ward.tz)]
        for broadcast in broadcasts:
            if broadcast in later:
                job = f"manual:{broadcast.key}"
                self.scheduler.add_job(
                    self._air_later, DateTrigger(run_date=broadcast.start - hooks - prepare),
                    args=[order.program, broadcast], id=job, misfire_grace_time=60)
                pending.jobs.append(job)
            else:
                threading.Thread(target=self.cues.air,
                                 args=(schedule, order.program, broadcast, zones),
                                 name=f"manual #{number}", daemon=True).start()
        if later:
            with self._lock:
                self._pending[number] = pending
            self._keep()
        log.info("request #%d from %s: %s on %s, %s", number, peer.user, order.what,
                 _zone_names(zones), ", ".join(f"{b.start:%H:%M:%S}" for b in broadcasts))
        when = "now" if not later else ", ".join(f"{b.start:%H:%M:%S}" for b in broadcasts)
        return Answer(
            f"#{number}: {order.what} ({length:.0f} s) on {_zone_names(zones)}, {when}.",
            {"id": number, "zones": list(zone_ids), "length_s": round(length, 1),
             "starts": [b.start.isoformat(timespec="seconds") for b in broadcasts]})

    def _air_later(self, program: Program, broadcast: Broadcast) -> None:
        """A booked broadcast's job: air it on the zones the schedule has now."""
        schedule = self.state.schedule
        zones = [zone for zone in schedule.zones if zone.id in broadcast.zone_ids]
        if not zones:
            log.error("request %s: its zones are no longer in the schedule: not aired",
                      broadcast.key)
            return
        self.cues.air(schedule, program, broadcast, zones)

    def _still_pending(self) -> list[Pending]:
        """Requests with a broadcast still to start (the others are forgotten)."""
        now = dt.datetime.now(self.state.tz)
        with self._lock:
            old = [n for n, p in self._pending.items() if p.starts[-1] < now - FORGET_AFTER]
            for number in old:
                pending = self._pending.pop(number)
                with self.state.lock:
                    self.state.withdrawn.difference_update(pending.keys)
            found = [p for p in self._pending.values() if p.starts[-1] > now]
        if old:
            self._keep()
        return found

    @property
    def _kept(self) -> Path:
        return self.state.options.state_dir / "requests.json"

    def _keep(self) -> None:
        """Write the requests for later to the state folder (atomically)."""
        with self._lock:
            kept = [p.booking.to_json() for p in self._pending.values()]
        write_text_atomic(self._kept, json.dumps(kept, ensure_ascii=False, indent=1))

    def restore(self) -> None:
        """After a restart: book again the requests for later that the last run kept. A
        broadcast whose time passed while the daemon was down airs now if it is less than
        :data:`RESTORE_GRACE` late, else it is logged as missed."""
        try:
            data = read_at_most(self._kept, MAX_KEPT_BYTES)
            if data is None:
                raise ValueError("the file is too large")
            kept = [Booking.from_json(item) for item in json.loads(data)]
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("the requests for later kept in %s cannot be read (%s): they are lost",
                      self._kept, exc)
            return
        now = dt.datetime.now(self.state.tz)
        for booking in kept:
            had = [row.scheduled for row in self.asrun.of_request(booking.id)]
            left = [start for start in booking.starts
                    if not any(abs((start - when).total_seconds()) < 0.01 for when in had)]
            owed = tuple(start for start in left if start > now - RESTORE_GRACE)
            missed = [start for start in left if start <= now - RESTORE_GRACE]
            try:
                request = decode_request(booking.request.encode())
                if missed:
                    self._missed(request, booking, missed)
                if owed:
                    self.handle(request, booking.peer, dataclasses.replace(booking,
                                                                            starts=owed))
            except BroadcastError as exc:
                log.error("request #%d, booked before the restart, cannot air: %s",
                          booking.id, exc)
        self._keep()

    def _missed(self, request: Request, booking: Booking, missed: list[dt.datetime]) -> None:
        schedule = self.state.schedule
        assert isinstance(request, Play | Say | Relay)
        manual = self._manual(booking.id, request, booking.peer)
        for start in missed:
            broadcast = Broadcast(request.command, f"request #{booking.id}", start,
                                  tuple(zone.id for zone in self._zones(schedule, request)),
                                  request.priority, (), request=manual)
            for zone_id in broadcast.zone_ids:
                self.asrun.add(as_run_row(
                    broadcast, zone_id, "missed",
                    reason=f"the daemon was not running at {start:%H:%M:%S}"))
            log.error("missed: request #%d at %s (the daemon was not running)", booking.id,
                      f"{start:%H:%M:%S}")

    def warm(self) -> None:
        """Make the opening chime and the alert tone ready for every zone now, so that a
        notice or an emergency sounds at once."""
        schedule = self.state.schedule
        for chime in (None, "alert"):
            for settings in self.zones.groups(list(schedule.zones)):
                try:
                    schedule_chime(schedule, chime, settings.target, self.store)
                except BroadcastError as exc:
                    log.error("the %s cannot be made ready: %s",
                              "alert tone" if chime else "opening chime", exc)

    def pending(self) -> list[dict[str, Any]]:
        """The requests for later, for the status file."""
        return [p.describe() for p in self._still_pending()]


def _cue_record(cue: Cue) -> dict[str, Any]:
    manual = cue.broadcast.request
    return {"broadcast": cue.broadcast.key, "program": cue.broadcast.program_name,
            "priority": cue.priority, "start": cue.broadcast.start.isoformat(timespec="seconds"),
            "length_s": round(cue.audio.figures.duration_s - cue.offset_s),
            "request": None if manual is None else manual.id,
            "requested_by": None if manual is None else manual.requested_by}
