"""schedule.yaml: the ward, its loudspeaker zones, its programs and the campaigns that add to them.

The file is validated as a whole: every problem is reported at once, each with file, line and
column, in plain words with what to do. Paths inside the file are relative to the file. Every
field is described in docs/schedule.md; ``broadcast schema`` prints the JSON Schema that gives
editors completion and error marks.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import glob
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    PrivateAttr,
    Tag,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue, SkipJsonSchema
from pydantic_core import CoreSchema

from broadcast.audio import AudioError, probe
from broadcast.bulletin import load_bulletin
from broadcast.errors import BroadcastError, Location
from broadcast.vietnamese import to_spoken
from broadcast.yamlsource import Positions, YamlPath, YamlSyntaxError, load_yaml

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ITEM_KINDS = ("script", "audio", "rotation", "relay", "chime", "silence")
SCRIPT_SUFFIXES = (".md", ".txt")
AUDIO_SUFFIXES = (".mp3", ".wav", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac")
SCHEMA_FILE = "schedule.schema.json"

WORDS_PER_MINUTE = 150
"""Default speaking rate of the Vietnamese voices, used to estimate a script's length."""
PARAGRAPH_PAUSE_S = 0.7
ITEM_PAUSE_S = 1.2
"""The pauses the renderer puts between paragraphs and between a program's items."""
DEFAULT_CHIME_S = 4.0
"""Estimated length of the built-in chime (a chime without a file)."""

ROTATION_EPOCH = dt.date(2000, 1, 1)
"""Where a program's own rotations start counting (a campaign's count starts on its first day)."""

_MAX_SPAN_DAYS = 400
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_WORDS: dict[str, tuple[str, ...]] = {
    **{day: (day,) for day in WEEKDAYS},
    **{full: (day,) for full, day in zip(_FULL_DAY_NAMES, WEEKDAYS, strict=True)},
    **{f"t{number}": (WEEKDAYS[number - 2],) for number in range(2, 8)},
    "cn": ("sun",),
    "weekdays": WEEKDAYS[:5],
    "weekend": WEEKDAYS[5:],
    "daily": WEEKDAYS,
}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_CLOCK_RE = re.compile(r"(\d{1,2})(?::|h)(\d{2})(?::(\d{2}))?")
_DURATION_RE = re.compile(
    r"(?:(\d+)(?:h|giờ))?(?:(\d+)(?:m|min|phút))?(?:(\d+(?:\.\d+)?)(?:s|giây))?"
)
_URL_RE = re.compile(r"(?:https?|rtsp|rtmp|mms)://\S+", re.IGNORECASE)
_GLOB_CHARS = frozenset("*?[")
_ICECAST_RE = re.compile(r"[A-Za-z0-9.-]+:\d{1,5}/[A-Za-z0-9._/-]+")
OUTPUT_TYPES = ("device", "icecast", "file")


class ScheduleError(BroadcastError):
    """schedule.yaml has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[BroadcastError]) -> None:
        self.problems = problems
        count = len(problems)
        header = f"schedule has {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([header, *(f"  {p}" for p in problems)]))

    def __str__(self) -> str:
        return self.message


# --- values operators write ----------------------------------------------------------------


def _case_free(word: str) -> str:
    """A JSON Schema (ECMA) regex piece matching ``word`` in any letter case."""
    return "".join(
        f"[{ch}{ch.upper()}]" if ch.upper() != ch else re.escape(ch) for ch in word
    )


def _parse_clock(value: object) -> dt.time:
    if isinstance(value, dt.time):
        return value
    text = str(value).strip()
    match = _CLOCK_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"'{text}' is not a time. Write it as HH:MM or HH:MM:SS, e.g. \"06:30\"")
    hour, minute, second = (int(g) if g else 0 for g in match.groups())
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"'{text}' is not a real time of day")
    return dt.time(hour, minute, second)


def parse_duration(value: object) -> dt.timedelta:
    """A length of time as written in the schedule: seconds as a number, or e.g. 15m, 1h30m."""
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.timedelta(seconds=float(value))
    text = str(value).strip().lower().replace(" ", "")
    match = _DURATION_RE.fullmatch(text)
    if not text or match is None or not any(match.groups()):
        raise ValueError(f"'{value}' is not a length of time. Write e.g. 15m, 90s or 1h30m")
    hours, minutes, seconds = match.groups()
    return dt.timedelta(
        hours=int(hours or 0), minutes=int(minutes or 0), seconds=float(seconds or 0)
    )


def _positive_duration(value: object) -> dt.timedelta:
    length = parse_duration(value)
    if length <= dt.timedelta(0):
        raise ValueError("a length of time must be more than zero")
    return length


def _grace_length(value: object) -> dt.timedelta:
    length = dt.timedelta(0) if value == 0 else parse_duration(value)
    if not dt.timedelta(0) <= length <= dt.timedelta(hours=12):
        raise ValueError("grace is between 0 and 12h, e.g. 10m")
    return length


def _seconds(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value).total_seconds()
    return value


def parse_date(value: object) -> dt.date:
    """A calendar date: YYYY-MM-DD (or DD/MM/YYYY as written in Vietnam)."""
    if isinstance(value, dt.datetime):
        raise ValueError("write only the date, without a time, e.g. 2026-05-01")
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    local = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if iso is not None:
        year, month, day = (int(g) for g in iso.groups())
    elif local is not None:
        day, month, year = (int(g) for g in local.groups())
    else:
        raise ValueError(f"'{text}' is not a date. Write it as YYYY-MM-DD, e.g. 2026-05-01")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"'{text}' is not a real date") from None


def _parse_days(value: object) -> list[str]:
    words = [value] if isinstance(value, str) else value
    if not isinstance(words, list):
        raise ValueError("days must be a list, e.g. [mon, tue, wed, thu, fri]")
    days: set[str] = set()
    for word in words:
        key = str(word).strip().lower()
        if key not in _DAY_WORDS:
            raise ValueError(
                f"'{word}' is not a day. Use mon, tue, wed, thu, fri, sat, sun, weekdays, "
                "weekend or daily"
            )
        days.update(_DAY_WORDS[key])
    return [day for day in WEEKDAYS if day in days]


def _listify(value: object) -> object:
    return [value] if isinstance(value, str) else value


def _slug(value: str) -> str:
    if not _ID_RE.match(value):
        raise ValueError(
            f"'{value}' cannot be an id: use lowercase letters, digits and '-', e.g. khu-pho-1"
        )
    return value


def _url(value: str) -> str:
    if not _URL_RE.fullmatch(value.strip()):
        raise ValueError(
            f"'{value}' is not a stream address. Write the full address, e.g. "
            "https://example.vn/live.mp3"
        )
    return value.strip()


class _OneOrMany:
    """JSON Schema: where a list is expected, one value alone stands for a list of one."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        return {"anyOf": [schema["items"], schema]}


