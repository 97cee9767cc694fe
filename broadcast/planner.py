"""Planning: which broadcasts air when, as plain data computed from the schedule and the calendar.

The plan depends only on the schedule and the dates asked for, never on what ran before, so a
restarted daemon computes exactly the same broadcasts, rotation picks included.

Rotation picks come from counting: a rotation's broadcast number is how many times the programs
it airs in have aired since its stretch of calendar began, counted from the calendar (weekdays,
date ranges, skip and extra dates), never from a log. A stretch begins where the rotation
begins (the campaign's first day; for a program's own rotation a fixed day, ROTATION_EPOCH) and
again on every date its pool changes (a pool entry's ``from``, or the day after its ``to``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from broadcast.rotation import Picker, Pool, hash_int
from broadcast.schedule import (
    ROTATION_EPOCH,
    AiredItem,
    AiringDays,
    Campaign,
    ChimeItem,
    Item,
    PoolMember,
    Program,
    RotationItem,
    Schedule,
    next_day,
)


@dataclass(frozen=True, slots=True)
class ManualRequest:
    """Who asked the daemon for a broadcast by hand, and how (``arguments`` is the request as
    JSON, a typed notice's text among it)."""

    id: int
    command: str
    requested_by: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Broadcast:
    """One occurrence of a program: when it starts, which zones carry it, what it airs.

    ``items`` are concrete: every pick a rotation makes for this occurrence is already made,
    and campaign items are in place. ``origins`` says where each item came from: ``program``,
    ``rotation`` or ``campaign:<id>``. ``request`` is set on a broadcast someone asked for by
    hand (it is not in the plan).
    """

    program_id: str
    program_name: str
    start: dt.datetime
    zone_ids: tuple[str, ...]
    priority: str
    items: tuple[AiredItem, ...]
    origins: tuple[str, ...] = ()
    request: ManualRequest | None = None

    @property
    def key(self) -> str:
        """A stable name for this occurrence (program and scheduled start; and the request's
        number for a manual one)."""
        key = f"{self.program_id}@{self.start.isoformat()}"
        return key if self.request is None else f"{key}#{self.request.id}"


@dataclass
class _Stretch:
    start: dt.date
    stop: dt.date
    members: tuple[PoolMember, ...]
    picker: Picker | None


Order = tuple[dt.time, str]
"""How programs of the same day are ordered: by start time, then id."""

Chosen = dict[int, tuple[PoolMember, ...]]
"""What each rotation (by its place among the items) picks for one broadcast."""


@dataclass(frozen=True, slots=True)
class _Program:
    """What planning needs of one program, worked out once per plan.

    ``fixed`` holds its items and their origins when it has no rotation (they never change);
    ``leading`` and ``trailing`` count the chimes that open and close it (campaign items go
    inside them).
    """

    program: Program
    airing: AiringDays
    zone_ids: tuple[str, ...]
    campaigns: tuple[Campaign, ...]
    order: Order
    fixed: tuple[tuple[AiredItem, ...], tuple[str, ...]] | None
    leading: int
    trailing: int

    @classmethod
    def of(cls, program: Program, schedule: Schedule) -> _Program:
        items = program.items
        fixed = None
        if not any(isinstance(item, RotationItem) for item in items):
            aired = tuple(item for item in items if not isinstance(item, RotationItem))
            fixed = (aired, ("program",) * len(aired))
        leading = _leading_chimes(items)
        trailing = min(len(items) - leading, _leading_chimes(items[::-1]))
        return cls(program, program.airing, schedule.zone_ids(program),
                   schedule.campaigns_for(program.id), (program.start, program.id), fixed,
                   leading, trailing)


@dataclass
class _Stream:
    """One rotation's picks over the calendar, shared by every program it airs in."""

    name: str
    rotation: RotationItem
    members: tuple[PoolMember, ...]
    consumers: list[_Program]
    first: dt.date
    last: dt.date
    edges: list[dt.date] = field(init=False)
    stretches: list[_Stretch] = field(init=False, default_factory=list)
    _before: dict[tuple[dt.date, dt.date], int] = field(init=False, default_factory=dict)
    _same_day: dict[dt.date, list[Order]] = field(init=False, default_factory=dict)
    _chosen: dict[tuple[int, tuple[int, ...]], tuple[PoolMember, ...]] = field(
        init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.consumers = sorted(self.consumers, key=lambda c: c.order)
        bounds = {self.first}
        for member in self.members:
            for edge in (member.first, member.last and next_day(member.last)):
                if edge is not None and self.first < edge <= self.last:
                    bounds.add(edge)
        self.edges = [*sorted(bounds), next_day(self.last)]

    def picks(self, program: _Program, days: list[dt.date]) -> list[tuple[PoolMember, ...]]:
        """What the rotation airs in ``program`` on each of ``days`` (days the program airs,
        in order). With one program to serve, each airing is simply the next number.
        The same choice is always the same tuple, so callers can recognise repeats by identity."""
        found: list[tuple[PoolMember, ...]] = []
        alone = len(self.consumers) == 1
        chosen_by = self._chosen
        stretch: _Stretch | None = None
        index = number = 0
        for day in days:
            if stretch is None or not stretch.start <= day < stretch.stop:
                if not self.first <= day <= self.last:
                    stretch = None
                    found.append(())
                    continue
                index = bisect.bisect_right(self.edges, day) - 1
                while len(self.stretches) <= index:
                    self.stretches.append(self._stretch(len(self.stretches)))
                stretch = self.stretches[index]
                number = self._number(program, day, stretch.start)
            elif alone:
                number += 1
            else:
                number = self._number(program, day, stretch.start)
            if stretch.picker is None:
                found.append(())
                continue
            positions = stretch.picker.picks(number)
            chosen = chosen_by.get((index, positions))
            if chosen is None:
                chosen = chosen_by[(index, positions)] = tuple(
                    stretch.members[i] for i in positions)
            found.append(chosen)
        return found

    def _number(self, program: _Program, day: dt.date, since: dt.date) -> int:
        """How many broadcasts of this stream come before ``program`` on ``day``."""
        before = self._before.get((since, day))
        if before is None:
            before = 0
            for consumer in self.consumers:
                before += consumer.airing.count(since, day)
            self._before[(since, day)] = before
        same_day = self._same_day.get(day)
        if same_day is None:
            same_day = [c.order for c in self.consumers if c.airing.airs_on(day)]
            self._same_day[day] = same_day
        return before + bisect.bisect_left(same_day, program.order)

    def _stretch(self, index: int) -> _Stretch:
        start, stop = self.edges[index], self.edges[index + 1]
        members = tuple(m for m in self.members if m.in_pool_on(start))
        if not members:
            return _Stretch(start, stop, members, None)
        keys = tuple(m.key for m in members)
        weights = tuple(m.weight for m in members)
        picker = Picker(
            Pool(keys, weights),
            self.rotation.mode,
            min(self.rotation.pick, len(members)),
            seed=f"{self.name}|{start.isoformat()}|{hash_int(*keys, *weights)}",
            before=self._last_picks(),
        )
        return _Stretch(start, stop, members, picker)

    def _last_picks(self) -> tuple[str, ...]:
        """The picks of the latest broadcast in the stretches made so far."""
        for stretch in reversed(self.stretches):
            total = sum(c.airing.count(stretch.start, stretch.stop) for c in self.consumers)
            if total and stretch.picker is not None:
                return stretch.picker.keys(total - 1)
        return ()


class _Planner:
    """Works out broadcasts for one schedule; keeps rotation streams between days."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.tz = schedule.ward.tz
        self.programs: dict[str, _Program] = {}
        self.streams: dict[tuple[str, int], _Stream] = {}
        self._steady: dict[dt.date, bool] = {}
        self._patterns: dict[Path, list[Path]] = {}

    def compiled(self, program: Program) -> _Program:
        found = self.programs.get(program.id)
        if found is None or found.program is not program:
            found = self.programs[program.id] = _Program.of(program, self.schedule)
        return found

    def broadcasts(self, program: _Program, days: list[dt.date]) -> list[Broadcast]:
        """The program's broadcasts on ``days`` (days it airs, in order)."""
        fixed = program.fixed
        if fixed and not program.campaigns:
            make = self._broadcast
            return [make(program, day, *fixed) for day in days]
        entry = program.program
        own = self._picks(entry.items, entry, program, days)
        campaigns = []
        for campaign in program.campaigns:
            active = [d for d in days if campaign.active_on(d)]
            picks = self._picks(campaign.items, campaign, program, active)
            campaigns.append((campaign, {
                day: {index: chosen[number] for index, chosen in picks.items()}
                for number, day in enumerate(active)}))
        found = []
        made: dict[tuple[int, ...], tuple[tuple[AiredItem, ...], tuple[str, ...]]] = {}
        for number, day in enumerate(days):
            aired = fixed
            if aired is None:
                choice = tuple([id(chosen[number]) for chosen in own.values()])
                aired = made.get(choice)
                if aired is None:
                    now = {index: chosen[number] for index, chosen in own.items()}
                    aired = made[choice] = _aired(entry.items, now, "program")
            if campaigns:
                aired = self._with_campaigns(program, day, *aired, campaigns)
            found.append(self._broadcast(program, day, *aired))
        return found

    def _picks(
        self, items: list[Item], owner: Program | Campaign, program: _Program,
        days: list[dt.date],
    ) -> dict[int, list[tuple[PoolMember, ...]]]:
        """For each rotation among ``items`` (by its place), its picks on each of ``days``."""
        return {
            index: self._stream(owner, index, item).picks(program, days)
            for index, item in enumerate(items) if isinstance(item, RotationItem)
        }

    def _with_campaigns(
        self,
        program: _Program,
        day: dt.date,
        items: tuple[AiredItem, ...],
        origins: tuple[str, ...],
        campaigns: list[tuple[Campaign, dict[dt.date, Chosen]]],
    ) -> tuple[tuple[AiredItem, ...], tuple[str, ...]]:
        head: list[AiredItem] = []
        head_from: list[str] = []
        tail: list[AiredItem] = []
        tail_from: list[str] = []
        for campaign, by_day in campaigns:
            chosen = by_day.get(day)
            if chosen is None:
                continue
            added, added_from = _aired(campaign.items, chosen, f"campaign:{campaign.id}")
            (head if campaign.position == "start" else tail).extend(added)
            (head_from if campaign.position == "start" else tail_from).extend(added_from)
        if not head and not tail:
            return items, origins
        leading = program.leading
        trailing = len(items) - program.trailing
        return (
            (*items[:leading], *head, *items[leading:trailing], *tail, *items[trailing:]),
            (*origins[:leading], *head_from, *origins[leading:trailing], *tail_from,
             *origins[trailing:]),
        )

    def _broadcast(self, program: _Program, day: dt.date, items: tuple[AiredItem, ...],
                   origins: tuple[str, ...]) -> Broadcast:
        entry = program.program
        steady = self._steady.get(day)
        if steady is None:
            steady = self._steady[day] = _steady(day, self.tz)
        start = (dt.datetime.combine(day, entry.start, tzinfo=self.tz) if steady
                 else _local(day, entry.start, self.tz))
        return Broadcast(entry.id, entry.name, start, program.zone_ids, entry.priority, items,
                         origins)

    def _stream(self, owner: Program | Campaign, index: int, rotation: RotationItem) -> _Stream:
        kind = "campaign" if isinstance(owner, Campaign) else "program"
        key = (f"{kind}:{owner.id}", index)
        stream = self.streams.get(key)
        if stream is None:
            if isinstance(owner, Campaign):
                consumers = [self.compiled(p) for p in self.schedule.programs
                             if p.id in owner.programs]
                first, last = owner.from_date, owner.to_date
            else:
                consumers, first, last = [self.compiled(owner)], ROTATION_EPOCH, dt.date.max
            stream = _Stream(f"{key[0]}:{index}", rotation,
                             self.schedule.pool(rotation, self._patterns), consumers, first, last)
            self.streams[key] = stream
        return stream


def _aired(
    items: list[Item], chosen: Chosen, origin: str
) -> tuple[tuple[AiredItem, ...], tuple[str, ...]]:
    """``items`` with each rotation replaced by what it chose."""
    aired: list[AiredItem] = []
    origins: list[str] = []
    for index, item in enumerate(items):
        if isinstance(item, RotationItem):
            picks = chosen[index]
            aired.extend(member.item for member in picks)
            origins.extend(["rotation" if origin == "program" else origin] * len(picks))
        else:
            aired.append(item)
            origins.append(origin)
    return tuple(aired), tuple(origins)


def _leading_chimes(items: list[AiredItem] | list[Item]) -> int:
    """How many chimes open ``items`` (campaign items go after them, or before closing ones)."""
    count = 0
    for item in items:
        if not isinstance(item, ChimeItem):
            break
        count += 1
    return count


def _steady(day: dt.date, tz: dt.tzinfo) -> bool:
    """Whether the clock keeps one UTC offset all through ``day`` (no daylight saving change)."""
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    following = dt.datetime.combine(next_day(day), dt.time(), tzinfo=tz)
    return midnight.utcoffset() == following.utcoffset() == following.replace(
        fold=1).utcoffset() == midnight.replace(fold=1).utcoffset()


def _local(day: dt.date, start: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """``start`` on ``day`` as a real instant. A time the clock skips (a daylight saving gap, in
    zones that have one) moves forward by the gap; a time the clock shows twice is the first."""
    moment = dt.datetime.combine(day, start, tzinfo=tz)
    if moment.utcoffset() == moment.replace(fold=1).utcoffset():
        return moment
    return moment.astimezone(dt.UTC).astimezone(tz)


def occurrences(program: Program, schedule: Schedule, day: dt.date) -> Broadcast | None:
    """The program's broadcast on ``day`` (local calendar date), if it airs that day."""
    planner = _Planner(schedule)
    compiled = planner.compiled(program)
    if not compiled.airing.airs_on(day):
        return None
    return planner.broadcasts(compiled, [day])[0]


def latest_occurrence(program: Program, schedule: Schedule, day: dt.date,
                      look_back_days: int = 366) -> Broadcast | None:
    """The program as it airs on ``day``, or on the last day before it that it aired (its
    rotations' picks of that day): what a manual play of the program airs."""
    planner = _Planner(schedule)
    compiled = planner.compiled(program)
    for back in range(look_back_days + 1):
        earlier = day - dt.timedelta(days=back)
        if compiled.airing.airs_on(earlier):
            return planner.broadcasts(compiled, [earlier])[0]
    return None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector: a long plan makes many small objects and no cycles, and
    the collector would otherwise scan them again and again (a third of the time for a year)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def plan(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[Broadcast]:
    """Every broadcast starting at or after ``start`` and before ``end``, in time order."""
    with _collector_paused():
        return _plan(schedule, start, end)


def _plan(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[Broadcast]:
    planner = _Planner(schedule)
    first = start.astimezone(planner.tz).date()
    last = end.astimezone(planner.tz).date()
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    found: list[Broadcast] = []
    for program in schedule.programs:
        compiled = planner.compiled(program)
        airs_on = compiled.airing.airs_on
        found.extend(b for b in planner.broadcasts(compiled, [d for d in days if airs_on(d)])
                     if start <= b.start < end)
    found.sort(key=attrgetter("start", "program_id"))
    return found
