"""schedule.yaml: the ward and its settings, its loudspeaker zones and where their sound goes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    Field,
    field_validator,
)

from broadcast.schedule.outputs import OUTPUTS, DeviceOutput, Output, or_list
from broadcast.schedule.values import (
    DEFAULT_TIMEZONE,
    Clock,
    Model,
    Slug,
    as_seconds,
    second_of_day,
)


class QuietHours(Model):
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
        first = second_of_day(self.start)
        last = second_of_day(self.end)
        if last < first:
            last += 86400
        return [(first + shift, last + shift) for shift in (-86400, 0, 86400)]


class Ward(Model):
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


class LoudnessSettings(Model):
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


class Hooks(Model):
    """Commands run around each broadcast of a zone, e.g. to switch its amplifier on and off."""

    before: str | None = Field(None, description="Command run before the broadcast starts.")
    before_lead: Annotated[float, BeforeValidator(as_seconds), Field(ge=0, le=60)] = Field(
        3.0, description="How long before the start the 'before' command runs (e.g. 3s)."
    )
    after: str | None = Field(None, description="Command run after the broadcast ends.")
    after_delay: Annotated[float, BeforeValidator(as_seconds), Field(ge=0, le=600)] = Field(
        10.0, description="How long after the end the 'after' command runs (e.g. 10s)."
    )
    timeout: Annotated[float, BeforeValidator(as_seconds), Field(gt=0, le=120)] = Field(
        10.0, description="Longest a command may run before it is stopped (e.g. 10s)."
    )


class ArchiveSettings(Model):
    """Where every aired program is kept, with what aired, when and where."""

    enabled: bool = Field(True, description="Keep a copy of every aired program.")
    folder: Path = Field(Path("archive"), description="Folder, relative to this file.")
    keep_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        90, description="Days a copy is kept before it is deleted."
    )


EVERY_ZONE = "all"
"""The group every zone is in, without saying so."""


class Zone(Model):
    """A loudspeaker cluster (cụm loa)."""

    id: Slug = Field(description="Short name used in programs, e.g. khu-pho-1.")
    name: str = Field(description="The zone's full name.")
    groups: list[str] = Field([], description="Groups the zone belongs to, e.g. [khu-a] (every "
                                              "zone is in the group all).")
    outputs: Annotated[list[Output], Field(min_length=1)] = Field(
        [DeviceOutput()],
        description=f"Where the zone's sound goes: {or_list(list(OUTPUTS))}.",
    )
    hooks: Hooks = Field(Hooks(), description="Commands run before and after each broadcast.")
    gain_db: Annotated[float, Field(ge=-20, le=20)] = Field(
        0.0, description="Volume change for this zone only, in dB."
    )
    target_lufs: Annotated[float, Field(ge=-31, le=-10)] | None = Field(
        None, description="Loudness target for this zone, instead of loudness.target_lufs."
    )