_DAY_PATTERN = r"^\s*(?:" + "|".join(_case_free(word) for word in _DAY_WORDS) + r")\s*$"
_CLOCK_SCHEMA = {
    "type": "string",
    "pattern": r"^\s*\d{1,2}[:h]\d{2}(:\d{2})?\s*$",
    "description": "A time of day, 24-hour, local time of the ward: HH:MM or HH:MM:SS.",
    "examples": ["06:30", "17:00:05"],
}
_DURATION_STRING = {
    "type": "string",
    "pattern": (
        r"^\s*(?=.*\d)(\d+\s*(h|giờ))?\s*(\d+\s*(m|min|phút))?\s*"
        r"(\d+(\.\d+)?\s*(s|giây))?\s*$"
    ),
    "examples": ["15m", "90s", "1h30m"],
}
_DATE_SCHEMA = {
    "type": "string",
    "pattern": r"^\s*(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4})\s*$",
    "description": "A date: YYYY-MM-DD, or DD/MM/YYYY.",
    "examples": ["2026-05-01"],
}
_DAY_SCHEMA = {"type": "string", "pattern": _DAY_PATTERN}

Clock = Annotated[dt.time, BeforeValidator(_parse_clock), WithJsonSchema(_CLOCK_SCHEMA)]
Duration = Annotated[
    dt.timedelta,
    BeforeValidator(_positive_duration),
    WithJsonSchema({
        "anyOf": [{"type": "number", "exclusiveMinimum": 0}, _DURATION_STRING],
        "description": "A length of time: seconds as a number, or e.g. 15m, 90s, 1h30m.",
    }),
]
Date = Annotated[dt.date, BeforeValidator(parse_date), WithJsonSchema(_DATE_SCHEMA)]
Days = Annotated[
    list[str],
    BeforeValidator(_parse_days),
    WithJsonSchema({
        "anyOf": [_DAY_SCHEMA, {"type": "array", "items": _DAY_SCHEMA}],
        "description": "Days of the week: mon..sun (or monday, t2..t7, cn), weekdays, weekend, "
                       "daily.",
    }),
]
Slug = Annotated[str, AfterValidator(_slug)]
Names = Annotated[list[str], BeforeValidator(_listify), _OneOrMany()]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the ward and its settings -----------------------------------------------------------------


