"""Rendering: an approved bulletin or a whole program becomes one finished audio file.

Each finished file gets a JSON sidecar beside it (``NAME.mp3.json``) saying what is in it: the
script, its content hash and approval, the engine that spoke it, duration and loudness figures.
Both files are written atomically. In memory the sidecar is a :class:`BulletinSidecar`, a
:class:`RecordingSidecar` or a :class:`ProgramSidecar`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from broadcast import __version__
from broadcast.audio import (
    SILENCE_LUFS,
    AudioError,
    AudioFigures,
    LoudnessTarget,
    OutputFormat,
    SpeechProcessing,
    concatenate,
    join_mastered,
    master,
)
from broadcast.bulletin import ApprovalRecord, Bulletin, BulletinError, require_approved
from broadcast.errors import Location
from broadcast.fileio import file_sha256, write_text_atomic
from broadcast.paragraph_mastering import ParagraphMastering
from broadcast.schedule import ITEM_PAUSE_S, PARAGRAPH_PAUSE_S
from broadcast.tts import ChunkCache, SpeechEngine, speak
from broadcast.tts.speaker import EngineBreaker, ProgressCallback, fallback_reserve_s
from broadcast.vietnamese import Lexicon, to_spoken


@dataclass(frozen=True)
class Pauses:
    """Silences, in seconds, that make speech sound read rather than recited."""

    between_chunks_s: float = 0.2
    between_paragraphs_s: float = PARAGRAPH_PAUSE_S
    between_items_s: float = ITEM_PAUSE_S
    lead_in_s: float = 0.5
    """Silence before the first sound, while amplifiers come up."""
    lead_out_s: float = 1.0


@dataclass(frozen=True)
class RenderSettings:
    """Everything that decides how a bulletin sounds, where chunk audio is kept, and which
    engine may speak it now.

    ``engines`` are tried in order for each bulletin (a fallback chain). ``breaker`` remembers
    the engines that failed a moment ago; ``deadline`` (seconds since the epoch) is when the
    audio must be ready, so a slow engine gives way to the next in time (see
    :mod:`broadcast.tts.speaker`). Neither changes the sound of what an engine speaks.
    """

    engines: tuple[SpeechEngine, ...]
    lexicon: Lexicon | None = None
    cache: ChunkCache | None = None
    target: LoudnessTarget = field(default_factory=LoudnessTarget)
    pauses: Pauses = field(default_factory=Pauses)
    processing: SpeechProcessing = field(default_factory=SpeechProcessing)
    breaker: EngineBreaker | None = field(default=None, compare=False)
    deadline: float | None = field(default=None, compare=False)
    called_off: threading.Event | None = field(default=None, compare=False)
    """Set when renders under way should be given up (the daemon is stopping)."""

    def usable_now(self, chars: int) -> RenderSettings:
        """These settings with only the engines worth trying now for a text of ``chars``
        characters: not one that failed a moment ago, and only the last one when the deadline
        leaves the others no time."""
        engines = self.engines
        if self.breaker is not None:
            engines = self.breaker.usable(engines)
        if self.deadline is not None and \
                time.time() > self.deadline - fallback_reserve_s(chars):
            engines = engines[-1:]
        return replace(self, engines=engines)

    def from_engine(self, identity: str) -> RenderSettings:
        """These settings with the chain starting at the engine ``identity`` (after a
        fallback, what the render really used)."""
        names = [engine.identity for engine in self.engines]
        return replace(self, engines=self.engines[names.index(identity):])

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
class Rendering:
    """How a finished file came out and was made: figures, target, format, when, which version."""

    figures: AudioFigures
    target: LoudnessTarget
    format: OutputFormat
    rendered_at: str
    """UTC time, ISO 8601 to the second."""
    broadcast_version: str

    @classmethod
    def now(cls, figures: AudioFigures, target: LoudnessTarget, fmt: OutputFormat) -> Rendering:
        rendered_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return cls(figures, target, fmt, rendered_at, __version__)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rendering:
        return cls(AudioFigures(**data["figures"]), LoudnessTarget(**data["target"]),
                   OutputFormat(**data["format"]), data["rendered_at"], data["broadcast_version"])


@dataclass(frozen=True)
class BulletinSidecar:
    """A spoken bulletin: its script and approval, and how its speech was made."""

    script: str
    title: str
    content_hash: str
    approved_by: str | None
    approved_on: str | None
    """The approval date, ISO 8601."""
    engine: str
    """Identity of the engine that spoke it."""
    chunks: int
    cache_hits: int
    retries: int
    paragraphs: int
    paragraphs_mastered: int
    """Paragraphs mastered for this file; the others were kept from an earlier render."""
    warnings: tuple[str, ...]
    rendering: Rendering

    kind: ClassVar[str] = "bulletin"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "script": self.script, "title": self.title,
            "content_hash": self.content_hash, "approved_by": self.approved_by,
            "approved_on": self.approved_on, "engine": self.engine, "chunks": self.chunks,
            "cache_hits": self.cache_hits, "retries": self.retries,
            "paragraphs": self.paragraphs, "paragraphs_mastered": self.paragraphs_mastered,
            "warnings": list(self.warnings), **self.rendering.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BulletinSidecar:
        return cls(
            script=data["script"], title=data["title"], content_hash=data["content_hash"],
            approved_by=data["approved_by"], approved_on=data["approved_on"],
            engine=data["engine"], chunks=data["chunks"], cache_hits=data["cache_hits"],
            retries=data["retries"], paragraphs=data["paragraphs"],
            paragraphs_mastered=data["paragraphs_mastered"], warnings=tuple(data["warnings"]),
            rendering=Rendering.from_json(data),
        )


@dataclass(frozen=True)
class RecordingSidecar:
    """A recorded item (a chime, a recorded notice) brought to the loudness target."""

    kind: str
    """``audio`` or ``chime``."""
    file: str
    """The recording it was made from."""
    rendering: Rendering

    warnings: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "file": self.file, **self.rendering.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordingSidecar:
        return cls(data["kind"], data["file"], Rendering.from_json(data))


@dataclass(frozen=True)
class RelaySidecar:
    """A live relay in a program. The program file holds silence in its place; the player airs
    the stream there, brought to the loudness target as it plays."""

    source: str
    """The relay source's name in schedule.yaml."""
    url: str
    silence_s: float
    """Digital silence this long counts as a dead stream."""
    fallback: str | None
    """The finished file that airs while the stream is dead or silent."""

    kind: ClassVar[str] = "relay"
    warnings: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "url": self.url,
                "silence_s": self.silence_s, "fallback": self.fallback}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RelaySidecar:
        return cls(data["source"], data["url"], data["silence_s"], data["fallback"])


