"""Rendering: an approved bulletin or a whole program becomes one finished audio file.

Each finished file gets a JSON sidecar beside it (``NAME.mp3.json``) saying what is in it: the
script, its content hash and approval, the engine that spoke it, duration and loudness figures.
Both files are written atomically.
"""

from __future__ import annotations

import contextlib
import datetime as dt
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

from pydub import AudioSegment

from broadcast import __version__
from broadcast.audio import (
    SILENCE_LUFS,
    AudioError,
    AudioFigures,
    LoudnessTarget,
    Mastered,
    MasteringJob,
    MasteringLine,
    MeterLog,
    OutputFormat,
    SpeechProcessing,
    codec_drift_db,
    concatenate,
    join_mastered,
    master,
    run_ffmpeg,
    silent_frames,
)
from broadcast.bulletin import Bulletin, BulletinError, require_approved
from broadcast.errors import Location
from broadcast.fileio import write_text_atomic
from broadcast.tts import ChunkCache, SpeechClip, SpeechEngine, speak
from broadcast.tts.mp3 import inspect_mp3, sound_frames
from broadcast.tts.speaker import ProgressCallback, SpokenParagraph
from broadcast.vietnamese import Lexicon, to_spoken


@dataclass(frozen=True)
class Pauses:
    """Silences, in seconds, that make speech sound read rather than recited."""

    between_chunks_s: float = 0.2
    between_paragraphs_s: float = 0.7
    between_items_s: float = 1.2
    lead_in_s: float = 0.5
    """Silence before the first sound, while amplifiers come up."""
    lead_out_s: float = 1.0


