"""On air: one broadcast at a time per zone, in priority order, each logged in the as-run log.

Every zone has a :class:`ZoneChannel` with its own thread. Cues (a broadcast's finished audio,
ready for one zone) are handed to the channel at their start time. An idle channel airs a cue at
once; a busy one queues it. Priorities follow the national three levels: an emergency cuts what
is on (which is then restarted, resumed or dropped, as its program says), a priority broadcast
goes before waiting normal ones, and normal broadcasts wait their turn.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from broadcast.asrun import CUT_BY_EMERGENCY, AsRunLog, Row
from broadcast.audio import LoudnessTarget
from broadcast.bulletin import ApprovalRecord, script_tags
from broadcast.outputs.base import Output, OutputError
from broadcast.outputs.hooks import HookResult, run_hook
from broadcast.outputs.player import Airing, AiringResult, LiveSpan
from broadcast.planner import Broadcast
from broadcast.render import (
    BulletinSidecar,
    ProgramSidecar,
    RecordingSidecar,
    RelaySidecar,
    RenderedAudio,
    Sidecar,
)
from broadcast.schedule import ScriptItem

log = logging.getLogger("broadcast.onair")

RANK = {"emergency": 0, "priority": 1, "normal": 2}
LATE_S = 1.0
"""A start later than this is logged as late."""
RESUME_BACK_S = 2.0
"""A resumed broadcast starts this much before where it was cut, so listeners find the thread."""
PROGRESS_S = 1.0
"""How often an airing notes in the as-run log how far it has come."""


@dataclass(eq=False)
class Hold:
    """A zone kept for cues on their way (see :meth:`ZoneChannel.hold`)."""

    allow: Callable[[Cue], bool]


@dataclass
class Cue:
    """One broadcast, ready to air in one zone."""

    broadcast: Broadcast
    zone: str
    audio: RenderedAudio
    outputs: list[Output]
    gain_db: float = 0.0
    target: LoudnessTarget = field(default_factory=LoudnessTarget)
    """The zone's loudness target: its true-peak ceiling, which the zone's gain must not push
    the sound past, and the level relays are brought to as they play."""
    on_interrupt: str = "restart"
    after_hook: str | None = None
    after_delay_s: float = 10.0
    hook_timeout_s: float = 10.0
    attempt: int = 1
    offset_s: float = 0.0
    outcome: str | None = None
    """Set when something other than the program airs (its fallback): refused or failed."""
    reason: str | None = None
    problems: list[str] = field(default_factory=list)
    airing: Airing | None = None
    interrupted_by: str | None = None
    stopped_by: str | None = None
    """Why an operator cut it (``stopped by ...``): it is not aired again."""
    topics: tuple[str, ...] = ()
    """The tags of the scripts it airs (see :func:`broadcast_topics`)."""
    releases: Hold | None = None
    """The zone's hold this cue ends when it leaves the queue (see :meth:`ZoneChannel.hold`)."""
    order: int = 0

    @property
    def priority(self) -> str:
        return self.broadcast.priority

    @property
    def label(self) -> str:
        start = self.broadcast.start
        manual = self.broadcast.request
        number = "" if manual is None else f"-{manual.id}"
        return f"{start:%Y%m%d-%H%M%S}-{self.broadcast.program_id}{number}-{self.zone}"

    def sort_key(self) -> tuple[int, dt.datetime, int]:
        return (RANK[self.priority], self.broadcast.start, self.order)

    def __lt__(self, other: Cue) -> bool:
        return self.sort_key() < other.sort_key()

    def describe(self) -> str:
        again = f" (attempt {self.attempt})" if self.attempt > 1 else ""
        return f"{self.broadcast.key} in {self.zone}{again}"

    def follow_up(self, *, offset_s: float, reason: str, attempt: int | None = None) -> Cue:
        """The next attempt at this broadcast after a cut, from ``offset_s`` into its audio."""
        return replace(self, attempt=attempt or self.attempt + 1, offset_s=offset_s,
                       reason=reason, problems=[], airing=None, interrupted_by=None,
                       stopped_by=None, releases=None, order=0)

    def prepare(self) -> Airing:
        """Start the decoders and open the outputs, so the sound can begin on the second."""
        if self.airing is None:
            self.airing = Airing(self.audio.path, self.outputs, label=self.label,
                                 gain_db=self.gain_db, offset_s=self.offset_s,
                                 target=self.target, live=live_spans(self.audio))
        return self.airing


def live_spans(audio: RenderedAudio) -> list[LiveSpan]:
    """The live relays of a program file, where the player airs the stream."""
    metadata = audio.metadata
    if not isinstance(metadata, ProgramSidecar):
        return []
    spans = []
    for placed in metadata.relays():
        relay = placed.item
        assert isinstance(relay, RelaySidecar)
        spans.append(LiveSpan(placed.start_s, placed.duration_s, relay.url, relay.source,
                              Path(relay.fallback) if relay.fallback else None,
                              relay.silence_s))
    return spans


