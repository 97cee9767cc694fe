"""The local sound device, through PulseAudio/PipeWire (``pacat``) or plain ALSA (``aplay``).

The player reads raw PCM from a pipe and drains its buffer before it exits, so the end of
playback is the end of the audio, not the end of decoding. It runs in a subprocess that can be
killed at any time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from broadcast.outputs.base import SAMPLE_RATE, OutputBase, OutputError
from broadcast.schedule import DeviceOutput

PLAYER_LATENCY_MS = 250
"""The sound server's buffer for our stream: big enough that a busy machine lets no silence in.

A cut is still heard at once (the stream is removed), and the start is not delayed: the first
write (the player's first block) fills the buffer, so playback starts with it."""
_ALSA_CARDS = Path("/proc/asound/cards")


class NoSoundDevice(OutputError):
    """No sound device can be used on this machine."""


@dataclass(frozen=True)
class SoundDevice:
    """A usable sound output: the sound server or ALSA, and optionally a named sink/device."""

    backend: Literal["pulse", "alsa"]
    sink: str | None = None

    def describe(self) -> str:
        where = self.sink or "default"
        return f"{'PulseAudio' if self.backend == 'pulse' else 'ALSA'} ({where})"


def _pulse_answers() -> bool:
    if shutil.which("pactl") is None or shutil.which("pacat") is None:
        return False
    try:
        result = subprocess.run(
            ["pactl", "info"], capture_output=True, timeout=5, check=False
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def _alsa_has_cards() -> bool:
    if shutil.which("aplay") is None:
        return False
    try:
        text = _ALSA_CARDS.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(text.strip()) and "no soundcards" not in text


def find_sound_device(sink: str | None = None) -> SoundDevice:
    """The sound output to use, or :class:`NoSoundDevice` saying plainly why there is none."""
    if _pulse_answers():
        return SoundDevice("pulse", sink)
    if _alsa_has_cards():
        return SoundDevice("alsa", sink)
    server = os.environ.get("PULSE_SERVER")
    hint = f" (PULSE_SERVER={server} does not answer)" if server else ""
    raise NoSoundDevice(
        f"no sound device found: no sound server answers{hint} and there is no sound card. "
        "Connect the amplifier's sound card or start PulseAudio, then try again."
    )


class _PlayerSink:
    """One airing on the sound device: ``pacat`` or ``aplay`` reading raw PCM from a pipe.

    The player drains its buffer before it exits, so ``finish()`` returns when the last sample
    has been played, not when the last byte was written. ``abort()`` may come from another
    thread at any moment (an emergency, a stop); whatever the feeding thread is doing then
    ends quietly.
    """

    def __init__(self, command: list[str]) -> None:
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _release()
        self._lock = threading.Lock()
        self._aborted = False
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stderr=self._errors
        )

    def _failure(self, what: str) -> OutputError:
        with self._lock:
            if self._aborted:
                return OutputError("the airing was cut")
            self._errors.seek(0)
            detail = self._errors.read()[-1000:].decode(errors="replace").strip()
        return OutputError(f"{what}: {detail}" if detail else what)

    def write(self, pcm: bytes) -> None:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(pcm)
        except (BrokenPipeError, ValueError, OSError):
            self._process.wait()
            raise self._failure("the sound player stopped") from None

    def finish(self) -> None:
        assert self._process.stdin is not None
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            self._process.stdin.close()
        code = self._process.wait()
        failure = self._failure(f"the sound player failed (exit {code})") if code else None
        self._release()
        if failure is not None:
            raise failure

    def abort(self) -> None:
        with self._lock:
            self._aborted = True
            if self._process.poll() is None:
                self._process.kill()
        self._process.wait()
        self._release()

    def _release(self) -> None:
        with self._lock:
            assert self._process.stdin is not None
            with contextlib.suppress(BrokenPipeError, ValueError, OSError):
                self._process.stdin.close()
            self._errors.close()


class SoundCard(OutputBase):
    """The local sound device as an output: PulseAudio/PipeWire, else ALSA (see module doc)."""

    def __init__(self, sink: str | None = None) -> None:
        self.sink = sink

    @classmethod
    def from_settings(cls, settings: DeviceOutput, base_dir: Path) -> SoundCard:
        return cls(settings.sink)

    @classmethod
    def from_spec(cls, spec: str) -> SoundCard:
        """``device`` or ``device:SINK`` on the command line."""
        return cls(spec.partition(":")[2] or None)

    def describe(self) -> str:
        return f"device {self.sink or 'default'}"

    def check(self) -> None:
        """Raise :class:`NoSoundDevice` when there is none now (each airing looks again)."""
        try:
            find_sound_device(self.sink)
        except NoSoundDevice as exc:
            raise NoSoundDevice(
                f"{exc} Broadcasts will be logged as failed until one is connected."
            ) from None

    def open(self, label: str) -> _PlayerSink:
        """Start the player now, idle, so the first samples play the moment they arrive.

        The device is looked for each time: the sound server may have started (or stopped)
        since the last airing.
        """
        device = find_sound_device(self.sink)
        return _PlayerSink(player_command(device, label))


def player_command(device: SoundDevice, label: str) -> list[str]:
    if device.backend == "pulse":
        command = ["pacat", "--raw", "--format=s16le", f"--rate={SAMPLE_RATE}",
                   "--channels=1", "--client-name=broadcast", f"--stream-name={label}",
                   f"--latency-msec={PLAYER_LATENCY_MS}"]
        if device.sink:
            command.append(f"--device={device.sink}")
        return command
    command = ["aplay", "-q", "-t", "raw", "-f", "S16_LE", "-r", str(SAMPLE_RATE), "-c", "1"]
    if device.sink:
        command += ["-D", device.sink]
    return command
