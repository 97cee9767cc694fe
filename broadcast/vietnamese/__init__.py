"""Vietnamese text normalisation: bulletin text to speech-ready words, and TTS chunking."""

from __future__ import annotations

from .chunking import chunk_spoken
from .decoding import decode_text
from .errors import LexiconError, TextDecodingError
from .explain import LineExplanation, Span, explain, spelled_words
from .lexicon import Lexicon, LexiconEntry, default_lexicon, load_lexicon
from .normalize import to_spoken

__all__ = [
    "Lexicon",
    "LexiconEntry",
    "LexiconError",
    "LineExplanation",
    "Span",
    "TextDecodingError",
    "chunk_spoken",
    "decode_text",
    "default_lexicon",
    "explain",
    "load_lexicon",
    "spelled_words",
    "to_spoken",
]
