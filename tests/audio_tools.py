"""Independent measurement for tests: decode with ffmpeg, meter with pyloudnorm and numpy.

pyloudnorm implements ITU-R BS.1770 on its own, so it checks our ffmpeg-based mastering rather
than agreeing with it by construction.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pyloudnorm
from scipy.signal import resample_poly

RATE = 48000


def decode(path: Path, rate: int = RATE) -> np.ndarray:
    """Mono float samples of any file ffmpeg reads."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(rate),
         "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, dtype="<f4").astype(np.float64)


def raw_s16(path: Path) -> np.ndarray:
    """Samples of a raw 16-bit mono 48 kHz recording (what parec writes), as floats."""
    return np.frombuffer(path.read_bytes(), dtype="<i2").astype(np.float64) / 32768.0


def integrated_lufs(samples: np.ndarray, rate: int = RATE) -> float:
    return float(pyloudnorm.Meter(rate).integrated_loudness(samples))


def true_peak_dbtp(samples: np.ndarray) -> float:
    """Peak after 4x oversampling (BS.1770 true-peak method, approximated by FFT resampling)."""
    oversampled = resample_poly(samples, 4, 1)
    return float(20 * np.log10(np.max(np.abs(oversampled)) + 1e-12))


def short_term_lufs(samples: np.ndarray, rate: int = RATE) -> list[float]:
    """Loudness of each 3 s window, stepping by 1 s (silent windows left out)."""
    meter = pyloudnorm.Meter(rate, block_size=0.4)
    window, step = 3 * rate, rate
    values = []
    for start in range(0, max(len(samples) - window, 0) + 1, step):
        value = meter.integrated_loudness(samples[start : start + window])
        if np.isfinite(value) and value > -60:
            values.append(float(value))
    return values


def envelope(samples: np.ndarray, rate: int = RATE, hop_s: float = 0.01) -> np.ndarray:
    """RMS envelope in 10 ms frames: robust to small resampling and codec differences."""
    hop = int(rate * hop_s)
    frames = len(samples) // hop
    trimmed = samples[: frames * hop].reshape(frames, hop)
    return np.sqrt(np.mean(trimmed**2, axis=1))


def best_alignment(reference: np.ndarray, recording: np.ndarray) -> tuple[int, float]:
    """Where ``reference`` sits in ``recording`` (in envelope frames) and the correlation there."""
    ref = (reference - reference.mean()) / (reference.std() + 1e-12)
    best_offset, best_score = 0, -1.0
    for offset in range(0, max(len(recording) - len(ref), 0) + 1):
        window = recording[offset : offset + len(ref)]
        if len(window) < len(ref):
            break
        win = (window - window.mean()) / (window.std() + 1e-12)
        score = float(np.dot(ref, win) / len(ref))
        if score > best_score:
            best_offset, best_score = offset, score
    return best_offset, best_score


def loudness_range_lu(path: Path) -> float:
    """Loudness range (EBU Tech 3342) from ffmpeg's ebur128 filter, read straight from ffmpeg."""
    stderr = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af",
         "ebur128=framelog=verbose", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr
    summary = stderr[stderr.rindex("Summary:") :]
    line = next(line for line in summary.splitlines() if line.strip().startswith("LRA:"))
    return float(line.split()[1])


def tone(path: Path, hz: float = 440, seconds: float = 1, fmt: str | None = None) -> Path:
    """A sine tone written by ffmpeg (the format from the name, or ``fmt``): a real sound
    file where a test needs one."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
               f"sine=f={hz:g}:duration={seconds:g}"]
    subprocess.run([*command, *(["-f", fmt] if fmt else []), str(path)], check=True)
    return path
