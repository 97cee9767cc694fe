"""Start accuracy: from a broadcast's scheduled second to its first sample at the sound device.

The daemon runs as a real process on a private PulseAudio server with a null sink. A ward of
short programs (the built-in chime, which has a sharp onset), a few seconds apart, airs on the
sink, whose monitor is recorded (parec, 5 ms chunks) the whole time by a thread that timestamps
each chunk as it arrives. The null sink renders each block when the block begins to play and
posts it to the monitor at once, so a chunk whose first sample is n, arriving at t, says that
sample 0 played at t - n / rate or a little before; the lower envelope of that over the chunks
that arrived in the quiet 0.7 s before a scheduled second maps the recording's sample index to
the wall clock. (Quiet, because while a stream plays the sink renders in pieces up to a block
ahead, which pulls the envelope early; an envelope of chunk ends instead of starts is a block
early always: the check below then hears a tone before it was written.) A broadcast's start is
when the program file's first sample played: the onset found in the recording minus the onset's
place in the decoded file (the program's lead-in silence). The onset is where the file's first
0.1 s of sound (from its first sample above 1% of full scale) appears sample for sample, or, if a
glitch changed it, the first sample above that threshold; whether each broadcast's whole sound
reached the sink unchanged (no gap) is counted too. Printed: median and max of start - scheduled
second (targets: median <= 20 ms, max <= 100 ms), split into the daemon's own wake-up (the start
in its as-run log, kept to the millisecond) and the rest of the way to the sink.

Baseline, measured the same way on the same sink in the same run: "player started at the
second", what a naive scheduler does: at each scheduled second it spawns
``ffmpeg -i program.mp3 -f s16le - | pacat`` afresh (the daemon's program file, and pacat with
the daemon's options).

Sanity check of the mapping: a pacat already connected is written a tone at a known instant;
its onset must map to just after that instant (never before it).

Run: .venv/bin/python bench/bench_start_accuracy.py [--count 20] [--spacing 6] [--lead 40] [--each]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from broadcast.outputs.base import SAMPLE_RATE  # noqa: E402
from broadcast.outputs.device import SoundDevice, player_command  # noqa: E402
from broadcast.outputs.player import decode_command  # noqa: E402
from broadcast.status import read_status  # noqa: E402
from tests.pulse import PulseServer, start_pulse, stop_by_pid  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SINK = "zone1"
THRESHOLD = 328
"""A sample louder than this (1% of full scale) is sound."""
QUIET_S = 0.7
"""The clock mapping for a moment uses the chunks that arrived this long before it, while the
sink plays nothing (see the module doc)."""
SANITY_RUNS = 5
RUN_OVER_S = 60.0
"""How long after the last scheduled second every broadcast must be over."""
TARGET_MEDIAN_MS = 20.0
TARGET_MAX_MS = 100.0

HEADER = """\
ward:
  name: Phường Đo Giờ
  quiet_hours: {start: "00:00", end: "00:00"}
tts:
  engine: espeak
zones:
  - id: khu-pho-1
    name: Cụm loa Khu phố 1
    groups: [all]
    outputs: [{type: device, sink: zone1}]
