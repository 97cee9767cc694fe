"""A mount on an Icecast server, which IP/4G loudspeaker receivers pull.

The mount stays connected between broadcasts so receivers stay connected too. One long-lived
ffmpeg encodes raw PCM from its stdin to MP3 on its stdout, and the mount sends that to the server
itself, as a source (an HTTP PUT, which Icecast takes from version 2.4 on), so the password is
never on a command line where ``ps`` would show it. A feeder thread keeps
that stream going by the wall clock, one 100 ms block at a time and never more than ``LEAD_S``
ahead: the airing's samples when one is on, otherwise silence or the idle sound. When the server
goes away the feeder logs it, keeps the clock (the blocks due meanwhile are lost, not queued),
and reconnects with a growing pause; an airing that lost time that way fails at ``finish()``.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from broadcast import __version__
from broadcast.config import IcecastOutput
from broadcast.outputs.base import BYTES_PER_SECOND, SAMPLE_RATE, OutputError

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
MAX_BEHIND_S = 0.5
"""A feeder further behind than this (a starved machine) skips ahead rather than catch up."""
STALL_S = 5.0
"""A connected encoder that takes no audio for this long is given up and restarted."""
CONNECT_S = 30.0
"""How long a starting encoder may take to connect (a busy machine starts ffmpeg slowly)."""
MAX_PENDING_BYTES = BYTES_PER_SECOND // 2
"""Audio kept for an encoder that is not taking it; older audio is dropped, not queued."""
TEND_EVERY = 5
"""A connected encoder's messages and exit are checked every this many blocks."""
FIRST_RETRY_S = 0.5
MAX_RETRY_S = 30.0
_SILENCE = bytes(BLOCK_BYTES)
_STDERR_KEPT = 4096


@dataclass
class FeedStats:
    """How well the feeder kept to the clock (for benchmarks and diagnostics)."""

    blocks: int = 0
    late_blocks: int = 0
    """Blocks sent after the moment they were due: the lead was used up."""
    max_late_s: float = 0.0
    skipped_s: float = 0.0
    """Time the feeder fell so far behind that it jumped ahead."""


class _EncoderGone(Exception):
    """The encoder process exited or stopped taking audio."""


_SYNC_RE = re.compile(rb"\xff[\xe0-\xff]")
"""Where an MP3 frame can begin: eleven set bits."""

_ANSWERS = {
    b"401": "the server refused the source password",
    b"403": "the server refused the mount; another source may be using it",
}


def _source_request(host: str, port: int, mount: str, user: str, password: str) -> bytes:
    """What a source sends to start a stream on Icecast 2.4 (an HTTP PUT that never ends)."""
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return (
        f"PUT {urllib.parse.quote(mount)} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Authorization: Basic {credentials}\r\n"
        f"User-Agent: broadcast/{__version__}\r\n"
        "Content-Type: audio/mpeg\r\n"
        "Ice-Public: 0\r\n"
        "\r\n"
    ).encode()


def _said(exc: OSError, host: str) -> str:
    """A connection error in plain words."""
    if isinstance(exc, socket.gaierror):
        return f"cannot find the address of {host}"
    if isinstance(exc, TimeoutError):
        return f"no answer within {CONNECT_S:.0f} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, BrokenPipeError | ConnectionResetError):
        return "the server closed the connection"
    return exc.strerror or str(exc)


