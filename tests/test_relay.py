"""Relaying a live stream (tiếp âm) against real servers: a private icecast2 fed by an ffmpeg
source client, and a live HLS playlist written by ffmpeg and served on loopback.

What the relay hands its readers is what the loudspeakers would play, so the tests listen to it:
how long it is, whether it sounds, how loud it is, and (by the frequency of its tone) whether it
is the stream or the fallback at each moment. Output sample ``k`` is handed over at
``start + k / 48000 - FIRST_BLOCK_S`` (wall clock), which is how a moment of the test (a cut)
is found in the output.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from broadcast.audio import LoudnessTarget
from broadcast.outputs.base import BYTES_PER_SECOND, SAMPLE_RATE
from broadcast.outputs.relay import FIRST_BLOCK_S, LiveRelay, RelayReader, RelayWatch
from tests.audio_tools import integrated_lufs
from tests.hls import HlsStation
from tests.icecast import IcecastServer, free_port, start_icecast
from tests.pulse import stop_by_pid

STREAM_HZ = 440.0
FALLBACK_HZ = 1000.0
TARGET = LoudnessTarget(integrated_lufs=-16.0, true_peak_dbtp=-1.5, loudness_range_lu=7.0)
TONE = f"sine=f={STREAM_HZ:g}:sample_rate=44100"
LOUD_PROGRAM = (
    "aevalsrc='(0.4*sin(2*PI*440*t)+0.3*sin(2*PI*1320*t)+0.25*sin(2*PI*2640*t))"
    "*(0.8+0.2*sin(2*PI*0.05*t))':s=44100,volume=2dB"
)
"""About -8 LUFS (8 LU over the target), its loudness swinging ±2 LU over 20 s."""
WINDOW_S = 0.5


@pytest.fixture(scope="module")
def server() -> Iterator[IcecastServer]:
    icecast = start_icecast()
    try:
        yield icecast
    finally:
        icecast.remove()


@pytest.fixture(scope="module")
def fallback(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mastered-looking fallback: a steady 1 kHz tone near the target, 40 s long."""
    path = tmp_path_factory.mktemp("fallback") / "fallback.wav"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
         f"sine=f={FALLBACK_HZ:g}:sample_rate=48000", "-t", "40", "-af", "volume=-13dB",
         "-ac", "1", str(path)],
        check=True,
    )
    return path


class Source:
    """An ffmpeg source client streaming a lavfi graph to an Icecast mount in real time."""

    def __init__(self, server: IcecastServer, mount: str, graph: str) -> None:
        self.server = server
        self.mount = mount
        self.graph = graph
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-re", "-f", "lavfi",
             "-i", self.graph, "-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3",
             "-content_type", "audio/mpeg", self.server.url(self.mount)],
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while f"/{self.mount}" not in self.server.mounts():
            assert self.process.poll() is None, "the source client could not connect"
            assert time.monotonic() < deadline, "the mount did not come up"
            time.sleep(0.05)

    def stop(self) -> None:
        """Cut the source (by its PID) and wait until the server has dropped the mount."""
        if self.process is not None:
            stop_by_pid(self.process)
        deadline = time.monotonic() + 15
        while f"/{self.mount}" in self.server.mounts() and time.monotonic() < deadline:
            time.sleep(0.05)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def listen_url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}/{self.mount}"


class Recorder:
    """Reads a relay reader as an output's feeding thread does, keeping everything."""

    def __init__(self, reader: RelayReader) -> None:
        self.reader = reader
        self.data = bytearray()
        self.ended_at: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            block = self.reader.read(4800)
            if not block:
                self.ended_at = time.monotonic()
                return
            self.data += block

    def samples(self) -> np.ndarray:
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the relay never ended"
        return np.frombuffer(bytes(self.data), dtype="<i2").astype(np.float64) / 32768.0


def _index(start: float, moment: float) -> int:
    """The output sample handed over at wall-clock ``moment``."""
    return int((moment - start + FIRST_BLOCK_S) * SAMPLE_RATE)


def _label(window: np.ndarray, stream_hz: float = STREAM_HZ) -> str:
    """What a listener hears in ``window``: the stream's tone, the fallback's, or silence."""
    if np.sqrt(np.mean(window**2)) < 1e-3:
        return "silence"
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    peak_hz = float(np.argmax(spectrum)) * SAMPLE_RATE / len(window)
    if abs(peak_hz - stream_hz) < 20:
        return "stream"
    if abs(peak_hz - FALLBACK_HZ) < 20:
        return "fallback"
    return f"{peak_hz:.0f} Hz"


def _labels(samples: np.ndarray, stream_hz: float = STREAM_HZ) -> list[str]:
    step = int(WINDOW_S * SAMPLE_RATE)
    return [_label(samples[i : i + step], stream_hz)
            for i in range(0, len(samples) - step + 1, step)]