def items_record(audio: RenderedAudio) -> list[dict[str, Any]]:
    """What the as-run log says of each item: script, content hash, approval, engine."""
    metadata = audio.metadata
    if not isinstance(metadata, ProgramSidecar):
        # an item aired alone (a fallback)
        return [_item_record(metadata.kind, metadata, audio.approvals)]
    return [{**_item_record(placed.kind, placed.item, audio.approvals),
             "start_s": placed.start_s, "duration_s": placed.duration_s}
            for placed in metadata.items]


def _item_record(kind: str, item: Sidecar | RelaySidecar | None,
                 approvals: Mapping[str, ApprovalRecord]) -> dict[str, Any]:
    """An item's row: a script's approval as verified for this airing, or as it was when the
    script was rendered (a row of an older file)."""
    if isinstance(item, RelaySidecar):
        return {"kind": kind, "source": item.source}
    if isinstance(item, RecordingSidecar) and item.file in approvals:
        return {"kind": kind, "audio": item.file, **approvals[item.file].to_json()}
    if not isinstance(item, BulletinSidecar):
        return {"kind": kind}
    approval = approvals.get(item.content_hash) or ApprovalRecord(
        item.approved_by, dt.date.fromisoformat(item.approved_on) if item.approved_on else None)
    return {"kind": kind, "script": item.script, "content_hash": item.content_hash,
            **approval.to_json(), "engine": item.engine}


def engines_of(items: list[dict[str, Any]]) -> str | None:
    engines = sorted({str(item["engine"]) for item in items if item.get("engine")})
    return ", ".join(engines) or None


ArchiveFn = Callable[[Cue, Row], None]


