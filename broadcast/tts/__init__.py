"""Text-to-speech engines: gTTS (Google, online) and espeak-ng (offline)."""

from __future__ import annotations

from broadcast.tts.base import EngineError, SpeechEngine
from broadcast.tts.espeak import EspeakEngine
from broadcast.tts.gtts_engine import GttsEngine

ENGINE_NAMES = ("auto", "gtts", "espeak")

__all__ = [
    "ENGINE_NAMES",
    "EngineError",
    "EspeakEngine",
    "GttsEngine",
    "SpeechEngine",
    "choose_engine",
]


def choose_engine(
    name: str,
    *,
    tld: str = "com",
    slow: bool = False,
    voice: str = "vi",
    rate: int = 150,
    pitch: int = 50,
) -> tuple[SpeechEngine, str | None]:
    """The engine for ``name``, and a note for the operator when ``auto`` had to fall back.

    ``auto`` uses Google when its host answers and espeak-ng otherwise, so a ward with no
    internet still gets speech.
    """
    offline = EspeakEngine(voice=voice, rate=rate, pitch=pitch)
    if name == "espeak":
        return offline, None
    google = GttsEngine(tld=tld, slow=slow)
    if name == "gtts":
        return google, None
    if name != "auto":
        raise EngineError(f"engine '{name}' is not known. Use one of: {', '.join(ENGINE_NAMES)}.")
    if google.reachable():
        return google, None
    return (
        offline,
        "Google TTS cannot be reached (no internet?). Using the offline espeak-ng voice.",
    )