programs:
"""


def program(number: int, start: dt.datetime) -> str:
    return (f"  - id: p{number:02d}\n    name: Chuông {number}\n"
            f"    start: \"{start:%H:%M:%S}\"\n    days: [daily]\n    zones: [all]\n"
            "    items:\n      - chime:\n")


class Recorder:
    """The sink's monitor, recorded by parec; each chunk's arrival is timestamped."""

    def __init__(self, pulse: PulseServer) -> None:
        before = pulse.recorders()
        self.process = subprocess.Popen(
            ["parec", f"--device={SINK}.monitor", "--raw", "--format=s16le",
             f"--rate={SAMPLE_RATE}", "--channels=1", "--latency-msec=5"],
            stdout=subprocess.PIPE, env=pulse.env,
        )
        self._data = bytearray()
        self._arrivals: list[tuple[float, int]] = []
        self._thread = threading.Thread(target=self._read, name="recorder", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while pulse.recorders() <= before:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("parec could not record the sink's monitor")
            time.sleep(0.02)
        self.samples = np.zeros(0, dtype=np.int16)
        self._offsets = np.zeros(0)
        self._times = np.zeros(0)
        self._chunks = np.zeros(0)

    def _read(self) -> None:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while chunk := os.read(fd, 1 << 16):
            arrived = time.time()
            self._arrivals.append((arrived, len(self._data) // 2))
            self._data += chunk

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=10)
        self._thread.join(timeout=10)
        self.samples = np.frombuffer(bytes(self._data[: len(self._data) // 2 * 2]),
                                     dtype=np.int16)
        times = np.array([arrived for arrived, _ in self._arrivals])
        firsts = np.array([first for _, first in self._arrivals])
        self._times = times
        self._offsets = times - firsts / SAMPLE_RATE
        self._chunks = np.diff(firsts)

    def clock_before(self, moment: float) -> float:
        """Wall-clock time of sample 0, from the chunks that arrived in the quiet stretch just
        before ``moment``."""
        quiet = (self._times > moment - QUIET_S) & (self._times <= moment)
        return float(self._offsets[quiet].min())

    def index_at(self, moment: float) -> int:
        return round((moment - self.clock_before(moment)) * SAMPLE_RATE)

    def chunk_ms(self) -> float:
        return float(np.median(self._chunks)) / SAMPLE_RATE * 1000


@dataclass(frozen=True)
class ProgramSound:
    """The program file as the player decodes it, and where its sound begins and ends."""

    samples: np.ndarray
    onset: int
    length: int

    @property
    def lead_in_s(self) -> float:
        return self.onset / SAMPLE_RATE


def decode_program(path: Path) -> ProgramSound:
    pcm = subprocess.run(decode_command(path), capture_output=True, check=True).stdout
    samples = np.frombuffer(pcm, dtype=np.int16)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > THRESHOLD)
    return ProgramSound(samples, int(loud[0]), int(loud[-1] - loud[0] + 1))


@dataclass(frozen=True)
class Heard:
    """One broadcast as found in the recording."""

    began: float
    """Wall-clock time the program file's first sample played."""
    onset_exact: bool
    """The file's first 0.1 s of sound was found sample for sample (else the onset is the first
    sample above the threshold, which a glitch may have moved)."""
    intact: bool
    """The recording equals the file over the whole sound: no gap, no change."""
    gap_s: float | None
    """How much later than in the file the sound's last 0.1 s came (silence let in while it
    played), or None when that stretch was not found unchanged."""


def exact_onset(recording: np.ndarray, head: np.ndarray, low: int, high: int) -> int | None:
    """Where ``head`` begins sample for sample in ``recording[low:high]``, if it does."""
    high = min(high, len(recording) - 2)
    maybe = ((recording[low:high] == head[0]) & (recording[low + 1:high + 1] == head[1])
             & (recording[low + 2:high + 2] == head[2]))
    for candidate in np.flatnonzero(maybe):
        at = low + int(candidate)
        if np.array_equal(recording[at: at + len(head)], head):
            return at
    return None


