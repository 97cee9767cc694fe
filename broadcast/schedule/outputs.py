"""schedule.yaml: where a zone's sound goes, and the kinds of output a ward can choose.

:data:`OUTPUTS` is the one list of output kinds. Each has its settings block (an entry of a
zone's ``outputs``, picked by ``type``) and the class in :mod:`broadcast.outputs` that plays; the
``outputs`` entries, their error messages, the command line's ``--output`` and the outputs
themselves are all built from it. Adding an output is a module in ``broadcast/outputs/`` whose
class has ``from_settings(settings, base_dir)`` and ``from_spec(spec)``, a settings model here,
and one line in :data:`OUTPUTS`.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from broadcast.schedule.values import Kind, Model

_ICECAST_RE = re.compile(r"[A-Za-z0-9.-]+:\d{1,5}/[A-Za-z0-9._/-]+")


class OutputSettings(Model):
    """What every kind of output's block has."""

    type: str

    def files(self) -> list[tuple[str, str, Path]]:
        """The files this output reads: (setting, what it is, path relative to the schedule)."""
        return []

    def describe(self) -> str:
        """The output's name in logs and on the as-run log, as its ``describe()`` says it."""
        return self.type


class DeviceOutput(OutputSettings):
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


class IcecastOutput(OutputSettings):
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

    def describe(self) -> str:
        return f"icecast {self.mount}"

    def files(self) -> list[tuple[str, str, Path]]:
        named = [("password_file", "password", self.password_file),
                 ("idle", "idle sound", self.idle)]
        return [(setting, what, path) for setting, what, path in named if path is not None]


class FileOutput(OutputSettings):
    """Each airing written to a WAV file in a folder, in real time (a line-out you can check)."""

    type: Literal["file"] = Field(description="Where the zone's sound goes.")
    folder: Path = Field(description="Folder for the files, relative to this file.")


@dataclass(frozen=True)
class OutputKind(Kind):
    """A kind of output; ``spec`` is how the command line names one."""

    spec: str = ""


OUTPUTS = MappingProxyType({
    "device": OutputKind(DeviceOutput, "broadcast.outputs.device:SoundCard",
                         spec="device, device:SINK"),
    "icecast": OutputKind(IcecastOutput, "broadcast.outputs.icecast:IcecastMount",
                          spec="icecast://USER:PASSWORD@HOST:PORT/MOUNT"),
    "file": OutputKind(FileOutput, "broadcast.outputs.file:WavFolder", spec="file:FOLDER"),
})
DEFAULT_OUTPUT = "device"
"""The type of an ``outputs`` entry that does not say."""


def or_list(words: list[str]) -> str:
    return f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else words[0]


def _output_type(value: Any) -> str | None:
    if isinstance(value, dict):
        kind = value.get("type", DEFAULT_OUTPUT)
        return kind if kind in OUTPUTS else None
    return getattr(value, "type", None)


Output = Annotated[
    functools.reduce(
        operator.or_, [Annotated[kind.settings, Tag(name)] for name, kind in OUTPUTS.items()]
    ),
    Discriminator(
        _output_type,
        custom_error_type="output_type",
        custom_error_message=f"an output's type is {or_list(list(OUTPUTS))}",
    ),
]
SPEC_HELP = or_list(sorted(kind.spec for kind in OUTPUTS.values()))
"""How outputs are named on the command line."""