class ZoneChannel:
    """Airs one zone's cues, one at a time, in priority order."""

    def __init__(self, zone: str, asrun: AsRunLog, archive: ArchiveFn | None = None) -> None:
        self.zone = zone
        self.asrun = asrun
        self.archive = archive
        self._queue: list[Cue] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._holds: list[Hold] = []
        self.current: Cue | None = None
        self.current_since: dt.datetime | None = None
        self._after: threading.Timer | None = None
        self._thread = threading.Thread(target=self._run, name=f"zone {zone}", daemon=True)
        self._thread.start()

    def submit(self, cue: Cue) -> None:
        """Air ``cue`` now if the zone is free, else when its turn comes (see module doc)."""
        with self._cond:
            cue.order = next(self._order)
            current = self.current
            cut = cue.priority == "emergency" and self._interrupt(cue.broadcast.program_name)
            follows = current is not None and current.broadcast.request is not None and \
                current.broadcast.request == cue.broadcast.request  # the words after their chime
            if not cut and not follows and current is not None and cue.reason is None:
                cue.reason = f"waited for '{current.broadcast.program_name}'"
            heapq.heappush(self._queue, cue)
            self._cond.notify()

    def interrupt(self, by: str) -> None:
        """Cut what is on for the emergency ``by`` (unless it is an emergency itself); it then
        follows its program's ``on_interrupt``."""
        with self._cond:
            self._interrupt(by)

    def _interrupt(self, by: str) -> bool:
        current = self.current
        if current is None or current.priority == "emergency" or \
                current.interrupted_by is not None:
            return current is not None and current.interrupted_by is not None
        current.interrupted_by = by
        log.warning("%s: cut by emergency %s", current.describe(), by)
        if current.airing is not None:
            current.airing.cut()
        return True

    def waiting(self) -> list[Cue]:
        with self._cond:
            return sorted(self._queue)

    def hold(self, allow: Callable[[Cue], bool]) -> Hold:
        """Keep the zone for what is on its way: until the hold is released, only cues that
        ``allow`` lets through start (an emergency's alert tone airs while its message is
        rendered, and nothing slips in between). A cue that carries the hold releases it when
        it leaves the queue."""
        hold = Hold(allow)
        with self._cond:
            self._holds.append(hold)
        return hold

    def release(self, hold: Hold) -> None:
        with self._cond:
            if hold in self._holds:
                self._holds.remove(hold)
            self._cond.notify()

    def cut_current(self, why: str, which: Callable[[Cue], bool] = lambda cue: True) -> Cue | None:
        """Cut what is on now, if ``which`` says so, for an operator (``why``: "stopped by
        ..."); it is not aired again. Return the cue cut."""
        with self._cond:
            current = self.current
            if current is None or not which(current) or current.stopped_by is not None:
                return None
            current.stopped_by = why
        log.warning("%s: %s", current.describe(), why)
        if current.airing is not None:
            current.airing.cut()
        return current

    def drop_waiting(self, why: str, which: Callable[[Cue], bool] = lambda cue: True,
                     ) -> list[Cue]:
        """Take the waiting cues ``which`` picks out of the queue, each logged as skipped."""
        with self._cond:
            dropped = [cue for cue in self._queue if which(cue)]
            self._queue = [cue for cue in self._queue if not which(cue)]
            heapq.heapify(self._queue)
            for cue in dropped:
                if cue.releases in self._holds:
                    self._holds.remove(cue.releases)
            self._cond.notify()
        for cue in dropped:
            if cue.airing is not None:
                with contextlib.suppress(OutputError, OSError):
                    cue.airing.abandon()
            self._log_only(cue, "skipped", why)
            log.warning("%s: %s", cue.describe(), why)
        return dropped

    def _next_ready(self) -> bool:
        """Whether the next cue may start now (see :meth:`hold`)."""
        return bool(self._queue) and all(hold.allow(self._queue[0]) for hold in self._holds)

    def stop(self) -> None:
        """Cut what is on, drop what waits (both logged), and end the thread."""
        with self._cond:
            self._stopping = True
            current = self.current
            waiting, self._queue = self._queue, []
            self._cond.notify()
        if current is not None and current.airing is not None:
            log.warning("cut off: %s (stopping)", current.describe())
            current.airing.cut()
        for cue in waiting:
            if cue.airing is not None:
                cue.airing.abandon()
            self._log_only(cue, "skipped", "the daemon stopped before its turn came")
        self._thread.join(timeout=10)
        after = self._after
        if after is not None and after.is_alive():
            after.cancel()
            after.function(*after.args)  # the amplifier goes off now, not never

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._next_ready() and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                cue = heapq.heappop(self._queue)
                if cue.releases in self._holds:
                    self._holds.remove(cue.releases)
                self.current = cue
            try:
                self._air(cue)
            except Exception:
                log.exception("%s: unexpected error while airing", cue.describe())
            finally:
                with self._cond:
                    self.current = None
                    self.current_since = None

    def _air(self, cue: Cue) -> None:
        if self._after is not None:
            self._after.cancel()
            self._after = None
        try:
            airing = cue.prepare()
        except OutputError as exc:
            self._log_only(cue, "failed", str(exc))
            log.error("%s not aired: %s", cue.describe(), exc)
            return
        if self._stopping:
            airing.abandon()
            self._log_only(cue, "skipped", "the daemon stopped as it was about to begin")
            return
        airing.start()
        if cue.interrupted_by is not None or cue.stopped_by is not None:
            airing.cut()  # an emergency or an operator came while this was being made ready
        started = dt.datetime.fromtimestamp(airing.started_at, cue.broadcast.start.tzinfo)
        self.current_since = started
        late_s = (started - cue.broadcast.start).total_seconds()
        row = self._row(cue, "airing", started=started, late_s=round(late_s, 3),
                        played_s=cue.offset_s)
        row_id = self.asrun.add(row)
        if late_s > LATE_S and cue.attempt == 1:
            log.warning("airing %s, late by %.0f s", cue.describe(), late_s)
        else:
            log.info("airing %s on %s, %.0f s", cue.describe(),
                     ", ".join(o.describe() for o in cue.outputs),
                     cue.audio.figures.duration_s - cue.offset_s)
        while not airing.finished(PROGRESS_S):
            self.asrun.progress(row_id, airing.played_s)
        result = airing.wait()
        outcome, reason = self._outcome(cue, result, late_s)
        problems = [*cue.problems, *result.problems()]
        ended = dt.datetime.fromtimestamp(result.ended, started.tzinfo)
        self.asrun.end(row_id, ended=ended, outcome=outcome, reason=reason,
                       outputs=[{"output": r.output, "ok": r.ok, "error": r.error}
                                for r in result.outputs],
                       problems=problems, played_s=airing.played_s)
        message = f"{outcome}: {cue.describe()}" + (f" ({reason})" if reason else "")
        (log.info if outcome in ("aired", "late") else log.error)(message)
        for problem in result.problems():
            log.error("%s: %s", cue.describe(), problem)
        if self.archive is not None and result.carried_by:
            self.archive(cue, self._row(cue, outcome, started=started, ended=ended,
                                        late_s=round(late_s, 3), reason=reason,
                                        outputs=result.carried_by))
        if cue.interrupted_by is not None and cue.stopped_by is None and not self._stopping:
            self._after_interruption(cue, airing)
        if cue.after_hook:
            self._after = threading.Timer(cue.after_delay_s, self._run_after_hook,
                                          args=(cue, row_id))
            self._after.daemon = True
            self._after.start()

    def _outcome(self, cue: Cue, result: AiringResult, late_s: float) -> tuple[str, str | None]:
        if cue.stopped_by is not None:
            return "interrupted", cue.stopped_by
        if cue.interrupted_by is not None:
            return "interrupted", f"{CUT_BY_EMERGENCY} '{cue.interrupted_by}'"
        if result.cut:
            return "interrupted", "cut off: the daemon was stopped"
        if not result.completed:
            return "failed", "no output carried it: " + "; ".join(result.problems())
        if cue.outcome is not None:
            return cue.outcome, cue.reason
        if late_s > LATE_S and cue.attempt == 1:
            return "late", f"late by {late_s:.0f} s" + (f"; {cue.reason}" if cue.reason else "")
        return "aired", cue.reason

    def _after_interruption(self, cue: Cue, airing: Airing) -> None:
        if cue.on_interrupt == "drop":
            log.warning("%s dropped after the emergency", cue.describe())
            return
        offset = 0.0
        if cue.on_interrupt == "resume":
            offset = max(0.0, airing.played_s - RESUME_BACK_S)
        again = cue.follow_up(offset_s=offset,
                              reason=f"{cue.on_interrupt} after emergency '{cue.interrupted_by}'")
        log.info("%s will %s after the emergency", cue.describe(), cue.on_interrupt)
        self.submit(again)

    def _run_after_hook(self, cue: Cue, row_id: int) -> None:
        assert cue.after_hook is not None
        result = run_hook(cue.after_hook, timeout_s=cue.hook_timeout_s,
                          env=hook_env(cue, "after"))
        report_hook(result, "after", cue, self.asrun, row_id)

    def _row(self, cue: Cue, outcome: str, **values: Any) -> Row:
        items = items_record(cue.audio)
        outputs = values.pop("outputs", None)
        return as_run_row(
            cue.broadcast, cue.zone, outcome, topics=cue.topics, attempt=cue.attempt,
            reason=values.pop("reason", cue.reason), audio=str(cue.audio.path),
            duration_s=cue.audio.figures.duration_s,
            loudness_lufs=cue.audio.figures.integrated_lufs,
            true_peak_dbtp=cue.audio.figures.true_peak_dbtp, engine=engines_of(items),
            items=items, problems=list(cue.problems), offset_s=cue.offset_s,
            outputs=[{"output": name, "ok": True} for name in outputs or []], **values,
        )

    def _log_only(self, cue: Cue, outcome: str, reason: str) -> None:
        self.asrun.add(self._row(cue, outcome, reason=reason))


