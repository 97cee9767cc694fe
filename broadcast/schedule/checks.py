"""Checks across the whole of schedule.yaml: references, files, dates, pool sizes, and (with
the items' lengths) program lengths, quiet hours and overlaps."""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from broadcast.errors import BroadcastError
from broadcast.schedule.days import next_day
from broadcast.schedule.items import (
    AiredItem,
    AudioItem,
    ChimeItem,
    Item,
    PoolMember,
    RelayItem,
    RotationItem,
    ScriptItem,
)
from broadcast.schedule.programs import Campaign, Program, Schedule
from broadcast.schedule.values import (
    BUILT_IN_CHIMES,
    ITEM_PAUSE_S,
    MAX_SPAN_DAYS,
    ROTATION_EPOCH,
    WEEKDAYS,
    say_length,
    second_of_day,
)
from broadcast.schedule.ward import Zone
from broadcast.yamlsource import Positions, YamlPath


class ItemLengths(Protocol):
    """How long an item takes to air, estimated before anything is rendered."""

    def seconds(self, item: AiredItem) -> float: ...

    def is_audio(self, path: Path) -> bool:
        """Whether ``path`` is a sound file the player can read."""
        ...


@dataclass(frozen=True)
class Rows:
    """Where each valid zone, program and campaign sits in the file (its list index)."""

    zones: list[int]
    programs: list[int]
    campaigns: list[int]
    zone_names: frozenset[str]
    program_ids: frozenset[str]


@dataclass(frozen=True)
class _Window:
    program: int
    start: int
    end: int


class _Pools:
    """Each rotation's pool, worked out once; each file pattern is looked up once."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.patterns: dict[Path, list[Path]] = {}
        self._found: dict[int, tuple[PoolMember, ...]] = {}

    def of(self, rotation: RotationItem) -> tuple[PoolMember, ...]:
        found = self._found.get(id(rotation))
        if found is None:
            found = self._found[id(rotation)] = self.schedule.pool(rotation, self.patterns)
        return found


LONG_PROGRAM_S = 3600
"""A program longer than this without a max_length gets a warning."""
_SOUNDS = frozenset({"audio", "chime", "idle sound"})
"""What may also come from the schedule's audio_roots."""


def _did_you_mean(path: Path, found: Path) -> str:
    """The closest name in the folder a missing file was looked for in, if one is close."""
    try:
        names = [entry.name for entry in found.parent.iterdir() if entry.is_file()]
    except OSError:
        return ""
    guess = difflib.get_close_matches(found.name, names, n=1, cutoff=0.8)
    return f" Did you mean '{path.with_name(guess[0]).as_posix()}'?" if guess else ""


def secret_problem(path: Path, *, mine: bool = False) -> str | None:
    """Why ``path`` cannot hold a password, or None. ``mine``: it must also belong to this
    process's user (or root): the daemon sends only a password it was given, never a file of
    someone else's that an edit pointed it at."""
    try:
        info = path.stat()
    except OSError:
        return (f"password file '{path}' does not exist. Put the source password in it, alone "
                "on one line, readable by the daemon's user only.")
    if info.st_mode & 0o077:
        return (f"password file '{path}' may be read or changed by other users (mode "
                f"{info.st_mode & 0o777:04o}). Protect it: chmod 600 {path}")
    if mine and info.st_uid not in (0, os.geteuid()):
        return (f"password file '{path}' belongs to another user (uid {info.st_uid}). Give it "
                f"to the daemon's user: chown {os.geteuid()} {path}")
    return None


