"""Google Translate's text-to-speech through the gTTS library (needs the internet)."""

from __future__ import annotations

import io
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from gtts import gTTS, gTTSError
from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError

from broadcast.tts.base import EngineError

GTTS_MAX_CHARS = 100
"""gTTS sends at most this many characters per request."""


def google_base_url(tld: str) -> str:
    return f"https://translate.google.{tld}/"


@dataclass(frozen=True)
class GttsEngine:
    """Speech from Google. ``tld`` picks Google's host suffix (``com``, ``com.vn``)."""

    tld: str = "com"
    slow: bool = False
    timeout_s: float = 15.0
    name: str = "gtts"
    max_chunk_chars: int = GTTS_MAX_CHARS

    @property
    def identity(self) -> str:
        return f"gtts:vi:tld={self.tld}:slow={str(self.slow).lower()}"

    def reachable(self, timeout_s: float = 2.0) -> bool:
        """Whether Google's TTS host answers a TCP connection right now."""
        parts = urlsplit(google_base_url(self.tld))
        if parts.hostname is None:
            return False
        try:
            with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout_s):
                return True
        except OSError:
            return False

    def synthesize(self, text: str) -> AudioSegment:
        buffer = io.BytesIO()
        try:
            speech = gTTS(
                text,
                lang="vi",
                tld=self.tld,
                slow=self.slow,
                lang_check=False,
                pre_processor_funcs=[],
                tokenizer_func=lambda whole: [whole],
                timeout=self.timeout_s,
            )
            speech.write_to_fp(buffer)
        except gTTSError as exc:
            raise EngineError(f"Google TTS failed: {exc}") from None
        except AssertionError:
            raise EngineError("Google TTS got no text to read.") from None
        try:
            return AudioSegment.from_file(io.BytesIO(buffer.getvalue()), format="mp3")
        except CouldntDecodeError:
            raise EngineError("Google TTS sent audio that cannot be decoded.") from None
