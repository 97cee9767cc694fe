"""Relaying a live radio stream (tiếp âm) on a zone's outputs, for a set length.

A :class:`LiveRelay` reads one stream (HTTP or Icecast MP3 or AAC, or an HLS playlist) with
ffmpeg, which brings it to the broadcast's loudness as it plays (loudnorm in its live mode, then
the zone's gain and the same peak limiter as mastering) and hands over the outputs' PCM on a pipe.
One connection serves every output: each output takes a :class:`RelayReader`, and a thread driven
by the clock hands every reader the same blocks as they fall due, ``duration_s`` seconds in all.

When the stream stops sending, ends, or goes digitally silent, the relay airs its fallback file
(or silence) within seconds, keeps reconnecting in the background, and takes the stream back
once it has sounded again for a moment. Each switch is a :class:`RelayEvent` for the as-run log.

loudnorm looks 3 s ahead: a new connection gives its first samples once ffmpeg has 3 s of the
stream, and the relay's sound stays that far behind the stream. From a server that sends in real
time, :meth:`LiveRelay.preroll` therefore takes about 1 s (connecting, telling the format) and
3 s (the look-ahead) more than ``preroll_s``: 6 to 7 s with the defaults. From HLS, or a server
that sends a burst on connect, the look-ahead fills at once and pre-roll takes a second or two.
"""

from __future__ import annotations

import array
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from broadcast.audio import LoudnessTarget, peak_limiter
from broadcast.outputs.base import BYTES_PER_SECOND, SAMPLE_RATE, OutputError

TICK_S = 0.05
"""How often the relay hands the readers what has fallen due."""
FIRST_BLOCK_S = 0.3
"""Handed over at the start, ahead of the clock, as the player's first block is: enough for the
first write alone to start an output's playback."""
LOUDNORM_LOOKAHEAD_S = 3.0
"""loudnorm's live mode gives nothing until it has this much of the stream, then stays this far
behind it."""
CONNECT_S = 5.0
"""How long a new connection may take to send its first sound, on top of loudnorm's look-ahead
(and never less than ``dead_s``); after that it is given up and tried again."""
RETRY_S = 1.0
"""Pause between attempts to reconnect a stream that failed."""
HEADROOM_S = 3.0
"""The live buffer holds at most this much beyond the pre-roll; a stream sent faster than real
time then waits in the pipe, and ffmpeg reads it only as fast as it airs."""
READER_QUEUE_S = 5.0
"""A reader this far behind loses its oldest blocks rather than holding up the others."""
FALLBACK_BUFFER_S = 2.0
"""How far ahead the fallback file is decoded."""
SHORT_PAUSE_S = 1.0
"""Silence shorter than this (a pause in speech) does not interrupt a stream's sound."""
PROTOCOLS = "http,https,tcp,tls,crypto,data"
"""What ffmpeg may open for a relay: the stream's own address, and for HLS the playlist's
segments and keys; never a local file."""

PROBE = ["-formatprobesize", "8192", "-analyzeduration", "500000"]
"""Tell the format from the first 8 kB and the stream's parameters from the first 0.5 s. By
default ffmpeg reads up to 1 MB before naming the format of an MP3 stream, which at a live
stream's pace is 8 s or more of waiting before the first sample."""

_ANALYSIS_BYTES = BYTES_PER_SECOND // 10
"""The stream is judged (silent or sounding) in pieces of this many bytes, 100 ms."""
_STDERR_KEPT = 4096
_PREFIX_RE = re.compile(r"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*")


@dataclass(frozen=True)
class RelayWatch:
    """How a relay watches its stream, in seconds (and the silence level in dBFS)."""

    preroll_s: float = 3.0
    """Connect and buffer this much before the start."""
    dead_s: float = 3.0
    """No data from the stream for this long: the fallback airs."""
    silence_s: float = 10.0
    """Digital silence (every sample under ``silence_dbfs``) for this long: the fallback airs."""
    silence_dbfs: float = -60.0
    back_s: float = 2.0
    """The stream must sound again for this long before it is taken back."""


