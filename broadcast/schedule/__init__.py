"""schedule.yaml: the ward, its loudspeaker zones, its programs and the campaigns that add to them.

The file is validated as a whole: every problem is reported at once, each with file, line and
column, in plain words with what to do. Paths inside the file are relative to the file. Every
field is described in docs/schedule.md; ``broadcast schema`` prints the JSON Schema that gives
editors completion and error marks.

Checking how long programs run needs the items' lengths; :func:`validate_schedule` takes them
from an :class:`ItemLengths`, so this package reads no script or audio file itself.
"""

from __future__ import annotations

from broadcast.schedule.checks import ItemLengths
from broadcast.schedule.days import AiringDays, next_day
from broadcast.schedule.errors import ScheduleError, explain, in_file_order, value_problem
from broadcast.schedule.items import (
    AiredItem,
    AudioItem,
    ChimeItem,
    Item,
    PoolMember,
    RelayItem,
    RotationItem,
    ScriptItem,
    SilenceItem,
)
from broadcast.schedule.loading import schedule_text, validate_schedule
from broadcast.schedule.outputs import (
    OUTPUTS,
    SPEC_HELP,
    DeviceOutput,
    FileOutput,
    IcecastOutput,
    Output,
    OutputKind,
)
from broadcast.schedule.programs import Campaign, Program, Schedule
from broadcast.schedule.schema import schedule_json_schema
from broadcast.schedule.speech import (
    AUTO,
    ENGINE_CHOICES,
    ENGINES,
    EngineKind,
    EspeakSettings,
    GttsSettings,
    TtsSettings,
)
from broadcast.schedule.values import (
    AUDIO_SUFFIXES,
    DEFAULT_TIMEZONE,
    ITEM_PAUSE_S,
    PARAGRAPH_PAUSE_S,
    ROTATION_EPOCH,
    SCRIPT_SUFFIXES,
    parse_date,
    say_length,
)
from broadcast.schedule.ward import LoudnessSettings, Zone

__all__ = [
    "AUDIO_SUFFIXES",
    "AUTO",
    "DEFAULT_TIMEZONE",
    "ENGINES",
    "ENGINE_CHOICES",
    "ITEM_PAUSE_S",
    "OUTPUTS",
    "PARAGRAPH_PAUSE_S",
    "ROTATION_EPOCH",
    "SCRIPT_SUFFIXES",
    "SPEC_HELP",
    "AiredItem",
    "AiringDays",
    "AudioItem",
    "Campaign",
    "ChimeItem",
    "DeviceOutput",
    "EngineKind",
    "EspeakSettings",
    "FileOutput",
    "GttsSettings",
    "IcecastOutput",
    "Item",
    "ItemLengths",
    "LoudnessSettings",
    "Output",
    "OutputKind",
    "PoolMember",
    "Program",
    "RelayItem",
    "RotationItem",
    "Schedule",
    "ScheduleError",
    "ScriptItem",
    "SilenceItem",
    "TtsSettings",
    "Zone",
    "explain",
    "in_file_order",
    "next_day",
    "parse_date",
    "say_length",
    "schedule_json_schema",
    "schedule_text",
    "validate_schedule",
    "value_problem",
]