class Checker:
    """Checks that need the whole file: references, files, dates, pool sizes; lengths and
    overlaps with the items' lengths from ``estimate``."""

    def __init__(
        self, schedule: Schedule, positions: Positions, rows: Rows, estimate: ItemLengths
    ) -> None:
        self.schedule = schedule
        self.positions = positions
        self.rows = rows
        self.estimate = estimate
        self.pools = _Pools(schedule)
        self.problems: list[BroadcastError] = []
        self.warnings: list[BroadcastError] = []
        """What airs as written but is likely not what was meant."""

    def fail(self, message: str, where: YamlPath, *, key: bool = False) -> None:
        self.problems.append(BroadcastError(message, self.positions.location(where, key=key)))

    def warn(self, message: str, where: YamlPath) -> None:
        self.warnings.append(BroadcastError(message, self.positions.location(where)))

    def run(self) -> list[BroadcastError]:
        self.unique_ids()
        self.zone_references()
        for row, zone in zip(self.rows.zones, self.schedule.zones, strict=True):
            self.outputs(zone, ("zones", row))
        for name, path in self.schedule.chimes.items():
            self.exists("chime", path, ("chimes", name))
        lexicon = self.schedule.tts.lexicon
        problem = None if lexicon is None else self.schedule.escapes(lexicon)
        if problem is not None:
            self.fail(f"lexicon file {problem}.", ("tts", "lexicon"))
        for row, campaign in zip(self.rows.campaigns, self.schedule.campaigns, strict=True):
            self.campaign(campaign, ("campaigns", row))
        timing = _LengthChecks(self.schedule, self.rows, self.pools, self.estimate, self.fail,
                               self.warn)
        for index, program in enumerate(self.schedule.programs):
            where = ("programs", self.rows.programs[index])
            self.dates(program, where)
            self.items(program.items, (*where, "items"), [program])
            if program.fallback is not None:
                self.item(program.fallback, (*where, "fallback"), [program])
            timing.length_and_quiet_hours(index, program, where)
        timing.overlaps()
        return self.problems

    def unique_ids(self) -> None:
        seen_sources: set[str] = set()
        for index, source in enumerate(self.schedule.relay_sources):
            if source.name in seen_sources:
                self.fail(f"relay source '{source.name}' is named twice. Give each source its "
                          "own name.", ("relay_sources", index, "name"))
            seen_sources.add(source.name)
            if source.fallback is not None:
                self.item(source.fallback, ("relay_sources", index, "fallback"), [])
        for section, rows, things in (
            ("zone", self.rows.zones, self.schedule.zones),
            ("program", self.rows.programs, self.schedule.programs),
            ("campaign", self.rows.campaigns, self.schedule.campaigns),
        ):
            seen: set[str] = set()
            for row, thing in zip(rows, things, strict=True):
                if thing.id in seen:
                    self.fail(f"{section} id '{thing.id}' is used twice. Give each {section} its "
                              "own id.", (f"{section}s", row, "id"))
                seen.add(thing.id)

    def zone_references(self) -> None:
        known = sorted(self.rows.zone_names)
        for row, program in zip(self.rows.programs, self.schedule.programs, strict=True):
            for index, target in enumerate(program.zones):
                if target in self.rows.zone_names:
                    continue
                guess = difflib.get_close_matches(target, known, n=1)
                hint = f" Did you mean '{guess[0]}'?" if guess else ""
                self.fail(f"no zone or group is called '{target}'.{hint}",
                          ("programs", row, "zones", index))

    def campaign(self, campaign: Campaign, where: YamlPath) -> None:
        if campaign.to_date < campaign.from_date:
            self.fail(self._backwards(campaign.from_date, campaign.to_date), (*where, "to"))
        known = sorted(self.rows.program_ids)
        for index, target in enumerate(campaign.programs):
            if target not in self.rows.program_ids:
                guess = difflib.get_close_matches(target, known, n=1)
                hint = f" Did you mean '{guess[0]}'?" if guess else ""
                self.fail(f"there is no program '{target}'.{hint}",
                          (*where, "programs", index))
        programs = [p for p in self.schedule.programs if p.id in campaign.programs]
        self.items(campaign.items, (*where, "items"), programs,
                   (campaign.from_date, campaign.to_date))

    @staticmethod
    def _backwards(first: dt.date, last: dt.date) -> str:
        return (f"this ends ({last}) before it starts ({first}). Swap the dates or fix the "
                "wrong one.")

    def dates(self, program: Program, where: YamlPath) -> None:
        backwards = False
        if program.from_date and program.to_date and program.to_date < program.from_date:
            backwards = True
            self.fail(self._backwards(program.from_date, program.to_date), (*where, "to"))
        for field in ("skip_dates", "extra_dates"):
            for index, span in enumerate(getattr(program, field)):
                spot = (*where, field, index)
                if span.to_date < span.from_date:
                    self.fail(self._backwards(span.from_date, span.to_date), (*spot, "to"))
                elif (span.to_date - span.from_date).days > MAX_SPAN_DAYS:
                    self.fail(f"this span is longer than {MAX_SPAN_DAYS} days. Use the "
                              "program's 'from' and 'to' instead.", spot)
        both = sorted(program.extras & {d for s in program.skip_dates for d in s.days()})
        if both:
            self.fail(f"{both[0]} is both skipped and extra. Keep it in one list only.",
                      (*where, "extra_dates"))
        if program.never_airs() and not backwards:
            self.fail("this program never airs: it has no days, or no day between its 'from' "
                      "and 'to'. Give it days or extra_dates.", (*where, "days"))

    def items(
        self,
        items: list[Item],
        where: YamlPath,
        consumers: list[Program],
        window: tuple[dt.date, dt.date] | None = None,
    ) -> None:
        """Check items; ``consumers`` are the programs that air them, within ``window``."""
        for index, item in enumerate(items):
            self.item(item, (*where, index), consumers, window)

    def item(
        self,
        item: Item,
        spot: YamlPath,
        consumers: list[Program],
        window: tuple[dt.date, dt.date] | None = None,
    ) -> None:
        if isinstance(item, ScriptItem | AudioItem):
            path = item.script if isinstance(item, ScriptItem) else item.audio
            self.exists(item.kind, path, (*spot, item.kind))
        elif isinstance(item, ChimeItem):
            self.chime(item, (*spot, "chime"))
        elif isinstance(item, RotationItem):
            self.rotation(item, spot, consumers, window)
        elif isinstance(item, RelayItem):
            self.relay(item, spot, consumers)

    def relay(self, item: RelayItem, spot: YamlPath, consumers: list[Program]) -> None:
        if self.schedule.relay_source(item.relay) is None:
            names = [source.name for source in self.schedule.relay_sources]
            guess = difflib.get_close_matches(item.relay, names, n=1)
            hint = (f" Did you mean '{guess[0]}'?" if guess else
                    f" Sources: {', '.join(names)}." if names else "")
            self.fail(f"'{item.relay}' is not in relay_sources, and only those may be relayed."
                      f"{hint} Add it there with a name and its address.", (*spot, "relay"))
        if item.fallback is not None:
            self.item(item.fallback, (*spot, "fallback"), consumers)

    def outputs(self, zone: Zone, where: YamlPath) -> None:
        for index, output in enumerate(zone.outputs):
            for setting, what, path in output.files():
                self.exists(what, path, (*where, "outputs", index, setting))

    def exists(self, kind: str, path: Path, where: YamlPath) -> bool:
        if kind == "password":
            return self.secret(path, where)
        problem = self.schedule.escapes(path, sound=kind in _SOUNDS)
        if problem is not None:
            self.fail(f"{kind} file {problem}.", where)
            return False
        found = self.schedule.resolve(path)
        if not found.is_file():
            self.fail(f"{kind} file '{path}' does not exist.{_did_you_mean(path, found)} Check "
                      f"the name; paths are relative to {self.schedule.source.name}.", where)
            return False
        if kind in _SOUNDS and not self.estimate.is_audio(found):
            self.fail(f"{kind} file '{path}' is not a sound file that can be played. Use an "
                      "MP3, WAV, FLAC or OGG file.", where)
            return False
        return True

    def secret(self, path: Path, where: YamlPath) -> bool:
        """A password file: it may be anywhere (it is no file of the ward's), but only its owner
        may read it, so no operator's edit can point it at their own file."""
        problem = secret_problem(self.schedule.resolve(path))
        if problem is not None:
            self.fail(problem, where)
        return problem is None

    def chime(self, item: ChimeItem, where: YamlPath) -> None:
        name = item.chime
        if name is not None and name not in self.schedule.chimes and name not in BUILT_IN_CHIMES:
            names = sorted({*self.schedule.chimes, *BUILT_IN_CHIMES})
            guess = difflib.get_close_matches(name, names, n=1)
            hint = f" Did you mean '{guess[0]}'?" if guess else (
                " Add it under 'chimes:' with its sound file.")
            self.fail(f"there is no chime called '{name}'.{hint}", where)

    def rotation(
        self,
        item: RotationItem,
        where: YamlPath,
        consumers: list[Program],
        window: tuple[dt.date, dt.date] | None,
    ) -> None:
        fine = True
        for index, entry in enumerate(item.rotation):
            spot = (*where, "rotation", index)
            if entry.from_date and entry.to_date and entry.to_date < entry.from_date:
                self.fail(self._backwards(entry.from_date, entry.to_date), (*spot, "to"))
                fine = False
            if not entry.is_pattern:
                fine = self.exists(entry.kind, entry.path, spot) and fine
            elif not self.schedule.matches(entry, self.pools.patterns):
                self.fail(f"'{entry.path}' matches no file, so this pool is empty. Check the "
                          "pattern and the folder; paths are relative to "
                          f"{self.schedule.source.name}.", spot)
                fine = False
        if item.mode == "weighted" and item.pick > 1:
            self.fail("a weighted rotation picks one item per broadcast. Use pick: 1, or two "
                      "rotations.", (*where, "pick"))
        if fine:
            self.pool_sizes(item, where, consumers, window)

    def pool_sizes(
        self,
        item: RotationItem,
        where: YamlPath,
        consumers: list[Program],
        window: tuple[dt.date, dt.date] | None,
    ) -> None:
        """Every stretch of days when the rotation airs must have enough items to pick from."""
        members = self.pools.of(item)
        first, last = window if window else (ROTATION_EPOCH, dt.date.max)
        bounds = {first}
        for member in members:
            for edge in (member.first, member.last and next_day(member.last)):
                if edge and first < edge <= last:
                    bounds.add(edge)
        edges = sorted(bounds)
        stops = [*edges[1:], next_day(last)]
        for begin, stop in zip(edges, stops, strict=True):
            size = sum(m.in_pool_on(begin) for m in members)
            if size >= item.pick:
                continue
            airs = [d for p in consumers if (d := p.first_airing(begin, stop)) is not None]
            if not airs:
                continue
            day = min(airs)
            when = "" if begin == first else f" on {day}"
            if size == 0:
                self.fail(f"this rotation has nothing to pick{when}: every item in its pool "
                          "has ended or not started yet. Add items, or change their dates.",
                          (*where, "rotation"))
            else:
                self.fail(f"this rotation picks {item.pick} items but{when} its pool has only "
                          f"{size}. Pick fewer, or add items.", (*where, "pick"))
            return


