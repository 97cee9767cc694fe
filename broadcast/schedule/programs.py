"""schedule.yaml: programs, the campaigns that add to them, and the schedule as a whole."""

from __future__ import annotations

import datetime as dt
import glob
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    PrivateAttr,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue, SkipJsonSchema
from pydantic_core import CoreSchema

from broadcast.errors import BroadcastError
from broadcast.schedule.control import ControlSettings, RelaySource
from broadcast.schedule.days import AiringDays
from broadcast.schedule.items import (
    AudioItem,
    FallbackItem,
    Item,
    PoolEntry,
    PoolMember,
    RotationItem,
    ScriptItem,
)
from broadcast.schedule.speech import TtsSettings
from broadcast.schedule.values import (
    DATE_SCHEMA,
    DURATION_STRING_SCHEMA,
    MAX_SPAN_DAYS,
    WEEKDAYS,
    Clock,
    Date,
    Days,
    Duration,
    Model,
    Names,
    Slug,
    grace_length,
)
from broadcast.schedule.ward import (
    EVERY_ZONE,
    ArchiveSettings,
    LoudnessSettings,
    Ward,
    Zone,
)


class DateSpan(Model):
    """A single date, or several days in a row (from, to: both included)."""

    from_date: Date = Field(alias="from", description="First day.")
    to_date: Date = Field(alias="to", description="Last day.")

    @model_validator(mode="before")
    @classmethod
    def _single_day(cls, value: object) -> object:
        return value if isinstance(value, dict) else {"from": value, "to": value}

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [DATE_SCHEMA, handler(core_schema)]}

    def days(self) -> Iterator[dt.date]:
        day = self.from_date
        while day <= self.to_date and (day - self.from_date).days <= MAX_SPAN_DAYS:
            yield day
            day += dt.timedelta(days=1)


class Program(Model):
    """A broadcast session: when it airs, where, and what it reads."""

    id: Slug = Field(description="Short name, e.g. sang.")
    name: str = Field(description="The program's full name.")
    start: Clock = Field(description="Start time, to the second.")
    days: Days = Field(list(WEEKDAYS), description="Days of the week it airs.")
    from_date: Date | None = Field(None, alias="from", description="First day it airs.")
    to_date: Date | None = Field(None, alias="to", description="Last day it airs.")
    skip_dates: list[DateSpan] = Field(
        [], description="Days it does not air (holidays, Tết): dates or {from, to} spans."
    )
    extra_dates: list[DateSpan] = Field(
        [], description="Days it also airs, whatever the weekday."
    )
    zones: Names = Field([EVERY_ZONE], description="Zones or groups that carry it (all: every "
                                                   "zone).")
    priority: Literal["normal", "priority", "emergency"] = Field(
        "normal", description="normal, priority or emergency (interrupts, may air at night)."
    )
    max_length: Duration | None = Field(
        None, description="Longest it may run, e.g. 15m. Longer is an error."
    )
    items: Annotated[list[Item], Field(min_length=1)] = Field(description="What it airs, in order.")
    grace: Annotated[
        dt.timedelta,
        BeforeValidator(grace_length),
        WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, DURATION_STRING_SCHEMA]}),
    ] = Field(
        dt.timedelta(minutes=10),
        description="If the daemon was down at the start time, it still airs this late (e.g. "
                    "10m; 0 never airs late).",
    )
    on_interrupt: Literal["restart", "resume", "drop"] = Field(
        "restart", description="When an emergency cuts it: restart it after, resume where it "
                               "was cut, or drop it.",
    )
    fallback: FallbackItem | None = Field(
        None, description="What airs instead when its audio cannot be made in time, e.g. an "
                          "evergreen script or a chime.",
    )

    _airing: AiringDays | None = PrivateAttr(None)

    def model_post_init(self, context: Any, /) -> None:
        self._airing = AiringDays.of(
            frozenset(WEEKDAYS.index(day) for day in self.days),
            self.from_date,
            self.to_date,
            frozenset(day for span in self.skip_dates for day in span.days()),
            frozenset(day for span in self.extra_dates for day in span.days()),
        )

    @property
    def airing(self) -> AiringDays:
        """The days it airs, as plain data (fetch it once where speed matters)."""
        assert self._airing is not None
        return self._airing

    @property
    def weekdays(self) -> frozenset[int]:
        """The weekdays it airs (0 = Monday)."""
        return self.airing.weekdays

    @property
    def extras(self) -> frozenset[dt.date]:
        return self.airing.extras

    def airs_on(self, day: dt.date) -> bool:
        """Whether the program airs on ``day`` (weekdays, date range, skip and extra dates)."""
        return self.airing.airs_on(day)

    def count_airings(self, first: dt.date, stop: dt.date) -> int:
        """How many days in [first, stop) the program airs."""
        return self.airing.count(first, stop)

    def first_airing(self, first: dt.date, stop: dt.date) -> dt.date | None:
        """The first day in [first, stop) the program airs, if any."""
        return self.airing.first_airing(first, stop)

    def never_airs(self) -> bool:
        return self.airing.never()


