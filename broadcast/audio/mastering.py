"""Loudness mastering: speech processing, trial gains, the peak limiter, and the mastering line.

Loudness is handled by measuring, applying one gain and limiting peaks, then measuring again and
correcting the small loss the limiter causes. That keeps the gain linear (no pumping), lands within
a few tenths of an LU of the target, and never lets ffmpeg's loudnorm fall back to its dynamic mode
or resample to 192 kHz behind our back.

Many sources can be mastered together on a :class:`MasteringLine`, where each ffmpeg run takes
every source one step on: starting ffmpeg once per step for the lot, not once per source, is what
makes short pieces such as a bulletin's paragraphs cheap.
"""

from __future__ import annotations

import itertools
import math
import re
import tempfile
import wave
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from broadcast.audio.encoding import JOINABLE_MP3, OutputFormat, codec_drift_db
from broadcast.audio.ffmpeg import AudioError, run_ffmpeg
from broadcast.audio.measurement import SILENCE_LUFS, AudioFigures, MeterLog, parse_ebur128
from broadcast.fileio import atomic_path
from broadcast.schedule import LoudnessSettings
from broadcast.tts.mp3 import sound_frames

_DEFAULT_LOUDNESS = LoudnessSettings()

_LIMITER_MARGIN_DB = 1.0
"""Sample-peak limit sits this far under the true-peak ceiling: room for inter-sample peaks and
for the MP3 encoder's overshoot."""

_GAIN_TOLERANCE_LU = 0.3
"""An encoded file further than this from its target is encoded once more, corrected."""

_TRIAL_OFFSETS_DB = (1.0, 3.0)
"""Trial gains above the expected one: the limiter only ever takes loudness away, for speech
about 1 to 2.5 dB at the target. A target outside the trials is reached by trying again."""

_COMPRESSION_LOSS_DB = 5.0
"""About how much the compressor lowers speech brought to its reference level."""


@dataclass(frozen=True)
class LoudnessTarget:
    """Where finished audio must land (EBU R 128 style figures)."""

    integrated_lufs: float = _DEFAULT_LOUDNESS.target_lufs
    true_peak_dbtp: float = _DEFAULT_LOUDNESS.true_peak_dbtp
    loudness_range_lu: float = _DEFAULT_LOUDNESS.loudness_range_lu

    @classmethod
    def from_settings(cls, settings: LoudnessSettings) -> LoudnessTarget:
        """The target a schedule's (or a command line's) loudness settings set."""
        return cls(settings.target_lufs, settings.true_peak_dbtp, settings.loudness_range_lu)


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


def peak_limiter(true_peak_dbtp: float, attack_ms: float = 3.0, release_ms: float = 80.0) -> str:
    """The limiter filter that keeps audio under the true-peak ceiling ``true_peak_dbtp``.

    ffmpeg's look-ahead limiter works on sample peaks, so it limits ``_LIMITER_MARGIN_DB`` under
    the ceiling. It belongs after any resampling, so that no peak made by resampling escapes it.
    """
    limit_db = true_peak_dbtp - _LIMITER_MARGIN_DB
    return (f"alimiter=limit={limit_db:.2f}dB:level=false:attack={attack_ms:g}"
            f":release={release_ms:g}:latency=true")


@dataclass(frozen=True)
class MasteringJob:
    """A source to master into ``out``; see :func:`master` for ``processing`` and ``level_hint``.

    With ``silent_ok``, a silent source is encoded as it is instead of being an error (a
    paragraph with no sound in it, among others that have some).
    """

    source: Path
    out: Path
    processing: SpeechProcessing | None = None
    level_hint: float | None = None
    silent_ok: bool = False


@dataclass(frozen=True)
class Mastered:
    """A mastered file with its figures, its meter log and its exact length in samples."""

    path: Path
    figures: AudioFigures
    log: MeterLog
    samples: int


_SUMMARY_BLOCK_RE = re.compile(
    r"\[Parsed_ebur128_(\d+) @ [^\]]+\] Summary:(.*?)(?=\[Parsed_|\Z)", re.DOTALL
)