def _relay_ffmpeg_children(*others: int | None) -> list[str]:
    """ffmpeg processes (zombies included) that are children of this test run, other than the
    sources the test itself started."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in others:
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if comm == "ffmpeg" and int(fields[1]) == os.getpid():
            found.append(f"{entry} ({fields[0]})")
    return found


def _relay_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("relay")]


def _decode_program(graph: str, seconds: float) -> np.ndarray:
    """The source's own sound, through the same MP3 encoding, made offline."""
    mp3 = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", graph, "-t", str(seconds),
         "-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3", "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", "-", "-f", "f32le", "-ac", "1",
             "-ar", str(SAMPLE_RATE), "-"],
            input=mp3, capture_output=True, check=True,
        ).stdout,
        dtype="<f4",
    ).astype(np.float64)


def test_a_relay_from_icecast_airs_the_stream_at_the_target_loudness(
    server: IcecastServer,
) -> None:
    """Half a minute of a stream mastered 8 LU too loud (its loudness swinging, a cycle and a
    half): exactly that much sound, every moment of it audible, brought to the target and under
    the ceiling, with nothing to report. (bench_relay.py measures a whole minute.)"""
    program = _decode_program(LOUD_PROGRAM, seconds=20)
    assert integrated_lufs(program) == pytest.approx(-8.0, abs=1.5)

    source = Source(server, "loud", LOUD_PROGRAM)
    relay = LiveRelay(source.listen_url, duration_s=30, target=TARGET, label="tiếp âm")
    try:
        recorder = Recorder(relay.reader())
        relay.preroll(timeout_s=20)
        relay.start()
        samples = recorder.samples()
        assert _relay_ffmpeg_children(source.pid) == []
    finally:
        relay.stop()
        source.stop()

    assert len(samples) == 30 * SAMPLE_RATE
    assert relay.events == []
    assert relay.played_s == 30
    step = int(WINDOW_S * SAMPLE_RATE)
    rms = [np.sqrt(np.mean(samples[i : i + step] ** 2)) for i in range(0, len(samples), step)]
    assert min(rms) > 0.01, "the relay went quiet somewhere"
    settled = samples[5 * SAMPLE_RATE :]
    assert integrated_lufs(settled) == pytest.approx(TARGET.integrated_lufs, abs=2.0)
    assert np.max(np.abs(samples)) <= 10 ** (TARGET.true_peak_dbtp / 20)