class Campaign(Model):
    """A date-bounded campaign that adds items to named programs while it runs."""

    id: Slug = Field(description="Short name, e.g. thang-hanh-dong-atvsld.")
    name: str = Field(description="The campaign's full name.")
    from_date: Date = Field(alias="from", description="First day of the campaign.")
    to_date: Date = Field(alias="to", description="Last day of the campaign (included).")
    programs: Annotated[Names, Field(min_length=1)] = Field(
        description="Ids of the programs it adds to."
    )
    position: Literal["start", "end"] = Field(
        "end", description="Where its items go: start (after an opening chime) or end."
    )
    items: Annotated[list[Item], Field(min_length=1)] = Field(
        description="What it adds to each broadcast, in order."
    )

    def active_on(self, day: dt.date) -> bool:
        return self.from_date <= day <= self.to_date


class Schedule(Model):
    """The whole schedule.yaml."""

    ward: Ward = Field(description="The ward.")
    tts: TtsSettings = Field(TtsSettings(), description="Speech settings.")
    loudness: LoudnessSettings = Field(LoudnessSettings(), description="Loudness settings.")
    chimes: dict[str, Path] = Field(
        {}, description="Chime sounds by name; 'default' is used by an empty 'chime:' item."
    )
    zones: Annotated[list[Zone], Field(min_length=1)] = Field(
        description="Loudspeaker clusters (cụm loa)."
    )
    programs: list[Program] = Field([], description="Broadcast sessions.")
    campaigns: list[Campaign] = Field([], description="Campaigns that add to programs.")
    archive: ArchiveSettings = Field(
        ArchiveSettings(), description="Copies of every aired program."
    )
    approval: Literal["signed", "header"] = Field(
        "header", description="signed: a script airs only with an approver's signature over its "
                              "words (approvers.yaml lists the keys); header: an approved_by "
                              "line is enough (weaker: anyone who can edit a script can write "
                              "it).")
    control: ControlSettings = Field(
        ControlSettings(), description="Who may control the running daemon."
    )
    relay_sources: list[RelaySource] = Field(
        [], description="The live streams the ward may relay; relays name only these."
    )
    audio_roots: list[Path] = Field(
        [], description="Folders outside the ward folder that sounds (audio items, chimes, "
                        "idle sounds) may come from, e.g. a shared jingle folder. Scripts and "
                        "everything else must be inside the ward folder.")
    source: SkipJsonSchema[Path] = Field(default=Path("schedule.yaml"), exclude=True)

    _zone_ids: dict[str, tuple[str, ...]] = PrivateAttr({})
    _warnings: tuple[BroadcastError, ...] = PrivateAttr(())
    _campaigns: dict[str, tuple[Campaign, ...]] = PrivateAttr({})

    def model_post_init(self, context: Any, /) -> None:
        self._zone_ids = {
            program.id: tuple(zone.id for zone in self.zones_for(program.zones))
            for program in self.programs
        }
        self._campaigns = {
            program.id: tuple(c for c in self.campaigns if program.id in c.programs)
            for program in self.programs
        }

    @property
    def warnings(self) -> tuple[BroadcastError, ...]:
        """What airs as written but is likely not what was meant (found when it was loaded)."""
        return self._warnings

    def warned(self, warnings: list[BroadcastError]) -> Schedule:
        """This schedule, with the warnings its checks found."""
        self._warnings = tuple(warnings)
        return self

    @property
    def base_dir(self) -> Path:
        return self.source.parent

    def resolve(self, path: Path) -> Path:
        """A path from the file, made absolute against the file's folder."""
        return path if path.is_absolute() else (self.base_dir / path)

    def escapes(self, path: Path, *, sound: bool = False) -> str | None:
        """Why ``path`` may not be used, or None: every file the schedule names must be inside
        the ward folder, links followed (a sound may also be in one of ``audio_roots``)."""
        real = self.resolve(path).resolve()
        roots = [self.base_dir, *(self.resolve(root) for root in self.audio_roots if sound)]
        if any(real.is_relative_to(root.resolve()) for root in roots):
            return None
        shown = f"'{path}' (that is {real})" if real != self.resolve(path) else f"'{path}'"
        extra = " or to a folder listed in audio_roots" if sound else ""
        return (f"{shown} is outside the ward folder, so it may not be used. Copy it into the "
                f"ward folder{extra}")

    def ward_file(self, path: Path, *, sound: bool = False) -> Path:
        """``path`` made absolute, once more checked to be inside the ward folder (a link may
        have changed since the schedule was checked); :class:`BroadcastError` if not."""
        problem = self.escapes(path, sound=sound)
        if problem is not None:
            raise BroadcastError(f"{problem}.")
        return self.resolve(path)

    def zones_for(self, targets: list[str]) -> list[Zone]:
        """Zones named by id or group, in file order, each once."""
        wanted = set(targets)
        return [z for z in self.zones
                if EVERY_ZONE in wanted or z.id in wanted or wanted.intersection(z.groups)]

    def zone_ids(self, program: Program) -> tuple[str, ...]:
        """The ids of the zones that carry ``program`` (worked out once, at load)."""
        found = self._zone_ids.get(program.id)
        if found is None:
            return tuple(zone.id for zone in self.zones_for(program.zones))
        return found

    def program(self, program_id: str) -> Program:
        for program in self.programs:
            if program.id == program_id:
                return program
        raise BroadcastError(f"there is no program '{program_id}' in {self.source}.")

    def relay_source(self, name_or_url: str) -> RelaySource | None:
        """The relay source with this name or address, if the schedule lists it."""
        return next((source for source in self.relay_sources
                     if name_or_url in (source.name, source.url)), None)

    def campaigns_for(self, program_id: str) -> tuple[Campaign, ...]:
        """Campaigns that add to the program, in file order."""
        return self._campaigns.get(program_id, ())

    def chime_file(self, name: str | None) -> Path | None:
        """The sound file of a chime (``None``: the default); ``None`` means the built-in one."""
        path = self.chimes.get(name or "default")
        return None if path is None else self.ward_file(path, sound=True)

    def matches(self, entry: PoolEntry, seen: dict[Path, list[Path]] | None = None) -> list[Path]:
        """The files a pool entry names: itself, or every file its pattern matches (sorted).
        ``seen`` keeps patterns already looked up, so the folder is read once per pattern."""
        if not entry.is_pattern:
            return [entry.path]
        known = seen.get(entry.path) if seen is not None else None
        if known is None:
            found = glob.glob(str(entry.path), root_dir=self.base_dir)
            known = sorted(Path(p) for p in found if self.resolve(Path(p)).is_file())
            if seen is not None:
                seen[entry.path] = known
        return known

    def pool(
        self, rotation: RotationItem, seen: dict[Path, list[Path]] | None = None
    ) -> tuple[PoolMember, ...]:
        """Every file the rotation can pick, in file order; a file named outright wins over a
        pattern that also matches it. ``seen``: as for :meth:`matches`."""
        named = {entry.path for entry in rotation.rotation if not entry.is_pattern}
        members: dict[str, PoolMember] = {}
        for entry in rotation.rotation:
            for path in self.matches(entry, seen):
                if entry.is_pattern and path in named:
                    continue
                key = f"{entry.kind}:{path.as_posix()}"
                item: ScriptItem | AudioItem = (
                    ScriptItem(script=path) if entry.kind == "script" else AudioItem(audio=path)
                )
                members.setdefault(
                    key, PoolMember(key, item, entry.weight, entry.from_date, entry.to_date))
        return tuple(members.values())
