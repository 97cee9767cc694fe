"""Airing a finished program file on a zone's outputs, started on the second.

An :class:`Airing` is prepared a moment ahead: for each output a decoder (ffmpeg) is started and
its first samples are read, and the output's sink is opened. ``start()`` then only has to hand
those samples over, so the sound begins within milliseconds of the call. Each output is fed by
its own decoder and thread, so an output that fails or stalls does not hold up the others.

A program with live relays holds silence in their place; there the outputs are fed the stream
instead (:class:`LiveSpan`), one connection shared by every output of the airing. Each relay is
connected and buffered ahead of its place, and starts when the program reaches it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from broadcast.audio import LoudnessTarget, peak_limiter
from broadcast.outputs.base import BYTES_PER_SECOND, SAMPLE_RATE, Output, OutputError, Sink
from broadcast.outputs.relay import LiveRelay, RelayWatch

FIRST_BLOCK_S = 0.3
"""Samples read ahead of the start, so the first write needs no decoding. At least as long as
the sound server's buffer for the stream, so the first write alone starts playback."""
BLOCK_BYTES = BYTES_PER_SECOND // 20
RELAY_LEAD_S = 8.0
"""A relay is connected this long before its place in the program: a second to connect, the
pre-roll, and the live loudness control's look-ahead (see :mod:`broadcast.outputs.relay`)."""
RELAY_PREROLL_TIMEOUT_S = 15.0
"""A relay not buffered this long after it began connecting starts on its fallback."""


@dataclass(frozen=True)
class LiveSpan:
    """A live relay in a program: where it starts in the file, how long, and what it relays."""

    start_s: float
    duration_s: float
    url: str
    source: str
    fallback: Path | None = None
    silence_s: float = RelayWatch.silence_s


@dataclass(frozen=True)
class OutputResult:
    """How one output carried an airing."""

    output: str
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class AiringResult:
    started: float
    """Wall-clock time (seconds since the epoch) the first samples were handed over."""
    ended: float
    completed: bool
    """Every sample reached at least one output and nobody cut the airing."""
    cut: bool
    outputs: tuple[OutputResult, ...]
    notes: tuple[str, ...] = ()
    """What listeners heard change in a relay (a dead stream, the fallback, the stream back)."""

    @property
    def carried_by(self) -> list[str]:
        return [result.output for result in self.outputs if result.ok]

    def problems(self) -> list[str]:
        return [*(r.error if r.error.startswith(r.output) else f"{r.output}: {r.error}"
                  for r in self.outputs if not r.ok and r.error), *self.notes]


def decode_command(
    path: Path,
    gain_db: float = 0.0,
    offset_s: float = 0.0,
    true_peak_dbtp: float = LoudnessTarget.true_peak_dbtp,
) -> list[str]:
    """ffmpeg turning ``path`` into the outputs' PCM, from ``offset_s``, ``gain_db`` louder.

    A zone's gain is followed by the same limiter as mastering, at the true-peak ceiling
    ``true_peak_dbtp``, so that a louder zone stays under the ceiling the schedule sets.
    """
    seek = ["-ss", f"{offset_s:.3f}"] if offset_s > 0 else []
    limited = [f"volume={gain_db:.2f}dB", f"aresample={SAMPLE_RATE}", peak_limiter(true_peak_dbtp)]
    volume = ["-af", ",".join(limited)] if gain_db else []
    return ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", *seek, "-i", str(path),
            *volume, "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1", "pipe:1"]


class _Relay:
    """One relay of an airing: the stream, where it sits in the decoded bytes, and its start,
    which the first output to reach it makes (the others join it)."""

    def __init__(self, relay: LiveRelay, source: str, start: int, end: int) -> None:
        self.relay = relay
        self.source = source
        self.start = start
        self.end = end
        self._begun = False
        self._lock = threading.Lock()

    def begin(self) -> None:
        with self._lock:
            if not self._begun:
                self._begun = True
                self.relay.start()