def test_a_relay_from_a_live_hls_playlist_airs_the_stream(tmp_path: Path) -> None:
    """An HLS playlist as a station's origin serves one, for a zone 3 dB louder than the rest:
    the same sound to the sample for every output, all of it the stream, 3 dB over the target,
    and nothing to report. An output that stops reading loses its oldest sound, not the others'.
    """
    station = HlsStation(tmp_path / "hls", "sine=f=660:sample_rate=44100")
    relay = LiveRelay(station.url, duration_s=10, target=TARGET, gain_db=3.0)
    try:
        station.wait_segments(2)
        first, second = Recorder(relay.reader()), Recorder(relay.reader())
        stalled = relay.reader()
        relay.preroll(timeout_s=20)
        relay.start()
        samples = first.samples()
        other = second.samples()
        assert _relay_ffmpeg_children(station.writer.pid) == []
    finally:
        relay.stop()
        station.close()

    assert len(samples) == 10 * SAMPLE_RATE
    assert np.array_equal(samples, other), "the two outputs did not get the same sound"
    kept = bytearray()
    while block := stalled.read(BYTES_PER_SECOND):
        kept += block
    assert stalled.lost_s == pytest.approx(10 - len(kept) / BYTES_PER_SECOND, abs=0.01)
    assert 4 * BYTES_PER_SECOND < len(kept) <= 6 * BYTES_PER_SECOND
    assert bytes(kept) == (samples[-len(kept) // 2 :] * 32768).astype("<i2").tobytes()
    assert relay.events == []
    assert set(_labels(samples, stream_hz=660)) == {"stream"}
    assert integrated_lufs(samples[3 * SAMPLE_RATE :]) == pytest.approx(-13.0, abs=1.5)


def test_a_cut_stream_fails_over_to_the_fallback_and_is_taken_back(
    server: IcecastServer, fallback: Path
) -> None:
    """The source is cut 3 s in and comes back 2 s later: the fallback airs within dead_s of
    the cut, the stream is taken back once it sounds again, and the end is the stream."""
    watch = RelayWatch(preroll_s=2.0, dead_s=3.0, back_s=2.0)
    source = Source(server, "cut", TONE)
    relay = LiveRelay(source.listen_url, duration_s=18, target=TARGET, fallback=fallback,
                      watch=watch)
    pids: list[int | None] = [source.pid]
    try:
        recorder = Recorder(relay.reader())
        relay.preroll(timeout_s=20)
        relay.start()
        started = time.monotonic()
        time.sleep(3)
        cut = time.monotonic()
        source.stop()
        time.sleep(2)
        source.start()
        pids.append(source.pid)
        samples = recorder.samples()
        assert _relay_ffmpeg_children(*pids) == []
    finally:
        relay.stop()
        source.stop()

    assert len(samples) == 18 * SAMPLE_RATE
    labels = _labels(samples)
    cut_window = _index(started, cut) // int(WINDOW_S * SAMPLE_RATE)
    assert "fallback" not in labels[:cut_window], labels
    first_fallback = labels.index("fallback")
    assert (first_fallback + 1) * WINDOW_S <= cut_window * WINDOW_S + watch.dead_s + 1, labels
    assert labels[-6:] == ["stream"] * 6, labels

    events = relay.events
    assert len(events) == 2, events
    assert events[0].what.endswith(": the fallback airs")
    assert events[0].at_s == pytest.approx(cut - started, abs=watch.dead_s + 1)
    assert events[1].what == "the stream is back: relaying again"
    back_window = int(events[1].at_s / WINDOW_S) + 1
    assert set(labels[back_window:]) == {"stream"}, labels


def test_a_stream_gone_silent_fails_over_after_silence_s(
    server: IcecastServer, fallback: Path
) -> None:
    """A pause shorter than silence_s is aired as it is; a longer silence brings the fallback,
    no sooner than the stream fell silent and no later than silence_s after it."""
    watch = RelayWatch(preroll_s=2.0, silence_s=3.0)
    graph = ("aevalsrc='0.3*sin(2*PI*440*t)*(lt(t,6)+between(t,7.5,10))':s=44100")
    source = Source(server, "quiet", graph)
    relay = LiveRelay(source.listen_url, duration_s=14, target=TARGET, fallback=fallback,
                      watch=watch)
    try:
        recorder = Recorder(relay.reader())
        relay.preroll(timeout_s=20)
        relay.start()
        samples = recorder.samples()
    finally:
        relay.stop()
        source.stop()

    labels = _labels(samples)
    first_fallback = labels.index("fallback")
    sounding = [i for i, label in enumerate(labels) if label == "stream"]
    pause = [i for i in range(sounding[0], sounding[-1]) if labels[i] == "silence"]
    assert pause, f"the short pause was not aired: {labels}"
    assert first_fallback > sounding[-1], labels
    assert (first_fallback - sounding[-1]) * WINDOW_S <= watch.silence_s + 1, labels
    assert set(labels[first_fallback + 1 :]) == {"fallback"}, labels
    assert [event.what for event in relay.events] == [
        "the stream went silent for 3 s: the fallback airs"
    ]


def test_a_stream_that_cannot_be_reached_airs_the_fallback_from_the_start(
    fallback: Path,
) -> None:
    """Nobody answers at the address: preroll gives up by its timeout, the fallback airs from
    the first block, and the as-run log says why; without a fallback, silence, and it says so."""
    url = f"http://127.0.0.1:{free_port()}/radio"
    relay = LiveRelay(url, duration_s=4, target=TARGET, fallback=fallback)
    silent = LiveRelay(url, duration_s=2, target=TARGET)
    try:
        recorder = Recorder(relay.reader())
        began = time.monotonic()
        relay.preroll(timeout_s=2.5)
        assert time.monotonic() - began < 3.5
        relay.start()
        samples = recorder.samples()

        quiet = Recorder(silent.reader())
        silent.preroll(timeout_s=1)
        silent.start()
        nothing = quiet.samples()
        assert _relay_ffmpeg_children() == []
    finally:
        relay.stop()
        silent.stop()

    assert len(samples) == 4 * SAMPLE_RATE
    assert set(_labels(samples)) == {"fallback"}
    assert [event.at_s for event in relay.events] == [0.0]
    what = relay.events[0].what
    assert what.startswith("the stream could not be reached"), what
    assert what.endswith("the fallback airs from the start"), what
    assert len(nothing) == 2 * SAMPLE_RATE and not nothing.any()
    assert "silence airs" in silent.events[0].what, silent.events


def test_stop_ends_every_reader_and_process_at_once(
    server: IcecastServer, fallback: Path
) -> None:
    """Cut mid-relay: a blocked read returns b"" at once, and no ffmpeg or thread is left."""
    source = Source(server, "stop", TONE)
    relay = LiveRelay(source.listen_url, duration_s=30, target=TARGET, fallback=fallback,
                      watch=RelayWatch(preroll_s=1.0))
    try:
        recorder = Recorder(relay.reader())
        relay.preroll(timeout_s=20)
        relay.start()
        time.sleep(2)
        assert _relay_ffmpeg_children(source.pid), "the relay's ffmpeg should be running"
        cut = time.monotonic()
        relay.stop()
        recorder.thread.join(timeout=2)
        assert not recorder.thread.is_alive(), "read() did not return after stop()"
        assert recorder.ended_at is not None and recorder.ended_at - cut < 1.0
        assert _relay_ffmpeg_children(source.pid) == []
        assert _relay_threads() == []
    finally:
        relay.stop()
        source.stop()

    assert len(recorder.data) < 4 * BYTES_PER_SECOND
    assert relay.played_s == pytest.approx(2.0, abs=1.0)
    assert relay.reader().read(4800) == b""
    assert relay.events == []
