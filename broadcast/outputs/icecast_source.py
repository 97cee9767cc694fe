"""The stream to an Icecast server: ffmpeg encodes PCM to MP3, and the MP3 goes to the server as
a source (an HTTP PUT, which Icecast takes from version 2.4 on).

The connection is made here rather than by ffmpeg, so the password is never on a command line
where ``ps`` would show it. Nothing here waits: the connection is made in a thread of its own,
and then the pipes and the socket are read and written without blocking.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse

from broadcast import __version__
from broadcast.outputs.base import BYTES_PER_SECOND

STALL_S = 5.0
"""A connected encoder that takes no audio for this long is given up and restarted."""
CONNECT_S = 30.0
"""How long a starting encoder may take to connect (a busy machine starts ffmpeg slowly)."""
MAX_PENDING_BYTES = BYTES_PER_SECOND // 2
"""Audio kept for an encoder that is not taking it; older audio is dropped, not queued."""
_STDERR_KEPT = 4096


class EncoderGone(Exception):
    """The encoder process exited or stopped taking audio."""


_SYNC_RE = re.compile(rb"\xff[\xe0-\xff]")
"""Where an MP3 frame can begin: eleven set bits."""

_ANSWERS = {
    b"401": "the server refused the source password",
    b"403": "the server refused the mount; another source may be using it",
}


def source_request(host: str, port: int, mount: str, user: str, password: str) -> bytes:
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


class Encoder:
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

        Raises :class:`EncoderGone` when the stream has ended or has stopped taking audio.
        """
        if self._failure is not None:
            raise EncoderGone(self._failure)
        self._pending += block
        try:
            written = os.write(self._stdin, self._pending)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            raise EncoderGone(exc.strerror or str(exc)) from None
        del self._pending[:written]
        now = time.monotonic()
        if self._pass_on() and written:
            self._last_progress = now
        elif self.connected and now - self._last_progress > STALL_S:
            raise EncoderGone(f"the stream took no audio for {STALL_S:.0f} s")
        elif not self.connected and now - self._last_progress > CONNECT_S:
            raise EncoderGone(f"no answer within {CONNECT_S:.0f} s")
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
            raise EncoderGone(_said(exc, self._host)) from None
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


