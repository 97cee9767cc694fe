"""Outputs: where a zone's sound goes (sound card, Icecast mount, WAV folder), and the archive.

Which kinds of output there are is :data:`broadcast.schedule.OUTPUTS`; each names its class here.
"""

from __future__ import annotations

from pathlib import Path

from broadcast.outputs.base import Output, OutputError, UnusableOutput
from broadcast.schedule import OUTPUTS, SPEC_HELP
from broadcast.schedule.outputs import OutputSettings


def build_output(settings: OutputSettings, base_dir: Path) -> Output:
    """The output a zone's schedule entry describes (paths relative to ``base_dir``).

    Settings that cannot be used (a missing password, say) give an output on which every
    airing fails with the reason, so the zone's other outputs still air.
    """
    try:
        output: Output = OUTPUTS[settings.type].load().from_settings(settings, base_dir)
    except OutputError as exc:
        return UnusableOutput(settings.describe(), str(exc))
    return output


def parse_output_spec(spec: str) -> Output:
    """An output named on the command line, e.g. ``device:SINK``, ``file:out/`` or an
    ``icecast://`` address."""
    kind = OUTPUTS.get(spec.partition(":")[0])
    if kind is None:
        raise OutputError(f"'{spec}' is not an output. Write {SPEC_HELP}.")
    output: Output = kind.load().from_spec(spec)
    return output


__all__ = ["SPEC_HELP", "Output", "OutputError", "build_output", "parse_output_spec"]
