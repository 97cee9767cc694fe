"""Text-to-speech: gTTS (online) and espeak-ng (offline), a fallback chain, a chunk cache."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from broadcast.schedule import AUTO, ENGINE_CHOICES, ENGINES, TtsSettings
from broadcast.tts.base import EngineError, SpeechClip, SpeechEngine
from broadcast.tts.cache import CacheError, ChunkCache
from broadcast.tts.espeak import EspeakEngine
from broadcast.tts.gtts_engine import GttsEngine, RetryPolicy
from broadcast.tts.speaker import Speech, SpeechProgress, speak

__all__ = [
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
    "speech_engines",
]


def speech_engines(tts: TtsSettings) -> dict[str, SpeechEngine]:
    """One engine of each kind in :data:`broadcast.schedule.ENGINES`, set up as ``tts`` says."""
    return {
        name: kind.load().from_settings(tts.engine_settings(name))
        for name, kind in ENGINES.items()
    }


def engine_chain(
    names: Sequence[str], engines: Mapping[str, SpeechEngine]
) -> tuple[tuple[SpeechEngine, ...], str | None]:
    """The engines to try in order, and a note for the operator when ``auto`` had to skip one.

    ``auto`` means the online engines (Google) whose host answers right now, then the offline
    ones (espeak-ng); with no internet it goes straight to espeak-ng instead of waiting through
    Google's retries.
    """
    chain: list[SpeechEngine] = []
    note = None
    for name in names:
        if name == AUTO:
            skipped = [each for each, kind in ENGINES.items()
                       if kind.online and not engines[each].reachable()]
            chain.extend(engines[each] for each in ENGINES if each not in skipped)
            if skipped:
                offline = [kind.label for kind in ENGINES.values() if not kind.online]
                note = (f"{' and '.join(ENGINES[each].label for each in skipped)} cannot be "
                        f"reached (no internet?). Using the offline {' and '.join(offline)}.")
        elif name in engines:
            chain.append(engines[name])
        else:
            raise EngineError(
                f"engine '{name}' is not known. Use one of: {', '.join(ENGINE_CHOICES)}."
            )
    unique: list[SpeechEngine] = []
    for engine in chain:
        if engine not in unique:
            unique.append(engine)
    return tuple(unique), note