@dataclass(frozen=True)
class RelayEvent:
    """Something the listeners heard change, for the as-run log."""

    at_s: float
    """Seconds into the relay (0 for what was known at the start)."""
    what: str


def relay_command(url: str, target: LoudnessTarget, gain_db: float = 0.0) -> list[str]:
    """ffmpeg turning the stream at ``url`` into the outputs' PCM, at ``target`` as it plays.

    The stream is made mono before loudnorm measures it (a stereo stream made mono afterwards
    would come out 3 LU quiet), loudnorm works in its live mode (one pass, nothing measured
    beforehand), and the zone's gain is followed by the mastering limiter after the resampling.
    """
    lra = min(max(target.loudness_range_lu, 1.0), 50.0)
    chain = [
        "aformat=channel_layouts=mono",
        f"loudnorm=I={target.integrated_lufs:.1f}:TP={target.true_peak_dbtp:.1f}:LRA={lra:.1f}",
        f"aresample={SAMPLE_RATE}",
        # Said again after resampling: without it, ffmpeg 5 cannot settle the channel layout
        # of a mono stream between the resampler and the limiter.
        "aformat=channel_layouts=mono",
    ]
    if gain_db:
        chain.append(f"volume={gain_db:.2f}dB")
    chain.append(peak_limiter(target.true_peak_dbtp))
    return ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error",
            "-reconnect", "1", "-reconnect_streamed", "1", "-reconnect_delay_max", "2",
            "-protocol_whitelist", PROTOCOLS, *PROBE, "-i", url,
            "-vn", "-af", ",".join(chain),
            "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1", "pipe:1"]


def fallback_command(path: Path, gain_db: float = 0.0,
                     true_peak_dbtp: float = LoudnessTarget.true_peak_dbtp) -> list[str]:
    """ffmpeg decoding a mastered fallback file from its beginning, as the player decodes a
    program: ``gain_db`` louder, then limited under ``true_peak_dbtp``."""
    limited = [f"volume={gain_db:.2f}dB", f"aresample={SAMPLE_RATE}", peak_limiter(true_peak_dbtp)]
    volume = ["-af", ",".join(limited)] if gain_db else []
    return ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", str(path),
            *volume, "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1", "pipe:1"]


