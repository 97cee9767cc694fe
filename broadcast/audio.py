"""Audio: measurement, speech processing for horn loudspeakers, loudness mastering, assembly.

ffmpeg's filters do the signal work; this module chooses them, runs them and checks the result.
Loudness is handled by measuring, applying one gain and limiting peaks, then measuring again and
correcting the small loss the limiter causes. That keeps the gain linear (no pumping), lands within
a few tenths of an LU of the target, and never lets ffmpeg's loudnorm fall back to its dynamic mode
or resample to 192 kHz behind our back.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from broadcast.errors import BroadcastError
from broadcast.fileio import atomic_path

SILENCE_LUFS = -70.0
"""What the meter reports for audio with nothing above its gate."""

_LIMITER_MARGIN_DB = 1.0
"""Sample-peak limit sits this far under the true-peak ceiling: room for inter-sample peaks and
for the MP3 encoder's overshoot."""


_MAX_GAIN_STEPS = 4
_GAIN_TOLERANCE_LU = 0.2


class AudioError(BroadcastError):
    """ffmpeg is missing, failed, or the audio is not usable."""


@dataclass(frozen=True)
class LoudnessTarget:
    """Where finished audio must land (EBU R 128 style figures)."""

    integrated_lufs: float = -16.0
    true_peak_dbtp: float = -1.5
    loudness_range_lu: float = 7.0


@dataclass(frozen=True)
class OutputFormat:
    """How finished audio is encoded."""

    codec: Literal["mp3", "wav", "flac"] = "mp3"
    sample_rate: int = 48000
    channels: int = 1
    bitrate_kbps: int = 96

    @classmethod
    def for_path(cls, path: Path, **overrides: int) -> OutputFormat:
        """The default format for a file name's extension (.mp3, .wav or .flac)."""
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in ("mp3", "wav", "flac"):
            raise AudioError(
                f"cannot write '{path.name}': use a file name ending in .mp3, .wav or .flac."
            )
        return cls(codec=suffix, **overrides)  # type: ignore[arg-type]

    def ffmpeg_args(self) -> list[str]:
        args = ["-ar", str(self.sample_rate), "-ac", str(self.channels)]
        if self.codec == "mp3":
            return [*args, "-c:a", "libmp3lame", "-b:a", f"{self.bitrate_kbps}k", "-f", "mp3"]
        if self.codec == "flac":
            return [*args, "-c:a", "flac", "-f", "flac"]
        return [*args, "-c:a", "pcm_s16le", "-f", "wav"]


@dataclass(frozen=True)
class AudioFigures:
    """What a meter says about a piece of audio."""

    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    loudness_range_lu: float
    sample_rate: int
    channels: int

    @property
    def is_silent(self) -> bool:
        return self.integrated_lufs <= SILENCE_LUFS


@dataclass(frozen=True)
class SpeechProcessing:
    """Filters applied to speech before mastering: cut rumble horns cannot play, even out level.

    The compressor works on speech first brought to ``reference_lufs``, so it acts the same on a
    quiet engine and a loud one.
    """

    highpass_hz: float = 150.0
    compress: bool = True
    reference_lufs: float = -20.0

    def filters(self) -> list[str]:
        return [f"highpass=f={self.highpass_hz:g}:poles=2"]

    def dynamics(self, pre_gain_db: float) -> list[str]:
        if not self.compress:
            return []
        return [
            f"volume={pre_gain_db:.2f}dB",
            "acompressor=threshold=-18dB:ratio=3:attack=5:release=100:knee=6",
        ]


def require_ffmpeg() -> None:
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            raise AudioError(f"{tool} is not installed. Run 'make run' once, or install ffmpeg.")


def _run_ffmpeg(args: Sequence[str], what: str) -> str:
    require_ffmpeg()
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-v", "info", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-3:])
        raise AudioError(f"ffmpeg could not {what}: {tail}")
    return result.stderr


_SUMMARY_RE = {
    "i": re.compile(r"^\s*I:\s+(-?[\d.]+|-inf) LUFS", re.MULTILINE),
    "lra": re.compile(r"^\s*LRA:\s+(-?[\d.]+) LU", re.MULTILINE),
    "tp": re.compile(r"^\s*Peak:\s+(-?[\d.]+|-inf) dBFS", re.MULTILINE),
}


def _parse_ebur128(stderr: str) -> tuple[float, float, float]:
    summary = stderr[stderr.rfind("Summary:") :]
    values: dict[str, float] = {}
    for key, pattern in _SUMMARY_RE.items():
        match = pattern.search(summary)
        if match is None:
            raise AudioError("the loudness meter gave no reading for this audio.")
        text = match.group(1)
        values[key] = -math.inf if text == "-inf" else float(text)
    return values["i"], values["tp"], values["lra"]


def _meter(source: Path, filters: Sequence[str]) -> tuple[float, float, float]:
    """Integrated loudness, true peak and loudness range of ``source`` after ``filters``."""
    chain = ",".join([*filters, "ebur128=peak=true:framelog=verbose"])
    stderr = _run_ffmpeg(["-i", str(source), "-af", chain, "-f", "null", "-"], "measure audio")
    return _parse_ebur128(stderr)


