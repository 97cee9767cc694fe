"""Joining: a bulletin's mastered pieces, or a program's items, into one file.

Mastered pieces are joined with silence between them (:func:`join_mastered`) without measuring the
whole again: the meter's 100 ms readings of each piece are kept and gated together, as the meter
itself would over the whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from broadcast.audio.encoding import OutputFormat, codec_drift_db, silent_frames
from broadcast.audio.ffmpeg import AudioError, run_ffmpeg
from broadcast.audio.mastering import Mastered, peak_limiter
from broadcast.audio.measurement import SILENCE_LUFS, AudioFigures, measure
from broadcast.fileio import atomic_path


def _power_mean(levels: Sequence[float]) -> float:
    return 10 * math.log10(sum(10 ** (level / 10) for level in levels) / len(levels))


def _integrated(momentary: Sequence[float]) -> float:
    """Integrated loudness from momentary readings above the absolute gate (BS.1770 gating)."""
    if not momentary:
        return SILENCE_LUFS
    gate = _power_mean(momentary) - 10
    return _power_mean([level for level in momentary if level > gate])


def _loudness_range(short_term: Sequence[float]) -> float:
    """Loudness range from short-term readings above the absolute gate (EBU Tech 3342)."""
    if not short_term:
        return 0.0
    gate = _power_mean(short_term) - 20
    kept = sorted(level for level in short_term if level > gate)
    last = len(kept) - 1
    return kept[round(0.95 * last)] - kept[round(0.10 * last)]


def join_mastered(
    pieces: Sequence[Mastered], pause_s: float, out: Path, fmt: OutputFormat
) -> AudioFigures:
    """Join mastered pieces with ``pause_s`` of silence between each two into ``out``.

    MP3 pieces (mastered ``joinable``) are joined frame by frame, with no decoding or encoding:
    every frame of a piece decodes exactly as in the piece alone, and the pauses hide the few
    milliseconds the encoder adds around each piece. Other formats are lossless, so they are
    decoded and encoded again in one streaming pass. The figures are not measured again but
    combined from the pieces': their meter logs gated together, the highest true peak.
    """
    if not pieces:
        raise AudioError("nothing to join: there are no pieces.")
    pause = round(pause_s * fmt.sample_rate)
    with atomic_path(out) as tmp:
        if fmt.codec == "mp3":
            silence, pause = silent_frames(fmt, pause)
            with tmp.open("wb") as sink:
                for index, piece in enumerate(pieces):
                    if index:
                        sink.write(silence)
                    sink.write(piece.path.read_bytes())
        else:
            inputs = [arg for piece in pieces for arg in ("-i", str(piece.path))]
            padded = [
                f"[{index}:a]{'anull' if index == len(pieces) - 1 else f'apad=pad_len={pause}'}"
                f"[j{index}]"
                for index in range(len(pieces))
            ]
            labels = "".join(f"[j{index}]" for index in range(len(pieces)))
            graph = ";".join([*padded, f"{labels}concat=n={len(pieces)}:v=0:a=1[out]"])
            run_ffmpeg(
                ["-y", *inputs, "-filter_complex", graph, "-map", "[out]", *fmt.ffmpeg_args(),
                 str(tmp)],
                "join the paragraphs",
            )
    samples = sum(piece.samples for piece in pieces) + pause * (len(pieces) - 1)
    momentary = [level for piece in pieces for level in piece.log.momentary]
    short_term = [level for piece in pieces for level in piece.log.short_term]
    return AudioFigures(
        duration_s=round(samples / fmt.sample_rate, 3),
        integrated_lufs=round(_integrated(momentary), 1),
        true_peak_dbtp=max(piece.figures.true_peak_dbtp for piece in pieces),
        loudness_range_lu=round(_loudness_range(short_term), 1),
        sample_rate=fmt.sample_rate,
        channels=fmt.channels,
    )


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
        f"{peak_limiter(true_peak_dbtp, attack_ms=5.0, release_ms=50.0)}"
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
