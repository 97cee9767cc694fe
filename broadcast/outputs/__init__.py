"""Outputs: where a zone's sound goes (sound card, Icecast mount, WAV folder), and the archive."""

from __future__ import annotations

from pathlib import Path

from broadcast import config
from broadcast.outputs.base import Output, OutputError
from broadcast.outputs.device import SoundCard
from broadcast.outputs.file import WavFolder

SPEC_HELP = "device, device:SINK, file:FOLDER or icecast://USER:PASSWORD@HOST:PORT/MOUNT"


def build_output(output: config.Output, base_dir: Path) -> Output:
    """The output a zone's schedule entry describes (paths relative to ``base_dir``)."""
    if isinstance(output, config.FileOutput):
        folder = output.folder if output.folder.is_absolute() else base_dir / output.folder
        return WavFolder(folder)
    return SoundCard(output.sink)


def parse_output_spec(spec: str) -> Output:
    """An output named on the command line, e.g. ``device:SINK`` or ``file:out/``."""
    kind, _, rest = spec.partition(":")
    if kind == "device":
        return SoundCard(rest or None)
    if kind == "file" and rest:
        return WavFolder(Path(rest))
    raise OutputError(f"'{spec}' is not an output. Write {SPEC_HELP}.")