def probe(path: Path) -> tuple[float, int, int]:
    """Duration in seconds, sample rate and channel count of an audio file."""
    require_ffmpeg()
    result = subprocess.run(
        [
            "ffprobe", "-v", "error", "-select_streams", "a:0",
            "-show_entries", "stream=sample_rate,channels:format=duration",
            "-of", "default=noprint_wrappers=1", str(path),
        ],
        capture_output=True, text=True, check=False,
    )
    fields = dict(
        line.split("=", 1) for line in result.stdout.splitlines() if "=" in line
    )
    if result.returncode != 0 or "sample_rate" not in fields:
        raise AudioError(f"'{path}' is not an audio file ffmpeg can read.")
    duration = float(fields.get("duration", "0") or 0)
    return duration, int(fields["sample_rate"]), int(fields["channels"])


def measure(path: Path) -> AudioFigures:
    """Duration, integrated loudness, true peak, loudness range, sample rate and channels."""
    duration, rate, channels = probe(path)
    integrated, peak, lra = _meter(path, [])
    return AudioFigures(
        duration_s=round(duration, 3),
        integrated_lufs=integrated,
        true_peak_dbtp=peak,
        loudness_range_lu=lra,
        sample_rate=rate,
        channels=channels,
    )


def master(
    source: Path,
    out: Path,
    target: LoudnessTarget,
    fmt: OutputFormat,
    processing: SpeechProcessing | None = None,
) -> AudioFigures:
    """Process ``source`` and write it to ``out`` at the target loudness; return its figures.

    ``processing`` None means the source is not speech (a chime, a recorded item): only gain and
    peak limiting are applied.
    """
    pre = processing.filters() if processing is not None else []
    integrated, _, _ = _meter(source, pre)
    if integrated <= SILENCE_LUFS:
        raise AudioError(f"'{source.name}' is silent: there is nothing to make louder.")
    if processing is not None and processing.compress:
        pre += processing.dynamics(processing.reference_lufs - integrated)
        integrated, _, _ = _meter(source, pre)
    limit_db = target.true_peak_dbtp - _LIMITER_MARGIN_DB

    def chain(gain_db: float) -> list[str]:
        return [
            *pre,
            f"aresample={fmt.sample_rate}",
            f"volume={gain_db:.2f}dB",
            f"alimiter=limit={limit_db:.2f}dB:level=false:attack=3:release=80:latency=true",
        ]

    # The limiter takes a little loudness away, more the harder it works: measure and correct
    # until the result sits within a fifth of an LU of the target.
    gain = target.integrated_lufs - integrated
    for _ in range(_MAX_GAIN_STEPS):
        limited, _, _ = _meter(source, chain(gain))
        error = target.integrated_lufs - limited
        gain += error
        if abs(error) <= _GAIN_TOLERANCE_LU:
            break
    def encode(gain_db: float) -> AudioFigures:
        with atomic_path(out) as tmp:
            _run_ffmpeg(
                ["-y", "-i", str(source), "-af", ",".join(chain(gain_db)), *fmt.ffmpeg_args(),
                 str(tmp)],
                "process and encode audio",
            )
        return measure(out)

    # Lossy encoding can shift loudness a little more (MP3 drops the top octave): check the
    # encoded file itself and, if it drifted, encode once more with the difference corrected.
    figures = encode(gain)
    drift = target.integrated_lufs - figures.integrated_lufs
    if abs(drift) > _GAIN_TOLERANCE_LU:
        figures = encode(gain + drift)
    return figures


def concatenate(
    parts: Sequence[Path | float], out: Path, fmt: OutputFormat
) -> AudioFigures:
    """Join audio files and pauses (seconds, as floats) into ``out`` in one streaming pass.

    Memory use does not grow with program length: ffmpeg reads each part in turn.
    """
    if not parts:
        raise AudioError("nothing to join: the program has no items.")
    inputs: list[str] = []
    labels: list[str] = []
    filters: list[str] = []
    layout = "mono" if fmt.channels == 1 else "stereo"
    for index, part in enumerate(parts):
        if isinstance(part, Path):
            inputs += ["-i", str(part)]
        else:
            inputs += [
                "-f", "lavfi", "-t", f"{part:.3f}",
                "-i", f"anullsrc=r={fmt.sample_rate}:cl={layout}",
            ]
        filters.append(
            f"[{index}:a]aresample={fmt.sample_rate},"
            f"aformat=sample_fmts=fltp:channel_layouts={layout}[p{index}]"
        )
        labels.append(f"[p{index}]")
    graph = ";".join([*filters, f"{''.join(labels)}concat=n={len(parts)}:v=0:a=1[out]"])
    with atomic_path(out) as tmp:
        _run_ffmpeg(
            ["-y", *inputs, "-filter_complex", graph, "-map", "[out]",
             *fmt.ffmpeg_args(), str(tmp)],
            "join the program's items",
        )
    return measure(out)