class _Feed:
    """One output's decoder, sink and feeding thread (and its readers of the relays)."""

    def __init__(self, output: Output, command: list[str], label: str,
                 relays: Sequence[_Relay] = ()) -> None:
        self.name = output.describe()
        self.error: str | None = None
        self._errors: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in run()
        self._decoder = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self._errors
        )
        self._relays = [(relay, relay.relay.reader()) for relay in relays]
        self._position = 0
        self.sink: Sink | None = None
        try:
            self.sink = output.open(label)
            assert self._decoder.stdout is not None
            first = int(FIRST_BLOCK_S * BYTES_PER_SECOND)
            if self._relays:
                first = min(first, self._relays[0][0].start)
            self._first = self._decoder.stdout.read(first)
            self._position = len(self._first)
        except (OutputError, OSError) as exc:
            self.error = str(exc)
            self.stop_decoder()
        self.cut = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"feed {self.name}", daemon=True)

    def run(self) -> None:
        if self.sink is None:
            self._errors.close()
            return
        try:
            self._pump(self.sink)
        except (OutputError, OSError) as exc:
            self.sink.abort()
            if not self.cut.is_set():
                self.error = str(exc)
        finally:
            self.stop_decoder()
            self._errors.close()

    def _read(self, n: int) -> bytes:
        """The next samples: the program file's, or a relay's where the program has one."""
        assert self._decoder.stdout is not None
        while self._relays and self._relays[0][0].end <= self._position:
            self._relays.pop(0)[1].close()
        if not self._relays or self._position < self._relays[0][0].start:
            limit = self._relays[0][0].start - self._position if self._relays else n
            data = self._decoder.stdout.read(min(n, limit))
            self._position += len(data)
            return data
        relay, reader = self._relays[0]
        relay.begin()
        data = reader.read(min(n, relay.end - self._position))
        if not data and not self.cut.is_set():
            data = bytes(min(n, relay.end - self._position))  # the relay ended early: silence
        skipped = 0
        while skipped < len(data):  # the file's silence in the relay's place
            chunk = self._decoder.stdout.read(len(data) - skipped)
            if not chunk:
                break
            skipped += len(chunk)
        self._position += len(data)
        return data

    def _pump(self, sink: Sink) -> None:
        block = self._first or self._read(BLOCK_BYTES)
        while block and not self.cut.is_set():
            sink.write(block)
            block = self._read(BLOCK_BYTES)
        if self.cut.is_set():
            sink.abort()
            return
        code = self._decoder.wait()
        if code != 0:
            self._errors.seek(0)
            detail = self._errors.read()[-1000:].decode(errors="replace").strip()
            sink.abort()
            raise OutputError(f"cannot decode the program audio: {detail or f'exit {code}'}")
        sink.finish()

    def interrupt(self) -> None:
        """Cut from another thread: the pump sees the end of the sound and stops."""
        self.cut.set()
        if self._decoder.poll() is None:
            self._decoder.kill()
        for _, reader in self._relays:
            reader.close()
        if self.sink is not None:
            self.sink.abort()

    def stop_decoder(self) -> None:
        if self._decoder.poll() is None:
            self._decoder.kill()
        self._decoder.wait()
        if self._decoder.stdout is not None:
            self._decoder.stdout.close()
        for _, reader in self._relays:
            reader.close()

    def abandon(self) -> None:
        self.stop_decoder()
        if self.sink is not None:
            self.sink.abort()
        self._errors.close()


