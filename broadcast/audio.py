"""Audio: measurement, speech processing for horn loudspeakers, loudness mastering, assembly.

ffmpeg's filters do the signal work; this module chooses them, runs them and checks the result.
Loudness is handled by measuring, applying one gain and limiting peaks, then measuring again and
correcting the small loss the limiter causes. That keeps the gain linear (no pumping), lands within
a few tenths of an LU of the target, and never lets ffmpeg's loudnorm fall back to its dynamic mode
or resample to 192 kHz behind our back.
"""

from __future__ import annotations

import audioop
import functools
import itertools
import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydub import AudioSegment

from broadcast.errors import BroadcastError
from broadcast.fileio import atomic_path

SILENCE_LUFS = -70.0
"""What the meter reports for audio with nothing above its gate."""

_LIMITER_MARGIN_DB = 1.0
"""Sample-peak limit sits this far under the true-peak ceiling: room for inter-sample peaks and
for the MP3 encoder's overshoot."""


_GAIN_TOLERANCE_LU = 0.3
"""An encoded file further than this from its target is encoded once more, corrected."""

_TRIAL_OFFSETS_DB = (-1.0, 0.5, 2.0, 3.5)
"""Trial gains around the expected one: the limiter only ever takes loudness away."""

_COMPRESSION_LOSS_DB = 5.0
"""About how much the compressor lowers speech brought to its reference level."""

_RMS_TO_LUFS_DB = 0.9
"""Gated RMS of high-passed speech reads about this much above its integrated loudness."""


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


def run_ffmpeg(args: Sequence[str], what: str) -> str:
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


_SUMMARY_BLOCK_RE = re.compile(
    r"\[Parsed_ebur128_(\d+) @ [^\]]+\] Summary:(.*?)(?=\[Parsed_|\Z)", re.DOTALL
)


def _parse_ebur128(stderr: str, peak: bool = True) -> tuple[float, float, float]:
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


def _meter(
    source: Path | str, filters: Sequence[str], peak: bool = True
) -> tuple[float, float, float]:
    """Integrated loudness, true peak and loudness range of ``source`` after ``filters``.

    ``source`` is a file, or (as text) an ffmpeg lavfi source such as ``anoisesrc=d=6``.
    """
    inputs = ["-i", str(source)] if isinstance(source, Path) else ["-f", "lavfi", "-i", source]
    meter = "ebur128=peak=true:framelog=verbose" if peak else "ebur128=framelog=verbose"
    chain = ",".join([*filters, meter])
    stderr = run_ffmpeg([*inputs, "-af", chain, "-f", "null", "-"], "measure audio")
    return _parse_ebur128(stderr, peak=peak)


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


def estimate_loudness(segment: AudioSegment) -> float:
    """A quick estimate of integrated loudness (LUFS) from gated RMS of 400 ms blocks.

    Good to about a decibel for speech; used only to set the compressor's working level, so the
    exact meter need not run an extra pass over the audio.
    """
    mono = segment.set_channels(1).set_sample_width(2)
    raw = mono.raw_data
    block = int(0.4 * mono.frame_rate) * 2
    levels: list[float] = []
    for start in range(0, len(raw) - block + 1, block):
        rms = audioop.rms(raw[start : start + block], 2)
        if rms:
            levels.append(20 * math.log10(rms / 32768))
    audible = [level for level in levels if level > SILENCE_LUFS]
    if not audible:
        return SILENCE_LUFS
    mean = 10 * math.log10(sum(10 ** (level / 10) for level in audible) / len(audible))
    loud = [level for level in audible if level > mean - 10]
    gated = 10 * math.log10(sum(10 ** (level / 10) for level in loud) / len(loud))
    return gated - _RMS_TO_LUFS_DB


@functools.lru_cache(maxsize=8)
def codec_drift_db(fmt: OutputFormat) -> float:
    """How much quieter audio measures after encoding in ``fmt`` (LAME CBR loses about 0.4 dB).

    Found once per format by encoding a few seconds of pink noise and measuring both sides.
    """
    if fmt.codec != "mp3":
        return 0.0
    with tempfile.TemporaryDirectory(prefix="broadcast-drift-") as tmp:
        encoded = Path(tmp) / "noise.mp3"
        noise = f"anoisesrc=d=6:c=pink:a=0.2:r={fmt.sample_rate}:seed=1"
        run_ffmpeg(["-f", "lavfi", "-i", noise, *fmt.ffmpeg_args(), str(encoded)],
                    "calibrate the encoder")
        before, _, _ = _meter(noise, [], peak=False)
        after, _, _ = _meter(encoded, [])
    return before - after


def _trial_meters(
    source: Path, pre: Sequence[str], post: Sequence[str], gains: Sequence[float]
) -> tuple[float, list[float]]:
    """Loudness after ``pre``, and after ``pre``, each gain and ``post``, in one ffmpeg run."""
    branches = len(gains) + 1
    graph = [f"[0:a]{','.join([*pre, 'anull'])},asplit={branches}" + "".join(
        f"[s{i}]" for i in range(branches))]
    graph.append("[s0]ebur128=framelog=verbose,anullsink")
    for index, gain in enumerate(gains, start=1):
        graph.append(
            f"[s{index}]{','.join([f'volume={gain:.2f}dB', *post])},"
            "ebur128=framelog=verbose,anullsink"
        )
    stderr = run_ffmpeg(
        ["-i", str(source), "-filter_complex", ";".join(graph), "-f", "null", "-"],
        "measure audio",
    )
    # ffmpeg may set the graph up twice and print an empty summary for the first set-up; the
    # last summary of each meter is the real one.
    summaries = {
        int(match.group(1)): match.group(2) for match in _SUMMARY_BLOCK_RE.finditer(stderr)
    }
    readings = [_parse_ebur128(summaries[key], peak=False)[0] for key in sorted(summaries)]
    if len(readings) != branches:
        raise AudioError("the loudness meter gave no reading for this audio.")
    return readings[0], readings[1:]


