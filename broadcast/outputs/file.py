"""A folder of WAV files as an output: each airing is written as it airs, in real time.

It stands in for a line-out that can be checked afterwards: what the file holds is exactly what a
loudspeaker would have played, cuts included. A file appears under its final name only when the
airing has ended (finished or cut); until then it is a hidden ``.part`` file.
"""

from __future__ import annotations

import os
import threading
import time
import wave
from pathlib import Path

from broadcast.outputs.base import BYTES_PER_SECOND, SAMPLE_RATE, OutputBase, OutputError
from broadcast.schedule import FileOutput

LEAD_S = 0.2
"""How far ahead of real time a file may be written."""


class _WavSink:
    def __init__(self, target: Path) -> None:
        self.target = target
        self._part = target.with_name(f".{target.name}.part")
        self._lock = threading.Lock()
        self._closed = False
        self._written = 0
        self._begun = 0.0
        try:
            self._wave = wave.open(str(self._part), "wb")  # noqa: SIM115 - closed by _close()
            self._wave.setnchannels(1)
            self._wave.setsampwidth(2)
            self._wave.setframerate(SAMPLE_RATE)
        except OSError as exc:
            raise OutputError(f"cannot write {self._part}: {exc.strerror or exc}") from None

    def write(self, pcm: bytes) -> None:
        if not self._begun:
            self._begun = time.monotonic()
        ahead = self._written / BYTES_PER_SECOND - (time.monotonic() - self._begun)
        if ahead > LEAD_S:
            time.sleep(ahead - LEAD_S)
        with self._lock:
            if self._closed:
                raise OutputError("the airing was cut")
            try:
                self._wave.writeframes(pcm)
            except OSError as exc:
                self._close()
                raise OutputError(f"cannot write {self.target}: {exc.strerror or exc}") from None
        self._written += len(pcm)

    def finish(self) -> None:
        remaining = self._written / BYTES_PER_SECOND - (time.monotonic() - self._begun)
        if self._begun and remaining > 0:
            time.sleep(remaining)
        with self._lock:
            self._close()

    def abort(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        """Keep what was written (a cut airing is a short file), under the final name."""
        if self._closed:
            return
        self._closed = True
        try:
            self._wave.close()
            os.replace(self._part, self.target)
        except OSError as exc:
            raise OutputError(f"cannot write {self.target}: {exc.strerror or exc}") from None


class WavFolder(OutputBase):
    """Writes each airing to ``folder/<label>.wav``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def from_settings(cls, settings: FileOutput, base_dir: Path) -> WavFolder:
        """The folder a schedule.yaml output names, relative to ``base_dir``."""
        return cls(base_dir / settings.folder)

    @classmethod
    def from_spec(cls, spec: str) -> WavFolder:
        """``file:FOLDER`` on the command line."""
        folder = spec.partition(":")[2]
        if not folder:
            raise OutputError(f"'{spec}' names no folder. Write file:FOLDER, e.g. file:out/.")
        return cls(Path(folder))

    def describe(self) -> str:
        return f"file {self.folder}"

    def open(self, label: str) -> _WavSink:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"cannot create the folder {self.folder}: {exc.strerror or exc}"
            ) from None
        target = self.folder / f"{label}.wav"
        number = 2
        while target.exists():
            target = self.folder / f"{label}-{number}.wav"
            number += 1
        return _WavSink(target)