_QUICK_METER = "ebur128=framelog=verbose"
"""Integrated loudness and range only (frame readings go to a log level ffmpeg is not showing)."""

_FULL_METER = "ebur128=peak=true:framelog=info,volumedetect"
"""Also the true peak, the reading every 100 ms, and (from volumedetect) the sample count."""

_FRAME_RE = re.compile(r"\[Parsed_ebur128_(\d+) @ [^\]]+\] t:[^\n]*?M:\s*(\S+)\s+S:\s*(\S+)")
_SAMPLES_RE = re.compile(r"\[Parsed_volumedetect_(\d+) @ [^\]]+\] n_samples: (\d+)")


@dataclass(frozen=True)
class _Source:
    """A file to read. Files of one ``kind`` (codec, sample rate, channels) can be read one after
    another as a single stream; ``samples`` (its length) then says where each one ends."""

    path: Path
    kind: tuple[str, int, int] | None = None
    samples: int = 0


def _describe(path: Path) -> _Source:
    """The kind and length of an MP3 or 16-bit WAV file, when this program can tell them."""
    try:
        if path.suffix == ".mp3":
            data = path.read_bytes()
            frames, info = sound_frames(data)
            # A tag or an encoder's tag frame changes what a decoder makes of the stream.
            if len(frames) == len(data):
                return _Source(path, ("mp3", info.sample_rate, info.channels), info.samples)
        if path.suffix == ".wav":
            with wave.open(str(path)) as reader:
                kind = (f"wav{8 * reader.getsampwidth()}", reader.getframerate(),
                        reader.getnchannels())
                return _Source(path, kind, reader.getnframes())
    except (OSError, ValueError, EOFError, wave.Error):
        pass
    return _Source(path)


@dataclass(frozen=True)
class _Task:
    """One source's share of an ffmpeg run.

    The source goes through ``head``, is split into one copy per tail, and each copy goes through
    its tail and then ``meter`` (no meter: exactly one tail). The first copy is written with
    ``sink`` (output options and file); the others are only metered.
    """

    source: _Source
    head: Sequence[str]
    tails: Sequence[Sequence[str]]
    meter: str | None
    sink: Sequence[str] = ("-f", "null", "-")


@dataclass(frozen=True)
class _Reading:
    """What one meter said: its summary, its 100 ms readings and (full meter) the sample count."""

    summary: str
    frames: list[tuple[float, float]]
    samples: int