@dataclass(frozen=True)
class RenderSettings:
    """Everything that decides how a bulletin sounds, and where chunk audio is kept.

    ``engines`` are tried in order for each bulletin (a fallback chain).
    """

    engines: tuple[SpeechEngine, ...]
    lexicon: Lexicon | None = None
    cache: ChunkCache | None = None
    target: LoudnessTarget = field(default_factory=LoudnessTarget)
    pauses: Pauses = field(default_factory=Pauses)
    processing: SpeechProcessing = field(default_factory=SpeechProcessing)

    def fingerprint(self, fmt: OutputFormat) -> str:
        """A short hash of every setting that changes the audio, for cache keys."""
        parts = {
            "version": __version__,
            "engines": [engine.identity for engine in self.engines],
            "lexicon": repr(self.lexicon),
            "target": asdict(self.target),
            "pauses": asdict(self.pauses),
            "processing": asdict(self.processing),
            "format": asdict(fmt),
        }
        blob = json.dumps(parts, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class RenderedAudio:
    """A finished file and what is in it."""

    path: Path
    figures: AudioFigures
    metadata: dict[str, object]

    @property
    def warnings(self) -> list[str]:
        """What the operator should know about how this was made (e.g. an engine fell back)."""
        own = self.metadata.get("warnings")
        found = [str(w) for w in own] if isinstance(own, list) else []
        items = self.metadata.get("items")
        for item in items if isinstance(items, list) else []:
            theirs = item.get("warnings") if isinstance(item, dict) else None
            if isinstance(theirs, list):
                found.extend(str(w) for w in theirs)
        return found


def sidecar_path(audio: Path) -> Path:
    return audio.with_name(audio.name + ".json")


def _finish(out: Path, figures: AudioFigures, metadata: dict[str, object]) -> RenderedAudio:
    """Write the sidecar beside the finished audio and return both as one result."""
    write_text_atomic(sidecar_path(out), json.dumps(metadata, ensure_ascii=False, indent=2))
    return RenderedAudio(out, figures, metadata)


def _forget_sidecar(audio: Path) -> None:
    """Remove an old sidecar before its audio is replaced, so the two never disagree."""
    sidecar_path(audio).unlink(missing_ok=True)


def spoken_paragraphs(bulletin: Bulletin, lexicon: Lexicon | None) -> list[str]:
    """The bulletin's paragraphs as the engine will read them."""
    return [to_spoken(paragraph, lexicon) for paragraph in bulletin.paragraphs]


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


class _ParagraphMastering:
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
        self._threads = [
            threading.Thread(target=self._work, args=(number,), daemon=True,
                             name=f"broadcast-master-{number}")
            for number in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> _ParagraphMastering:
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
        pieces = list(dict.fromkeys(self._by_place[(engine, i)].key for i in range(count)))
        mastered = sum(len(self._by_key[key].paragraphs) for key in pieces
                       if not self._by_key[key].reused)
        return [self._by_key[key].result.result() for key in pieces], mastered

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


def render_bulletin(
    bulletin: Bulletin,
    out: Path,
    settings: RenderSettings,
    fmt: OutputFormat | None = None,
    progress: ProgressCallback | None = None,
) -> RenderedAudio:
    """Speak an approved bulletin, master it to the loudness target and write ``out``.

    Each paragraph is mastered on its own as soon as its speech is in, then the paragraphs are
    joined with pauses between them (see :class:`_ParagraphMastering` and
    :func:`join_mastered`).
    """
    require_approved(bulletin)
    fmt = fmt or OutputFormat.for_path(out)
    with tempfile.TemporaryDirectory(prefix="broadcast-render-") as tmp, \
            _ParagraphMastering(settings, fmt, Path(tmp)) as mastering:
        speech = speak(
            spoken_paragraphs(bulletin, settings.lexicon), settings.engines, settings.cache,
            progress, mastering.add,
        )
        if not speech.paragraphs:
            raise BulletinError(
                "this script has nothing to read aloud. "
                "Write the bulletin's words below its header.",
                Location(bulletin.path),
            )
        pieces, mastered = mastering.result(speech.engine, len(speech.paragraphs))
        if all(piece.figures.integrated_lufs <= SILENCE_LUFS for piece in pieces):
            raise AudioError("the speech is silent: there is nothing to make louder.")
        _forget_sidecar(out)
        figures = join_mastered(pieces, settings.pauses.between_paragraphs_s, out, fmt)
    metadata: dict[str, object] = {
        "kind": "bulletin",
        "script": str(bulletin.path),
        "title": bulletin.title,
        "content_hash": bulletin.content_hash,
        "approved_by": bulletin.approved_by,
        "approved_on": bulletin.approved_on.isoformat() if bulletin.approved_on else None,
        "engine": speech.engine,
        "chunks": speech.chunks,
        "cache_hits": speech.cache_hits,
        "retries": speech.retries,
        "paragraphs": len(speech.paragraphs),
        "paragraphs_mastered": mastered,
        "warnings": speech.warnings,
        **_common_metadata(figures, settings.target, fmt),
    }
    return _finish(out, figures, metadata)


def render_recording(
    source: Path,
    out: Path,
    target: LoudnessTarget,
    fmt: OutputFormat | None = None,
    kind: str = "audio",
) -> RenderedAudio:
    """Bring a recorded item (a chime, a recorded notice) to the loudness target."""
    fmt = fmt or OutputFormat.for_path(out)
    _forget_sidecar(out)
    figures = master(source, out, target, fmt)
    metadata: dict[str, object] = {
        "kind": kind,
        "file": str(source),
        **_common_metadata(figures, target, fmt),
    }
    return _finish(out, figures, metadata)


def render_program(
    items: Sequence[RenderedAudio | float],
    out: Path,
    target: LoudnessTarget,
    pauses: Pauses,
    fmt: OutputFormat | None = None,
    program: str = "",
) -> RenderedAudio:
    """Join already-mastered items (bulletins, chimes, recordings) into one program file.

    A float among ``items`` is a silence of that many seconds, aired as an item of its own.
    The program starts after a short lead-in, has a pause between items, and ends with a
    lead-out. The sidecar lists every item with where it starts in the file.
    """
    fmt = fmt or OutputFormat.for_path(out)
    parts: list[Path | float] = [pauses.lead_in_s]
    described: list[dict[str, object]] = []
    position = pauses.lead_in_s
    for index, item in enumerate(items):
        if index:
            parts.append(pauses.between_items_s)
            position += pauses.between_items_s
        if isinstance(item, float):
            parts.append(item)
            described.append({"kind": "silence", "start_s": round(position, 3),
                              "duration_s": item})
            position += item
            continue
        parts.append(item.path)
        described.append({**item.metadata, "start_s": round(position, 3),
                          "duration_s": item.figures.duration_s})
        position += item.figures.duration_s
    parts.append(pauses.lead_out_s)
    _forget_sidecar(out)
    figures = concatenate(parts, out, fmt, target.true_peak_dbtp)
    metadata: dict[str, object] = {
        "kind": "program",
        "program": program,
        "items": described,
        **_common_metadata(figures, target, fmt),
    }
    return _finish(out, figures, metadata)


def load_rendered(path: Path) -> RenderedAudio | None:
    """A finished file with its sidecar, or None when either is missing or unreadable."""
    sidecar = sidecar_path(path)
    if not path.exists() or not sidecar.exists():
        return None
    try:
        metadata = json.loads(sidecar.read_text(encoding="utf-8"))
        figures = AudioFigures(**metadata["figures"])
        os.utime(path)  # marks the render as recently used, for pruning
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return RenderedAudio(path, figures, metadata)


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


def _common_metadata(
    figures: AudioFigures, target: LoudnessTarget, fmt: OutputFormat
) -> dict[str, object]:
    return {
        "figures": asdict(figures),
        "target": asdict(target),
        "format": asdict(fmt),
        "rendered_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "broadcast_version": __version__,
    }