class _LengthChecks:
    """Checks that need how long programs run: their length cap, quiet hours, overlaps."""

    def __init__(
        self,
        schedule: Schedule,
        rows: Rows,
        pools: _Pools,
        estimate: ItemLengths,
        fail: Callable[[str, YamlPath], None],
        warn: Callable[[str, YamlPath], None],
    ) -> None:
        self.schedule = schedule
        self.rows = rows
        self.pools = pools
        self.estimate = estimate
        self.fail = fail
        self.warn = warn
        self.lengths = [self.longest(program) for program in schedule.programs]

    def longest_items(self, items: Iterable[Item]) -> tuple[float, int]:
        """The longest ``items`` can run (each rotation's longest picks) and how many they are."""
        seconds = 0.0
        count = 0
        for item in items:
            if isinstance(item, RotationItem):
                lengths = sorted(
                    (self.estimate.seconds(m.item) for m in self.pools.of(item)), reverse=True)
                seconds += sum(lengths[:item.pick])
                count += min(item.pick, len(lengths))
            else:
                seconds += self.estimate.seconds(item)
                count += 1
        return seconds, count

    def longest(self, program: Program) -> tuple[float, dt.date | None, tuple[str, ...]]:
        """The longest the program can run, the first day it does, and the campaigns then."""
        seconds, count = self.longest_items(program.items)
        best = (seconds + ITEM_PAUSE_S * max(count - 1, 0), None, ())
        campaigns = self.schedule.campaigns_for(program.id)
        edges = sorted({c.from_date for c in campaigns} | {next_day(c.to_date) for c in campaigns})
        for begin, stop in itertools.pairwise(edges):
            active = [c for c in campaigns if c.active_on(begin)]
            if not active:
                continue
            day = program.first_airing(begin, stop)
            if day is None:
                continue
            extra = [self.longest_items(c.items) for c in active]
            total_s = seconds + sum(s for s, _ in extra)
            total_n = count + sum(n for _, n in extra)
            length = total_s + ITEM_PAUSE_S * max(total_n - 1, 0)
            if length > best[0]:
                best = (length, day, tuple(c.id for c in active))
        return best

    def length_and_quiet_hours(self, index: int, program: Program, where: YamlPath) -> None:
        length, day, campaigns = self.lengths[index]
        limit = program.max_length
        if limit is None and length > LONG_PROGRAM_S:
            self.warn(f"program '{program.id}' runs about {say_length(length)} and has no "
                      "max_length, so a script that grows would go unnoticed. Add a max_length "
                      "line, e.g. max_length: 90m.", (*where, "id"))
        if limit is not None and length > limit.total_seconds():
            over = length - limit.total_seconds()
            when = ""
            if day is not None:
                names = ", ".join(f"'{c}'" for c in campaigns)
                when = f" on {day}, with campaign{'s' if len(campaigns) > 1 else ''} {names}"
            self.fail(
                f"program '{program.id}' runs about {say_length(over)} over its "
                f"{say_length(limit.total_seconds())} limit (about {say_length(length)}{when}). "
                "Take out an item or use shorter scripts.", (*where, "max_length"))
        if program.priority == "emergency":
            return
        quiet = self.schedule.ward.quiet_hours
        hours = f"({quiet.start:%H:%M}-{quiet.end:%H:%M})"
        if quiet.contains(program.start):
            self.fail(f"{program.start:%H:%M:%S} is inside quiet hours {hours}. Pick another "
                      "time; only emergency programs may air then.", (*where, "start"))
            return
        start = second_of_day(program.start)
        if any(start < last and first < start + length for first, last in quiet.spans()):
            self.fail(f"'{program.id}' starts at {program.start:%H:%M:%S} and runs about "
                      f"{say_length(length)}, into quiet hours {hours}. Start it earlier or "
                      "make it shorter.", (*where, "start"))

    def overlaps(self) -> None:
        programs = self.schedule.programs
        by_zone: dict[str, list[_Window]] = {}
        for index, program in enumerate(programs):
            start = second_of_day(program.start)
            window = _Window(index, start, start + max(1, round(self.lengths[index][0])))
            for zone in self.schedule.zone_ids(program):
                by_zone.setdefault(zone, []).append(window)
        clashes: dict[tuple[int, int, int], list[str]] = {}
        for zone, windows in by_zone.items():
            windows.sort(key=lambda w: w.start)
            for place, first in enumerate(windows):
                for second in windows[place + 1:]:
                    if second.start >= first.end:
                        break
                    self._note(clashes, zone, first, second, 0)
                if first.end > 86400:
                    for second in windows:
                        if second.start >= first.end - 86400:
                            break
                        if second.program != first.program:
                            self._note(clashes, zone, first, second, 1)
        for (one, two, shift), zones in clashes.items():
            first, second = programs[one], programs[two]
            days = _shared_days(first, second, shift)
            if days is None:
                continue
            later = "the next day " if shift else ""
            where = ("programs", self.rows.programs[two], "start")
            if first.priority == second.priority:
                self.fail(
                    f"'{first.id}' ({self._span(one)}) and '{second.id}' "
                    f"({later}{self._span(two)}) both air in {', '.join(zones)} at the same "
                    f"priority, {days}. Move one to another time, shorten it, or give them "
                    "different zones.", where)
            else:
                self.warn(
                    f"'{first.id}' ({self._span(one)}, {first.priority}) and '{second.id}' "
                    f"({later}{self._span(two)}, {second.priority}) overlap in "
                    f"{', '.join(zones)}, {days}: the one with the higher priority goes first "
                    "(an emergency cuts in). Move one if that is not meant.", where)

    @staticmethod
    def _note(clashes: dict[tuple[int, int, int], list[str]], zone: str, first: _Window,
              second: _Window, shift: int) -> None:
        zones = clashes.setdefault((first.program, second.program, shift), [])
        if zone not in zones:
            zones.append(zone)

    def _span(self, index: int) -> str:
        program = self.schedule.programs[index]
        start = dt.datetime.combine(dt.date.min, program.start)
        end = start + dt.timedelta(seconds=round(self.lengths[index][0]))
        return f"{program.start:%H:%M:%S}-{end:%H:%M:%S}"


