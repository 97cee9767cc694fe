"""Audio: measurement, speech processing for horn loudspeakers, loudness mastering, assembly.

ffmpeg's filters do the signal work; this package chooses them, runs them and checks the result:
``measurement`` (probe, loudness meter, figures), ``encoding`` (output formats and what encoding
does to them), ``mastering`` (speech processing, trial gains, the peak limiter, the mastering line)
and ``joining`` (streaming joins of mastered pieces and of program items).
"""

from broadcast.audio.encoding import OutputFormat, codec_drift_db, silent_frames
from broadcast.audio.ffmpeg import AudioError, run_ffmpeg
from broadcast.audio.joining import concatenate, join_mastered
from broadcast.audio.mastering import (
    LoudnessTarget,
    Mastered,
    MasteringJob,
    MasteringLine,
    SpeechProcessing,
    master,
    peak_limiter,
)
from broadcast.audio.measurement import SILENCE_LUFS, AudioFigures, MeterLog, measure, probe

__all__ = [
    "SILENCE_LUFS",
    "AudioError",
    "AudioFigures",
    "LoudnessTarget",
    "Mastered",
    "MasteringJob",
    "MasteringLine",
    "MeterLog",
    "OutputFormat",
    "SpeechProcessing",
    "codec_drift_db",
    "concatenate",
    "join_mastered",
    "master",
    "measure",
    "peak_limiter",
    "probe",
    "run_ffmpeg",
    "silent_frames",
]
