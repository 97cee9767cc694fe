"""Text-to-speech: gTTS (online) and espeak-ng (offline), a fallback chain, a chunk cache."""

from __future__ import annotations

from collections.abc import Sequence

from broadcast.tts.base import EngineError, SpeechClip, SpeechEngine
from broadcast.tts.cache import CacheError, ChunkCache
from broadcast.tts.espeak import EspeakEngine
from broadcast.tts.gtts_engine import GttsEngine, RetryPolicy
from broadcast.tts.speaker import Speech, SpeechProgress, speak

ENGINE_NAMES = ("auto", "gtts", "espeak")

__all__ = [
    "ENGINE_NAMES",
    "CacheError",
    "ChunkCache",
    "EngineError",
    "EspeakEngine",
    "GttsEngine",
    "RetryPolicy",
    "Speech",
    "SpeechClip",
    "SpeechEngine",
    "SpeechProgress",
    "engine_chain",
    "speak",
]


def engine_chain(
    names: Sequence[str],
    *,
    google: GttsEngine | None = None,
    offline: EspeakEngine | None = None,
) -> tuple[tuple[SpeechEngine, ...], str | None]:
    """The engines to try in order, and a note for the operator when ``auto`` had to skip one.

    ``auto`` means Google when its host answers right now, then espeak-ng; with no internet it
    goes straight to espeak-ng instead of waiting through Google's retries.
    """
    google = google or GttsEngine()
    offline = offline or EspeakEngine()
    chain: list[SpeechEngine] = []
    note = None
    for name in names:
        if name == "gtts":
            chain.append(google)
        elif name == "espeak":
            chain.append(offline)
        elif name == "auto":
            if google.reachable():
                chain.append(google)
            else:
                note = (
                    "Google TTS cannot be reached (no internet?). "
                    "Using the offline espeak-ng voice."
                )
            chain.append(offline)
        else:
            raise EngineError(
                f"engine '{name}' is not known. Use one of: {', '.join(ENGINE_NAMES)}."
            )
    unique: list[SpeechEngine] = []
    for engine in chain:
        if engine not in unique:
            unique.append(engine)
    return tuple(unique), note
