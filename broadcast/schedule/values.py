"""Values operators write in schedule.yaml: times, lengths, dates, days of the week, ids.

Each comes with the type that reads it in the models and the JSON Schema editors check it with.
"""

from __future__ import annotations

import datetime as dt
import pkgutil
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ITEM_KINDS = ("script", "audio", "rotation", "relay", "chime", "silence")
SCRIPT_SUFFIXES = (".md", ".txt")
BUILT_IN_CHIMES = ("default", "alert")
"""Chimes every ward has without naming a file: the opening chime and the emergency alert tone
(a file under these names in 'chimes:' replaces them)."""
AUDIO_SUFFIXES = (".mp3", ".wav", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac")

WORDS_PER_MINUTE = 150
"""Default speaking rate of the Vietnamese voices, used to estimate a script's length."""
PARAGRAPH_PAUSE_S = 0.7
"""The pause the renderer puts between a script's paragraphs."""
ITEM_PAUSE_S = 1.2
"""The pause the renderer puts between a program's items."""

ROTATION_EPOCH = dt.date(2000, 1, 1)
"""Where a program's own rotations start counting (a campaign's count starts on its first day)."""

MAX_SPAN_DAYS = 400
"""The most days a span of skip or extra dates may cover."""
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
_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_CLOCK_RE = re.compile(r"(\d{1,2})(?::|h)(\d{2})(?::(\d{2}))?")
_DURATION_RE = re.compile(
    r"(?:(\d+)(?:h|giờ))?(?:(\d+)(?:m|min|phút))?(?:(\d+(?:\.\d+)?)(?:s|giây))?"
)


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


def grace_length(value: object) -> dt.timedelta:
    length = dt.timedelta(0) if value == 0 else parse_duration(value)
    if not dt.timedelta(0) <= length <= dt.timedelta(hours=12):
        raise ValueError("grace is between 0 and 12h, e.g. 10m")
    return length


def as_seconds(value: object) -> object:
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


def listify(value: object) -> object:
    return [value] if isinstance(value, str) else value


def _slug(value: str) -> str:
    if not _ID_RE.fullmatch(value):
        raise ValueError(
            f"'{value.encode('unicode_escape').decode()}' cannot be an id: use lowercase "
            "letters, digits and '-', e.g. khu-pho-1"
        )
    return value


class OneOrMany:
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
DURATION_STRING_SCHEMA = {
    "type": "string",
    "pattern": (
        r"^\s*(?=.*\d)(\d+\s*(h|giờ))?\s*(\d+\s*(m|min|phút))?\s*"
        r"(\d+(\.\d+)?\s*(s|giây))?\s*$"
    ),
    "examples": ["15m", "90s", "1h30m"],
}
DATE_SCHEMA = {
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
        "anyOf": [{"type": "number", "exclusiveMinimum": 0}, DURATION_STRING_SCHEMA],
        "description": "A length of time: seconds as a number, or e.g. 15m, 90s, 1h30m.",
    }),
]
Date = Annotated[dt.date, BeforeValidator(parse_date), WithJsonSchema(DATE_SCHEMA)]
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
Names = Annotated[list[str], BeforeValidator(listify), OneOrMany()]


class Model(BaseModel):
    """A block of schedule.yaml: unknown settings are errors; values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def second_of_day(moment: dt.time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def say_length(seconds: float) -> str:
    """A length of time in plain words: '2 min 10 s', '15 min', '1 h 5 min'."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "",
             f"{secs} s" if secs and not hours else ""]
    return " ".join(p for p in parts if p) or "0 s"


@dataclass(frozen=True)
class Kind:
    """One kind of speech engine or output a ward can name in schedule.yaml.

    ``settings`` is the block that configures it; ``implementation`` names the class that does the
    work (``package.module:Class``). That class is imported only when one is built, so reading
    schedule.yaml loads no audio or speech code.
    """

    settings: type[Model]
    implementation: str

    def load(self) -> Any:
        return pkgutil.resolve_name(self.implementation)