class QuietHours(_Model):
    """Hours when nothing but emergencies may air (noise rules). Equal start and end: none."""

    start: Clock = Field(dt.time(21, 0), description="When quiet hours begin.")
    end: Clock = Field(dt.time(6, 0), description="When quiet hours end.")

    def contains(self, moment: dt.time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def spans(self) -> list[tuple[int, int]]:
        """Quiet stretches in seconds from the start of a day (yesterday's to tomorrow's)."""
        if self.start == self.end:
            return []
        first = _second_of_day(self.start)
        last = _second_of_day(self.end)
        if last < first:
            last += 86400
        return [(first + shift, last + shift) for shift in (-86400, 0, 86400)]


class Ward(_Model):
    """The ward (phường, xã) the loudspeakers belong to."""

    name: str = Field(description="The ward's name, e.g. Phường Xuân Hương - Đà Lạt.")
    province: str | None = Field(None, description="The province or city.")
    timezone: str = Field(DEFAULT_TIMEZONE, description="Time zone of every time in the file.")
    quiet_hours: QuietHours = Field(
        QuietHours(), description="Only emergency programs may air in these hours."
    )

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


_TLD_PATTERN = r"^[a-z]{2,3}(\.[a-z]{2,3})?$"


class GttsSettings(_Model):
    """Settings of Google's voice."""

    tld: str = Field(
        "com", description="Google host suffix, e.g. com.vn.",
        json_schema_extra={"pattern": _TLD_PATTERN},
    )
    slow: bool = Field(False, description="Read more slowly.")
    concurrency: Annotated[int, Field(ge=1, le=16)] = Field(
        4, description="How many pieces of text are sent to Google at once."
    )
    timeout: Annotated[float, Field(gt=0, le=120)] = Field(
        15.0, description="Seconds to wait for Google's answer to one piece."
    )
    retries: Annotated[int, Field(ge=0, le=20)] = Field(
        9, description="Tries again after a rate limit, server error or timeout."
    )

    @field_validator("tld")
    @classmethod
    def _google_suffix(cls, value: str) -> str:
        # Only a plain suffix: anything else could send the bulletin's text elsewhere and air
        # whatever audio comes back.
        if not re.fullmatch(_TLD_PATTERN, value):
            raise ValueError(f"'{value}' is not a Google host suffix. Write com or com.vn")
        return value


class EspeakSettings(_Model):
    """Settings of the offline espeak-ng voice."""

    voice: Literal["vi", "vi-vn-x-central", "vi-vn-x-south"] = Field(
        "vi", description="Northern (vi), central or southern accent."
    )
    rate: Annotated[int, Field(ge=80, le=450)] = Field(150, description="Words per minute.")
    pitch: Annotated[int, Field(ge=0, le=99)] = Field(50, description="Voice pitch, 0 to 99.")


class TtsSettings(_Model):
    """How scripts are turned into speech."""

    engine: Literal["auto", "gtts", "espeak"] = Field(
        "auto", description="auto: Google's voice when the internet works, else espeak-ng."
    )
    fallback: list[Literal["gtts", "espeak"]] = Field(
        ["espeak"],
        description="Engines tried in turn when the engine fails for a bulletin.",
    )
    lexicon: Path | None = Field(
        Path("lexicon.yaml"), description="The ward's own words (names, places, loan words)."
    )
    words_per_minute: Annotated[int, Field(ge=60, le=300)] = Field(
        WORDS_PER_MINUTE, description="Speaking rate used to estimate lengths before rendering."
    )
    gtts: GttsSettings = Field(GttsSettings(), description="Google voice settings.")
    espeak: EspeakSettings = Field(EspeakSettings(), description="espeak-ng voice settings.")


class LoudnessSettings(_Model):
    """How loud every broadcast is."""

    target_lufs: Annotated[float, Field(ge=-31, le=-10)] = Field(
        -16.0, description="Integrated loudness of every broadcast, in LUFS."
    )
    true_peak_dbtp: Annotated[float, Field(ge=-9, le=0)] = Field(
        -1.5, description="Highest peak allowed, in dBTP: keeps amplifiers from clipping."
    )
    loudness_range_lu: Annotated[float, Field(gt=0, le=20)] = Field(
        7.0, description="How much loudness may vary inside a broadcast, in LU."
    )


class DeviceOutput(_Model):
    """The local sound card (through PulseAudio or ALSA); ``sink`` picks one by name."""

    type: Literal["device"] = Field("device", description="Where the zone's sound goes.")
    sink: str | None = Field(None, description="PulseAudio sink or ALSA device name.")


def _icecast_address(value: str) -> str:
    if not _ICECAST_RE.fullmatch(value.strip()):
        raise ValueError(
            f"'{value}' is not an Icecast mount. Write host:port/mount, e.g. "
            "127.0.0.1:8000/khu-pho-1 (the password goes in password_env or password_file)"
        )
    return value.strip()


class IcecastOutput(_Model):
    """One mount on an Icecast server, which IP loudspeaker receivers pull.

    The mount stays connected between broadcasts (silence, or the idle sound), so receivers stay
    connected too. The source password is never written here: it comes from an environment
    variable or a file.
    """

    type: Literal["icecast"] = Field(description="Where the zone's sound goes.")
    mount: Annotated[str, AfterValidator(_icecast_address)] = Field(
        description="host:port/mount, e.g. 127.0.0.1:8000/khu-pho-1."
    )
    user: str = Field("source", description="Icecast source user name.")
    password_env: str | None = Field(
        None, description="Environment variable that holds the source password."
    )
    password_file: Path | None = Field(
        None, description="File that holds the source password, relative to this file."
    )
    bitrate_kbps: Annotated[int, Field(ge=16, le=320)] = Field(
        64, description="MP3 bitrate of the stream, in kbit/s."
    )
    idle: Path | None = Field(
        None, description="Sound looped between broadcasts (empty: silence)."
    )

    @model_validator(mode="after")
    def _one_password_source(self) -> IcecastOutput:
        if (self.password_env is None) == (self.password_file is None):
            raise ValueError(
                "give the source password in exactly one of password_env (an environment "
                "variable) or password_file (a file), never in schedule.yaml itself"
            )
        return self


class FileOutput(_Model):
    """Each airing written to a WAV file in a folder, in real time (a line-out you can check)."""

    type: Literal["file"] = Field(description="Where the zone's sound goes.")
    folder: Path = Field(description="Folder for the files, relative to this file.")


def _output_type(value: Any) -> str | None:
    if isinstance(value, dict):
        kind = value.get("type", "device")
        return kind if kind in OUTPUT_TYPES else None
    return getattr(value, "type", None)


Output = Annotated[
    Annotated[DeviceOutput, Tag("device")]
    | Annotated[IcecastOutput, Tag("icecast")]
    | Annotated[FileOutput, Tag("file")],
    Discriminator(
        _output_type,
        custom_error_type="output_type",
        custom_error_message="an output's type is device, icecast or file",
    ),
]


class Hooks(_Model):
    """Commands run around each broadcast of a zone, e.g. to switch its amplifier on and off."""

    before: str | None = Field(None, description="Command run before the broadcast starts.")
    before_lead: Annotated[float, BeforeValidator(_seconds), Field(ge=0, le=60)] = Field(
        3.0, description="How long before the start the 'before' command runs (e.g. 3s)."
    )
    after: str | None = Field(None, description="Command run after the broadcast ends.")
    after_delay: Annotated[float, BeforeValidator(_seconds), Field(ge=0, le=600)] = Field(
        10.0, description="How long after the end the 'after' command runs (e.g. 10s)."
    )
    timeout: Annotated[float, BeforeValidator(_seconds), Field(gt=0, le=120)] = Field(
        10.0, description="Longest a command may run before it is stopped (e.g. 10s)."
    )


class ArchiveSettings(_Model):
    """Where every aired program is kept, with what aired, when and where."""

    enabled: bool = Field(True, description="Keep a copy of every aired program.")
    folder: Path = Field(Path("archive"), description="Folder, relative to this file.")
    keep_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        90, description="Days a copy is kept before it is deleted."
    )