class _Encoder:
    """One stream to the server: ffmpeg encodes PCM from its stdin to MP3 on its stdout, and
    this sends the MP3 to Icecast itself, so the password is never on a command line. Nothing
    here blocks the feeder: a thread of its own connects, and then the pipes and the socket are
    read and written without waiting.
    """

    def __init__(
        self, command: list[str], host: str, port: int, request: bytes, bitrate_kbps: int
    ) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            bufsize=0,
        )
        assert self.process.stdin and self.process.stdout and self.process.stderr
        self._stdin = self.process.stdin.fileno()
        self._stdout = self.process.stdout.fileno()
        self._stderr = self.process.stderr.fileno()
        # The pipes are read and written by descriptor but closed only through their file
        # objects, so a descriptor number is never closed twice (another thread may reuse it).
        for descriptor in (self._stdin, self._stdout, self._stderr):
            os.set_blocking(descriptor, False)
        self.connected = False
        self._host = host
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._stopped = False
        self._failure: str | None = None
        self._messages = bytearray()
        self._pending = bytearray()
        self._mp3 = bytearray()
        self._mp3_kept = bitrate_kbps * 1000 // 8 * MAX_PENDING_BYTES // BYTES_PER_SECOND
        self._last_progress = time.monotonic()
        threading.Thread(target=self._connect, args=(port, request), daemon=True,
                         name=f"icecast connect {host}:{port}").start()

    def _connect(self, port: int, request: bytes) -> None:
        """Open the stream on the server (in its own thread: name lookups and connects wait)."""
        try:
            connection = socket.create_connection((self._host, port), timeout=CONNECT_S)
        except OSError as exc:
            self._failure = _said(exc, self._host)
            return
        try:
            connection.sendall(request)
            answer = b""
            while b"\r\n\r\n" not in answer and len(answer) < 16384:
                piece = connection.recv(4096)
                if not piece:
                    break
                answer += piece
        except OSError as exc:
            connection.close()
            self._failure = _said(exc, self._host)
            return
        status = answer.split(b"\r\n", 1)[0]
        code = status.split(b" ")[1] if status.count(b" ") else b""
        if code != b"200":
            connection.close()
            self._failure = _ANSWERS.get(code) or (
                f"the server answered '{status.decode(errors='replace')}'" if status
                else "the server closed the connection"
            )
            return
        connection.setblocking(False)
        with self._lock:
            if self._stopped:
                connection.close()
                return
            self._socket = connection
        self.connected = True

    def read_messages(self) -> None:
        """Keep the end of what ffmpeg says (for when it exits)."""
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self._stderr, 65536):
                self._messages += chunk
                del self._messages[:-_STDERR_KEPT]

    def send(self, block: bytes) -> float:
        """Hand ``block`` to ffmpeg and what it has encoded to the server, without waiting;
        returns the seconds of stale audio dropped.

        Raises :class:`_EncoderGone` when the stream has ended or has stopped taking audio.
        """
        if self._failure is not None:
            raise _EncoderGone(self._failure)
        self._pending += block
        try:
            written = os.write(self._stdin, self._pending)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            raise _EncoderGone(exc.strerror or str(exc)) from None
        del self._pending[:written]
        now = time.monotonic()
        if self._pass_on() and written:
            self._last_progress = now
        elif self.connected and now - self._last_progress > STALL_S:
            raise _EncoderGone(f"the stream took no audio for {STALL_S:.0f} s")
        elif not self.connected and now - self._last_progress > CONNECT_S:
            raise _EncoderGone(f"no answer within {CONNECT_S:.0f} s")
        dropped = len(self._pending) - MAX_PENDING_BYTES
        if dropped <= 0:
            return 0.0
        del self._pending[:dropped]
        return dropped / BYTES_PER_SECOND

    def _pass_on(self) -> bool:
        """Move encoded audio from ffmpeg to the server; True unless the server is not taking it
        (or has not accepted the stream yet).

        Until the server has accepted the stream, only the newest half second of it is kept.
        """
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self._stdout, 65536):
                self._mp3 += chunk
        connection = self._socket
        if connection is None:
            if len(self._mp3) > self._mp3_kept:
                del self._mp3[: len(self._mp3) - self._mp3_kept]
                sync = _SYNC_RE.search(self._mp3)
                del self._mp3[: sync.start() if sync else len(self._mp3)]
            return False
        if not self._mp3:
            return True
        try:
            sent = connection.send(self._mp3)
        except BlockingIOError:
            return False
        except OSError as exc:
            raise _EncoderGone(_said(exc, self._host)) from None
        del self._mp3[:sent]
        return True

    def exited(self) -> bool:
        return self._failure is not None or self.process.poll() is not None

    def reason(self) -> str:
        """Why the stream ended, in plain words."""
        if self._failure is not None:
            return self._failure
        self.read_messages()
        lines = self._messages.decode(errors="replace").splitlines()
        said = next((line.strip() for line in reversed(lines) if line.strip()
                     and not line.startswith(("size=", "video:", "Conversion failed"))), "")
        return said or f"ffmpeg exited with code {self.process.returncode}"

    def stop(self) -> None:
        assert self.process.stdin and self.process.stdout and self.process.stderr
        with self._lock:
            self._stopped = True
            connection, self._socket = self._socket, None
        if connection is not None:
            connection.close()
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()


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


class IcecastMount:
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
        self._encoder: _Encoder | None = None
        self._dropped = False
        self._down_since = 0.0
        self._retry_at = 0.0
        self._delay = FIRST_RETRY_S

    def __repr__(self) -> str:
        return f"IcecastMount({self.describe()!r})"

    @classmethod
    def from_config(cls, output: IcecastOutput, base_dir: Path) -> IcecastMount:
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
            try:
                password = path.read_text(encoding="utf-8").strip()
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
    def from_url(
        cls, url: str, bitrate_kbps: int = 64, idle: Path | None = None
    ) -> IcecastMount:
        """A mount written as ``icecast://USER:PASSWORD@HOST:PORT/MOUNT`` on the command line."""
        example = "icecast://source:PASSWORD@127.0.0.1:8000/khu-pho-1"
        parts = urllib.parse.urlsplit(url.strip())
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme != "icecast" or not parts.hostname or port is None \
                or parts.path.strip("/") == "":
            where = _redact(url, urllib.parse.unquote(parts.password or ""))
            raise OutputError(f"'{where}' is not an Icecast mount. Write it as {example}")
        if not parts.password:
            raise OutputError(
                f"icecast {parts.hostname}:{port}{parts.path}: no source password given. "
                f"Write it as {example}"
            )
        user = urllib.parse.unquote(parts.username or "") or "source"
        return cls(parts.hostname, port, parts.path, user, urllib.parse.unquote(parts.password),
                   bitrate_kbps, idle)

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
                    except _EncoderGone as gone:
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
                request = _source_request(self.host, self.port, self.mount, self.user,
                                          self._password)
                self._encoder = _Encoder(self._command(), self.host, self.port, request,
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