@dataclass(frozen=True)
class Relayed:
    """A relay as a part of a program to render: how long it lasts and what it relays."""

    relay: RelaySidecar
    duration_s: float


@dataclass(frozen=True)
class PlacedItem:
    """An item of a program and where it starts in the program's file."""

    start_s: float
    duration_s: float
    item: Sidecar | RelaySidecar | None
    """What the item's own sidecar says; None for a silence."""

    @property
    def kind(self) -> str:
        return "silence" if self.item is None else self.item.kind

    def to_json(self) -> dict[str, Any]:
        own = {"kind": "silence"} if self.item is None else self.item.to_json()
        return {**own, "start_s": self.start_s, "duration_s": self.duration_s}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlacedItem:
        item: Sidecar | RelaySidecar | None = None
        if data["kind"] == RelaySidecar.kind:
            item = RelaySidecar.from_json(data)
        elif data["kind"] != "silence":
            item = _sidecar_from_json(data)
        return cls(data["start_s"], data["duration_s"], item)


@dataclass(frozen=True)
class ProgramSidecar:
    """A program: its items in order, each with where it starts."""

    program: str
    items: tuple[PlacedItem, ...]
    rendering: Rendering

    kind: ClassVar[str] = "program"

    @property
    def warnings(self) -> tuple[str, ...]:
        """The items' warnings."""
        return tuple(warning for placed in self.items if placed.item is not None
                     for warning in placed.item.warnings)

    def relays(self) -> list[PlacedItem]:
        """The live relays among the items (the file holds silence in their place)."""
        return [placed for placed in self.items if isinstance(placed.item, RelaySidecar)]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "program": self.program,
                "items": [placed.to_json() for placed in self.items], **self.rendering.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProgramSidecar:
        return cls(data["program"], tuple(PlacedItem.from_json(item) for item in data["items"]),
                   Rendering.from_json(data))


