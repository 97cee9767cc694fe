"""Rendering: an approved bulletin or a whole program becomes one finished audio file.

Each finished file gets a JSON sidecar beside it (``NAME.mp3.json``) saying what is in it: the
script, its content hash and approval, the engine that spoke it, duration and loudness figures.
Both files are written atomically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydub import AudioSegment

from broadcast import __version__
from broadcast.audio import (
    AudioFigures,
    LoudnessTarget,
    OutputFormat,
    SpeechProcessing,
    concatenate,
    estimate_loudness,
    master,
    run_ffmpeg,
)
from broadcast.bulletin import Bulletin, BulletinError, require_approved
from broadcast.errors import Location
from broadcast.fileio import write_text_atomic
from broadcast.tts import ChunkCache, SpeechClip, SpeechEngine, speak
from broadcast.tts.mp3 import inspect_mp3
from broadcast.tts.speaker import ProgressCallback
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


def render_bulletin(
    bulletin: Bulletin,
    out: Path,
    settings: RenderSettings,
    fmt: OutputFormat | None = None,
    progress: ProgressCallback | None = None,
) -> RenderedAudio:
    """Speak an approved bulletin, master it to the loudness target and write ``out``."""
    require_approved(bulletin)
    fmt = fmt or OutputFormat.for_path(out)
    speech = speak(
        spoken_paragraphs(bulletin, settings.lexicon), settings.engines, settings.cache, progress
    )
    clips = [clip for paragraph in speech.paragraphs for clip in paragraph]
    if not clips:
        raise BulletinError(
            "this script has nothing to read aloud. Write the bulletin's words below its header.",
            Location(bulletin.path),
        )
    segments = decode_clips(clips)
    # Speech is joined at the engine's own rate (all chunks of a bulletin come from one engine);
    # ffmpeg resamples once, well, when mastering.
    rate = segments[0].frame_rate
    decoded = iter(segments)
    pieces: list[AudioSegment] = []
    chunk_gap = _silence(settings.pauses.between_chunks_s, rate)
    paragraph_gap = _silence(settings.pauses.between_paragraphs_s, rate)
    for number, paragraph in enumerate(speech.paragraphs):
        if number:
            pieces.append(paragraph_gap)
        for index in range(len(paragraph)):
            if index:
                pieces.append(chunk_gap)
            pieces.append(next(decoded))
    joined = join_segments(pieces, rate)
    _forget_sidecar(out)
    with tempfile.TemporaryDirectory(prefix="broadcast-render-") as tmp:
        raw = Path(tmp) / "speech.wav"
        joined.export(raw, format="wav")
        figures = master(
            raw, out, settings.target, fmt, settings.processing,
            level_hint=estimate_loudness(joined),
        )
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
