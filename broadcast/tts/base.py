"""The speech engine protocol shared by every TTS engine."""

from __future__ import annotations

from typing import Protocol

from pydub import AudioSegment

from broadcast.errors import BroadcastError


class EngineError(BroadcastError):
    """An engine could not turn text into speech."""


class SpeechEngine(Protocol):
    """Turns one chunk of spoken text into audio.

    ``identity`` names the engine, voice and every option that changes the sound (for example
    ``espeak-ng:vi:rate=150:pitch=50``); render metadata records it and caches key on it.
    ``max_chunk_chars`` is the longest piece of text the engine takes in one call.
    """

    name: str
    identity: str
    max_chunk_chars: int

    def synthesize(self, text: str) -> AudioSegment: ...