class Zone(_Model):
    """A loudspeaker cluster (cụm loa)."""

    id: Slug = Field(description="Short name used in programs, e.g. khu-pho-1.")
    name: str = Field(description="The zone's full name.")
    groups: list[str] = Field([], description="Groups the zone belongs to, e.g. [all, khu-a].")
    outputs: Annotated[list[Output], Field(min_length=1)] = Field(
        [DeviceOutput()], description="Where the zone's sound goes: device, icecast or file."
    )
    hooks: Hooks = Field(Hooks(), description="Commands run before and after each broadcast.")
    gain_db: Annotated[float, Field(ge=-20, le=20)] = Field(
        0.0, description="Volume change for this zone only, in dB."
    )
    target_lufs: Annotated[float, Field(ge=-31, le=-10)] | None = Field(
        None, description="Loudness target for this zone, instead of loudness.target_lufs."
    )


# --- items -------------------------------------------------------------------------------------


class ScriptItem(_Model):
    """An approved bulletin script, read by the TTS voice."""

    kind: ClassVar[str] = "script"
    script: Path = Field(description="The script file (.md), relative to this file.")


class AudioItem(_Model):
    """A recorded audio file, played as it is (brought to the loudness target)."""

    kind: ClassVar[str] = "audio"
    audio: Path = Field(description="The audio file, relative to this file.")


class SilenceItem(_Model):
    """A pause."""

    kind: ClassVar[str] = "silence"
    silence: Annotated[
        float,
        BeforeValidator(_seconds),
        Field(gt=0, le=600),
        WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 600},
                                  _DURATION_STRING]}),
    ] = Field(description="Seconds of silence (or a length such as 5s).")


class ChimeItem(_Model):
    """A chime: the ward's default one (empty value) or one named in ``chimes``."""

    kind: ClassVar[str] = "chime"
    chime: str | None = Field(None, description="Name of a chime in 'chimes:', or empty.")


class RelayItem(_Model):
    """A live relay (tiếp âm) of a radio stream, e.g. national or provincial news."""

    kind: ClassVar[str] = "relay"
    relay: Annotated[str, AfterValidator(_url)] = Field(description="The stream's address.")
    duration: Annotated[Duration, Field(le=dt.timedelta(hours=4))] = Field(
        description="How long to relay, e.g. 15m."
    )


