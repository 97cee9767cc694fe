"""A mount on an Icecast server, which IP/4G loudspeaker receivers pull.

The mount stays connected between broadcasts so receivers stay connected too: one long-lived
stream (see :mod:`broadcast.outputs.icecast_source`) carries it to the server. A feeder thread
keeps that stream going by the wall clock, one 100 ms block at a time and never more than
``LEAD_S`` ahead: the airing's samples when one is on, otherwise silence or the idle sound. When
the server goes away the feeder logs it, keeps the clock (the blocks due meanwhile are lost, not
queued), and reconnects with a growing pause; an airing that lost time that way fails at
``finish()``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from broadcast.fileio import read_at_most
from broadcast.outputs.base import BYTES_PER_SECOND, SAMPLE_RATE, OutputBase, OutputError
from broadcast.outputs.icecast_source import Encoder, EncoderGone, source_request
from broadcast.schedule import IcecastOutput
from broadcast.schedule.checks import secret_problem

logger = logging.getLogger(__name__)

BLOCK_S = 0.1
"""The feeder sends one block of this length per tick: 10 wake-ups a second, for it and for its
ffmpeg. At 20 ms blocks the two took half again as much processor time per mount."""
BLOCK_BYTES = int(BYTES_PER_SECOND * BLOCK_S)
LEAD_S = 0.2
"""How far ahead of real time the feeder sends: two blocks, so one late wake-up starves nothing,
and small, so program audio starts promptly."""
AHEAD_BYTES = int(BYTES_PER_SECOND * 0.2)
"""A sink's writer waits while more than this is queued."""
MAX_PASSWORD_BYTES = 1024
"""A source password file holds one short line."""
MAX_BEHIND_S = 0.5
"""A feeder further behind than this (a starved machine) skips ahead rather than catch up."""
TEND_EVERY = 5
"""A connected encoder's messages and exit are checked every this many blocks."""
FIRST_RETRY_S = 0.5
MAX_RETRY_S = 30.0
_SILENCE = bytes(BLOCK_BYTES)


@dataclass
class FeedStats:
    """How well the feeder kept to the clock (for benchmarks and diagnostics)."""

    blocks: int = 0
    late_blocks: int = 0
    """Blocks sent after the moment they were due: the lead was used up."""
    max_late_s: float = 0.0
    skipped_s: float = 0.0
    """Time the feeder fell so far behind that it jumped ahead."""


def _redact(text: str, password: str) -> str:
    """``text`` without the password, as given or as written in a URL."""
    if not password:
        return text
    return text.replace(password, "***").replace(urllib.parse.quote(password, safe=""), "***")


class IcecastSink:
    """One airing on a mount: the feeder takes its samples block by block on the clock."""

    def __init__(self, mount: IcecastMount, label: str) -> None:
        self._mount = mount
        self.label = label
        self._ready = threading.Condition()
        self._queue = bytearray()
        self._finishing = False
        self._done = False
        self._error: str | None = None
        self._missed_s = 0.0

    def write(self, pcm: bytes) -> None:
        with self._ready:
            self._check()
            self._queue += pcm
            while len(self._queue) > AHEAD_BYTES and not self._done:
                self._ready.wait()
            self._check()

    def finish(self) -> None:
        with self._ready:
            self._finishing = True
            while not self._done:
                self._ready.wait()
        self._mount.release(self)
        self._check()
        if self._missed_s > 0:
            missed = f"{self._missed_s:.1f}" if self._missed_s >= 0.1 else "under 0.1"
            raise OutputError(
                f"{self._mount.describe()}: the stream was down for {missed} s of "
                f"'{self.label}' ({self._mount.last_problem}); receivers missed that part."
            )

    def abort(self) -> None:
        with self._ready:
            self._done = True
            self._queue.clear()
            self._ready.notify_all()
        self._mount.release(self)

    def fail(self, error: str) -> None:
        with self._ready:
            if not self._done:
                self._error = error
                self._done = True
                self._queue.clear()
            self._ready.notify_all()

    def _check(self) -> None:
        if self._error is not None:
            raise OutputError(f"{self._mount.describe()}: {self._error}")

    def take(self) -> bytes | None:
        """The next block for the feeder, or None when this airing has nothing more to air."""
        with self._ready:
            if self._done:
                return None
            if self._finishing and not self._queue:
                self._done = True
                self._ready.notify_all()
                return None
            block = bytes(self._queue[:BLOCK_BYTES])
            del self._queue[:BLOCK_BYTES]
            self._ready.notify_all()
        return block.ljust(BLOCK_BYTES, b"\0")

    def lost(self, seconds: float) -> None:
        """Audio of this airing did not reach the server."""
        with self._ready:
            self._missed_s += seconds


