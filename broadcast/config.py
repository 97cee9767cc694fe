"""schedule.yaml: the ward, its loudspeaker zones and the programs they air.

The file is validated as a whole: every problem is reported at once, each with file, line and
column, in plain words with what to do. Paths inside the file are relative to the file.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)

from broadcast.errors import BroadcastError, Location
from broadcast.yamlsource import Positions, YamlSyntaxError, load_yaml

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_WORDS = {
    **{day: (day,) for day in WEEKDAYS},
    "weekdays": WEEKDAYS[:5],
    "weekend": WEEKDAYS[5:],
    "daily": WEEKDAYS,
}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ScheduleError(BroadcastError):
    """schedule.yaml has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[BroadcastError]) -> None:
        self.problems = problems
        count = len(problems)
        header = f"schedule has {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([header, *(f"  {p}" for p in problems)]))

    def __str__(self) -> str:
        return self.message


def _parse_clock(value: object) -> dt.time:
    if isinstance(value, dt.time):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d{1,2})(?::|h)(\d{2})(?::(\d{2}))?", text)
    if match is None:
        raise ValueError(f"'{text}' is not a time. Write it as HH:MM or HH:MM:SS, e.g. \"06:30\"")
    hour, minute, second = (int(g) if g else 0 for g in match.groups())
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"'{text}' is not a real time of day")
    return dt.time(hour, minute, second)


def _parse_duration(value: object) -> dt.timedelta:
    if isinstance(value, int | float):
        return dt.timedelta(seconds=float(value))
    text = str(value).strip().lower().replace(" ", "")
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m(?:in)?)?(?:(\d+(?:\.\d+)?)s)?", text)
    if not text or match is None or not any(match.groups()):
        raise ValueError(f"'{value}' is not a length of time. Write e.g. 15m, 90s or 1h30m")
    hours, minutes, seconds = match.groups()
    return dt.timedelta(
        hours=int(hours or 0), minutes=int(minutes or 0), seconds=float(seconds or 0)
    )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietHours(_Model):
    """Hours when nothing but emergencies may air (noise rules)."""

    start: dt.time = dt.time(21, 0)
    end: dt.time = dt.time(6, 0)

    _clock = field_validator("start", "end", mode="before")(_parse_clock)

    def contains(self, moment: dt.time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class Ward(_Model):
    name: str
    province: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    quiet_hours: QuietHours = QuietHours()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"'{value}' is not a known time zone. Use {DEFAULT_TIMEZONE}"
            ) from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class GttsSettings(_Model):
    tld: str = "com"
    slow: bool = False


class EspeakSettings(_Model):
    voice: Literal["vi", "vi-vn-x-central", "vi-vn-x-south"] = "vi"
    rate: Annotated[int, Field(ge=80, le=450)] = 150
    pitch: Annotated[int, Field(ge=0, le=99)] = 50


class TtsSettings(_Model):
    engine: Literal["auto", "gtts", "espeak"] = "auto"
    lexicon: Path | None = Path("lexicon.yaml")
    gtts: GttsSettings = GttsSettings()
    espeak: EspeakSettings = EspeakSettings()


class LoudnessSettings(_Model):
    target_lufs: Annotated[float, Field(ge=-31, le=-10)] = -16.0
    true_peak_dbtp: Annotated[float, Field(ge=-9, le=0)] = -1.5
    loudness_range_lu: Annotated[float, Field(gt=0, le=20)] = 7.0


class DeviceOutput(_Model):
    """The local sound card (through PulseAudio or ALSA); ``sink`` picks one by name."""

    type: Literal["device"] = "device"
    sink: str | None = None


class Zone(_Model):
    """A loudspeaker cluster (cụm loa)."""

    id: str
    name: str
    groups: list[str] = []
    outputs: list[DeviceOutput] = [DeviceOutput()]
    gain_db: Annotated[float, Field(ge=-20, le=20)] = 0.0

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError(
                f"'{value}' cannot be an id: use lowercase letters, digits and '-', "
                "e.g. khu-pho-1"
            )
        return value


class ScriptItem(_Model):
    script: Path


class AudioItem(_Model):
    audio: Path


class SilenceItem(_Model):
    silence: float = Field(gt=0, le=600, description="seconds")


def _item_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for kind in ("script", "audio", "silence"):
            if kind in value:
                return kind
        return None
    return getattr(value, "kind", None)