class PoolEntry(_Model):
    """One entry of a rotation pool: a file or a pattern such as scripts/atvsld-*.md."""

    script: Path | None = Field(None, description="A script file or pattern.")
    audio: Path | None = Field(None, description="An audio file or pattern.")
    weight: Annotated[int, Field(ge=1, le=100)] = Field(
        1, description="In weighted mode: how many times this airs per round."
    )
    from_date: Date | None = Field(None, alias="from", description="First day in the pool.")
    to_date: Date | None = Field(None, alias="to", description="Last day in the pool.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        suffix = Path(value).suffix.lower()
        if suffix in SCRIPT_SUFFIXES:
            return {"script": value}
        if suffix in AUDIO_SUFFIXES:
            return {"audio": value}
        raise ValueError(
            f"cannot tell if '{value}' is a script or an audio file. Write "
            f"'script: {value}' or 'audio: {value}'"
        )

    @model_validator(mode="after")
    def _one_file(self) -> PoolEntry:
        if (self.script is None) == (self.audio is None):
            raise ValueError("each pool entry names one file: 'script: ...' or 'audio: ...'")
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        return {"anyOf": [{"type": "string", "description": "A script or audio file."}, schema]}

    @property
    def kind(self) -> str:
        return "script" if self.script is not None else "audio"

    @property
    def path(self) -> Path:
        found = self.script if self.script is not None else self.audio
        assert found is not None
        return found

    @property
    def is_pattern(self) -> bool:
        text = str(self.path)
        return any(ch in text for ch in _GLOB_CHARS)


class RotationItem(_Model):
    """Picks from a pool, a different pick each broadcast (see docs/schedule.md)."""

    kind: ClassVar[str] = "rotation"
    rotation: Annotated[
        list[PoolEntry], BeforeValidator(_listify), Field(min_length=1), _OneOrMany()
    ] = Field(description="The pool: files or patterns.")
    mode: Literal["round-robin", "shuffle", "weighted"] = Field(
        "round-robin", description="round-robin, shuffle (no repeats in a round) or weighted."
    )
    pick: Annotated[int, Field(ge=1, le=20)] = Field(
        1, description="How many items each broadcast airs."
    )


def _item_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((kind for kind in ITEM_KINDS if kind in value), None)
    return getattr(value, "kind", None)


Item = Annotated[
    Annotated[ScriptItem, Tag("script")]
    | Annotated[AudioItem, Tag("audio")]
    | Annotated[RotationItem, Tag("rotation")]
    | Annotated[RelayItem, Tag("relay")]
    | Annotated[ChimeItem, Tag("chime")]
    | Annotated[SilenceItem, Tag("silence")],
    Discriminator(
        _item_kind,
        custom_error_type="item_kind",
        custom_error_message="each item must start with script:, audio:, rotation:, relay:, "
                             "chime: or silence:",
    ),
]
FallbackItem = Annotated[
    Annotated[ScriptItem, Tag("script")]
    | Annotated[AudioItem, Tag("audio")]
    | Annotated[ChimeItem, Tag("chime")],
    Discriminator(
        _item_kind,
        custom_error_type="fallback_kind",
        custom_error_message="a fallback is one script:, audio: or chime: item",
    ),
]
AiredItem = ScriptItem | AudioItem | SilenceItem | ChimeItem | RelayItem
"""An item as a broadcast airs it: rotations already resolved to their picks."""


class DateSpan(_Model):
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
        return {"anyOf": [_DATE_SCHEMA, handler(core_schema)]}

    def days(self) -> Iterator[dt.date]:
        day = self.from_date
        while day <= self.to_date and (day - self.from_date).days <= _MAX_SPAN_DAYS:
            yield day
            day += dt.timedelta(days=1)


# --- programs and campaigns --------------------------------------------------------------------


def next_day(day: dt.date) -> dt.date:
    """The day after ``day`` (the last day the calendar knows stays itself)."""
    return day + dt.timedelta(days=1) if day < dt.date.max else day


def _week_table(weekdays: frozenset[int]) -> tuple[tuple[int, ...], ...]:
    """``table[start][n]``: how many of ``n`` days in a row from weekday ``start`` are
    ``weekdays`` (0 = Monday)."""
    return tuple(
        tuple(sum((start + i) % 7 in weekdays for i in range(n)) for n in range(7))
        for start in range(7)
    )


@dataclass(frozen=True, slots=True)
class AiringDays:
    """The days a program airs: its weekdays between two dates, less skip dates, plus extra
    dates. Plain data, so the planner can ask it many times cheaply."""

    weekdays: frozenset[int]
    first: dt.date | None
    last: dt.date | None
    skips: frozenset[dt.date]
    extras: frozenset[dt.date]
    rule_skips: tuple[dt.date, ...]
    off_rule_extras: tuple[dt.date, ...]
    week_table: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, weekdays: frozenset[int], first: dt.date | None, last: dt.date | None,
           skips: frozenset[dt.date], extras: frozenset[dt.date]) -> AiringDays:
        table = _week_table(weekdays)
        plain = cls(weekdays, first, last, skips, extras, (), (), table)
        return cls(
            weekdays, first, last, skips, extras,
            tuple(sorted(day for day in skips if plain.by_rule(day))),
            tuple(sorted(day for day in extras if day not in skips and not plain.by_rule(day))),
            table,
        )

    def by_rule(self, day: dt.date) -> bool:
        """Whether ``day`` is one of its weekdays inside its date range."""
        return (
            day.weekday() in self.weekdays
            and (self.first is None or day >= self.first)
            and (self.last is None or day <= self.last)
        )

    def airs_on(self, day: dt.date) -> bool:
        if day in self.skips:
            return False
        return day in self.extras or self.by_rule(day)

    def count(self, first: dt.date, stop: dt.date) -> int:
        """How many days in [first, stop) it airs, counted without walking the days."""
        if stop <= first:
            return 0
        low = max(first, self.first) if self.first else first
        high = min(stop, next_day(self.last)) if self.last else stop
        count = 0
        if low < high:
            skipped = bisect.bisect_left(self.rule_skips, high) - bisect.bisect_left(
                self.rule_skips, low)
            weeks, rest = divmod((high - low).days, 7)
            count = weeks * len(self.weekdays) + self.week_table[low.weekday()][rest] - skipped
        extras = self.off_rule_extras
        return count + bisect.bisect_left(extras, stop) - bisect.bisect_left(extras, first)

    def first_airing(self, first: dt.date, stop: dt.date) -> dt.date | None:
        """The first day in [first, stop) it airs, if any."""
        if self.count(first, stop) == 0:
            return None
        extras = self.off_rule_extras
        place = bisect.bisect_left(extras, first)
        extra = extras[place] if place < len(extras) and extras[place] < stop else None
        day = max(first, self.first) if self.first else first
        limit = min(stop, next_day(self.last)) if self.last else stop
        while day < limit and (extra is None or day < extra):
            if self.by_rule(day) and day not in self.skips:
                return day
            day = next_day(day)
        return extra

    def never(self) -> bool:
        """Whether there is no day at all it airs."""
        ranged_out = (
            self.first is not None and self.last is not None
            and self.count(self.first, next_day(self.last)) == 0
        )
        return (not self.weekdays or ranged_out) and not (self.extras - self.skips)


class Program(_Model):
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
    zones: Names = Field(["all"], description="Zones or groups that carry it.")
    priority: Literal["normal", "priority", "emergency"] = Field(
        "normal", description="normal, priority or emergency (interrupts, may air at night)."
    )
    max_length: Duration | None = Field(
        None, description="Longest it may run, e.g. 15m. Longer is an error."
    )
    items: Annotated[list[Item], Field(min_length=1)] = Field(description="What it airs, in order.")
    grace: Annotated[
        dt.timedelta,
        BeforeValidator(_grace_length),
        WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, _DURATION_STRING]}),
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


class Campaign(_Model):
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


# --- the schedule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolMember:
    """One file a rotation can pick, with its weight and the days it is in the pool."""

    key: str
    item: ScriptItem | AudioItem
    weight: int
    first: dt.date | None
    last: dt.date | None

    def in_pool_on(self, day: dt.date) -> bool:
        return (self.first is None or self.first <= day) and (
            self.last is None or day <= self.last)


class Schedule(_Model):
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
    source: SkipJsonSchema[Path] = Field(default=Path("schedule.yaml"), exclude=True)

    _zone_ids: dict[str, tuple[str, ...]] = PrivateAttr({})
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
    def base_dir(self) -> Path:
        return self.source.parent

    def resolve(self, path: Path) -> Path:
        """A path from the file, made absolute against the file's folder."""
        return path if path.is_absolute() else (self.base_dir / path)

    def zones_for(self, targets: list[str]) -> list[Zone]:
        """Zones named by id or group, in file order, each once."""
        wanted = set(targets)
        return [z for z in self.zones if z.id in wanted or wanted.intersection(z.groups)]

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

    def campaigns_for(self, program_id: str) -> tuple[Campaign, ...]:
        """Campaigns that add to the program, in file order."""
        return self._campaigns.get(program_id, ())

    def chime_file(self, name: str | None) -> Path | None:
        """The sound file of a chime (``None``: the default); ``None`` means the built-in one."""
        path = self.chimes.get(name or "default")
        return None if path is None else self.resolve(path)

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