Sidecar = BulletinSidecar | RecordingSidecar | ProgramSidecar
"""What a finished file's sidecar says is in it."""

SidecarT = TypeVar("SidecarT", bound=Sidecar)


def _sidecar_from_json(data: dict[str, Any]) -> Sidecar:
    match data["kind"]:
        case BulletinSidecar.kind:
            return BulletinSidecar.from_json(data)
        case ProgramSidecar.kind:
            return ProgramSidecar.from_json(data)
        case _:
            return RecordingSidecar.from_json(data)


@dataclass(frozen=True)
class RenderedAudio(Generic[SidecarT]):
    """A finished file and what is in it."""

    path: Path
    metadata: SidecarT
    notes: tuple[str, ...] = ()
    """What the operator should know about this use of the file, beyond how it was made (a
    script's last good version standing in for a broken edit)."""
    sha256: str | None = None
    """The file's SHA-256 when it was made, as its sidecar keeps it (checked before airing)."""
    approvals: Mapping[str, ApprovalRecord] = field(default_factory=dict)
    """The approvals of the scripts in the file, by content hash, as verified for this use
    (an approval may change, expire or be revoked after the file was made)."""

    @property
    def figures(self) -> AudioFigures:
        return self.metadata.rendering.figures

    @property
    def warnings(self) -> list[str]:
        """What the operator should know about how this was made (e.g. an engine fell back)."""
        return [*self.metadata.warnings, *self.notes]

    def noted(self, notes: Sequence[str]) -> RenderedAudio[SidecarT]:
        return replace(self, notes=(*self.notes, *notes)) if notes else self

    def approved(self, approvals: Mapping[str, ApprovalRecord]) -> RenderedAudio[SidecarT]:
        """This use of the file, with the approvals verified for it."""
        return replace(self, approvals={**self.approvals, **approvals})

    def moved(self, path: Path) -> RenderedAudio[SidecarT]:
        """The same render under another name (the audio first: until its sidecar follows, the
        render is not found under either name, and is made again at worst)."""
        os.replace(self.path, path)
        os.replace(sidecar_path(self.path), sidecar_path(path))
        return replace(self, path=path)


def sidecar_path(audio: Path) -> Path:
    return audio.with_name(audio.name + ".json")


def _finish(out: Path, metadata: SidecarT) -> RenderedAudio[SidecarT]:
    """Write the sidecar (with the file's SHA-256) beside the finished audio and return both
    as one result."""
    sha256 = file_sha256(out)
    text = json.dumps({**metadata.to_json(), "sha256": sha256}, ensure_ascii=False, indent=2)
    write_text_atomic(sidecar_path(out), text)
    return RenderedAudio(out, metadata, sha256=sha256)


def _forget_sidecar(audio: Path) -> None:
    """Remove an old sidecar before its audio is replaced, so the two never disagree."""
    sidecar_path(audio).unlink(missing_ok=True)


def spoken_paragraphs(bulletin: Bulletin, lexicon: Lexicon | None) -> list[str]:
    """The bulletin's paragraphs as the engine will read them."""
    return [to_spoken(paragraph, lexicon) for paragraph in bulletin.paragraphs]