Item = Annotated[
    Annotated[ScriptItem, Tag("script")]
    | Annotated[AudioItem, Tag("audio")]
    | Annotated[SilenceItem, Tag("silence")],
    Discriminator(
        _item_kind,
        custom_error_type="item_kind",
        custom_error_message="each item must say 'script:', 'audio:' or 'silence:'",
    ),
]


class Program(_Model):
    """A broadcast session: when it airs, where, and what it reads."""

    id: str
    name: str
    start: dt.time
    days: list[str] = list(WEEKDAYS)
    zones: list[str] = ["all"]
    priority: Literal["normal", "priority", "emergency"] = "normal"
    max_length: dt.timedelta | None = None
    items: Annotated[list[Item], Field(min_length=1)]

    _id = field_validator("id")(Zone._slug.__func__)  # type: ignore[attr-defined]
    _clock = field_validator("start", mode="before")(_parse_clock)

    @field_validator("max_length", mode="before")
    @classmethod
    def _length(cls, value: object) -> dt.timedelta | None:
        return None if value is None else _parse_duration(value)

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: object) -> list[str]:
        words = [value] if isinstance(value, str) else value
        if not isinstance(words, list):
            raise ValueError("days must be a list, e.g. [mon, tue, wed, thu, fri]")
        days: list[str] = []
        for word in words:
            key = str(word).strip().lower()[:3] if str(word).lower() not in _DAY_WORDS else str(
                word).lower()
            if key not in _DAY_WORDS:
                raise ValueError(
                    f"'{word}' is not a day. Use mon, tue, wed, thu, fri, sat, sun, "
                    "weekdays or daily"
                )
            days.extend(d for d in _DAY_WORDS[key] if d not in days)
        return [d for d in WEEKDAYS if d in days]


class Schedule(_Model):
    """The whole schedule.yaml."""

    ward: Ward
    tts: TtsSettings = TtsSettings()
    loudness: LoudnessSettings = LoudnessSettings()
    zones: Annotated[list[Zone], Field(min_length=1)]
    programs: list[Program] = []
    source: Path = Field(default=Path("schedule.yaml"), exclude=True)

    @property
    def base_dir(self) -> Path:
        return self.source.parent

    def resolve(self, path: Path) -> Path:
        """A path from the file, made absolute against the file's folder."""
        return path if path.is_absolute() else (self.base_dir / path)

    def zones_for(self, targets: list[str]) -> list[Zone]:
        """Zones named by id or group, in file order, each once."""
        wanted = set(targets)
        return [z for z in self.zones if z.id in wanted or wanted.intersection(z.groups)]

    def program(self, program_id: str) -> Program:
        for program in self.programs:
            if program.id == program_id:
                return program
        raise BroadcastError(f"there is no program '{program_id}' in {self.source}.")


_TYPE_WORDS = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list (lines starting with '- ')",
    "dict_type": "must be a block of 'name: value' lines",
    "model_type": "must be a block of 'name: value' lines",
    "model_attributes_type": "must be a block of 'name: value' lines",
    "date_type": "must be a date written YYYY-MM-DD",
    "date_from_datetime_parsing": "must be a date written YYYY-MM-DD",
    "too_short": "must not be empty",
}


def _model_fields_at(where: tuple[str | int, ...]) -> list[str]:
    """Field names allowed in the block at ``where`` (for 'did you mean' suggestions)."""
    model: type[BaseModel] | None = Schedule
    for part in where:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return []
        annotation = info.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if model is None:
            for arg in args:
                inner = getattr(arg, "__args__", ())
                model = next(
                    (c for c in inner if isinstance(c, type) and issubclass(c, BaseModel)), None
                )
                if model is not None:
                    break
    if model is None:
        return []
    return [name for name in model.model_fields if name != "source"]


def _explain(error: dict[str, Any], positions: Positions) -> BroadcastError:
    loc = _without_union_tags(tuple(error["loc"]))
    kind = error["type"]
    name = loc[-1] if loc else "schedule"
    if kind == "extra_forbidden":
        allowed = _model_fields_at(loc[:-1])
        guess = difflib.get_close_matches(str(name), allowed, n=1)
        hint = f" Did you mean '{guess[0]}'?" if guess else (
            f" Allowed here: {', '.join(allowed)}." if allowed else "")
        return BroadcastError(
            f"unknown setting '{name}'.{hint}", positions.location(loc, key=True)
        )
    if kind == "missing":
        return BroadcastError(f"'{name}' is missing. Add a line '{name}: ...' here.",
                              positions.location(loc[:-1]))
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return BroadcastError(f"'{name}' must be one of {expected}.", positions.location(loc))
    if kind == "value_error":
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        return BroadcastError(f"{message}.", positions.location(loc))
    words = _TYPE_WORDS.get(kind)
    if words is None:
        words = error["msg"][0].lower() + error["msg"][1:]
    label = "this item" if isinstance(name, int) else f"'{name}'"
    return BroadcastError(f"{label} {words}.", positions.location(loc))