# --- length estimates --------------------------------------------------------------------------


_script_words: dict[tuple[Path, int, int], tuple[int, int] | None] = {}
_audio_seconds: dict[tuple[Path, int, int], float | None] = {}


def _stamp(path: Path) -> tuple[Path, int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return path, status.st_mtime_ns, status.st_size


def _second_of_day(moment: dt.time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def say_length(seconds: float) -> str:
    """A length of time in plain words: '2 min 10 s', '15 min', '1 h 5 min'."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "",
             f"{secs} s" if secs and not hours else ""]
    return " ".join(p for p in parts if p) or "0 s"


class Estimator:
    """How long items and programs take to air, before anything is rendered.

    Scripts: spoken words (numbers read out) at ``tts.words_per_minute``, plus paragraph pauses.
    Audio: the file's duration. Chimes: their file, or :data:`DEFAULT_CHIME_S`. Relays and
    silences: their length. Between items the renderer pauses :data:`ITEM_PAUSE_S`.
    A file that cannot be read counts as zero (``broadcast check`` reports it).
    """

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self._pools: dict[int, tuple[PoolMember, ...]] = {}
        self._patterns: dict[Path, list[Path]] = {}
        self._known: dict[int, tuple[AiredItem, float]] = {}
        self._files: dict[tuple[str, Path], float] = {}

    def seconds(self, item: AiredItem) -> float:
        known = self._known.get(id(item))
        if known is None:
            known = self._known[id(item)] = (item, self._seconds(item))
        return known[1]

    def _seconds(self, item: AiredItem) -> float:
        if isinstance(item, ScriptItem | AudioItem):
            path = item.script if isinstance(item, ScriptItem) else item.audio
            found = self._files.get((item.kind, path))
            if found is None:
                where = self.schedule.resolve(path)
                found = self._script(where) if item.kind == "script" else self._audio(where)
                self._files[(item.kind, path)] = found
            return found
        if isinstance(item, SilenceItem):
            return item.silence
        if isinstance(item, RelayItem):
            return item.duration.total_seconds()
        chime = self.schedule.chime_file(item.chime)
        return DEFAULT_CHIME_S if chime is None else self._audio(chime)

    def total(self, items: Iterable[AiredItem]) -> float:
        """Length of a broadcast airing ``items`` in order, pauses included."""
        lengths = [self.seconds(item) for item in items]
        return sum(lengths) + ITEM_PAUSE_S * max(len(lengths) - 1, 0)

    @property
    def patterns(self) -> dict[Path, list[Path]]:
        """File patterns already looked up (shared with checks that look them up too)."""
        return self._patterns

    def pool(self, rotation: RotationItem) -> tuple[PoolMember, ...]:
        found = self._pools.get(id(rotation))
        if found is None:
            found = self._pools[id(rotation)] = self.schedule.pool(rotation, self._patterns)
        return found

    def longest(self, items: Iterable[Item]) -> tuple[float, int]:
        """The longest ``items`` can run (each rotation's longest picks) and how many they are."""
        seconds = 0.0
        count = 0
        for item in items:
            if isinstance(item, RotationItem):
                lengths = sorted((self.seconds(m.item) for m in self.pool(item)), reverse=True)
                seconds += sum(lengths[:item.pick])
                count += min(item.pick, len(lengths))
            else:
                seconds += self.seconds(item)
                count += 1
        return seconds, count

    def _script(self, path: Path) -> float:
        stamp = _stamp(path)
        if stamp is None:
            return 0.0
        if stamp not in _script_words:
            _script_words[stamp] = _count_words(path)
        counted = _script_words[stamp]
        if counted is None:
            return 0.0
        words, paragraphs = counted
        rate = self.schedule.tts.words_per_minute
        return words * 60.0 / rate + PARAGRAPH_PAUSE_S * max(paragraphs - 1, 0)

    @staticmethod
    def _audio(path: Path) -> float:
        stamp = _stamp(path)
        if stamp is None:
            return 0.0
        if stamp not in _audio_seconds:
            try:
                _audio_seconds[stamp] = probe(path)[0]
            except AudioError:
                _audio_seconds[stamp] = None
        return _audio_seconds[stamp] or 0.0


def _count_words(path: Path) -> tuple[int, int] | None:
    try:
        bulletin = load_bulletin(path)
        words = sum(len(to_spoken(p).split()) for p in bulletin.paragraphs)
    except (BroadcastError, ValueError):
        return None
    return words, len(bulletin.paragraphs)


# --- errors from the model, in plain words -----------------------------------------------------


_TYPE_WORDS = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list (lines starting with '- ')",
    "dict_type": "must be a block of 'name: value' lines",
    "model_type": "must be a block of 'name: value' lines",
    "model_attributes_type": "must be a block of 'name: value' lines",
    "path_type": "must be a file name",
    "too_short": "must not be empty",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
}
_TAGGED = {"script": ScriptItem, "audio": AudioItem, "rotation": RotationItem,
           "relay": RelayItem, "chime": ChimeItem, "silence": SilenceItem}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()):
        found.extend(m for m in _models_in(arg) if m not in found)
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and not getattr(annotation, "__args__", ()):
        found.extend(_models_in(origin))
    return found


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items() if name != "source"]


def _allowed_keys(where: tuple[str | int, ...]) -> list[str]:
    """Keys allowed in the block at ``where`` (a pydantic location, union tags included)."""
    models: list[type[BaseModel]] = [Schedule]
    for part in where:
        if isinstance(part, int):
            continue
        tagged = _TAGGED.get(part)
        if tagged is not None and tagged in models:
            models = [tagged]
            continue
        fields = {
            (info.alias or name): info for model in models
            for name, info in model.model_fields.items()
        }
        info = fields.get(part)
        if info is None:
            return []
        models = _models_in(info.annotation)
    return _keys(models[0]) if len(models) == 1 else []