class Airing:
    """One program file airing on a zone's outputs, ``gain_db`` louder (for that zone) but
    never past the true-peak ceiling ``true_peak_dbtp`` (see :func:`decode_command`)."""

    def __init__(
        self,
        path: Path,
        outputs: Sequence[Output],
        *,
        label: str,
        gain_db: float = 0.0,
        offset_s: float = 0.0,
        target: LoudnessTarget | None = None,
        live: Sequence[LiveSpan] = (),
    ) -> None:
        if shutil.which("ffmpeg") is None:
            raise OutputError("ffmpeg is not installed. Run 'make run' once to install it.")
        target = target or LoudnessTarget()
        self.path = path
        self.label = label
        self.offset_s = offset_s
        self._relays = [self._relay(span, label, gain_db, offset_s, target)
                        for span in live if span.start_s + span.duration_s > offset_s]
        self._prerolls: list[threading.Timer] = []
        for relay in self._relays:
            if relay.start / BYTES_PER_SECOND < RELAY_LEAD_S:
                self._preroll(relay, 0.0)
        command = decode_command(path, gain_db, offset_s, target.true_peak_dbtp)
        self._feeds = [_Feed(output, command, label, self._relays) for output in outputs]
        self._started = 0.0
        self._started_clock = 0.0
        self._cut = False
        self._cut_clock: float | None = None

    @staticmethod
    def _relay(span: LiveSpan, label: str, gain_db: float, offset_s: float,
               target: LoudnessTarget) -> _Relay:
        begins = max(0.0, span.start_s - offset_s)
        length = span.start_s + span.duration_s - offset_s - begins
        relay = LiveRelay(span.url, duration_s=length, target=target, gain_db=gain_db,
                          fallback=span.fallback, watch=RelayWatch(silence_s=span.silence_s),
                          label=f"{label} {span.source}")
        start = round(begins * SAMPLE_RATE) * 2
        return _Relay(relay, span.source, start, start + round(length * SAMPLE_RATE) * 2)

    def _preroll(self, relay: _Relay, delay_s: float) -> None:
        """Connect and buffer ``relay`` after ``delay_s`` seconds (in the background)."""
        timer = threading.Timer(delay_s, relay.relay.preroll, args=(RELAY_PREROLL_TIMEOUT_S,))
        timer.daemon = True
        timer.start()
        self._prerolls.append(timer)

    def start(self) -> None:
        """Begin the sound now."""
        self._started = time.time()
        self._started_clock = time.monotonic()
        for relay in self._relays:
            ahead = relay.start / BYTES_PER_SECOND - RELAY_LEAD_S
            if ahead > 0:
                self._preroll(relay, ahead)
        for feed in self._feeds:
            feed.thread.start()

    @property
    def started_at(self) -> float:
        """Wall-clock time the sound began (seconds since the epoch; 0 before ``start()``)."""
        return self._started

    @property
    def played_s(self) -> float:
        """How far into the file the airing is, or was when it was cut (for resuming after an
        interruption)."""
        if not self._started_clock:
            return self.offset_s
        until = self._cut_clock if self._cut_clock is not None else time.monotonic()
        return self.offset_s + max(0.0, until - self._started_clock)

    def cut(self) -> None:
        """Stop the sound on every output now."""
        if self._cut_clock is None:
            self._cut_clock = time.monotonic()
        self._cut = True
        for feed in self._feeds:
            feed.interrupt()
        self._stop_relays()

    def _stop_relays(self) -> None:
        for timer in self._prerolls:
            timer.cancel()
        for relay in self._relays:
            relay.relay.stop()

    def finished(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for every output to finish; whether they all have."""
        deadline = time.monotonic() + timeout_s
        for feed in self._feeds:
            feed.thread.join(max(0.0, deadline - time.monotonic()))
            if feed.thread.is_alive():
                return False
        return True

    def wait(self) -> AiringResult:
        """Block until every output has finished (or been cut); say how each went."""
        if not self._started:
            self.start()
        for feed in self._feeds:
            feed.thread.join()
        ended = time.time()
        self._stop_relays()
        results = tuple(
            OutputResult(feed.name, feed.error is None, feed.error) for feed in self._feeds
        )
        notes = tuple(f"relay {relay.source}, {event.at_s:.0f} s in: "
                      f"{event.what}" for relay in self._relays for event in relay.relay.events)
        return AiringResult(
            started=self._started,
            ended=ended,
            completed=not self._cut and any(result.ok for result in results),
            cut=self._cut,
            outputs=results,
            notes=notes,
        )

    def abandon(self) -> None:
        """Release a prepared airing that will not start (its outputs are closed unused)."""
        for feed in self._feeds:
            feed.abandon()
        self._stop_relays()