def _without_union_tags(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Drop the item-kind tag pydantic puts after an item's index: it is not in the file."""
    kept: list[str | int] = []
    for index, part in enumerate(loc):
        after_item = index >= 2 and loc[index - 2] == "items" and isinstance(loc[index - 1], int)
        if after_item and part in ("script", "audio", "silence"):
            continue
        kept.append(part)
    return tuple(kept)


def _check_references(schedule: Schedule, positions: Positions) -> list[BroadcastError]:
    problems: list[BroadcastError] = []
    seen_zones: set[str] = set()
    for index, zone in enumerate(schedule.zones):
        if zone.id in seen_zones:
            problems.append(BroadcastError(
                f"zone id '{zone.id}' is used twice. Give each zone its own id.",
                positions.location(("zones", index, "id"))))
        seen_zones.add(zone.id)
    groups = {g for z in schedule.zones for g in z.groups}
    names = sorted(seen_zones | groups)
    seen_programs: set[str] = set()
    for p_index, program in enumerate(schedule.programs):
        if program.id in seen_programs:
            problems.append(BroadcastError(
                f"program id '{program.id}' is used twice. Give each program its own id.",
                positions.location(("programs", p_index, "id"))))
        seen_programs.add(program.id)
        for z_index, target in enumerate(program.zones):
            if target not in seen_zones and target not in groups:
                guess = difflib.get_close_matches(target, names, n=1)
                hint = f" Did you mean '{guess[0]}'?" if guess else ""
                problems.append(BroadcastError(
                    f"no zone or group is called '{target}'.{hint}",
                    positions.location(("programs", p_index, "zones", z_index))))
        if (schedule.ward.quiet_hours.contains(program.start)
                and program.priority != "emergency"):
            quiet = schedule.ward.quiet_hours
            problems.append(BroadcastError(
                f"{program.start:%H:%M:%S} is inside quiet hours "
                f"({quiet.start:%H:%M}-{quiet.end:%H:%M}). Pick another time.",
                positions.location(("programs", p_index, "start"))))
        for i_index, item in enumerate(program.items):
            if isinstance(item, ScriptItem | AudioItem):
                kind = "script" if isinstance(item, ScriptItem) else "audio"
                target_path = item.script if isinstance(item, ScriptItem) else item.audio
                if not schedule.resolve(target_path).is_file():
                    problems.append(BroadcastError(
                        f"{kind} file '{target_path}' does not exist. Check the name; paths "
                        "are relative to schedule.yaml.",
                        positions.location(("programs", p_index, "items", i_index, kind))))
    return problems


def parse_schedule(text: str, path: Path) -> Schedule:
    """Validate schedule text that came from ``path``; raise :class:`ScheduleError`."""
    try:
        data, positions = load_yaml(text, path)
    except YamlSyntaxError as exc:
        raise ScheduleError([exc]) from None
    if not isinstance(data, dict):
        raise ScheduleError([BroadcastError(
            "the schedule must start with 'ward:', 'zones:' and 'programs:' blocks.",
            Location(path, 1, 1))])
    try:
        schedule = Schedule.model_validate({**data, "source": path})
    except ValidationError as exc:
        raise ScheduleError(
            [_explain(dict(error), positions) for error in exc.errors()]
        ) from None
    problems = _check_references(schedule, positions)
    if problems:
        raise ScheduleError(problems)
    return schedule


def load_schedule(path: Path) -> Schedule:
    """Read and validate a schedule file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScheduleError([BroadcastError(
            "schedule file not found. Give its path with --schedule.", Location(path))]) from None
    except UnicodeDecodeError:
        raise ScheduleError([BroadcastError(
            "the file is not UTF-8 text. Save it as UTF-8 in your editor.",
            Location(path))]) from None
    return parse_schedule(text, path.resolve())