def _redacted(url: str) -> str:
    """``url`` without a user name or password, fit for logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _seconds(seconds: float) -> str:
    return f"{seconds:g} s"


class _Decoder:
    """One ffmpeg run, read by its own thread into a bounded buffer.

    The buffer either holds the reader back when full (ffmpeg then waits on the pipe) or, as a
    window, keeps only its newest bytes. With ``silence_peak`` set, the sound is also judged as
    it arrives: how long it has been silent, and since when it has been sounding.
    """

    def __init__(self, command: list[str], limit_bytes: int, *, unit_bytes: int = 2,
                 silence_peak: float | None = None) -> None:
        self._cond = threading.Condition()
        self._buffer = bytearray()
        self._limit = limit_bytes
        self._window: int | None = None
        self._unit = unit_bytes
        self._silence_peak = silence_peak
        self._stop = threading.Event()
        self.started = time.monotonic()
        self.first_data: float | None = None
        self.waiting_since: float | None = None
        self.ended = False
        """The output has ended (end of the stream or of the file, or stopped)."""
        self.given_up: str | None = None
        """Why the relay stopped this run, when it did."""
        self.silent_s = 0.0
        self.sound_since: float | None = None
        self.sound_s = 0.0
        self.said: str | None = None
        """ffmpeg's last message, once it has ended."""
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the thread
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._errors
            )
        except OSError:
            self._errors.close()
            raise
        self._thread = threading.Thread(target=self._run, name="relay decoder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._pump()
        except OSError:
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.said = self._last_message()
            self._errors.close()
            with self._cond:
                self.ended = True
                self._cond.notify_all()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        pending = bytearray()
        while not self._stop.is_set():
            with self._cond:
                while (self._window is None and len(self._buffer) >= self._limit
                       and not self._stop.is_set()):
                    self.waiting_since = None
                    self._cond.wait(0.1)
                if self.waiting_since is None:
                    self.waiting_since = time.monotonic()
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            pending += chunk
            whole = len(pending) - len(pending) % self._unit
            if not whole:
                continue
            block = bytes(pending[:whole])
            del pending[:whole]
            now = time.monotonic()
            if self._silence_peak is not None:
                self._judge(block, now)
            with self._cond:
                self._buffer += block
                if self._window is not None and len(self._buffer) > self._window:
                    del self._buffer[: len(self._buffer) - self._window]
                self.waiting_since = None
                if self.first_data is None:
                    self.first_data = now
                self._cond.notify_all()

    def _judge(self, block: bytes, now: float) -> None:
        """Follow how long the stream has been silent, and since when it has been sounding."""
        assert self._silence_peak is not None
        samples = array.array("h")
        samples.frombytes(block)
        if sys.byteorder == "big":
            samples.byteswap()
        step = _ANALYSIS_BYTES // 2
        piece_s = step / SAMPLE_RATE
        for start in range(0, len(samples), step):
            piece = samples[start : start + step]
            if max(max(piece), -min(piece)) < self._silence_peak:
                self.silent_s += piece_s
                if self.silent_s >= SHORT_PAUSE_S:
                    self.sound_since = None
                    self.sound_s = 0.0
            else:
                self.silent_s = 0.0
                if self.sound_since is None:
                    self.sound_since = now
                    self.sound_s = 0.0
            if self.sound_since is not None:
                self.sound_s += piece_s

    def take(self, n: int) -> bytes:
        """Up to ``n`` bytes, oldest first, without waiting."""
        with self._cond:
            block = bytes(self._buffer[:n])
            del self._buffer[:n]
            self._cond.notify_all()
        return block

    def window(self, keep_bytes: int | None) -> None:
        """Keep only the newest ``keep_bytes`` (``None``: hold the reader back when full)."""
        with self._cond:
            self._window = keep_bytes
            if keep_bytes is not None and len(self._buffer) > keep_bytes:
                del self._buffer[: len(self._buffer) - keep_bytes]
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._buffer.clear()
            self._cond.notify_all()

    @property
    def buffered_bytes(self) -> int:
        with self._cond:
            return len(self._buffer)

    @property
    def exhausted(self) -> bool:
        """Everything it will ever give has been taken."""
        with self._cond:
            return self.ended and not self._buffer

    def _last_message(self) -> str | None:
        try:
            self._errors.seek(0, os.SEEK_END)
            size = self._errors.tell()
            self._errors.seek(max(0, size - _STDERR_KEPT))
            text = self._errors.read().decode(errors="replace")
        except (OSError, ValueError):
            return None
        lines = [_PREFIX_RE.sub("", line).strip() for line in text.splitlines()]
        lines = [line for line in lines if line]
        return lines[-1][:200] if lines else None

    def stop(self, why: str | None = None) -> None:
        """End the run now (the thread kills and reaps ffmpeg); does not wait."""
        if why is not None and self.given_up is None:
            self.given_up = why
        self._stop.set()
        if self.process.poll() is None:
            self.process.kill()
        with self._cond:
            self._cond.notify_all()

    def close(self, timeout_s: float = 5.0) -> None:
        """End the run and wait until ffmpeg is reaped."""
        self.stop()
        self._thread.join(timeout_s)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@dataclass(frozen=True)
class _Health:
    delivering: bool
    """A connection is up and sending (or has been waited on for less than ``dead_s``)."""
    silent_s: float
    sounding_s: float
    problem: str


class _Stream:
    """The relay's connection to the stream: one ffmpeg at a time, restarted when it fails."""

    def __init__(self, url: str, command: list[str], watch: RelayWatch) -> None:
        self.url = url
        self._command = command
        self._watch = watch
        self._peak = 32768 * 10 ** (watch.silence_dbfs / 20)
        self._limit = int((watch.preroll_s + HEADROOM_S) * SAMPLE_RATE) * 2
        self._preroll_bytes = max(_ANALYSIS_BYTES, int(watch.preroll_s * SAMPLE_RATE) * 2)
        self._window_bytes: int | None = self._preroll_bytes
        self._first_data_s = max(watch.dead_s, LOUDNORM_LOOKAHEAD_S + CONNECT_S)
        self._lock = threading.Lock()
        self._decoder: _Decoder | None = None
        self._begun = False
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relay stream", daemon=True)
        self.last_problem: str | None = None
        """Why the last connection ended (``None`` before any has)."""

    def begin(self) -> None:
        """Start connecting (once)."""
        with self._lock:
            if self._begun or self._closed.is_set():
                return
            self._begun = True
        self._thread.start()

    def _run(self) -> None:
        while not self._closed.is_set():
            self._attempt()
            self._closed.wait(RETRY_S)

    def _attempt(self) -> None:
        try:
            decoder = _Decoder(self._command, self._limit, unit_bytes=_ANALYSIS_BYTES,
                               silence_peak=self._peak)
        except OSError as exc:
            with self._lock:
                self.last_problem = f"ffmpeg could not be started ({exc})"
            return
        with self._lock:
            decoder.window(self._window_bytes)
            self._decoder = decoder
        while not decoder.ended and not self._closed.is_set():
            now = time.monotonic()
            waiting = decoder.waiting_since
            if decoder.first_data is None:
                if now - decoder.started >= self._first_data_s:
                    decoder.stop(f"the stream did not answer within "
                                 f"{_seconds(self._first_data_s)}")
            elif waiting is not None and now - waiting >= self._watch.dead_s:
                decoder.stop(f"no data from the stream for {_seconds(self._watch.dead_s)}")
            self._closed.wait(0.1)
        decoder.close()
        with self._lock:
            self.last_problem = self._why_ended(decoder)
            self._decoder = None

    def _why_ended(self, decoder: _Decoder) -> str:
        said = decoder.said or ""
        if said.startswith(f"{self.url}: "):
            said = said[len(self.url) + 2 :]
        said = said.replace(self.url, _redacted(self.url))
        detail = f" ({said})" if said else ""
        if decoder.given_up is not None:
            return decoder.given_up
        if decoder.first_data is None:
            return f"the stream could not be reached{detail}"
        return f"the stream ended{detail}"

    def live(self, live: bool, clear: bool = False) -> None:
        """While live, the buffer holds ffmpeg back when full; otherwise it keeps only the newest
        pre-roll's worth. ``clear`` drops what is buffered."""
        with self._lock:
            self._window_bytes = None if live else self._preroll_bytes
            decoder = self._decoder
            if decoder is not None:
                if clear:
                    decoder.clear()
                decoder.window(self._window_bytes)

    def take(self, n: int) -> bytes:
        with self._lock:
            decoder = self._decoder
        return decoder.take(n) if decoder is not None else b""

    def prerolled(self) -> bool:
        """The pre-roll is buffered."""
        with self._lock:
            decoder = self._decoder
        return decoder is not None and decoder.buffered_bytes >= self._preroll_bytes

    def health(self, now: float) -> _Health:
        with self._lock:
            decoder = self._decoder
            last = self.last_problem or "the stream ended"
        if decoder is None:
            return _Health(False, 0.0, 0.0, last)
        if decoder.ended or decoder.given_up is not None:
            return _Health(False, 0.0, 0.0, decoder.given_up or self._why_ended(decoder))
        if decoder.first_data is None:
            return _Health(False, 0.0, 0.0, "the stream is still connecting")
        waiting = decoder.waiting_since
        if waiting is not None and now - waiting >= self._watch.dead_s:
            return _Health(False, 0.0, 0.0,
                           f"no data from the stream for {_seconds(self._watch.dead_s)}")
        since = decoder.sound_since
        sounding = 0.0 if since is None else min(now - since, decoder.sound_s)
        return _Health(True, decoder.silent_s, sounding, "")

    def close(self) -> None:
        """Stop reconnecting and end the connection; returns once ffmpeg is reaped."""
        self._closed.set()
        with self._lock:
            decoder = self._decoder
        if decoder is not None:
            decoder.stop()
        if self._thread.is_alive():
            self._thread.join(10)
        if decoder is not None:
            decoder.close()


class RelayReader:
    """One output's share of a relay: every block, in order, as it falls due."""

    def __init__(self, detach: Callable[[RelayReader], None]) -> None:
        self._cond = threading.Condition()
        self._blocks: deque[bytes] = deque()
        self._queued = 0
        self._limit = int(READER_QUEUE_S * SAMPLE_RATE) * 2
        self._ended = False
        self._closed = False
        self._detach = detach
        self.lost_s = 0.0
        """Sound this reader lost by falling too far behind."""

    def _put(self, block: bytes) -> None:
        with self._cond:
            if self._ended or self._closed:
                return
            self._blocks.append(block)
            self._queued += len(block)
            while self._queued > self._limit and len(self._blocks) > 1:
                old = self._blocks.popleft()
                self._queued -= len(old)
                self.lost_s += len(old) / BYTES_PER_SECOND
            self._cond.notify_all()

    def _end(self, cut: bool) -> None:
        with self._cond:
            self._ended = True
            if cut:
                self._blocks.clear()
                self._queued = 0
            self._cond.notify_all()

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (whole samples) once they are due; ``b""`` at the end of the relay
        (its length reached, or cut)."""
        if n < 2:
            raise ValueError("read at least one sample (2 bytes)")
        n -= n % 2
        with self._cond:
            while not self._blocks and not self._ended and not self._closed:
                self._cond.wait()
            if self._closed or not self._blocks:
                return b""
            parts: list[bytes] = []
            size = 0
            while self._blocks and size < n:
                block = self._blocks.popleft()
                if size + len(block) > n:
                    self._blocks.appendleft(block[n - size :])
                    block = block[: n - size]
                parts.append(block)
                size += len(block)
            self._queued -= size
            return b"".join(parts)

    def close(self) -> None:
        """Take no more of the relay; ``read()`` returns ``b""`` from now on."""
        with self._cond:
            self._closed = True
            self._blocks.clear()
            self._queued = 0
            self._cond.notify_all()
        self._detach(self)


class LiveRelay:
    """A live stream relayed for ``duration_s`` seconds, ``gain_db`` louder for the zone.

    ``fallback`` (a mastered file) airs from its beginning whenever the stream fails; then
    silence if it ends first. Call :meth:`preroll` ahead of the start, a :meth:`reader` for each
    output, then :meth:`start` on the second; :meth:`stop` cuts the relay (and releases one
    that will not start).
    """

    def __init__(
        self,
        url: str,
        *,
        duration_s: float,
        target: LoudnessTarget,
        gain_db: float = 0.0,
        fallback: Path | None = None,
        watch: RelayWatch = RelayWatch(),
        label: str = "relay",
    ) -> None:
        if shutil.which("ffmpeg") is None:
            raise OutputError("ffmpeg is not installed. Run 'make run' once to install it.")
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise OutputError(f"a relay takes an http:// or https:// address, not {url!r}")
        if duration_s <= 0:
            raise ValueError("a relay lasts more than 0 s")
        self.url = url
        self.label = label
        self.duration_s = duration_s
        self.watch = watch
        self.fallback = fallback
        self._fallback_command = (
            fallback_command(fallback, gain_db, target.true_peak_dbtp) if fallback else None
        )
        self._stream = _Stream(url, relay_command(url, target, gain_db), watch)
        self._total = round(duration_s * SAMPLE_RATE) * 2
        self._handed = 0
        self._lock = threading.Lock()
        self._events: list[RelayEvent] = []
        self._readers: list[RelayReader] = []
        self._live = False
        self._on_air_fallback: _Decoder | None = None
        self._next_fallback: _Decoder | None = None
        self._retired: list[_Decoder] = []
        self._fallback_over = False
        self._announced = False
        self._prerolled = False
        self._start_clock: float | None = None
        self._end_clock: float | None = None
        self._closing = threading.Event()
        self._begin_lock = threading.Lock()
        """Settles how the relay begins (pre-roll, start) and ends (shut down), one at a time."""
        self._cut = False
        self._complete = False
        """The relay ran its whole length."""
        self._done = False
        self._producer = threading.Thread(target=self._run, name=f"relay {label}", daemon=True)

    # What the rest of the player sees.

    @property
    def events(self) -> list[RelayEvent]:
        with self._lock:
            return list(self._events)

    @property
    def played_s(self) -> float:
        """How far into the relay it is, or was when it was cut (its length once it ended)."""
        if self._complete:
            return self.duration_s
        if self._start_clock is None:
            return 0.0
        until = self._end_clock if self._end_clock is not None else time.monotonic()
        return min(self.duration_s, max(0.0, until - self._start_clock))

    def reader(self) -> RelayReader:
        """A reader for one output (made before :meth:`start`, it gets every block)."""
        reader = RelayReader(self._detach)
        with self._lock:
            if self._done:
                reader._end(cut=True)
            else:
                self._readers.append(reader)
        return reader

    def _detach(self, reader: RelayReader) -> None:
        with self._lock:
            if reader in self._readers:
                self._readers.remove(reader)

    def preroll(self, timeout_s: float) -> None:
        """Connect (ffmpeg) and buffer ``watch.preroll_s`` seconds, returning when buffered or
        at ``timeout_s``.

        A stream that cannot be reached is not an exception: the relay will start on its
        fallback (and retry the stream in the background), and says so in :attr:`events`.
        """
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._begin_lock:
            if self._start_clock is not None or self._closing.is_set():
                return
            self._stream.begin()
            self._ready_fallback()
        while (time.monotonic() < deadline and not self._closing.is_set()
               and self._start_clock is None and not self._stream.prerolled()):
            self._closing.wait(min(TICK_S, max(0.0, deadline - time.monotonic())))
        with self._begin_lock:
            if self._start_clock is not None or self._closing.is_set():
                return  # started (or stopped) meanwhile: start() has settled how it begins
            self._prerolled = True
            self._live = self._ready()
            if not self._live:
                self._not_ready(f"within {_seconds(timeout_s)}")

    def start(self) -> None:
        """The relay's clock starts now: the first block is handed over at once.

        A pre-roll still under way (in another thread) ends here, and the relay starts on the
        stream if some of it is buffered, else on its fallback.
        """
        with self._begin_lock:
            if self._start_clock is not None:
                raise RuntimeError("a relay starts only once")
            if self._closing.is_set():
                return
            if not self._prerolled:
                self._stream.begin()
                self._ready_fallback()
                self._live = self._ready()
                if not self._live:
                    self._not_ready("by the start")
            now = time.monotonic()
            self._start_clock = now
            if self._live:
                self._stream.live(True)
            else:
                self._use_fallback()
            self._hand_out(now)
            self._producer.start()

    def stop(self) -> None:
        """Cut: every reader ends now, and every ffmpeg is killed and reaped.

        After the relay has run its length, this only waits for the end to be tidied up: the
        readers keep what they have not read yet.
        """
        with self._lock:
            cut = not self._complete
            self._cut = self._cut or cut
            readers = list(self._readers) if cut else []
        self._closing.set()
        if cut and self._start_clock is not None and self._end_clock is None:
            self._end_clock = time.monotonic()
        for reader in readers:
            reader._end(cut=True)
        if self._producer.is_alive() and threading.current_thread() is not self._producer:
            self._producer.join(10)
        self._shut_down()

    # The relay's own work.

    def _ready(self) -> bool:
        return self._stream.health(time.monotonic()).delivering

    def _not_ready(self, when: str) -> None:
        """Say why the relay starts on its fallback (once)."""
        if self._announced:
            return
        self._announced = True
        problem = self._stream.last_problem or f"the stream did not answer {when}"
        self._event(0.0, f"{problem}: {self._instead(from_start=True)}")

    def _instead(self, from_start: bool = False) -> str:
        """What airs instead of the stream, in words."""
        when = " from the start" if from_start else ""
        if self._fallback_command is None:
            return f"silence airs{when} (there is no fallback)"
        return f"the fallback airs{when}"

    def _event(self, at_s: float, what: str) -> None:
        with self._lock:
            self._events.append(RelayEvent(round(at_s, 2), what))

    def _ready_fallback(self) -> None:
        """Have the fallback decoded from its beginning, ready for the next failure."""
        if self._fallback_command is None or self._next_fallback is not None:
            return
        if self._closing.is_set():
            return
        try:
            self._next_fallback = _Decoder(
                self._fallback_command, int(FALLBACK_BUFFER_S * SAMPLE_RATE) * 2)
        except OSError as exc:
            self._event(self._at(), f"the fallback could not be decoded ({exc})")

    def _use_fallback(self) -> None:
        self._ready_fallback()
        self._on_air_fallback, self._next_fallback = self._next_fallback, None
        self._fallback_over = False

    def _at(self) -> float:
        if self._start_clock is None:
            return 0.0
        return max(0.0, time.monotonic() - self._start_clock)

    def _run(self) -> None:
        try:
            while not self._closing.is_set() and self._handed < self._total:
                self._closing.wait(TICK_S)
                if self._closing.is_set():
                    break
                self._hand_out(time.monotonic())
        finally:
            with self._lock:
                ended = self._complete = not self._cut
            if ended:
                self._end_clock = time.monotonic()
            # Every process is gone before the readers hear of the end.
            self._shut_down()
            if ended:
                with self._lock:
                    readers = list(self._readers)
                for reader in readers:
                    reader._end(cut=False)

    def _hand_out(self, now: float) -> None:
        """Give every reader what has fallen due by ``now``."""
        assert self._start_clock is not None
        elapsed = now - self._start_clock + FIRST_BLOCK_S
        due = min(self._total, int(elapsed * SAMPLE_RATE) * 2)
        if due <= self._handed:
            return
        block = self._compose(due - self._handed, now)
        self._handed = due
        with self._lock:
            readers = list(self._readers)
        for reader in readers:
            reader._put(block)

    def _compose(self, n: int, now: float) -> bytes:
        self._follow(now)
        if self._live:
            block = self._stream.take(n)
        elif self._on_air_fallback is not None:
            fallback = self._on_air_fallback
            block = fallback.take(n)
            if len(block) < n and fallback.exhausted and not self._fallback_over:
                self._fallback_over = True
                said = fallback.said
                if said and fallback.first_data is None:
                    what = f"the fallback could not be decoded ({said}): silence airs"
                else:
                    what = "the fallback has ended: silence airs until the stream is back"
                self._event(self._at(), what)
        else:
            block = b""
        return block + bytes(n - len(block))

    def _follow(self, now: float) -> None:
        """Fail over when the stream fails, and take it back once it sounds again."""
        health = self._stream.health(now)
        at = self._at()
        if self._live:
            if not health.delivering:
                self._fail_over(at, health.problem, clear=True)
            elif health.silent_s >= self.watch.silence_s:
                self._fail_over(
                    at, f"the stream went silent for {_seconds(self.watch.silence_s)}",
                    clear=False)
        elif health.delivering and health.sounding_s >= self.watch.back_s:
            self._live = True
            self._stream.live(True)
            if self._on_air_fallback is not None:
                self._retire(self._on_air_fallback)
                self._on_air_fallback = None
            self._ready_fallback()
            self._event(at, "the stream is back: relaying again")

    def _fail_over(self, at: float, why: str, *, clear: bool) -> None:
        self._live = False
        self._stream.live(False, clear=clear)
        self._use_fallback()
        self._event(at, f"{why}: {self._instead()}")

    def _retire(self, decoder: _Decoder) -> None:
        """Stop a fallback decoder; its own thread reaps ffmpeg, and the end waits for it."""
        decoder.stop()
        self._retired.append(decoder)

    def _shut_down(self) -> None:
        with self._begin_lock:
            with self._lock:
                if self._done:
                    return
                self._done = True
            self._closing.set()
            decoders = [self._on_air_fallback, self._next_fallback, *self._retired]
            self._on_air_fallback = self._next_fallback = None
            self._retired.clear()
        self._stream.close()
        for decoder in decoders:
            if decoder is not None:
                decoder.close()
