"""Measurement: what an audio file is (probe) and how loud it is (ffmpeg's EBU R 128 meter)."""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from broadcast.audio.ffmpeg import AudioError, require_ffmpeg, run_ffmpeg

SILENCE_LUFS = -70.0
"""What the meter reports for audio with nothing above its gate."""


@dataclass(frozen=True)
class AudioFigures:
    """What a meter says about a piece of audio."""

    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    loudness_range_lu: float
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class MeterLog:
    """A meter's readings every 100 ms that are above its absolute gate, in LUFS.

    ``momentary`` readings (400 ms) are what integrated loudness gates; ``short_term`` ones (3 s)
    are what the loudness range comes from. For pieces played one after another with silence
    between them, the pieces' readings together are the readings of the whole.
    """

    momentary: tuple[float, ...]
    short_term: tuple[float, ...]


_SUMMARY_RE = {
    "i": re.compile(r"^\s*I:\s+(-?[\d.]+|-inf) LUFS", re.MULTILINE),
    "lra": re.compile(r"^\s*LRA:\s+(-?[\d.]+) LU", re.MULTILINE),
    "tp": re.compile(r"^\s*Peak:\s+(-?[\d.]+|-inf) dBFS", re.MULTILINE),
}


def parse_ebur128(stderr: str, peak: bool = True) -> tuple[float, float, float]:
    """Integrated loudness, true peak (-inf unless ``peak``) and range from ebur128's summary."""
    summary = stderr[stderr.rfind("Summary:") :] if "Summary:" in stderr else stderr
    values: dict[str, float] = {"tp": -math.inf}
    for key, pattern in _SUMMARY_RE.items():
        if key == "tp" and not peak:
            continue
        match = pattern.search(summary)
        if match is None:
            raise AudioError("the loudness meter gave no reading for this audio.")
        text = match.group(1)
        values[key] = -math.inf if text == "-inf" else float(text)
    return values["i"], values["tp"], values["lra"]


def meter(
    source: Path | str, filters: Sequence[str], peak: bool = True
) -> tuple[float, float, float]:
    """Integrated loudness, true peak and loudness range of ``source`` after ``filters``.

    ``source`` is a file, or (as text) an ffmpeg lavfi source such as ``anoisesrc=d=6``.
    """
    inputs = ["-i", str(source)] if isinstance(source, Path) else ["-f", "lavfi", "-i", source]
    ebur128 = "ebur128=peak=true:framelog=verbose" if peak else "ebur128=framelog=verbose"
    chain = ",".join([*filters, ebur128])
    stderr = run_ffmpeg([*inputs, "-af", chain, "-f", "null", "-"], "measure audio")
    return parse_ebur128(stderr, peak=peak)


SOUND_FORMATS = frozenset({"mp3", "wav", "flac", "ogg", "aac", "mov,mp4,m4a,3gp,3g2,mj2"})
"""What a recording may be, as ffprobe names the format. Never a playlist or a list of other
files (hls, concat), which would air whatever they point to, outside any approval."""


def probe(path: Path) -> tuple[float, int, int]:
    """Duration in seconds, sample rate and channel count of an audio file, which must be one
    of the :data:`SOUND_FORMATS` (read only as those)."""
    require_ffmpeg()
    result = subprocess.run(
        [
            "ffprobe", "-v", "error", "-format_whitelist", ",".join(sorted(_DEMUXERS)),
            "-select_streams", "a:0",
            "-show_entries", "stream=sample_rate,channels:format=duration,format_name",
            "-of", "default=noprint_wrappers=1", str(path),
        ],
        capture_output=True, text=True, check=False,
    )
    fields = dict(
        line.split("=", 1) for line in result.stdout.splitlines() if "=" in line
    )
    if (result.returncode != 0 or "sample_rate" not in fields
            or fields.get("format_name") not in SOUND_FORMATS):
        raise AudioError(f"'{path}' is not an audio file ffmpeg can read.")
    try:
        duration = float(fields.get("duration", "0") or 0)
    except ValueError:
        duration = 0.0
    return duration, int(fields["sample_rate"]), int(fields["channels"])


_DEMUXERS = frozenset({"mp3", "wav", "flac", "ogg", "aac", "mov"})
"""The ffmpeg demuxers behind :data:`SOUND_FORMATS`."""


def measure(path: Path) -> AudioFigures:
    """Duration, integrated loudness, true peak, loudness range, sample rate and channels."""
    duration, rate, channels = probe(path)
    integrated, peak, lra = meter(path, [])
    return AudioFigures(
        duration_s=round(duration, 3),
        integrated_lufs=integrated,
        true_peak_dbtp=peak,
        loudness_range_lu=lra,
        sample_rate=rate,
        channels=channels,
    )
