"""The speech engine protocol shared by every TTS engine."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from broadcast.errors import BroadcastError


class EngineError(BroadcastError):
    """An engine could not turn text into speech."""


@dataclass(frozen=True)
class SpeechClip:
    """Encoded audio of one chunk, as the engine produced it (``format``: "mp3" or "wav")."""

    data: bytes
    format: str
    retries: int = 0


class SpeechEngine(Protocol):
    """Turns one chunk of spoken text into audio.

    ``identity`` names the engine, voice and every option that changes the sound (for example
    ``espeak-ng:vi:rate=150:pitch=50``); render metadata records it and the chunk cache keys on
    it. ``max_chunk_chars`` is the longest text the engine takes in one call; ``concurrency`` is
    how many calls may run at once. ``synthesize`` is safe to call from several threads.
    """

    @property
    def name(self) -> str: ...

    @property
    def identity(self) -> str: ...

    @property
    def max_chunk_chars(self) -> int: ...

    @property
    def concurrency(self) -> int: ...

    def synthesize(self, text: str, cancel: threading.Event | None = None) -> SpeechClip:
        """Speak ``text``. Once ``cancel`` is set, stop trying again and raise EngineError."""
        ...