def _reading_level(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return -math.inf


def _concat_line(path: Path) -> str:
    return "file '" + str(path).replace("'", "'\\''") + "'\n"


def _inputs(tasks: Sequence[_Task], work: Path) -> tuple[list[str], list[str], list[str]]:
    """ffmpeg's input options, the graph chains that split shared inputs, and the label each
    task's audio starts from.

    Every input file costs ffmpeg a reading thread and its upkeep, more than processing a short
    source does; so sources of one kind are read as one stream (ffmpeg's concat demuxer) and cut
    apart again where each one ends.
    """
    by_kind: dict[tuple[str, int, int] | None, list[int]] = {}
    for index, task in enumerate(tasks):
        by_kind.setdefault(task.source.kind, []).append(index)
    args: list[str] = []
    splits: list[str] = []
    labels = [""] * len(tasks)
    opened = 0
    for kind, members in by_kind.items():
        if kind is None or len(members) == 1:
            for index in members:
                labels[index] = f"[{opened}:a]"
                args += ["-i", str(tasks[index].source.path)]
                opened += 1
            continue
        listing = work / f"inputs-{opened}.txt"
        listing.write_text("".join(_concat_line(tasks[i].source.path) for i in members),
                           encoding="utf-8")
        ends = itertools.accumulate(tasks[i].source.samples for i in members[:-1])
        cut = [f"[p{opened}_{place}]" for place in range(len(members))]
        splits.append(f"[{opened}:a]asegment=samples={'|'.join(map(str, ends))}{''.join(cut)}")
        for index, label in zip(members, cut, strict=True):
            labels[index] = label
        args += ["-f", "concat", "-safe", "0", "-i", str(listing)]
        opened += 1
    return args, splits, labels


def _run_tasks(tasks: Sequence[_Task], what: str, work: Path) -> list[list[_Reading]]:
    """Run every task in one ffmpeg process; return each task's meter readings, tail by tail."""
    args, graph, labels = _inputs(tasks, work)
    outputs: list[str] = []
    for index, (task, start) in enumerate(zip(tasks, labels, strict=True)):
        head = ",".join([*task.head, "anull"])
        if task.meter is None:
            graph.append(f"{start}{head},{','.join([*task.tails[0], 'anull'])}[o{index}]")
        else:
            copies = [f"[t{index}_{tail}]" for tail in range(len(task.tails))]
            graph.append(f"{start}{head},asplit={len(copies)}{''.join(copies)}")
            for copy, tail in zip(copies, task.tails, strict=True):
                end = f"[o{index}]" if copy == copies[0] else ",anullsink"
                graph.append(f"{copy}{','.join([*tail, task.meter])}{end}")
        outputs += ["-map", f"[o{index}]", *task.sink]
    stderr = run_ffmpeg(["-y", *args, "-filter_complex", ";".join(graph), *outputs], what)
    # ffmpeg may set the graph up twice and print an empty summary for the first set-up; the
    # last summary of each meter is the real one. Meters are numbered in graph order.
    summaries = {int(m.group(1)): m.group(2) for m in _SUMMARY_BLOCK_RE.finditer(stderr)}
    frames: dict[int, list[tuple[float, float]]] = {}
    for match in _FRAME_RE.finditer(stderr):
        frames.setdefault(int(match.group(1)), []).append(
            (_reading_level(match.group(2)), _reading_level(match.group(3)))
        )
    samples = {int(m.group(1)): int(m.group(2)) for m in _SAMPLES_RE.finditer(stderr)}
    counts = (samples[key] for key in sorted(samples))
    meters = iter(sorted(summaries))
    readings: list[list[_Reading]] = []
    try:
        for task in tasks:
            own = [next(meters) for _ in task.tails] if task.meter else []
            readings.append([
                _Reading(summaries[key], frames.get(key, []),
                         next(counts) if task.meter == _FULL_METER else 0)
                for key in own
            ])
    except StopIteration:
        raise AudioError("the loudness meter gave no reading for this audio.") from None
    return readings


def _gain_for(target: float, gains: Sequence[float], readings: Sequence[float]) -> float:
    """The gain whose reading would be ``target``, interpolated between the trials around it."""
    pairs = sorted(zip(readings, gains, strict=True))
    for (low_reading, low_gain), (high_reading, high_gain) in itertools.pairwise(pairs):
        if low_reading <= target <= high_reading and high_reading > low_reading:
            share = (target - low_reading) / (high_reading - low_reading)
            return low_gain + share * (high_gain - low_gain)
    nearest_reading, nearest_gain = min(pairs, key=lambda pair: abs(pair[0] - target))
    return nearest_gain + (target - nearest_reading)


def _slope(gains: Sequence[float], readings: Sequence[float]) -> float:
    """Loudness gained per dB of gain between the trials, kept within [0.25, 1]."""
    low, high = min(zip(gains, readings, strict=True)), max(zip(gains, readings, strict=True))
    if high[0] == low[0]:
        return 1.0
    return min(1.0, max(0.25, (high[1] - low[1]) / (high[0] - low[0])))


_Step = Literal["level", "trial", "retry", "encode", "measure"]


@dataclass
class _Progress:
    """Where one job is on the line, and what it has learned so far."""

    job: MasteringJob
    result: Future[Mastered]
    step: _Step
    pre: list[str]
    source: _Source
    processed: Path
    trials: list[float] = field(default_factory=list)
    gain: float = 0.0
    sounding: bool = True
    encodes: int = 0
    slope: float = 1.0
    """Loudness gained per dB of gain near the chosen gain, from the trials (the limiter makes
    it less than 1)."""


class MasteringLine:
    """Masters many sources in ffmpeg runs that each take every source on the line one step on.

    A source takes four steps: its level (unless hinted), trial gains through the whole output
    stage, encoding, and measuring the encoded file; a few need a second trial or a second
    encode. Sources can join between runs: one arriving while others are being worked on shares
    their runs, so ffmpeg starts once per step for all of them rather than once per source and
    step. Not thread-safe: one thread adds to and runs a line.
    """

    def __init__(
        self, target: LoudnessTarget, fmt: OutputFormat, work: Path, joinable: bool = False
    ) -> None:
        self.target = target
        self.fmt = fmt
        self.work = work
        self.extra = JOINABLE_MP3 if joinable and fmt.codec == "mp3" else []
        # Speech is processed at the engine's own rate (22-24 kHz), then resampled, then
        # limited at the output rate, so that no peak made by resampling escapes the limiter.
        # Trials go through the same steps as the encode, so one encode is enough.
        self.limited = [f"aresample={fmt.sample_rate}", peak_limiter(target.true_peak_dbtp)]
        self._on_line: list[_Progress] = []
        self._count = 0

    def add(self, job: MasteringJob) -> Future[Mastered]:
        """Put a source on the line; the future holds its result once it is mastered."""
        pre = list(job.processing.filters()) if job.processing else []
        self._count += 1
        progress = _Progress(job, Future(), "level", pre, _describe(job.source),
                             self.work / f"processed-{self._count}.wav")
        if job.level_hint is not None:
            self._plan(progress, job.level_hint)
        self._on_line.append(progress)
        return progress.result

    def __len__(self) -> int:
        """How many sources are on the line."""
        return len(self._on_line)

    def run(self) -> bool:
        """Take every source on the line one step on, in one ffmpeg run. False: line empty."""
        if not self._on_line:
            return False
        on_line, self._on_line = self._on_line, []
        try:
            readings = _run_tasks([self._task(p) for p in on_line], "master audio", self.work)
        except BaseException as exc:
            for progress in on_line:
                progress.result.set_exception(exc)
            raise
        for progress, own in zip(on_line, readings, strict=True):
            try:
                self._advance(progress, own)
            except AudioError as exc:
                progress.result.set_exception(exc)
        self._on_line += [p for p in on_line if not p.result.done()]
        return True

    def _plan(self, progress: _Progress, level: float) -> None:
        """Choose trial gains around where the target should be, from the source's level."""
        job = progress.job
        if level <= SILENCE_LUFS:
            self._quiet(progress)
            return
        expected = level
        if job.processing is not None and job.processing.compress:
            progress.pre += job.processing.dynamics(job.processing.reference_lufs - level)
            expected = job.processing.reference_lufs - _COMPRESSION_LOSS_DB
        centre = self._aim() - expected
        progress.trials = [centre + offset for offset in _TRIAL_OFFSETS_DB]
        progress.step = "trial"

    def _aim(self) -> float:
        """The loudness to reach before encoding: the target plus what the encoder takes away.

        Trials aim at it rather than adding the encoder's loss to the gain afterwards, since
        the limiter would take part of any gain added after the trials back."""
        return self.target.integrated_lufs + codec_drift_db(self.fmt)

    def _quiet(self, progress: _Progress) -> None:
        if not progress.job.silent_ok:
            raise AudioError(f"'{progress.job.source.name}' is silent: there is nothing to make "
                             "louder.")
        progress.sounding = False
        progress.step = "encode"

    def _task(self, progress: _Progress) -> _Task:
        trials = [[f"volume={gain:.2f}dB", *self.limited] for gain in progress.trials]
        match progress.step:
            case "level":
                return _Task(progress.source, progress.pre, [[]], _QUICK_METER)
            case "trial":
                # The processed speech is kept: later steps start from it.
                keep = ("-c:a", "pcm_f32le", "-f", "wav", str(progress.processed))
                return _Task(progress.source, progress.pre, [[], *trials], _QUICK_METER, keep)
            case "retry":
                return _Task(progress.source, progress.pre, [[], *trials], _QUICK_METER)
            case "encode":
                chain = [*progress.pre, f"volume={progress.gain:.2f}dB", *self.limited]
                out = (*self.fmt.ffmpeg_args(), *self.extra, str(progress.job.out))
                return _Task(progress.source, chain, [[]], None, out)
            case "measure":
                # Only MP3 written to be joined is sure to decode to exactly its frames.
                out = progress.job.out
                return _Task(_describe(out) if self.extra else _Source(out), [], [[]], _FULL_METER)

    def _advance(self, progress: _Progress, readings: list[_Reading]) -> None:
        target = self.target.integrated_lufs
        levels = [parse_ebur128(reading.summary, peak=False)[0] for reading in readings]
        match progress.step:
            case "level":
                self._plan(progress, levels[0])
            case "trial" | "retry":
                if progress.step == "trial":
                    source = progress.source
                    kind = source.kind and ("f32", *source.kind[1:])
                    progress.source = _Source(progress.processed, kind, source.samples)
                    progress.pre = []
                measured, trial_levels = levels[0], levels[1:]
                aim = self._aim()
                if measured <= SILENCE_LUFS:
                    self._quiet(progress)
                elif progress.step == "trial" and not (
                    min(trial_levels) <= aim <= max(trial_levels)
                ):
                    progress.trials = [aim - measured + off for off in _TRIAL_OFFSETS_DB]
                    progress.step = "retry"
                else:
                    progress.gain = _gain_for(aim, progress.trials, trial_levels)
                    progress.slope = _slope(progress.trials, trial_levels)
                    progress.step = "encode"
            case "encode":
                progress.encodes += 1
                progress.step = "measure"
            case "measure":
                mastered = self._mastered(progress, readings[0])
                # Lossy encoding can shift loudness a little more: the encoded file itself is
                # checked and, if it drifted, encoded once more with the difference corrected.
                drift = target - mastered.figures.integrated_lufs
                if progress.sounding and progress.encodes == 1 and abs(drift) > _GAIN_TOLERANCE_LU:
                    progress.gain += drift / progress.slope
                    progress.step = "encode"
                else:
                    progress.result.set_result(mastered)

    def _mastered(self, progress: _Progress, reading: _Reading) -> Mastered:
        fmt = self.fmt
        integrated, peak, lra = parse_ebur128(reading.summary)
        samples = reading.samples // fmt.channels
        figures = AudioFigures(
            duration_s=round(samples / fmt.sample_rate, 3),
            integrated_lufs=integrated,
            true_peak_dbtp=peak,
            loudness_range_lu=lra,
            sample_rate=fmt.sample_rate,
            channels=fmt.channels,
        )
        log = MeterLog(
            momentary=tuple(m for m, _ in reading.frames if m > SILENCE_LUFS),
            short_term=tuple(s for _, s in reading.frames if s > SILENCE_LUFS),
        )
        return Mastered(progress.job.out, figures, log, samples)


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
    peak limiting are applied. ``level_hint``, the source's loudness if already known (after
    ``processing``'s filters), saves a measuring pass.

    Loudness is found by measuring the processed source and trial gains through the limiter
    (which takes a little loudness away, more the harder it works) in one pass; the gain that
    hits the target is interpolated between the trials around it. The encoded file is measured
    and, if it drifted, encoded once more. Only the final file is renamed into place.
    """
    with atomic_path(out) as tmp:
        job = MasteringJob(source, tmp, processing, level_hint)
        return master_batch([job], target, fmt)[0].figures


def master_batch(
    jobs: Sequence[MasteringJob],
    target: LoudnessTarget,
    fmt: OutputFormat,
    joinable: bool = False,
) -> list[Mastered]:
    """Master each job as :func:`master` does, running each step once for all of them.

    Outputs are written straight to each job's ``out``. With ``joinable``, MP3 is written with
    no header frame or tag, ready for :func:`join_mastered`.
    """
    with tempfile.TemporaryDirectory(prefix="broadcast-master-") as tmp:
        line = MasteringLine(target, fmt, Path(tmp), joinable)
        results = [line.add(job) for job in jobs]
        while line.run():
            pass
        return [result.result() for result in results]

