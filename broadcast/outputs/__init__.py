"""Outputs: where a zone's sound goes (sound card, Icecast mount, WAV folder), and the archive."""

from __future__ import annotations

from pathlib import Path

from broadcast import config
from broadcast.outputs.base import Output, OutputError, Sink
from broadcast.outputs.device import SoundCard
from broadcast.outputs.file import WavFolder
from broadcast.outputs.icecast import IcecastMount

SPEC_HELP = "device, device:SINK, file:FOLDER or icecast://USER:PASSWORD@HOST:PORT/MOUNT"


class UnusableOutput:
    """An output whose settings cannot be used (a missing password, say).

    Every airing on it fails with the reason, so the zone's other outputs still air and the
    as-run log says why this one did not.
    """

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem

    def describe(self) -> str:
        return self.name

    def open(self, label: str) -> Sink:
        raise OutputError(self.problem)

    def close(self) -> None:
        """Nothing is held."""


def build_output(output: config.Output, base_dir: Path) -> Output:
    """The output a zone's schedule entry describes (paths relative to ``base_dir``)."""
    if isinstance(output, config.FileOutput):
        folder = output.folder if output.folder.is_absolute() else base_dir / output.folder
        return WavFolder(folder)
    if isinstance(output, config.IcecastOutput):
        try:
            return IcecastMount.from_config(output, base_dir)
        except OutputError as exc:
            return UnusableOutput(f"icecast {output.mount}", str(exc))
    return SoundCard(output.sink)


def parse_output_spec(spec: str) -> Output:
    """An output named on the command line, e.g. ``device:SINK``, ``file:out/`` or an
    ``icecast://`` address."""
    if spec.startswith("icecast://"):
        return IcecastMount.from_url(spec)
    kind, _, rest = spec.partition(":")
    if kind == "device":
        return SoundCard(rest or None)
    if kind == "file" and rest:
        return WavFolder(Path(rest))
    raise OutputError(f"'{spec}' is not an output. Write {SPEC_HELP}.")
