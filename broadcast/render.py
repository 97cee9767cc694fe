"""Rendering: an approved bulletin or a whole program becomes one finished audio file.

Each finished file gets a JSON sidecar beside it (``NAME.mp3.json``) saying what is in it: the
script, its content hash and approval, the engine that spoke it, duration and loudness figures.
Both files are written atomically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Callable, Sequence
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
    master,
)
from broadcast.bulletin import Bulletin, require_approved
from broadcast.fileio import write_text_atomic
from broadcast.tts import SpeechEngine
from broadcast.vietnamese import Lexicon, chunk_spoken, to_spoken

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while chunks are synthesized."""

_WORK_RATE = 48000
"""Sample rate speech is assembled at before mastering."""


@dataclass(frozen=True)
class Pauses:
    """Silences, in seconds, that make speech sound read rather than recited."""

    between_chunks_s: float = 0.2
    between_paragraphs_s: float = 0.7
    between_items_s: float = 1.2


@dataclass(frozen=True)
class RenderSettings:
    """Everything that decides how a bulletin sounds."""

    engine: SpeechEngine
    lexicon: Lexicon | None = None
    target: LoudnessTarget = field(default_factory=LoudnessTarget)
    pauses: Pauses = field(default_factory=Pauses)
    processing: SpeechProcessing = field(default_factory=SpeechProcessing)

    def fingerprint(self, fmt: OutputFormat) -> str:
        """A short hash of every setting that changes the audio, for cache keys."""
        parts = {
            "version": __version__,
            "engine": self.engine.identity,
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


def sidecar_path(audio: Path) -> Path:
    return audio.with_name(audio.name + ".json")


def spoken_chunks(bulletin: Bulletin, settings: RenderSettings) -> list[list[str]]:
    """The bulletin as the engine will read it: per paragraph, the chunks sent to the engine."""
    paragraphs: list[list[str]] = []
    for paragraph in bulletin.paragraphs:
        spoken = to_spoken(paragraph, settings.lexicon)
        chunks = chunk_spoken(" ".join(spoken.split()), settings.engine.max_chunk_chars)
        if chunks:
            paragraphs.append(chunks)
    return paragraphs


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
    paragraphs = spoken_chunks(bulletin, settings)
    total = sum(len(p) for p in paragraphs)
    done = 0
    pieces: list[AudioSegment] = []
    chunk_gap = _silence(settings.pauses.between_chunks_s)
    paragraph_gap = _silence(settings.pauses.between_paragraphs_s)
    for number, chunks in enumerate(paragraphs):
        if number:
            pieces.append(paragraph_gap)
        for index, chunk in enumerate(chunks):
            if index:
                pieces.append(chunk_gap)
            pieces.append(settings.engine.synthesize(chunk))
            done += 1
            if progress is not None:
                progress(done, total)
    speech = join_segments(pieces)
    with tempfile.TemporaryDirectory(prefix="broadcast-render-") as tmp:
        raw = Path(tmp) / "speech.wav"
        speech.export(raw, format="wav")
        figures = master(raw, out, settings.target, fmt, settings.processing)
    metadata: dict[str, object] = {
        "kind": "bulletin",
        "script": str(bulletin.path),
        "title": bulletin.title,
        "content_hash": bulletin.content_hash,
        "approved_by": bulletin.approved_by,
        "approved_on": bulletin.approved_on.isoformat() if bulletin.approved_on else None,
        "engine": settings.engine.identity,
        "chunks": total,
        **_common_metadata(figures, settings.target, fmt),
    }
    write_text_atomic(sidecar_path(out), json.dumps(metadata, ensure_ascii=False, indent=2))
    return RenderedAudio(out, figures, metadata)


def render_recording(
    source: Path, out: Path, target: LoudnessTarget, fmt: OutputFormat | None = None
) -> RenderedAudio:
    """Bring a recorded item (a chime, a recorded notice) to the loudness target."""
    fmt = fmt or OutputFormat.for_path(out)
    figures = master(source, out, target, fmt)
    metadata: dict[str, object] = {
        "kind": "audio",
        "file": str(source),
        **_common_metadata(figures, target, fmt),
    }
    write_text_atomic(sidecar_path(out), json.dumps(metadata, ensure_ascii=False, indent=2))
    return RenderedAudio(out, figures, metadata)


def render_program(
    items: Sequence[RenderedAudio | float],
    out: Path,
    target: LoudnessTarget,
    pauses: Pauses,
    fmt: OutputFormat | None = None,
    program: str = "",
) -> RenderedAudio:
    """Join already-mastered items, with pauses between them, into one program file.

    A float among ``items`` is a silence of that many seconds, aired as an item of its own.
    """
    fmt = fmt or OutputFormat.for_path(out)
    parts: list[Path | float] = []
    for index, item in enumerate(items):
        if index:
            parts.append(pauses.between_items_s)
        parts.append(item if isinstance(item, float) else item.path)
    figures = concatenate(parts, out, fmt)
    metadata: dict[str, object] = {
        "kind": "program",
        "program": program,
        "items": [
            {"kind": "silence", "seconds": item} if isinstance(item, float) else item.metadata
            for item in items
        ],
        **_common_metadata(figures, target, fmt),
    }
    write_text_atomic(sidecar_path(out), json.dumps(metadata, ensure_ascii=False, indent=2))
    return RenderedAudio(out, figures, metadata)


def load_rendered(path: Path) -> RenderedAudio | None:
    """A finished file with its sidecar, or None when either is missing or unreadable."""
    sidecar = sidecar_path(path)
    if not path.exists() or not sidecar.exists():
        return None
    try:
        metadata = json.loads(sidecar.read_text(encoding="utf-8"))
        figures = AudioFigures(**metadata["figures"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return RenderedAudio(path, figures, metadata)


def join_segments(pieces: Sequence[AudioSegment]) -> AudioSegment:
    """Join segments in linear time (pydub's ``+`` copies everything on every join)."""
    if not pieces:
        return _silence(0.0)
    uniform = [
        piece.set_frame_rate(_WORK_RATE).set_channels(1).set_sample_width(2) for piece in pieces
    ]
    return uniform[0]._spawn(b"".join(piece.raw_data for piece in uniform))


def _silence(seconds: float) -> AudioSegment:
    return AudioSegment.silent(duration=int(seconds * 1000), frame_rate=_WORK_RATE)


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