def _without_union_tags(loc: tuple[str | int, ...]) -> YamlPath:
    """Drop the item-kind tag pydantic puts after an item's index: it is not in the file."""
    kept: list[str | int] = []
    for index, part in enumerate(loc):
        after_item = index >= 2 and loc[index - 2] == "items" and isinstance(loc[index - 1], int)
        if after_item and part in ITEM_KINDS:
            continue
        kept.append(part)
    return tuple(kept)


def _value_at(data: object, where: YamlPath) -> object:
    for part in where:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _explain(error: dict[str, Any], positions: Positions, data: object) -> BroadcastError:
    raw_loc = tuple(error["loc"])
    loc = _without_union_tags(raw_loc)
    kind = error["type"]
    name = loc[-1] if loc else "schedule"
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        allowed = _allowed_keys(raw_loc[:-1])
        guess = difflib.get_close_matches(str(name), allowed, n=1)
        hint = f" Did you mean '{guess[0]}'?" if guess else (
            f" Allowed here: {', '.join(allowed)}." if allowed else "")
        return BroadcastError(
            f"unknown setting '{name}'.{hint}", positions.location(loc, key=True)
        )
    if kind == "item_kind":
        return BroadcastError(_item_kind_message(_value_at(data, loc)), positions.location(loc))
    if kind in ("output_type", "fallback_kind"):
        return BroadcastError(f"{error['msg']}.", positions.location(loc))
    if kind == "missing":
        return BroadcastError(f"'{name}' is missing. Add a line '{name}: ...' here.",
                              positions.location(loc[:-1]))
    if kind == "literal_error":
        return BroadcastError(
            f"'{name}' must be one of {ctx.get('expected', '')}.", positions.location(loc))
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        return BroadcastError(f"{message}.", positions.location(loc))
    words = _TYPE_WORDS.get(kind)
    if words is None:
        words = error["msg"][0].lower() + error["msg"][1:]
    else:
        words = words.format(**{key: _plain(value) for key, value in ctx.items()})
    label = "this item" if isinstance(name, int) else f"'{name}'"
    return BroadcastError(f"{label} {words}.", positions.location(loc))


def _plain(value: object) -> str:
    if isinstance(value, dt.timedelta):
        return say_length(value.total_seconds())
    return str(value)


def _item_kind_message(value: object) -> str:
    kinds = f"{', '.join(ITEM_KINDS[:-1])} or {ITEM_KINDS[-1]}"
    if isinstance(value, dict) and value:
        first = str(next(iter(value)))
        guess = difflib.get_close_matches(first, ITEM_KINDS, n=1)
        hint = f" Did you mean '{guess[0]}'?" if guess else f" Use {kinds}."
        return f"'{first}' is not a kind of item.{hint}"
    if isinstance(value, str):
        kind = "audio" if Path(value).suffix.lower() in AUDIO_SUFFIXES else "script"
        return f"say what '{value}' is: write '{kind}: {value}'."
    return f"each item must start with {kinds}, then ':'."


# --- checks across the whole file --------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
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