class IcecastMount(OutputBase):
    """A zone's Icecast mount (see the module notes); ``start()`` connects it ahead of airings."""

    def __init__(
        self, host: str, port: int, mount: str, user: str, password: str,
        bitrate_kbps: int = 64, idle: Path | None = None,
    ) -> None:
        if not password:
            raise OutputError(f"icecast {host}:{port}/{mount.lstrip('/')}: the source password "
                              "is empty. Set the password, then try again.")
        self.host = host
        self.port = port
        self.mount = "/" + mount.lstrip("/")
        self.user = user
        self._password = password
        self.bitrate_kbps = bitrate_kbps
        self.idle = idle
        self.stats = FeedStats()
        self.last_problem = "no answer from the server yet"
        self._state = threading.Condition()
        self._airing: IcecastSink | None = None
        self._connected = False
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._idle_pcm = b""
        # Owned by the feeder thread.
        self._encoder: Encoder | None = None
        self._dropped = False
        self._down_since = 0.0
        self._retry_at = 0.0
        self._delay = FIRST_RETRY_S

    def __repr__(self) -> str:
        return f"IcecastMount({self.describe()!r})"

    @classmethod
    def from_settings(cls, output: IcecastOutput, base_dir: Path) -> IcecastMount:
        """The mount a schedule.yaml output names; paths in it are relative to ``base_dir``."""
        address, mount = output.mount.split("/", 1)
        host, port = address.rsplit(":", 1)
        where = f"icecast {output.mount}"
        if output.password_env is not None:
            password = os.environ.get(output.password_env, "").strip()
            if not password:
                raise OutputError(
                    f"{where}: the environment variable {output.password_env} that should hold "
                    "the source password is not set or is empty. Set it in the daemon's "
                    "environment, then try again."
                )
        else:
            assert output.password_file is not None
            path = base_dir / output.password_file
            problem = secret_problem(path, mine=True)
            if problem is not None:
                raise OutputError(f"{where}: {problem}")
            try:
                data = read_at_most(path, MAX_PASSWORD_BYTES)
                if data is None:
                    raise OutputError(f"{where}: {path} is far too large to be a password file.")
                password = data.decode("utf-8", errors="replace").strip()
            except OSError as exc:
                raise OutputError(
                    f"{where}: cannot read the password file {path} ({exc.strerror}). Put the "
                    "source password in it on one line, then try again."
                ) from None
            if not password:
                raise OutputError(
                    f"{where}: the password file {path} is empty. Put the source password in "
                    "it on one line, then try again."
                )
        idle = base_dir / output.idle if output.idle is not None else None
        return cls(host, int(port), mount, output.user, password, output.bitrate_kbps, idle)

    @classmethod
    def from_spec(cls, spec: str) -> IcecastMount:
        """``icecast://USER:PASSWORD@HOST:PORT/MOUNT`` on the command line."""
        return cls.from_url(spec)

    @classmethod
    def from_url(
        cls, url: str, bitrate_kbps: int = 64, idle: Path | None = None,
        password: str | None = None,
    ) -> IcecastMount:
        """A mount written as ``icecast://USER:PASSWORD@HOST:PORT/MOUNT`` on the command line,
        or without the password when ``password`` gives it (from a variable or a file)."""
        example = "icecast://source@127.0.0.1:8000/khu-pho-1 --password-env ICECAST_PASSWORD"
        parts = urllib.parse.urlsplit(url.strip())
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme != "icecast" or not parts.hostname or port is None \
                or parts.path.strip("/") == "":
            where = _redact(url, urllib.parse.unquote(parts.password or ""))
            raise OutputError(f"'{where}' is not an Icecast mount. Write it as {example}")
        if parts.password and password is not None:
            raise OutputError(f"icecast {parts.hostname}:{port}{parts.path}: the password is "
                              "given twice. Take it out of the address.")
        secret = urllib.parse.unquote(parts.password or "") or password
        if not secret:
            raise OutputError(
                f"icecast {parts.hostname}:{port}{parts.path}: no source password given. "
                f"Write it as {example}"
            )
        user = urllib.parse.unquote(parts.username or "") or "source"
        return cls(parts.hostname, port, parts.path, user, secret, bitrate_kbps, idle)

    def describe(self) -> str:
        return f"icecast {self.host}:{self.port}{self.mount}"

    @property
    def connected(self) -> bool:
        """The server has accepted the stream and nothing has dropped it since."""
        with self._state:
            return self._connected

    def start(self) -> None:
        """Connect and keep the mount fed from now until ``close()``; returns at once."""
        if self.idle is not None and not self._idle_pcm:
            self._idle_pcm = _decode_idle(self.idle)
        with self._state:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._feed, name=self.describe(), daemon=True
            )
            self._thread.start()

    def wait_connected(self, timeout: float) -> None:
        """Block until the server has accepted the stream; :class:`OutputError` if it has not."""
        with self._state:
            if not self._state.wait_for(lambda: self._connected, timeout):
                raise OutputError(
                    f"{self.describe()}: not connected after {timeout:.0f} s "
                    f"({self.last_problem}). Check that Icecast runs at {self.host}:{self.port} "
                    "and that the source password is right."
                )

    def open(self, label: str) -> IcecastSink:
        self.start()
        sink = IcecastSink(self, label)
        with self._state:
            previous, self._airing = self._airing, sink
        if previous is not None:
            previous.fail(f"cut off by '{label}'")
        return sink

    def release(self, sink: IcecastSink) -> None:
        """``sink`` has ended: the mount goes back to silence or the idle sound."""
        with self._state:
            if self._airing is sink:
                self._airing = None

    def close(self) -> None:
        with self._state:
            thread, self._thread = self._thread, None
            airing, self._airing = self._airing, None
        if thread is None:
            return
        self._stopping.set()
        thread.join()
        if airing is not None:
            airing.fail("the output was closed during the airing")

    def _command(self) -> list[str]:
        return [
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats",
            "-probesize", "32", "-analyzeduration", "0",
            "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "pipe:0",
            "-c:a", "libmp3lame", "-b:a", f"{self.bitrate_kbps}k",
            "-id3v2_version", "0", "-write_xing", "0", "-flush_packets", "1",
            "-f", "mp3", "pipe:1",
        ]

    def _feed(self) -> None:
        due = time.monotonic()
        idle_at = 0
        try:
            while True:
                now = time.monotonic()
                if due - LEAD_S > now:
                    time.sleep(due - LEAD_S - now)
                    now = time.monotonic()
                if self._stopping.is_set():
                    break
                if not self._connected or self.stats.blocks % TEND_EVERY == 0:
                    self._tend(now)
                if now - due > MAX_BEHIND_S:
                    logger.warning("%s: fell %.1f s behind the clock; skipping ahead",
                                   self.describe(), now - due)
                    self.stats.skipped_s += now - due
                    due = now
                elif now > due:
                    self.stats.late_blocks += 1
                    self.stats.max_late_s = max(self.stats.max_late_s, now - due)
                with self._state:
                    airing = self._airing
                block = airing.take() if airing is not None else None
                if block is None:
                    airing = None
                    block, idle_at = self._idle_block(idle_at)
                dropped = 0.0
                if self._encoder is not None:
                    try:
                        dropped = self._encoder.send(block)
                    except EncoderGone as gone:
                        self._down(now, None if self._encoder.exited() else str(gone))
                if airing is not None:
                    if not self._carries():
                        airing.lost(BLOCK_S)
                    elif dropped:
                        self.last_problem = "the server took audio too slowly"
                        airing.lost(dropped)
                self.stats.blocks += 1
                due += BLOCK_S
        except Exception:
            logger.exception("%s: the feeder stopped", self.describe())
        finally:
            with self._state:
                self._connected = False
                airing, self._airing = self._airing, None
            if self._encoder is not None:
                self._encoder.stop()
                self._encoder = None
            if airing is not None:
                airing.fail("the stream stopped during the airing")

    def _tend(self, now: float) -> None:
        """Start an encoder when one is due; notice when it connects or exits."""
        if self._encoder is None:
            if now < self._retry_at:
                return
            try:
                request = source_request(self.host, self.port, self.mount, self.user,
                                          self._password)
                self._encoder = Encoder(self._command(), self.host, self.port, request,
                                         self.bitrate_kbps)
            except OSError as exc:
                self._down(now, f"cannot start ffmpeg: {exc.strerror}; is it installed?")
                return
        self._encoder.read_messages()
        if self._encoder.connected and not self._connected:
            with self._state:
                self._connected = True
                self._state.notify_all()
            self._delay = FIRST_RETRY_S
            if self._dropped:
                logger.info("%s: stream back after %.1f s", self.describe(),
                            now - self._down_since)
        if self._encoder.exited():
            self._down(now, None)

    def _down(self, now: float, reason: str | None) -> None:
        """The stream is gone (``reason``, or what ffmpeg said): log it, retry later."""
        encoder, self._encoder = self._encoder, None
        if encoder is not None:
            reason = reason or encoder.reason()
            encoder.stop()
        self.last_problem = reason or "the stream stopped"
        with self._state:
            if self._connected or not self._dropped:
                self._down_since = now
            self._connected = False
            self._dropped = True
        logger.warning("%s: stream down (%s); reconnecting in %.1f s", self.describe(),
                       self.last_problem, self._delay)
        self._retry_at = now + self._delay
        self._delay = min(self._delay * 2, MAX_RETRY_S)

    def _carries(self) -> bool:
        """Whether a block sent now reaches listeners (a first connection counts as up)."""
        return self._encoder is not None and (self._encoder.connected or not self._dropped)

    def _idle_block(self, at: int) -> tuple[bytes, int]:
        if not self._idle_pcm:
            return _SILENCE, 0
        pcm = self._idle_pcm
        block = bytearray()
        while len(block) < BLOCK_BYTES:
            piece = pcm[at : at + BLOCK_BYTES - len(block)]
            block += piece
            at = (at + len(piece)) % len(pcm)
        return bytes(block), at


def _decode_idle(path: Path) -> bytes:
    """The idle sound as raw PCM, decoded once."""
    try:
        result = subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
             "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1", "pipe:1"],
            capture_output=True, timeout=120, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OutputError(f"cannot decode the idle sound {path}: {exc}") from None
    if result.returncode != 0:
        said = result.stderr.decode(errors="replace").strip().splitlines()
        raise OutputError(
            f"cannot read the idle sound {path}: {said[-1] if said else 'ffmpeg failed'}. "
            "Check that the file plays, or remove 'idle' from the output."
        )
    return result.stdout[: len(result.stdout) - len(result.stdout) % 2]