def broadcast_topics(broadcast: Broadcast, base_dir: Path) -> tuple[str, ...]:
    """The tags of the scripts a broadcast airs (relative script paths are against
    ``base_dir``, the ward folder): its topics in the as-run log and in reports."""
    return tuple(sorted({tag for item in broadcast.items if isinstance(item, ScriptItem)
                         for tag in script_tags(base_dir / item.script)}))


def as_run_row(broadcast: Broadcast, zone: str, outcome: str, *,
               topics: tuple[str, ...] = (), **details: Any) -> Row:
    """The as-run row of ``broadcast`` in ``zone`` with its ``topics``; ``details`` are the
    row's other fields."""
    request = broadcast.request
    manual: dict[str, Any] = {} if request is None else {
        "origin": "manual", "requested_by": request.requested_by,
        "request": {"id": request.id, "command": request.command,
                    **json.loads(request.arguments)},
    }
    campaigns = sorted({origin.removeprefix("campaign:") for origin in broadcast.origins
                        if origin.startswith("campaign:")})
    return Row(
        occurrence=broadcast.key, zone=zone, program_id=broadcast.program_id,
        program_name=broadcast.program_name, priority=broadcast.priority,
        scheduled=broadcast.start, outcome=outcome, topics=list(topics), campaigns=campaigns,
        **manual, **details,
    )


def hook_env(cue: Cue, phase: str) -> dict[str, str]:
    return {
        "BROADCAST_ZONE": cue.zone,
        "BROADCAST_PROGRAM": cue.broadcast.program_id,
        "BROADCAST_PHASE": phase,
        "BROADCAST_START": cue.broadcast.start.isoformat(),
    }


def report_hook(result: HookResult, phase: str, cue: Cue, asrun: AsRunLog,
                row_id: int | None) -> None:
    """Log a hook's result; a failed hook is a problem on the broadcast's as-run row."""
    words = result.describe(phase)
    if result.ok:
        log.info("%s: %s", cue.describe(), words)
        return
    log.error("%s: %s", cue.describe(), words)
    if row_id is None:
        cue.problems.append(words)
    else:
        asrun.add_problem(row_id, words)


def wait_until(moment: dt.datetime, stop: threading.Event) -> bool:
    """Sleep until ``moment`` (to the millisecond); False if ``stop`` was set first."""
    while True:
        left = moment.timestamp() - time.time()
        if left <= 0:
            return True
        if stop.wait(min(left, 1.0)):
            return False
