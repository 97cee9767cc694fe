"""A folder of WAV files as an output: each airing is written as it airs, in real time.

It stands in for a line-out that can be checked afterwards: what the file holds is exactly what a
loudspeaker would have played, cuts included. A file appears under its final name only when the
airing has ended (finished or cut); until then it is a hidden ``.part`` file that names the
process writing it. A part left by a process that died (a crash or a power cut) holds what aired
until then: the next start finishes it under its final name.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import struct
import threading
import time
import wave
from pathlib import Path

from broadcast.outputs.base import BYTES_PER_SECOND, SAMPLE_RATE, OutputBase, OutputError
from broadcast.schedule import FileOutput

log = logging.getLogger("broadcast.outputs")

LEAD_S = 0.2
"""How far ahead of real time a file may be written."""
_PART = re.compile(r"\.(?P<name>.+\.wav)\.(?P<pid>\d+)\.part")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_name(folder: Path, name: str, *, written: bool = True) -> Path:
    """``folder/name``, or ``name-2``, ``name-3`` … when it is taken (or, with ``written``,
    being written)."""
    stem = name.removesuffix(".wav")
    target = folder / name
    number = 2
    while target.exists() or (written and any(folder.glob(f".{glob.escape(target.name)}.*.part"))):
        target = folder / f"{stem}-{number}.wav"
        number += 1
    return target


def _finish_part(part: Path, target: Path) -> None:
    """Make a WAV file whose writer died complete: its header says how much sound it holds."""
    with part.open("r+b") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise ValueError("not a WAV file")
        size = part.stat().st_size
        position = 12
        while position + 8 <= size:
            handle.seek(position)
            chunk, length = struct.unpack("<4sI", handle.read(8))
            if chunk == b"data":
                data = size - position - 8
                data -= data % 2  # whole 16-bit samples only
                if data <= 0:
                    raise ValueError("no sound in it")
                handle.truncate(position + 8 + data)
                handle.seek(position + 4)
                handle.write(struct.pack("<I", data))
                handle.seek(4)
                handle.write(struct.pack("<I", position + data))
                break
            position += 8 + length + (length % 2)
        else:
            raise ValueError("no sound in it")
    os.replace(part, target)


class _WavSink:
    def __init__(self, target: Path) -> None:
        self.target = target
        self._part = target.with_name(f".{target.name}.{os.getpid()}.part")
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

    def start(self) -> None:
        """Finish the files of airings that a dead process was writing (see the module doc)."""
        for part in self.folder.glob(".*.part"):
            found = _PART.fullmatch(part.name)
            if found is None or _alive(int(found["pid"])):
                continue
            target = _free_name(self.folder, found["name"], written=False)
            try:
                _finish_part(part, target)
            except (OSError, ValueError, struct.error) as exc:
                log.warning("%s: removed %s, left by a crash (%s)", self.describe(), part.name,
                            exc)
                part.unlink(missing_ok=True)
                continue
            log.warning("%s: finished %s, cut by a crash", self.describe(), target.name)

    def open(self, label: str) -> _WavSink:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"cannot create the folder {self.folder}: {exc.strerror or exc}"
            ) from None
        return _WavSink(_free_name(self.folder, f"{label}.wav"))