def _gain_for(target: float, gains: Sequence[float], readings: Sequence[float]) -> float:
    """The gain whose reading would be ``target``, interpolated between the trials around it."""
    pairs = sorted(zip(readings, gains, strict=True))
    for (low_reading, low_gain), (high_reading, high_gain) in itertools.pairwise(pairs):
        if low_reading <= target <= high_reading and high_reading > low_reading:
            share = (target - low_reading) / (high_reading - low_reading)
            return low_gain + share * (high_gain - low_gain)
    nearest_reading, nearest_gain = min(pairs, key=lambda pair: abs(pair[0] - target))
    return nearest_gain + (target - nearest_reading)


def master(
    source: Path,
    out: Path,
    target: LoudnessTarget,
    fmt: OutputFormat,
    processing: SpeechProcessing | None = None,
    level_hint: float | None = None,
) -> AudioFigures:
    """Process ``source`` and write it to ``out`` at the target loudness; return its figures.

    ``processing`` None means the source is not speech (a chime, a recorded item): only gain and
    peak limiting are applied. ``level_hint`` is an estimate of the source's loudness (see
    :func:`estimate_loudness`) that saves a measuring pass.
    """
    pre = processing.filters() if processing is not None else []
    if level_hint is None:
        level_hint, _, _ = _meter(source, pre)
    if level_hint <= SILENCE_LUFS:
        raise AudioError(f"'{source.name}' is silent: there is nothing to make louder.")
    expected = level_hint
    if processing is not None and processing.compress:
        pre += processing.dynamics(processing.reference_lufs - level_hint)
        expected = processing.reference_lufs - _COMPRESSION_LOSS_DB
    limit_db = target.true_peak_dbtp - _LIMITER_MARGIN_DB
    limiter = [f"alimiter=limit={limit_db:.2f}dB:level=false:attack=3:release=80:latency=true"]

    # One pass measures the processed speech and several trial gains through the limiter (which
    # takes a little loudness away, more the harder it works); the gain that hits the target is
    # interpolated between the trials around it. Speech is processed at the engine's own rate
    # (22-24 kHz) and only then resampled; resampling can raise peaks between samples, so the
    # limiter runs again at the output rate. Trials include both, so one encode is enough.
    center = target.integrated_lufs - expected
    trials = [center + offset for offset in _TRIAL_OFFSETS_DB]
    limited = [*limiter, f"aresample={fmt.sample_rate}", *limiter]
    measured, readings = _trial_meters(source, pre, limited, trials)
    if measured <= SILENCE_LUFS:
        raise AudioError(f"'{source.name}' is silent: there is nothing to make louder.")
    if not min(readings) <= target.integrated_lufs <= max(readings):
        trials = [target.integrated_lufs - measured + offset for offset in _TRIAL_OFFSETS_DB]
        _, readings = _trial_meters(source, pre, limited, trials)
    gain = _gain_for(target.integrated_lufs, trials, readings) + codec_drift_db(fmt)

    def encode(target_path: Path, gain_db: float) -> AudioFigures:
        chain = [*pre, f"volume={gain_db:.2f}dB", *limited]
        run_ffmpeg(
            ["-y", "-i", str(source), "-af", ",".join(chain), *fmt.ffmpeg_args(),
             str(target_path)],
            "process and encode audio",
        )
        return measure(target_path)

    # Lossy encoding can shift loudness a little more: check the encoded file itself and, if it
    # drifted, encode once more with the difference corrected. Only the final file is renamed
    # into place.
    with atomic_path(out) as tmp:
        figures = encode(tmp, gain)
        drift = target.integrated_lufs - figures.integrated_lufs
        if abs(drift) > _GAIN_TOLERANCE_LU:
            figures = encode(tmp, gain + drift)
    return figures


def concatenate(
    parts: Sequence[Path | float], out: Path, fmt: OutputFormat, true_peak_dbtp: float
) -> AudioFigures:
    """Join audio files and pauses (seconds, as floats) into ``out`` in one streaming pass.

    Memory use does not grow with program length: ffmpeg reads each part in turn. The parts
    are already mastered; the encoder's level drop is made up, under the same peak limit.
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
    finish = (
        f"volume={codec_drift_db(fmt):.2f}dB,"
        f"alimiter=limit={true_peak_dbtp - _LIMITER_MARGIN_DB:.2f}dB:level=false:latency=true"
    )
    graph = ";".join(
        [*filters, f"{''.join(labels)}concat=n={len(parts)}:v=0:a=1,{finish}[out]"]
    )
    with atomic_path(out) as tmp:
        run_ffmpeg(
            ["-y", *inputs, "-filter_complex", graph, "-map", "[out]",
             *fmt.ffmpeg_args(), str(tmp)],
            "join the program's items",
        )
    return measure(out)
