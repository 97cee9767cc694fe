"""The local sound device, through PulseAudio/PipeWire (``pacat``) or plain ALSA (``aplay``).

Audio is decoded by ffmpeg to raw PCM and piped to the player, which drains its buffer before it
exits, so the end of playback is the end of the audio, not the end of decoding. Playback runs in
subprocesses that can be stopped at any time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from broadcast.errors import BroadcastError

PLAYBACK_RATE = 48000
_ALSA_CARDS = Path("/proc/asound/cards")


class NoSoundDevice(BroadcastError):
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


@dataclass(frozen=True)
class PlayResult:
    started_at: dt.datetime
    ended_at: dt.datetime
    completed: bool
    error: str | None = None


class Playback:
    """Audio playing now. ``wait()`` blocks until it ends; ``stop()`` cuts it off."""

    def __init__(self, path: Path, device: SoundDevice, gain_db: float = 0.0) -> None:
        """Start playing ``path``; ``gain_db`` changes the volume for this playback only."""
        if shutil.which("ffmpeg") is None:
            raise NoSoundDevice("ffmpeg is not installed. Run 'make run' once to install it.")
        self.path = path
        self.device = device
        self._stopped = False
        self.started_at = dt.datetime.now(dt.UTC)
        # A louder zone must not clip: its gain is followed by the same peak ceiling as mastering.
        volume = [] if not gain_db else [
            "-af", f"volume={gain_db:.2f}dB,alimiter=limit=-2.5dB:level=false:latency=true"
        ]
        # Errors go to files, not pipes nobody reads while playing: a full pipe would stall.
        # Both files are closed by wait(), which owns the ExitStack.
        self._files = contextlib.ExitStack()
        self._decoder_errors = self._files.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        self._player_errors = self._files.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        self._decoder = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), *volume,
             "-f", "s16le", "-ar", str(PLAYBACK_RATE), "-ac", "1", "-"],
            stdout=subprocess.PIPE,
            stderr=self._decoder_errors,
        )
        try:
            self._player = subprocess.Popen(
                self._player_command(), stdin=self._decoder.stdout, stderr=self._player_errors
            )
        except OSError:
            self._decoder.kill()
            self._decoder.wait()
            self._files.close()
            raise
        finally:
            assert self._decoder.stdout is not None
            self._decoder.stdout.close()

    def _player_command(self) -> list[str]:
        if self.device.backend == "pulse":
            command = ["pacat", "--raw", "--format=s16le", f"--rate={PLAYBACK_RATE}",
                       "--channels=1", "--client-name=broadcast",
                       f"--stream-name={self.path.name}"]
            if self.device.sink:
                command.append(f"--device={self.device.sink}")
            return command
        command = ["aplay", "-q", "-t", "raw", "-f", "S16_LE", "-r", str(PLAYBACK_RATE), "-c", "1"]
        if self.device.sink:
            command += ["-D", self.device.sink]
        return command

    def wait(self) -> PlayResult:
        with self._files:
            player_code = self._player.wait()
            decoder_code = self._decoder.wait(timeout=10)
            ended = dt.datetime.now(dt.UTC)
            if self._stopped:
                return PlayResult(self.started_at, ended, completed=False, error="stopped")
            error = None
            if decoder_code != 0:
                error = "cannot decode: " + _read(self._decoder_errors)
            elif player_code != 0:
                error = "player failed: " + _read(self._player_errors)
            return PlayResult(self.started_at, ended, completed=error is None, error=error)

    def stop(self) -> None:
        self._stopped = True
        for process in (self._player, self._decoder):
            if process.poll() is None:
                process.terminate()
        for process in (self._player, self._decoder):
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _read(errors: IO[bytes]) -> str:
    errors.seek(0)
    return errors.read()[-2000:].decode(errors="replace").strip()


def play(path: Path, device: SoundDevice) -> PlayResult:
    """Play ``path`` on ``device`` to the end (Ctrl+C stops it)."""
    playback = Playback(path, device)
    try:
        return playback.wait()
    except KeyboardInterrupt:
        playback.stop()
        raise