class _Checker:
    """Checks that need the whole file: references, files, dates, lengths, overlaps."""

    def __init__(self, schedule: Schedule, positions: Positions, rows: _Rows) -> None:
        self.schedule = schedule
        self.positions = positions
        self.rows = rows
        self.estimate = Estimator(schedule)
        self.problems: list[BroadcastError] = []
        self.lengths: list[tuple[float, dt.date | None, tuple[str, ...]]] = []

    def fail(self, message: str, where: YamlPath, *, key: bool = False) -> None:
        self.problems.append(BroadcastError(message, self.positions.location(where, key=key)))

    def run(self) -> list[BroadcastError]:
        self.unique_ids()
        self.zone_references()
        for row, zone in zip(self.rows.zones, self.schedule.zones, strict=True):
            self.outputs(zone, ("zones", row))
        for name, path in self.schedule.chimes.items():
            self.exists("chime", path, ("chimes", name))
        for row, campaign in zip(self.rows.campaigns, self.schedule.campaigns, strict=True):
            self.campaign(campaign, ("campaigns", row))
        self.lengths = [self.longest(program) for program in self.schedule.programs]
        for index, program in enumerate(self.schedule.programs):
            where = ("programs", self.rows.programs[index])
            self.dates(program, where)
            self.items(program.items, (*where, "items"), [program])
            if program.fallback is not None:
                self.item(program.fallback, (*where, "fallback"), [program])
            self.length_and_quiet_hours(index, program, where)
        self.overlaps()
        return self.problems

    def unique_ids(self) -> None:
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
                elif (span.to_date - span.from_date).days > _MAX_SPAN_DAYS:
                    self.fail(f"this span is longer than {_MAX_SPAN_DAYS} days. Use the "
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

    def outputs(self, zone: Zone, where: YamlPath) -> None:
        for index, output in enumerate(zone.outputs):
            if not isinstance(output, IcecastOutput):
                continue
            if output.password_file is not None:
                self.exists("password", output.password_file,
                            (*where, "outputs", index, "password_file"))
            if output.idle is not None:
                self.exists("idle sound", output.idle, (*where, "outputs", index, "idle"))

    def exists(self, kind: str, path: Path, where: YamlPath) -> bool:
        if self.schedule.resolve(path).is_file():
            return True
        self.fail(f"{kind} file '{path}' does not exist. Check the name; paths are relative to "
                  f"{self.schedule.source.name}.", where)
        return False

    def chime(self, item: ChimeItem, where: YamlPath) -> None:
        name = item.chime
        if name is not None and name not in self.schedule.chimes:
            names = sorted(self.schedule.chimes)
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
            elif not self.schedule.matches(entry, self.estimate.patterns):
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
        members = self.estimate.pool(item)
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

    def longest(self, program: Program) -> tuple[float, dt.date | None, tuple[str, ...]]:
        """The longest the program can run, the first day it does, and the campaigns then."""
        seconds, count = self.estimate.longest(program.items)
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
            extra = [self.estimate.longest(c.items) for c in active]
            total_s = seconds + sum(s for s, _ in extra)
            total_n = count + sum(n for _, n in extra)
            length = total_s + ITEM_PAUSE_S * max(total_n - 1, 0)
            if length > best[0]:
                best = (length, day, tuple(c.id for c in active))
        return best

    def length_and_quiet_hours(self, index: int, program: Program, where: YamlPath) -> None:
        length, day, campaigns = self.lengths[index]
        limit = program.max_length
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
        start = _second_of_day(program.start)
        if any(start < last and first < start + length for first, last in quiet.spans()):
            self.fail(f"'{program.id}' starts at {program.start:%H:%M:%S} and runs about "
                      f"{say_length(length)}, into quiet hours {hours}. Start it earlier or "
                      "make it shorter.", (*where, "start"))

    def overlaps(self) -> None:
        programs = self.schedule.programs
        by_zone: dict[str, list[_Window]] = {}
        for index, program in enumerate(programs):
            start = _second_of_day(program.start)
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
            self.fail(
                f"'{first.id}' ({self._span(one)}) and '{second.id}' ({later}{self._span(two)}) "
                f"both air in {', '.join(zones)} at the same priority, {days}. Move one to "
                "another time, shorten it, or give them different zones.",
                ("programs", self.rows.programs[two], "start"))

    def _note(self, clashes: dict[tuple[int, int, int], list[str]], zone: str,
              first: _Window, second: _Window, shift: int) -> None:
        programs = self.schedule.programs
        if programs[first.program].priority != programs[second.program].priority:
            return
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


# --- loading -----------------------------------------------------------------------------------


def _split_valid(data: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``data`` without the list entries that failed, or None when the rest cannot stand."""
    broken: dict[str, set[int]] = {}
    for error in errors:
        loc = tuple(error["loc"])
        if len(loc) >= 2 and loc[0] in ("zones", "programs", "campaigns") and isinstance(
                loc[1], int):
            broken.setdefault(str(loc[0]), set()).add(loc[1])
        elif loc and (loc[0] in ("tts", "loudness", "chimes", "archive")
                      or (len(loc) == 1 and error["type"] == "extra_forbidden")):
            broken.setdefault(str(loc[0]), set())
        else:
            return None
    kept = dict(data)
    for section, rows in broken.items():
        if section not in ("zones", "programs", "campaigns"):
            kept.pop(section, None)
        else:
            kept[section] = [v for i, v in enumerate(data[section]) if i not in rows]
    return kept


def _rows(data: dict[str, Any], kept: dict[str, Any]) -> _Rows:
    def rows(section: str) -> list[int]:
        everything = data.get(section) or []
        remaining = kept.get(section) or []
        ids = [id(v) for v in remaining]
        return [i for i, v in enumerate(everything) if id(v) in ids]

    zone_names: set[str] = set()
    for zone in data.get("zones") or []:
        if not isinstance(zone, dict):
            continue
        zone_names.add(str(zone.get("id")))
        groups = zone.get("groups")
        if isinstance(groups, list):
            zone_names.update(str(group) for group in groups)
    program_ids = {
        str(p.get("id")) for p in data.get("programs") or [] if isinstance(p, dict)
    }
    return _Rows(rows("zones"), rows("programs"), rows("campaigns"),
                 frozenset(zone_names), frozenset(program_ids))


def _in_file_order(problems: list[BroadcastError]) -> list[BroadcastError]:
    unique: dict[str, BroadcastError] = {}
    for problem in problems:
        unique.setdefault(str(problem), problem)

    def place(problem: BroadcastError) -> tuple[int, int]:
        where = problem.location
        return (where.line or 0, where.column or 0) if where else (0, 0)

    return sorted(unique.values(), key=place)


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
    problems: list[BroadcastError] = []
    if "source" in data:
        problems.append(BroadcastError("unknown setting 'source'.",
                                       positions.location(("source",), key=True)))
        data = {k: v for k, v in data.items() if k != "source"}
    kept: dict[str, Any] | None = data
    try:
        schedule: Schedule | None = Schedule.model_validate({**data, "source": path})
    except ValidationError as exc:
        errors = [dict(error) for error in exc.errors()]
        problems.extend(_explain(error, positions, data) for error in errors)
        kept = _split_valid(data, errors)
        schedule = None
        if kept is not None:
            try:
                schedule = Schedule.model_validate({**kept, "source": path})
            except ValidationError:
                schedule = None
    if schedule is not None and kept is not None:
        problems.extend(_Checker(schedule, positions, _rows(data, kept)).run())
    if problems:
        raise ScheduleError(_in_file_order(problems))
    assert schedule is not None
    return schedule


def load_schedule(path: Path) -> Schedule:
    """Read and validate a schedule file."""
    return read_schedule(path)[0]


def read_schedule(path: Path) -> tuple[Schedule, str]:
    """Read and validate a schedule file; also return the exact text that was validated."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScheduleError([BroadcastError(
            "schedule file not found. Give its path with --schedule.", Location(path))]) from None
    except UnicodeDecodeError:
        raise ScheduleError([BroadcastError(
            "the file is not UTF-8 text. Save it as UTF-8 in your editor.",
            Location(path))]) from None
    return parse_schedule(text, path.resolve()), text


def schedule_json_schema() -> dict[str, Any]:
    """The JSON Schema of schedule.yaml, for editors (completion and error marks)."""
    schema = Schedule.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_FILE,
        **schema,
        "title": "broadcast schedule.yaml",
        "description": "A ward's loudspeaker broadcast schedule. See docs/schedule.md.",
    }