def render_bulletin(
    bulletin: Bulletin,
    out: Path,
    settings: RenderSettings,
    fmt: OutputFormat | None = None,
    progress: ProgressCallback | None = None,
) -> RenderedAudio[BulletinSidecar]:
    """Speak an approved bulletin, master it to the loudness target and write ``out``.

    Each paragraph is mastered on its own as soon as its speech is in, then the paragraphs are
    joined with pauses between them (see :class:`ParagraphMastering` and
    :func:`join_mastered`).
    """
    require_approved(bulletin)
    fmt = fmt or OutputFormat.for_path(out)
    with tempfile.TemporaryDirectory(prefix="broadcast-render-") as tmp, \
            ParagraphMastering(settings, fmt, Path(tmp)) as mastering:
        speech = speak(
            spoken_paragraphs(bulletin, settings.lexicon), settings.engines, settings.cache,
            progress, mastering.add, breaker=settings.breaker, deadline=settings.deadline,
            called_off=settings.called_off,
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
    return _finish(out, BulletinSidecar(
        script=str(bulletin.path),
        title=bulletin.title,
        content_hash=bulletin.content_hash,
        approved_by=bulletin.approved_by,
        approved_on=bulletin.approved_on.isoformat() if bulletin.approved_on else None,
        engine=speech.engine,
        chunks=speech.chunks,
        cache_hits=speech.cache_hits,
        retries=speech.retries,
        paragraphs=len(speech.paragraphs),
        paragraphs_mastered=mastered,
        warnings=tuple(speech.warnings),
        rendering=Rendering.now(figures, settings.target, fmt),
    ))


def render_recording(
    source: Path,
    out: Path,
    target: LoudnessTarget,
    fmt: OutputFormat | None = None,
    kind: str = "audio",
    recorded_as: Path | None = None,
) -> RenderedAudio[RecordingSidecar]:
    """Bring a recorded item (a chime, a recorded notice) to the loudness target;
    ``recorded_as`` names the file ``source`` is a copy of."""
    fmt = fmt or OutputFormat.for_path(out)
    _forget_sidecar(out)
    figures = master(source, out, target, fmt)
    return _finish(out, RecordingSidecar(kind, str(recorded_as or source),
                                         Rendering.now(figures, target, fmt)))


def render_program(
    items: Sequence[RenderedAudio | float | Relayed],
    out: Path,
    target: LoudnessTarget,
    pauses: Pauses,
    fmt: OutputFormat | None = None,
    program: str = "",
) -> RenderedAudio[ProgramSidecar]:
    """Join already-mastered items (bulletins, chimes, recordings) into one program file.

    A float among ``items`` is a silence of that many seconds, aired as an item of its own; a
    relay is a silence as long as the relay, which the player fills with the stream. The
    program starts after a short lead-in, has a pause between items, and ends with a
    lead-out. The sidecar lists every item with where it starts in the file.
    """
    fmt = fmt or OutputFormat.for_path(out)
    parts: list[Path | float] = [pauses.lead_in_s]
    placed: list[PlacedItem] = []
    position = pauses.lead_in_s
    for index, item in enumerate(items):
        if index:
            parts.append(pauses.between_items_s)
            position += pauses.between_items_s
        if isinstance(item, float):
            parts.append(item)
            placed.append(PlacedItem(round(position, 3), item, None))
            position += item
            continue
        if isinstance(item, Relayed):
            parts.append(item.duration_s)
            placed.append(PlacedItem(round(position, 3), item.duration_s, item.relay))
            position += item.duration_s
            continue
        parts.append(item.path)
        placed.append(PlacedItem(round(position, 3), item.figures.duration_s, item.metadata))
        position += item.figures.duration_s
    parts.append(pauses.lead_out_s)
    _forget_sidecar(out)
    figures = concatenate(parts, out, fmt, target.true_peak_dbtp)
    rendering = Rendering.now(figures, target, fmt)
    return _finish(out, ProgramSidecar(program, tuple(placed), rendering))


def load_rendered(path: Path) -> RenderedAudio[Sidecar] | None:
    """A finished file with its sidecar, or None when either is missing or unreadable, or the
    sidecar holds no digest of the file."""
    sidecar = sidecar_path(path)
    if not path.exists() or not sidecar.exists():
        return None
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
        metadata = _sidecar_from_json(data)
        os.utime(path)  # marks the render as recently used, for pruning
    except (OSError, ValueError, KeyError, TypeError):
        return None
    sha256 = data.get("sha256")
    if not isinstance(sha256, str):
        return None  # made before renders recorded their digest: made again, then checked
    return RenderedAudio(path, metadata, sha256=sha256)