def heard(recorder: Recorder, sound: ProgramSound, starts: list[float],
          spacing: float) -> list[Heard]:
    """Each broadcast as heard on the sink, looked for from the quiet stretch before its second
    (and after the previous broadcast's sound) to half the spacing after it."""
    recording = recorder.samples.astype(np.int32)
    wanted = sound.samples[sound.onset: sound.onset + sound.length].astype(np.int32)
    head = wanted[: SAMPLE_RATE // 10]
    tail = wanted[-(SAMPLE_RATE // 10):]
    found = []
    position = 0
    for start in starts:
        low = max(position, recorder.index_at(start - QUIET_S))
        high = recorder.index_at(start - QUIET_S) + round((QUIET_S + spacing / 2) * SAMPLE_RATE)
        onset = exact_onset(recording, head, low, high)
        exact = onset is not None
        if onset is None:
            loud = np.flatnonzero(np.abs(recording[low:high]) > THRESHOLD)
            if not loud.size:
                raise SystemExit(f"the broadcast due at {stamp(start)} was not heard")
            onset = low + int(loud[0])
        began = recorder.clock_before(start) + onset / SAMPLE_RATE - sound.lead_in_s
        intact = np.array_equal(recording[onset: onset + len(wanted)], wanted)
        due = onset + len(wanted) - len(tail)
        ending = exact_onset(recording, tail, due, due + round(spacing * SAMPLE_RATE))
        gap = None if ending is None else (ending - due) / SAMPLE_RATE
        found.append(Heard(began, exact, bool(intact), gap))
        position = onset + sound.length
    return found


def cpu_times() -> tuple[int, int]:
    """Jiffies of the whole machine: (busy, total)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def stamp(moment: float) -> str:
    return f"{dt.datetime.fromtimestamp(moment, TZ):%H:%M:%S}"


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def require_server(pulse: PulseServer) -> None:
    if pulse.process.poll() is not None:
        log = (pulse.root / "pulseaudio.log").read_text(errors="replace")[-1000:]
        raise SystemExit(f"the PulseAudio server stopped: {log or 'no message'}")


def sink_inputs(pulse: PulseServer) -> int:
    listing = subprocess.run(["pactl", "list", "short", "sink-inputs"], env=pulse.env,
                             capture_output=True, text=True, check=True).stdout
    return len([line for line in listing.splitlines() if line.strip()])


def sanity_writes(pulse: PulseServer) -> list[float]:
    """A connected pacat is written a tone at known instants; returns those instants."""
    tone = (np.sign(np.sin(2 * np.pi * 1000 * np.arange(SAMPLE_RATE // 4) / SAMPLE_RATE
                           + 0.1)) * 8000).astype(np.int16).tobytes()
    written = []
    for number in range(SANITY_RUNS):
        before = sink_inputs(pulse)
        player = subprocess.Popen(
            player_command(SoundDevice("pulse", SINK), f"sanity-{number}"),
            stdin=subprocess.PIPE, env=pulse.env,
        )
        deadline = time.monotonic() + 10
        while sink_inputs(pulse) <= before:
            if player.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("pacat could not connect to the sink")
            time.sleep(0.02)
        sleep_until(round(time.time()) + 1.0)
        assert player.stdin is not None
        written.append(time.time())
        player.stdin.write(tone)
        player.stdin.flush()
        player.stdin.close()
        player.wait(timeout=10)
    return written


def sanity_latencies(recorder: Recorder, written: list[float]) -> list[float]:
    recording = np.abs(recorder.samples.astype(np.int32))
    found = []
    for moment in written:
        position = recorder.index_at(moment)
        onset = position + int(np.flatnonzero(recording[position:] > THRESHOLD)[0])
        found.append(recorder.clock_before(moment) + onset / SAMPLE_RATE - moment)
    return found


@dataclass(frozen=True)
class DaemonRun:
    scheduled: list[float]
    started: list[float]
    """When the daemon handed the first samples over (its as-run log's start)."""
    ended: list[float]
    audio: Path


def as_run(state: Path) -> list[tuple[str, str, str, str, str]]:
    """(scheduled, started, ended, outcome, audio) of every airing, read with plain SQL."""
    db = sqlite3.connect(f"file:{state / 'as-run.sqlite'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT scheduled, started, ended, outcome, audio FROM airings "
                          "ORDER BY scheduled").fetchall()
    finally:
        db.close()


def run_daemon(pulse: PulseServer, folder: Path, count: int, spacing: float,
               lead: float) -> DaemonRun:
    first = dt.datetime.now(TZ).replace(microsecond=0) + dt.timedelta(seconds=lead)
    starts = [first + dt.timedelta(seconds=spacing * number) for number in range(count)]
    ward = folder / "ward"
    ward.mkdir()
    schedule = ward / "schedule.yaml"
    schedule.write_text(HEADER + "".join(program(n, s) for n, s in enumerate(starts)),
                        encoding="utf-8")
    state = ward / "state"
    log = folder / "daemon.log"  # outside the ward: the daemon reloads on any file beside it
    daemon = subprocess.Popen(
        [sys.executable, "-m", "broadcast", "run", "--schedule", str(schedule),
         "--state-dir", str(state), "--engine", "espeak", "--horizon-hours", "2"],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=pulse.env, cwd=REPO,
    )
    try:
        while True:
            board = read_status(state / "status.json") or {}
            if (board.get("prerender") or {}).get("running") is False:
                break
            if daemon.poll() is not None:
                raise SystemExit("the daemon stopped:\n" + log.read_text()[-2000:])
            time.sleep(0.2)
        if time.time() > first.timestamp() - 4:
            raise SystemExit("rendering ahead was not over 4 s before the first broadcast; "
                             "give a larger --lead")
        deadline = starts[-1].timestamp() + RUN_OVER_S
        while len([row for row in as_run(state) if row[3] != "airing"]) < count:
            if time.time() > deadline or daemon.poll() is not None:
                raise SystemExit("the daemon did not air every broadcast:\n"
                                 + log.read_text()[-2000:])
            time.sleep(0.5)
    finally:
        stop_by_pid(daemon, timeout=30)
    rows = as_run(state)
    if any(row[3] not in ("aired", "late") for row in rows):
        raise SystemExit(f"not every broadcast aired; the as-run log has: {rows}")
    return DaemonRun(
        scheduled=[dt.datetime.fromisoformat(row[0]).timestamp() for row in rows],
        started=[dt.datetime.fromisoformat(row[1]).timestamp() for row in rows],
        ended=[dt.datetime.fromisoformat(row[2]).timestamp() for row in rows],
        audio=Path(rows[0][4]),
    )


def run_naive(pulse: PulseServer, audio: Path, count: int,
              spacing: float) -> tuple[list[float], list[float]]:
    """Spawn ffmpeg | pacat at each scheduled second (whatever still plays); returns the seconds
    and when the spawn calls returned."""
    first = round(time.time()) + 3.0
    starts = [first + spacing * number for number in range(count)]
    spawned = []
    running: list[subprocess.Popen[bytes]] = []
    for number, start in enumerate(starts):
        require_server(pulse)
        sleep_until(start)
        decoder = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", str(audio),
             "-f", "s16le", "-"],
            stdout=subprocess.PIPE,
        )
        player = subprocess.Popen(
            player_command(SoundDevice("pulse", SINK), f"naive-{number}"),
            stdin=decoder.stdout, env=pulse.env,
        )
        spawned.append(time.time())
        assert decoder.stdout is not None
        decoder.stdout.close()
        running = [process for process in (*running, decoder, player) if process.poll() is None]
    for process in running:
        process.wait(timeout=RUN_OVER_S)
    return starts, spawned


def describe(found: Heard, start: float) -> str:
    gap = "   ?" if found.gap_s is None else f"{found.gap_s * 1000:4.0f}"
    return (f"{(found.began - start) * 1000:7.1f} ms (gap {gap} ms"
            f"{'' if found.onset_exact else ', onset changed'})")


def ms(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:7.1f} ms   "
            f"max {max(values) * 1000:7.1f} ms   min {min(values) * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20, help="broadcasts (default 20)")
    parser.add_argument("--spacing", type=float, default=6.0,
                        help="seconds between broadcasts (default 6; the chime program is 5)")
    parser.add_argument("--lead", type=float, default=40.0,
                        help="seconds from the daemon's start to the first broadcast")
    parser.add_argument("--each", action="store_true", help="also print every broadcast")
    args = parser.parse_args()

    busy_before, total_before = cpu_times()
    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp:
        folder = Path(tmp)
        pulse = start_pulse(folder / "pulse", sinks=(SINK,))
        try:
            recorder = Recorder(pulse)
            try:
                written = sanity_writes(pulse)
                ours = run_daemon(pulse, folder, args.count, args.spacing, args.lead)
                require_server(pulse)
                starts, spawned = run_naive(pulse, ours.audio, args.count, args.spacing)
                require_server(pulse)
            finally:
                recorder.stop()
        finally:
            pulse.stop()
        sound = decode_program(ours.audio)
        room = args.spacing - len(sound.samples) / SAMPLE_RATE
        if room < QUIET_S + 0.2:
            raise SystemExit(f"the programs are {room:.2f} s apart, too close for the clock "
                             "mapping; give a larger --spacing")
        ours_heard = heard(recorder, sound, ours.scheduled, args.spacing)
        naive_heard = heard(recorder, sound, starts, args.spacing)

    busy_after, total_after = cpu_times()
    busy = (busy_after - busy_before) / (total_after - total_before)
    late = [h.began - s for h, s in zip(ours_heard, ours.scheduled, strict=True)]
    woke = [a - s for a, s in zip(ours.started, ours.scheduled, strict=True)]
    after = [h.began - a for h, a in zip(ours_heard, ours.started, strict=True)]
    naive = [h.began - s for h, s in zip(naive_heard, starts, strict=True)]
    spawn = [a - s for a, s in zip(spawned, starts, strict=True)]
    naive_after = [h.began - a for h, a in zip(naive_heard, spawned, strict=True)]
    sanity = sanity_latencies(recorder, written)
    drift = recorder.clock_before(starts[-1]) - recorder.clock_before(written[0])

    print(f"bench_start_accuracy: {args.count} broadcasts of the built-in chime "
          f"({len(sound.samples) / SAMPLE_RATE:.2f} s, sound from {sound.lead_in_s * 1000:.1f} ms "
          f"into the file), {args.spacing:g} s apart, on a PulseAudio null sink")
    print("scheduled second -> the program file's first sample at the sink:")
    print(f"  ours (daemon)                     {ms(late)}")
    print(f"  player started at the second      {ms(naive)}")
    print(f"  ratio ours / baseline             median "
          f"{statistics.median(late) / statistics.median(naive):5.2f}x   "
          f"max {max(late) / max(naive):5.2f}x")
    verdict = ("met" if statistics.median(late) * 1000 <= TARGET_MEDIAN_MS
               and max(late) * 1000 <= TARGET_MAX_MS else "MISSED")
    print(f"  target median <= {TARGET_MEDIAN_MS:g} ms, max <= {TARGET_MAX_MS:g} ms: {verdict}")
    if args.each:
        for number, (mine, theirs) in enumerate(zip(ours_heard, naive_heard, strict=True)):
            print(f"  #{number + 1:<3} ours {describe(mine, ours.scheduled[number])}   "
                  f"baseline {describe(theirs, starts[number])}")
    print("where the time goes:")
    print(f"  ours: second -> airing started    {ms(woke)}")
    print(f"  ours: airing started -> sink      {ms(after)}")
    print(f"  baseline: second -> spawned       {ms(spawn)}")
    print(f"  baseline: spawned -> sink         {ms(naive_after)}")
    length = len(sound.samples) / SAMPLE_RATE
    overrun = [e - a - length for a, e in zip(ours.started, ours.ended, strict=True)]
    print(f"  ours: airing length - file length {ms(overrun)}   (pacat's drain, plus any "
          "silence let in while playing)")
    print("checks of the measurement:")
    print(f"  machine busy during the run       {busy:.0%} of {os.cpu_count()} CPUs "
          "(everything running, other work included)")
    print(f"  connected pacat, write -> sink    {ms(sanity)}   (must be >= 0 and small)")
    print(f"  recording chunks                  median {recorder.chunk_ms():.1f} ms; clock "
          f"mapping moved {drift * 1000:+.2f} ms over the run")
    for name, found in (("ours", ours_heard), ("baseline", naive_heard)):
        exact = sum(h.onset_exact for h in found)
        intact = sum(h.intact for h in found)
        gaps = [h.gap_s for h in found if h.gap_s]
        largest = f" (largest {max(gaps) * 1000:.0f} ms)" if gaps else ""
        print(f"  {name + ':':<9} onset sample-exact {exact}/{len(found)}; whole sound unchanged "
              f"{intact}/{len(found)}; silence let in while playing: {len(gaps)}{largest}")


if __name__ == "__main__":
    main()
