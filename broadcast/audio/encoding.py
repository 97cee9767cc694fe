"""Encoding: the output formats, and what encoding does to loudness and to silence.

Both are found once per format and kept: how much quieter the encoder makes audio, and encoded
silence that can be put between MP3 frames of another stream.
"""

from __future__ import annotations

import functools
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from broadcast.audio.ffmpeg import AudioError, run_ffmpeg
from broadcast.audio.measurement import meter
from broadcast.tts.mp3 import inspect_mp3, leading_frames

_LAME_QUALITY = "7"
"""LAME's algorithm quality (0 best and slowest to 9). Its default, 3, takes 2.5 times the
processor time of 7 for speech at our bit rates, with no difference in how close the decoded
audio stays to the original (25.3 dB against 25.9 dB signal-to-noise on a bulletin at 96 kbit/s);
rendering is bound by the processor while the speech comes in."""

JOINABLE_MP3 = ["-write_xing", "0", "-id3v2_version", "0"]
"""Muxer options for MP3 that will be joined frame by frame: no header frame, no tag."""

_SILENCE_KEPT_S = 10.0
"""Encoded silence made once per format; longer pauses repeat it."""


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
            return [*args, "-c:a", "libmp3lame", "-b:a", f"{self.bitrate_kbps}k",
                    "-compression_level", _LAME_QUALITY, "-f", "mp3"]
        if self.codec == "flac":
            return [*args, "-c:a", "flac", "-f", "flac"]
        return [*args, "-c:a", "pcm_s16le", "-f", "wav"]


_CALIBRATION_LOCK = threading.Lock()
"""Threads that need the same calibration wait for one to make it rather than each making it."""


def codec_drift_db(fmt: OutputFormat) -> float:
    """How much quieter audio measures after encoding in ``fmt`` (LAME CBR loses about 0.4 dB).

    Found once per format by encoding a few seconds of pink noise and measuring both sides.
    """
    with _CALIBRATION_LOCK:
        return _codec_drift_db(fmt)


@functools.lru_cache(maxsize=8)
def _codec_drift_db(fmt: OutputFormat) -> float:
    if fmt.codec != "mp3":
        return 0.0
    with tempfile.TemporaryDirectory(prefix="broadcast-drift-") as tmp:
        encoded = Path(tmp) / "noise.mp3"
        noise = f"anoisesrc=d=6:c=pink:a=0.2:r={fmt.sample_rate}:seed=1"
        run_ffmpeg(["-f", "lavfi", "-i", noise, *fmt.ffmpeg_args(), str(encoded)],
                    "calibrate the encoder")
        before, _, _ = meter(noise, [], peak=False)
        after, _, _ = meter(encoded, [])
    return before - after


def silent_frames(fmt: OutputFormat, samples: int) -> tuple[bytes, int]:
    """Whole MP3 frames of silence in ``fmt``, as near ``samples`` long as frames allow, and
    how many samples they really hold. Frames of one stream can be put between frames of
    another of the same rate and channels: the result decodes as one stream.
    """
    with _CALIBRATION_LOCK:
        kept = _encoded_silence(fmt)
    kept_samples = inspect_mp3(kept).samples
    repeats, rest = divmod(samples, kept_samples)
    tail, tail_samples = leading_frames(kept, rest)
    return kept * repeats + tail, kept_samples * repeats + tail_samples


@functools.lru_cache(maxsize=8)
def _encoded_silence(fmt: OutputFormat) -> bytes:
    layout = "mono" if fmt.channels == 1 else "stereo"
    with tempfile.TemporaryDirectory(prefix="broadcast-silence-") as tmp:
        encoded = Path(tmp) / "silence.mp3"
        run_ffmpeg(
            ["-f", "lavfi", "-t", f"{_SILENCE_KEPT_S:g}", "-i",
             f"anullsrc=r={fmt.sample_rate}:cl={layout}", *fmt.ffmpeg_args(), *JOINABLE_MP3,
             str(encoded)],
            "encode silence",
        )
        return encoded.read_bytes()