def _shared_days(first: Program, second: Program, shift: int) -> str | None:
    """The days ``first`` airs while ``second`` airs ``shift`` days later, in words."""
    move = dt.timedelta(days=shift)
    lows = [d for d in (first.from_date, second.from_date and second.from_date - move) if d]
    highs = [d for d in (first.to_date, second.to_date and second.to_date - move) if d]
    low = max(lows) if lows else None
    high = min(highs) if highs else None
    found = {
        day for day in (*first.extras, *(d - move for d in second.extras))
        if first.airs_on(day) and second.airs_on(day + move)
    }
    if low is not None and high is not None:
        day = low
        while day <= high:
            if first.airs_on(day) and second.airs_on(day + move):
                found.add(day)
            day += dt.timedelta(days=1)
    else:
        weekdays = [w for w in range(7)
                    if w in first.weekdays and (w + shift) % 7 in second.weekdays]
        if weekdays:
            names = ", ".join(WEEKDAYS[w] for w in weekdays)
            since = f" from {low}" if low else ""
            until = f" until {high}" if high else ""
            return f"every {names}{since}{until}"
    if not found:
        return None
    days = sorted(found)
    more = f" and {len(days) - 1} more day{'s' if len(days) > 2 else ''}" if len(days) > 1 else ""
    return f"on {days[0]}{more}"
