"""Length estimates, made before anything is rendered: the items' lengths that the schedule's
checks (length caps, quiet hours, overlaps) and ``broadcast agenda`` use."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from broadcast.audio import AudioError, probe
from broadcast.bulletin import load_bulletin
from broadcast.errors import BroadcastError
from broadcast.schedule import (
    ITEM_PAUSE_S,
    PARAGRAPH_PAUSE_S,
    AiredItem,
    AudioItem,
    RelayItem,
    Schedule,
    ScriptItem,
    SilenceItem,
)
from broadcast.vietnamese import to_spoken

DEFAULT_CHIME_S = 4.0
"""Estimated length of the built-in chime (a chime without a file)."""

_script_words: dict[tuple[Path, int, int], tuple[int, int] | None] = {}
_audio_seconds: dict[tuple[Path, int, int], float | None] = {}


def _stamp(path: Path) -> tuple[Path, int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return path, status.st_mtime_ns, status.st_size


class Estimator:
    """How long items and programs take to air, before anything is rendered.

    Scripts: spoken words (numbers read out) at ``tts.words_per_minute``, plus paragraph pauses.
    Audio: the file's duration. Chimes: their file, or :data:`DEFAULT_CHIME_S`. Relays and
    silences: their length. Between items the renderer pauses :data:`ITEM_PAUSE_S`.
    A file that cannot be read counts as zero (``broadcast check`` reports it).
    """

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self._known: dict[int, tuple[AiredItem, float]] = {}
        self._files: dict[tuple[str, Path], float] = {}

    def seconds(self, item: AiredItem) -> float:
        known = self._known.get(id(item))
        if known is None:
            known = self._known[id(item)] = (item, self._seconds(item))
        return known[1]

    def _seconds(self, item: AiredItem) -> float:
        if isinstance(item, ScriptItem | AudioItem):
            path = item.script if isinstance(item, ScriptItem) else item.audio
            found = self._files.get((item.kind, path))
            if found is None:
                where = self.schedule.resolve(path)
                found = self._script(where) if item.kind == "script" else self._audio(where)
                self._files[(item.kind, path)] = found
            return found
        if isinstance(item, SilenceItem):
            return item.silence
        if isinstance(item, RelayItem):
            return item.duration.total_seconds()
        try:
            chime = self.schedule.chime_file(item.chime)
        except BroadcastError:
            return 0.0  # outside the ward folder: broadcast check says so, at its line
        return DEFAULT_CHIME_S if chime is None else self._audio(chime)

    def total(self, items: Iterable[AiredItem]) -> float:
        """Length of a broadcast airing ``items`` in order, pauses included."""
        lengths = [self.seconds(item) for item in items]
        return sum(lengths) + ITEM_PAUSE_S * max(len(lengths) - 1, 0)

    def _script(self, path: Path) -> float:
        stamp = _stamp(path)
        if stamp is None:
            return 0.0
        if stamp not in _script_words:
            _script_words[stamp] = _count_words(path)
        counted = _script_words[stamp]
        if counted is None:
            return 0.0
        words, paragraphs = counted
        rate = self.schedule.tts.words_per_minute
        return words * 60.0 / rate + PARAGRAPH_PAUSE_S * max(paragraphs - 1, 0)

    def is_audio(self, path: Path) -> bool:
        self._audio(path)
        stamp = _stamp(path)
        return stamp is not None and _audio_seconds.get(stamp) is not None

    @staticmethod
    def _audio(path: Path) -> float:
        stamp = _stamp(path)
        if stamp is None:
            return 0.0
        if stamp not in _audio_seconds:
            try:
                _audio_seconds[stamp] = probe(path)[0]
            except AudioError:
                _audio_seconds[stamp] = None
        return _audio_seconds[stamp] or 0.0


def _count_words(path: Path) -> tuple[int, int] | None:
    try:
        bulletin = load_bulletin(path)
        words = sum(len(to_spoken(p).split()) for p in bulletin.paragraphs)
    except (BroadcastError, ValueError):
        return None
    return words, len(bulletin.paragraphs)
