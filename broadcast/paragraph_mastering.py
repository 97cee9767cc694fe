"""Paragraph mastering: a bulletin's paragraphs mastered one by one while its speech comes in.

Each paragraph (with any short ones just before it) is mastered as soon as its speech is in, on
mastering lines that share ffmpeg runs; the mastered pieces are kept in the speech cache, so an
edit re-masters only its paragraph. Speech clips are joined into one source per piece: MP3 frame by
frame where the clips allow, otherwise decoded and joined as WAV.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import tempfile
import threading
import wave
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pydub import AudioSegment

from broadcast import __version__
from broadcast.audio import (
    AudioFigures,
    Mastered,
    MasteringJob,
    MasteringLine,
    MeterLog,
    OutputFormat,
    codec_drift_db,
    run_ffmpeg,
    silent_frames,
)
from broadcast.tts import SpeechClip
from broadcast.tts.mp3 import inspect_mp3, sound_frames
from broadcast.tts.speaker import SpokenParagraph

if TYPE_CHECKING:
    from broadcast.render import Pauses, RenderSettings


_DECODE_BATCH = 64
"""Clips decoded by one ffmpeg process (one input and one output file each)."""


def decode_clips(clips: Sequence[SpeechClip]) -> list[AudioSegment]:
    """Decode speech clips to 16-bit mono segments, in order.

    WAV is read directly. MP3 clips (Google's, a hundred or more per bulletin) are decoded by a
    few ffmpeg processes, each taking many clips, instead of one process per clip.
    """
    decoded: list[AudioSegment | None] = [
        AudioSegment.from_wav(io.BytesIO(clip.data)) if clip.format == "wav" else None
        for clip in clips
    ]
    pending = [index for index, segment in enumerate(decoded) if segment is None]
    rate = max((inspect_mp3(clips[i].data).sample_rate for i in pending), default=0)
    with tempfile.TemporaryDirectory(prefix="broadcast-decode-") as tmp:
        folder = Path(tmp)
        for start in range(0, len(pending), _DECODE_BATCH):
            batch = pending[start : start + _DECODE_BATCH]
            args: list[str] = []
            for index in batch:
                source = folder / f"{index}.{clips[index].format}"
                source.write_bytes(clips[index].data)
                args += ["-i", str(source)]
            for position, index in enumerate(batch):
                args += ["-map", f"{position}:a", "-ac", "1", "-ar", str(rate),
                         "-f", "s16le", str(folder / f"{index}.raw")]
            run_ffmpeg(["-y", *args], "decode the speech")
            for index in batch:
                raw = (folder / f"{index}.raw").read_bytes()
                decoded[index] = AudioSegment(raw, sample_width=2, frame_rate=rate, channels=1)
    return [segment for segment in decoded if segment is not None]


_SILENCE_KBPS = 32
"""Bit rate of the silence put between MP3 clips (valid at every MP3 sample rate)."""

_MASTERED_LAYOUT = "piece-2"
"""Names the layout of a kept mastered piece; part of its key, so a new layout starts afresh."""


def _piece_format(fmt: OutputFormat) -> OutputFormat:
    """How a mastered piece is kept: as the output MP3 itself, or (lossless outputs) as FLAC."""
    return fmt if fmt.codec == "mp3" else replace(fmt, codec="flac")


_RUN_AT = 3
"""Pieces a mastering line gathers before it runs while the speech is still coming in: fewer,
larger ffmpeg runs leave more of the processor to fetching the speech."""

_SHORT_PARAGRAPH_S = 3.0
"""A paragraph with less speech than this (a heading, a one-line item) is mastered together with
the one after it: alone, its loudness cannot be read reliably."""


def _clip_seconds(clip: SpeechClip) -> float:
    if clip.format == "mp3":
        return inspect_mp3(clip.data).duration_s
    with wave.open(io.BytesIO(clip.data)) as reader:
        return reader.getnframes() / reader.getframerate()


@dataclass
class _Piece:
    """Paragraphs mastered as one piece: a paragraph, with any short ones just before it."""

    key: str
    engine: str
    paragraphs: list[list[SpeechClip]]
    reused: bool = False
    """Its mastered audio was kept from an earlier render."""
    result: Future[Mastered] = field(default_factory=Future)


class ParagraphMastering:
    """Masters each paragraph as soon as its speech is in, while later ones are still fetched.

    A mastered piece is kept in the speech cache under the hash of its clips and of every setting
    that shapes it, so a re-render after an edit masters again only what changed. Whether a
    paragraph is short (and so joins the next one) depends on its own speech only, so an edit
    changes the piece holding the edited paragraph and no other (but the next one, when the edit
    makes the paragraph short or no longer short). One worker per processor core takes the
    pieces that are waiting and puts them on its mastering line (see :class:`MasteringLine`),
    where pieces that arrived at different times share ffmpeg runs. Once the speech is complete,
    the workers share out what is left.
    """

    def __init__(self, settings: RenderSettings, fmt: OutputFormat, work: Path) -> None:
        self.settings = settings
        self.fmt = _piece_format(fmt)
        self.work = work
        self.workers = max(1, os.cpu_count() or 1)
        self._changed = threading.Condition()
        self._waiting: list[_Piece] = []
        self._complete = False
        self._closed = False
        self._spoken: dict[tuple[str, int], tuple[list[SpeechClip], bool]] = {}
        self._by_key: dict[str, _Piece] = {}
        self._by_place: dict[tuple[str, int], _Piece] = {}
        self._starts: dict[tuple[str, int], _Piece] = {}
        """Where each piece begins, place by place: the same words said twice are two places
        sharing one mastered piece."""
        self._threads = [
            threading.Thread(target=self._work, args=(number,), daemon=True,
                             name=f"broadcast-master-{number}")
            for number in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> ParagraphMastering:
        return self

    def __exit__(self, *_: object) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        for thread in self._threads:
            thread.join()

    def add(self, spoken: SpokenParagraph) -> None:
        """Take a spoken paragraph; start the pieces it completes."""
        short = sum(_clip_seconds(clip) for clip in spoken.clips) < _SHORT_PARAGRAPH_S
        self._spoken[(spoken.engine, spoken.index)] = (spoken.clips, short)
        for index in range(spoken.index, min(spoken.index + 2, spoken.count)):
            self._gather(spoken.engine, index, spoken.count)

    def _gather(self, engine: str, index: int, count: int) -> None:
        """Start the piece holding paragraph ``index`` once all of it and where it begins are
        known: it begins after the nearest paragraph before it that is not short, and ends with
        the first paragraph from ``index`` on that is not short (or the last one)."""
        if (engine, index) in self._by_place:
            return
        first = index
        while first > 0:
            before = self._spoken.get((engine, first - 1))
            if before is None:
                return
            if not before[1]:
                break
            first -= 1
        paragraphs: list[list[SpeechClip]] = []
        for member in range(first, count):
            found = self._spoken.get((engine, member))
            if found is None:
                return
            paragraphs.append(found[0])
            if not found[1]:
                break
        self._start(engine, first, paragraphs)

    def _start(self, engine: str, first: int, paragraphs: list[list[SpeechClip]]) -> None:
        key = self._key(engine, paragraphs)
        piece = self._by_key.get(key)
        if piece is None:
            piece = _Piece(key, engine, paragraphs)
            self._by_key[key] = piece
            kept = self._kept(key)
            if kept is not None:
                piece.reused = True
                piece.result.set_result(kept)
            else:
                with self._changed:
                    # After a fallback, what the failed engine said is no longer wanted.
                    self._waiting = [p for p in self._waiting if p.engine == engine]
                    self._waiting.append(piece)
                    self._changed.notify()
        self._starts[(engine, first)] = piece
        for index in range(first, first + len(paragraphs)):
            self._by_place[(engine, index)] = piece

    def _key(self, engine: str, paragraphs: list[list[SpeechClip]]) -> str:
        settings = self.settings
        parts = {
            "layout": _MASTERED_LAYOUT,
            "version": __version__,
            "engine": engine,
            "paragraphs": [
                [f"{clip.format}:{hashlib.sha256(clip.data).hexdigest()}" for clip in clips]
                for clips in paragraphs
            ],
            "pauses": asdict(settings.pauses),
            "target": asdict(settings.target),
            "processing": asdict(settings.processing),
            "format": asdict(self.fmt),
        }
        blob = json.dumps(parts, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def result(self, engine: str, count: int) -> tuple[list[Mastered], int]:
        """The mastered pieces of the ``count`` paragraphs ``engine`` spoke, in order, once all
        are done; and how many of the paragraphs were mastered now rather than kept from before.

        Call once the speech is complete: the workers then share out what still waits.
        """
        with self._changed:
            self._complete = True
            self._changed.notify_all()
        pieces = [self._starts[(engine, i)] for i in range(count) if (engine, i) in self._starts]
        mastered = sum(len(piece.paragraphs) for piece in {id(p): p for p in pieces}.values()
                       if not piece.reused)
        return [piece.result.result() for piece in pieces], mastered

    def _kept(self, key: str) -> Mastered | None:
        cache = self.settings.cache
        data = cache.get_mastered(key) if cache is not None else None
        if data is None:
            return None
        header, _, audio = data.partition(b"\n")
        try:
            fields = json.loads(header)
            path = self.work / f"{key}.{self.fmt.codec}"
            kept = Mastered(
                path=path,
                figures=AudioFigures(**fields["figures"]),
                log=MeterLog(tuple(fields["momentary"]), tuple(fields["short_term"])),
                samples=int(fields["samples"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        path.write_bytes(audio)
        return kept

    def _keep(self, piece: _Piece, mastered: Future[Mastered]) -> None:
        """Hand a piece its mastered audio, keeping a copy in the cache first."""
        cache = self.settings.cache
        try:
            result = mastered.result()
            if cache is not None:
                header = json.dumps({
                    "figures": asdict(result.figures),
                    "momentary": result.log.momentary,
                    "short_term": result.log.short_term,
                    "samples": result.samples,
                }).encode("utf-8")
                cache.put_mastered(piece.key, header + b"\n" + result.path.read_bytes())
        except BaseException as exc:
            piece.result.set_exception(exc)
        else:
            piece.result.set_result(result)

    def _take(self, on_line: int) -> list[_Piece] | None:
        """The pieces a worker with ``on_line`` sources on its line takes on now: all that
        wait, or once the speech is complete a fair share. While the speech is still coming in,
        a worker with fewer than ``_RUN_AT`` sources waits for more, so that each ffmpeg run does
        more. None when there is nothing left for it to do."""
        with self._changed:
            while not (self._waiting or self._complete or self._closed or on_line >= _RUN_AT):
                self._changed.wait()
            if self._closed or not (self._waiting or on_line):
                return None
            share = -(-len(self._waiting) // self.workers) if self._complete else len(self._waiting)
            taken, self._waiting = self._waiting[:share], self._waiting[share:]
            return taken

    def _work(self, number: int) -> None:
        own = self.work / f"line-{number}"
        own.mkdir()
        line = MasteringLine(self.settings.target, self.fmt, own, joinable=True)
        if number == 0:
            # Calibrations the last steps need, made while the speech is still coming in (a
            # failure shows again where they are needed).
            with contextlib.suppress(Exception):
                codec_drift_db(self.fmt)
                if self.fmt.codec == "mp3":
                    silent_frames(self.fmt, 0)
        while (taken := self._take(len(line))) is not None:
            self._put_on_line(taken, line)
            if len(line) >= _RUN_AT or self._complete:
                # A failed run has handed its error to every piece it concerned.
                with contextlib.suppress(Exception):
                    line.run()

    def _put_on_line(self, taken: Sequence[_Piece], line: MasteringLine) -> None:
        """Join each piece's speech with pauses and put it on the line."""
        for piece in taken:
            try:
                source = _join_speech(piece.paragraphs, self.settings.pauses,
                                      self.work / f"{piece.key}-speech")
                job = MasteringJob(source, self.work / f"{piece.key}.{self.fmt.codec}",
                                   self.settings.processing, silent_ok=True)
                mastered = line.add(job)
            except Exception as exc:
                piece.result.set_exception(exc)
            else:
                mastered.add_done_callback(functools.partial(self._keep, piece))


def _join_speech(paragraphs: Sequence[Sequence[SpeechClip]], pauses: Pauses, stem: Path) -> Path:
    """Write paragraphs' clips as one file named ``stem`` plus a suffix, with the chunk pause
    between clips and the paragraph pause between paragraphs.

    MP3 clips of one rate (an engine's own) are joined frame by frame with encoded silence
    between them, pauses as near their length as frames allow, and a frame of silence after
    the last so that files joined later for reading decode apart exactly. Anything else is
    decoded and joined as WAV.
    """
    clips = [clip for clips in paragraphs for clip in clips]
    if all(clip.format == "mp3" for clip in clips):
        walked = iter([sound_frames(clip.data) for clip in clips])
        frames = [[next(walked) for _ in clips] for clips in paragraphs]
        shapes = {(info.sample_rate, info.channels) for own in frames for _, info in own}
        if len(shapes) == 1:
            ((rate, channels),) = shapes
            silence = OutputFormat("mp3", rate, channels, _SILENCE_KBPS)
            chunk_gap, _ = silent_frames(silence, round(pauses.between_chunks_s * rate))
            paragraph_gap, _ = silent_frames(silence, round(pauses.between_paragraphs_s * rate))
            ending, _ = silent_frames(silence, 1152)
            stream = stem.with_suffix(".mp3")
            stream.write_bytes(paragraph_gap.join(
                chunk_gap.join(sound for sound, _ in own) for own in frames
            ) + ending)
            return stream
    decoded = iter(decode_clips(clips))
    speech = [[next(decoded) for _ in clips] for clips in paragraphs]
    rate = speech[0][0].frame_rate
    spaced: list[AudioSegment] = []
    for number, segments in enumerate(speech):
        if number:
            spaced.append(_silence(pauses.between_paragraphs_s, rate))
        for index, segment in enumerate(segments):
            if index:
                spaced.append(_silence(pauses.between_chunks_s, rate))
            spaced.append(segment)
    wav = stem.with_suffix(".wav")
    join_segments(spaced, rate).export(wav, format="wav")
    return wav


def join_segments(pieces: Sequence[AudioSegment], rate: int) -> AudioSegment:
    """Join segments as 16-bit mono at ``rate`` in linear time (pydub's ``+`` copies all)."""
    if not pieces:
        return _silence(0.0, rate)
    uniform = [
        piece.set_frame_rate(rate).set_channels(1).set_sample_width(2) for piece in pieces
    ]
    return uniform[0]._spawn(b"".join(piece.raw_data for piece in uniform))


def _silence(seconds: float, rate: int) -> AudioSegment:
    return AudioSegment.silent(duration=int(seconds * 1000), frame_rate=rate)

