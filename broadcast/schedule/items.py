"""schedule.yaml: the items a program airs (scripts, audio, rotations, relays, chimes,
silences) and the files a rotation picks from."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    Tag,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from broadcast.schedule.values import (
    AUDIO_SUFFIXES,
    DURATION_STRING_SCHEMA,
    ITEM_KINDS,
    SCRIPT_SUFFIXES,
    Date,
    Duration,
    Model,
    OneOrMany,
    as_seconds,
    listify,
)

_URL_RE = re.compile(r"https?://\S+", re.IGNORECASE)
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_GLOB_CHARS = frozenset("*?[")


def stream_url(value: str) -> str:
    """A stream's full address: http or https (Icecast, or an HLS playlist)."""
    if not _URL_RE.fullmatch(value.strip()):
        raise ValueError(
            f"'{value}' is not a stream address. Write the full address, e.g. "
            "https://example.vn/live.mp3"
        )
    return value.strip()


def _source(value: str) -> str:
    """A relay source: its name in relay_sources, or its address."""
    text = value.strip()
    if _URL_RE.fullmatch(text) or _NAME_RE.fullmatch(text):
        return text
    raise ValueError(f"'{value}' is neither a source's name from relay_sources (e.g. vov1) nor "
                     "a stream address (e.g. https://example.vn/live.mp3)")


class ScriptItem(Model):
    """An approved bulletin script, read by the TTS voice."""

    kind: ClassVar[str] = "script"
    script: Path = Field(description="The script file (.md), relative to this file.")


class AudioItem(Model):
    """A recorded audio file, played as it is (brought to the loudness target)."""

    kind: ClassVar[str] = "audio"
    audio: Path = Field(description="The audio file, relative to this file.")


class SilenceItem(Model):
    """A pause."""

    kind: ClassVar[str] = "silence"
    silence: Annotated[
        float,
        BeforeValidator(as_seconds),
        Field(gt=0, le=600),
        WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 600},
                                  DURATION_STRING_SCHEMA]}),
    ] = Field(description="Seconds of silence (or a length such as 5s).")


class ChimeItem(Model):
    """A chime: the ward's default one (empty value) or one named in ``chimes``."""

    kind: ClassVar[str] = "chime"
    chime: str | None = Field(None, description="Name of a chime in 'chimes:', or empty.")


def _item_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((kind for kind in ITEM_KINDS if kind in value), None)
    return getattr(value, "kind", None)


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
class RelayItem(Model):
    """A live relay (tiếp âm) of a radio stream, e.g. national or provincial news."""

    kind: ClassVar[str] = "relay"
    relay: Annotated[str, AfterValidator(_source)] = Field(
        description="The stream: a source's name from relay_sources (e.g. vov1), or its address."
    )
    duration: Annotated[Duration, Field(le=dt.timedelta(hours=4))] = Field(
        description="How long to relay, e.g. 15m."
    )
    fallback: FallbackItem | None = Field(
        None, description="What airs while the stream is dead or silent: a recording or a "
                          "script (silence when none)."
    )


class PoolEntry(Model):
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


class RotationItem(Model):
    """Picks from a pool, a different pick each broadcast (see docs/schedule.md)."""

    kind: ClassVar[str] = "rotation"
    rotation: Annotated[
        list[PoolEntry], BeforeValidator(listify), Field(min_length=1), OneOrMany()
    ] = Field(description="The pool: files or patterns.")
    mode: Literal["round-robin", "shuffle", "weighted"] = Field(
        "round-robin", description="round-robin, shuffle (no repeats in a round) or weighted."
    )
    pick: Annotated[int, Field(ge=1, le=20)] = Field(
        1, description="How many items each broadcast airs."
    )


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
AiredItem = ScriptItem | AudioItem | SilenceItem | ChimeItem | RelayItem
"""An item as a broadcast airs it: rotations already resolved to their picks."""


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
