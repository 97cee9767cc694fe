"""espeak-ng: offline Vietnamese speech from Debian's espeak-ng. Works with no network at all."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from broadcast.schedule import EspeakSettings
from broadcast.tts.base import EngineError, SpeechClip

_DEFAULTS = EspeakSettings()


@dataclass(frozen=True)
class EspeakEngine:
    """Speech from espeak-ng. ``rate`` is words per minute, ``pitch`` 0 to 99."""

    voice: str = _DEFAULTS.voice
    rate: int = _DEFAULTS.rate
    pitch: int = _DEFAULTS.pitch
    name: str = "espeak"
    max_chunk_chars: int = 400
    concurrency: int = 2

    @classmethod
    def from_settings(cls, settings: EspeakSettings) -> EspeakEngine:
        return cls(voice=settings.voice, rate=settings.rate, pitch=settings.pitch)

    @property
    def identity(self) -> str:
        return f"espeak-ng:{self.voice}:rate={self.rate}:pitch={self.pitch}"

    def synthesize(self, text: str, cancel: threading.Event | None = None) -> SpeechClip:
        if cancel is not None and cancel.is_set():
            raise EngineError("espeak-ng was stopped.")
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise EngineError(
                "espeak-ng is not installed. Run 'make run' once, or: apt-get install espeak-ng."
            )
        with tempfile.TemporaryDirectory(prefix="broadcast-espeak-") as tmp:
            wav = Path(tmp) / "speech.wav"
            try:
                result = subprocess.run(
                    [binary, "-v", self.voice, "-s", str(self.rate), "-p", str(self.pitch),
                     "-w", str(wav)],
                    input=text.encode("utf-8"),
                    capture_output=True,
                    timeout=120,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise EngineError("espeak-ng did not finish within 120 s.") from None
            if result.returncode != 0 or not wav.exists() or wav.stat().st_size <= 44:
                message = result.stderr.decode("utf-8", "replace").strip()
                raise EngineError(f"espeak-ng failed: {message or 'no audio produced'}.")
            return SpeechClip(wav.read_bytes(), "wav")
