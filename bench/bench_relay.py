"""Live relays (tiếp âm): on time, failing over when the stream dies, and at the ward's loudness.

The daemon runs as a real process on a private PulseAudio server with null sinks, relaying a
private icecast2 (ffmpeg source clients, 128 kb/s MP3, sent in real time) and a live HLS
playlist (ffmpeg writing 2 s AAC segments, served on 127.0.0.1). The stream is a 440 Hz tone and
the relay's fallback a 1 kHz one, so each 10 ms frame of what the sink played says which of them
it was (Goertzel: over half the frame's energy at that frequency), or silence (no sample above
1% of full scale). The timing zone's sink (``{type: device, sink: zone1}``) is recorded the whole
run by the ``Recorder`` of bench_start_accuracy.py, which maps each recorded sample to the wall
clock from the chunks that arrived in a quiet stretch just before the moment measured (see that
script's doc). Three figures, each over N trials, median and max:

- start, from Icecast and from HLS: a relay program scheduled at second S (0.5 s lead-in, then
  the relay); from S + 0.5 s to the first sample of the stream's sound on the sink (target:
  within 100 ms). The first stream sample is where the first run of three stream frames begins,
  to the sample after silence (to the 10 ms frame after other sound). Baseline, the naive
  relay: at a second S' + 0.5 s, ``ffmpeg -i URL -f s16le -ar 48000 -ac 1 - | pacat`` (pacat
  with the daemon's options) is started; from that moment to its first stream sample.
- failover: 5 s into an Icecast relay the source client is killed (SIGKILL, by its PID); from
  the kill to the first sample of the fallback's sound (target <= 3 s), with how long the sink
  stayed silent in the 12 s after the kill and when the stream's last sample played. Baseline:
  the naive relay, its source killed 5 s after its first sound: it has no fallback, so "never";
  its silence in the same 12 s is shown, and when its stream ended (it plays what it had
  buffered, then its ffmpeg exits at the end of the stream).
- loudness: a one-minute relay of a stream mastered about 8 LU over the target (the LOUD_PROGRAM
  graph of tests/test_relay.py, about -8 LUFS, swinging +-2 LU over 20 s), on a second zone of
  the same daemon (sink zone2, the default target -16 LUFS), recorded with parec; integrated
  loudness of what reached the sink, from 5 s in to the end of the relay, by an independent
  meter (pyloudnorm, tests.audio_tools.integrated_lufs); target within 2 LU of -16 LUFS.
  Baseline: the naive relay of the same mount at the same time, on sink zone3 for the same
  minute, metered from 5 s after its first sound.

Broadcast and baseline run in the same run on the same server: the daemon's programs first
(their seconds are written in the schedule), then the naive relays on the same sink; the loudness
minutes run meanwhile on the other two sinks. Ratios are broadcast / baseline (for loudness, of
the distance from the target).

Run: .venv/bin/python bench/bench_relay.py [--trials 3] [--lead 30] [--each]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from bench_control import wait_sound  # noqa: E402
from bench_start_accuracy import (  # noqa: E402
    QUIET_S,
    SINK,
    THRESHOLD,
    Recorder,
    cpu_times,
    require_server,
    sleep_until,
)

from broadcast.outputs.base import SAMPLE_RATE  # noqa: E402
from broadcast.outputs.device import SoundDevice, player_command  # noqa: E402
from broadcast.outputs.player import RELAY_LEAD_S  # noqa: E402
from broadcast.status import read_status  # noqa: E402
from tests.audio_tools import integrated_lufs, raw_s16  # noqa: E402
from tests.hls import HlsStation  # noqa: E402
from tests.icecast import IcecastServer, start_icecast  # noqa: E402
from tests.pulse import PulseServer, Recording, start_pulse, stop_by_pid  # noqa: E402
from tests.test_relay import LOUD_PROGRAM, Source  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LOUD_SINK = "zone2"
"""The daemon's second zone, for the loudness minutes."""
NAIVE_LOUD_SINK = "zone3"
"""Where the naive relay's loudness minutes play."""
STREAM = "sine=f=440:sample_rate=44100,volume=-6dB"
STREAM_HZ = 440.0
FALLBACK_HZ = 1000.0
FRAME = SAMPLE_RATE // 100
"""10 ms: what the sink played is judged frame by frame."""
TONAL = 0.5
"""A frame is the stream (or the fallback) when this share of its energy is at its frequency."""
RUN = 3
"""Frames in a row that make a sound's onset."""
LEAD_IN_S = 0.5
"""The silence a relay program starts with (render.Pauses.lead_in_s)."""
LEAD_OUT_S = 1.0
KILL_AFTER_S = 5.0
"""How far into the relay's sound the source client is killed."""
WINDOW_S = 12.0
"""How long after the kill the sink is watched."""
ICECAST_RELAY_S = int(KILL_AFTER_S + WINDOW_S + 1)
HLS_RELAY_S = 4
LOUD_RELAY_S = 60
SKIP_S = 5.0
"""The loudness is metered from this far into the relay (loudnorm's live mode settling)."""
TARGET_LUFS = -16.0
GAP_S = 2.0
"""Silence between the end of one program and the next one's second (the clock mapping needs
QUIET_S of it)."""
HLS_AT_S = math.ceil(LEAD_IN_S + ICECAST_RELAY_S + LEAD_OUT_S + GAP_S)
"""The HLS program's second, after its round's Icecast program."""
ROUND_S = math.ceil(HLS_AT_S + LEAD_IN_S + HLS_RELAY_S + LEAD_OUT_S + GAP_S)
LOUD_SPACING_S = math.ceil(LEAD_IN_S + LOUD_RELAY_S + LEAD_OUT_S + 1.5)
NAIVE_LOUD_S = LOUD_SPACING_S - 1.0
"""How long the naive relay runs for each loudness minute (it must be gone before the next)."""
TARGETS = {"start": 0.100, "failover": 3.0, "loudness": 2.0}

HEADER = """\
ward:
  name: Phường Đo Tiếp Âm
  quiet_hours: {start: "00:00", end: "00:00"}
tts:
  engine: espeak
"""
ZONES = """\
zones:
  - id: khu-pho-1
    name: Cụm loa Khu phố 1
    groups: [do-gio]
    outputs: [{type: device, sink: zone1}]
  - id: khu-pho-2
    name: Cụm loa Khu phố 2
    groups: [do-am]
    outputs: [{type: device, sink: zone2}]
"""


def relay_program(program_id: str, start: dt.datetime, source: str, seconds: int,
                  zones: str) -> str:
    return (f"  - id: {program_id}\n    name: Tiếp âm {source}\n    start: \"{start:%H:%M:%S}\"\n"
            f"    days: [daily]\n    zones: [{zones}]\n    items:\n      - relay: {source}\n"
            f"        duration: {seconds}s\n        fallback: {{audio: audio/fallback.wav}}\n")


# -- the plan of the run ----------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The seconds of the daemon's programs (scheduled), per trial."""

    icecast: list[float]
    hls: list[float]
    loud: list[float]

    @classmethod
    def make(cls, first: float, trials: int) -> Plan:
        return cls(
            icecast=[first + ROUND_S * k for k in range(trials)],
            hls=[first + ROUND_S * k + HLS_AT_S for k in range(trials)],
            loud=[first + LOUD_SPACING_S * k for k in range(trials)],
        )

    @property
    def timing_over(self) -> float:
        """When the timing zone's last program has played out."""
        return self.hls[-1] + LEAD_IN_S + HLS_RELAY_S + LEAD_OUT_S + 1.0


def write_schedule(ward: Path, plan: Plan, icecast_urls: list[str], hls_url: str,
                   loud_url: str) -> Path:
    sources = [(f"vov-{k + 1}", url) for k, url in enumerate(icecast_urls)]
    sources += [("vov-hls", hls_url), ("vov-loud", loud_url)]
    listed = "".join(f"  - name: {name}\n    url: {url}\n    silence: 10s\n"
                     for name, url in sources)
    programs = []
    for k, start in enumerate(plan.icecast):
        programs.append(relay_program(f"icecast-{k + 1}", stamp(start), f"vov-{k + 1}",
                                      ICECAST_RELAY_S, "do-gio"))
    for k, start in enumerate(plan.hls):
        programs.append(relay_program(f"hls-{k + 1}", stamp(start), "vov-hls", HLS_RELAY_S,
                                      "do-gio"))
    for k, start in enumerate(plan.loud):
        programs.append(relay_program(f"loud-{k + 1}", stamp(start), "vov-loud", LOUD_RELAY_S,
                                      "do-am"))
    schedule = ward / "schedule.yaml"
    schedule.write_text(f"{HEADER}relay_sources:\n{listed}{ZONES}programs:\n"
                        + "".join(programs), encoding="utf-8")
    return schedule


def stamp(moment: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(moment, TZ)


def make_fallback(path: Path) -> None:
    """A mastered-looking fallback: a steady 1 kHz tone near the target, 40 s long."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
         f"sine=f={FALLBACK_HZ:g}:sample_rate=48000", "-t", "40", "-af", "volume=-13dB",
         "-ac", "1", str(path)],
        check=True,
    )


# -- the daemon -------------------------------------------------------------------------------


def start_daemon(pulse: PulseServer, schedule: Path, state: Path, log: Path,
                 ready_by: float) -> subprocess.Popen[bytes]:
    daemon = subprocess.Popen(
        [sys.executable, "-m", "broadcast", "run", "--schedule", str(schedule),
         "--state-dir", str(state), "--engine", "espeak", "--horizon-hours", "2"],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=pulse.env, cwd=REPO,
    )
    while True:
        board = read_status(state / "status.json") or {}
        if (board.get("prerender") or {}).get("running") is False:
            break
        if daemon.poll() is not None:
            raise SystemExit("the daemon stopped:\n" + log_tail(log))
        if time.time() > ready_by:
            stop_by_pid(daemon, timeout=30)
            raise SystemExit("rendering ahead was not over in time; give a larger --lead")
        time.sleep(0.2)
    return daemon


def log_tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-3000:]


def as_run(state: Path) -> list[dict[str, object]]:
    path = state / "as-run.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in db.execute(
            "SELECT program_id, zone, scheduled, started, outcome, problems FROM airings "
            "ORDER BY scheduled")]
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def wait_aired(state: Path, count: int, timeout: float, log: Path) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = as_run(state)
        if len(rows) >= count and all(row["outcome"] != "airing" for row in rows):
            return rows
        time.sleep(0.5)
    raise SystemExit(f"the daemon did not air every program: {as_run(state)}\n{log_tail(log)}")


# -- the naive relay --------------------------------------------------------------------------


class Naive:
    """``ffmpeg -i URL -f s16le -ar 48000 -ac 1 - | pacat`` (the daemon's pacat options)."""

    def __init__(self, pulse: PulseServer, url: str, sink: str, label: str) -> None:
        self.decoder = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", url,
             "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        assert self.decoder.stdout is not None
        self.player = subprocess.Popen(
            player_command(SoundDevice("pulse", sink), label), stdin=self.decoder.stdout,
            env=pulse.env,
        )
        self.decoder.stdout.close()
        self.spawned = time.time()

    def stop(self) -> None:
        stop_by_pid(self.decoder)
        stop_by_pid(self.player)


@dataclass
class NaiveRun:
    kind: str
    """"icecast" or "hls"."""
    start: float
    """When ffmpeg | pacat was started (a second + 0.5 s)."""
    spawned: float
    kill: float | None = None
    exited: float | None = None
    """When its ffmpeg was seen to have exited, after the kill."""


def naive_start_moment() -> float:
    """The next second + 0.5 s that leaves a quiet stretch before it."""
    return math.ceil(time.time() + QUIET_S + 0.3) + 0.5


def naive_icecast(pulse: PulseServer, recorder: Recorder, icecast: IcecastServer,
                  number: int, sources: list[Source]) -> NaiveRun:
    source = Source(icecast, f"naive-{number}", STREAM)
    sources.append(source)
    start = naive_start_moment()
    sleep_until(start)
    naive = Naive(pulse, source.listen_url, SINK, f"naive-icecast-{number}")
    run = NaiveRun("icecast", start, naive.spawned)
    try:
        heard = wait_sound(recorder, start, timeout=40)
        sleep_until(heard + KILL_AFTER_S)
        assert source.process is not None
        run.kill = time.time()
        source.process.kill()
        source.process.wait()
        while time.time() < run.kill + WINDOW_S:
            if run.exited is None and naive.decoder.poll() is not None:
                run.exited = time.time()
            time.sleep(0.05)
    finally:
        naive.stop()
        source.stop()
    return run


def naive_hls(pulse: PulseServer, recorder: Recorder, station: HlsStation,
              number: int) -> NaiveRun:
    start = naive_start_moment()
    sleep_until(start)
    naive = Naive(pulse, station.url, SINK, f"naive-hls-{number}")
    try:
        heard = wait_sound(recorder, start, timeout=30)
        sleep_until(heard + 1.5)
    finally:
        naive.stop()
    return NaiveRun("hls", start, naive.spawned)


def naive_loudness(pulse: PulseServer, url: str, plan: Plan, runs: list[NaiveRun],
                   errors: list[BaseException], halt: threading.Event) -> None:
    """The naive relay of the loud mount on zone3, from each loudness program's S + 0.5 s
    (until ``halt`` is set)."""
    try:
        for number, second in enumerate(plan.loud):
            start = second + LEAD_IN_S
            if halt.wait(max(0.0, start - time.time())):
                return
            naive = Naive(pulse, url, NAIVE_LOUD_SINK, f"naive-loud-{number}")
            try:
                halt.wait(max(0.0, start + NAIVE_LOUD_S - time.time()))
            finally:
                run = NaiveRun("loud", start, naive.spawned, kill=time.time())
                naive.stop()
            runs.append(run)
    except BaseException as exc:  # re-raised in the main thread
        errors.append(exc)


# -- what the sink played ---------------------------------------------------------------------


def shares(frames: np.ndarray, hz: float) -> np.ndarray:
    """Per frame, the share of its energy at ``hz`` (Goertzel)."""
    wave = np.exp(-2j * np.pi * hz * np.arange(FRAME) / SAMPLE_RATE)
    energy = (frames ** 2).sum(axis=1) + 1e-9
    return np.abs(frames @ wave) ** 2 / (FRAME / 2) / energy


class Sink:
    """The timing zone's recording, frame by frame: "s" stream, "f" fallback, "." silence,
    "?" other sound; positions map to the wall clock from a quiet moment."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.samples = recorder.samples.astype(np.int32)
        count = len(self.samples) // FRAME
        frames = self.samples[: count * FRAME].reshape(count, FRAME).astype(np.float64)
        loud = np.abs(frames).max(axis=1) > THRESHOLD
        stream = shares(frames, STREAM_HZ) > TONAL
        fallback = shares(frames, FALLBACK_HZ) > TONAL
        self.labels = np.where(~loud, ".", np.where(stream, "s", np.where(fallback, "f", "?")))

    def clock(self, quiet: float) -> float:
        return self.recorder.clock_before(quiet)

    def frame_at(self, clock: float, moment: float) -> int:
        """The frame playing at ``moment`` (within the recording)."""
        frame = math.floor((moment - clock) * SAMPLE_RATE / FRAME)
        return min(max(0, frame), len(self.labels))

    def onset(self, clock: float, since: float, until: float, kind: str) -> float | None:
        """Wall-clock time of the first sample of ``kind`` ("s" or "f") between the moments:
        where the first run of RUN such frames begins, taken back over sound that is neither
        (a frame the onset only partly fills), to the first sample above the threshold."""
        low, high = self.frame_at(clock, since), min(self.frame_at(clock, until),
                                                     len(self.labels) - RUN)
        for frame in range(low, high):
            if all(self.labels[frame + i] == kind for i in range(RUN)):
                first = frame
                while first > low and self.labels[first - 1] == "?":
                    first -= 1
                block = self.samples[first * FRAME: (frame + 1) * FRAME]
                loud = np.flatnonzero(np.abs(block) > THRESHOLD)
                return clock + (first * FRAME + int(loud[0])) / SAMPLE_RATE
        return None

    def first_sound(self, clock: float, since: float, until: float) -> float | None:
        low = self.frame_at(clock, since) * FRAME
        high = self.frame_at(clock, until) * FRAME
        loud = np.flatnonzero(np.abs(self.samples[low:high]) > THRESHOLD)
        return None if not loud.size else clock + (low + int(loud[0])) / SAMPLE_RATE

    def last(self, clock: float, since: float, until: float, kind: str) -> float | None:
        """Wall-clock end of the last frame of ``kind`` between the moments."""
        low, high = self.frame_at(clock, since), self.frame_at(clock, until)
        found = np.flatnonzero(self.labels[low:high] == kind)
        return None if not found.size else clock + (low + int(found[-1]) + 1) * FRAME / SAMPLE_RATE

    def silent_s(self, clock: float, since: float, until: float) -> float:
        low, high = self.frame_at(clock, since), self.frame_at(clock, until)
        return float(np.count_nonzero(self.labels[low:high] == ".")) * FRAME / SAMPLE_RATE

    def summary(self, clock: float, since: float, until: float) -> str:
        """What played, in 0.5 s steps (the label most frames of each step have)."""
        low, high = self.frame_at(clock, since), self.frame_at(clock, until)
        step = 50
        out = []
        for at in range(low, high, step):
            labels, counts = np.unique(self.labels[at: at + step], return_counts=True)
            out.append(str(labels[int(np.argmax(counts))]))
        return "".join(out)


@dataclass
class Trial:
    """One measured relay (the daemon's or the naive one), in seconds."""

    figure: str
    """"icecast", "hls" or "loud"."""
    ours: bool
    start: float | None = None
    """First stream sample - when it was due."""
    failover: float | None = None
    """Kill -> first fallback sample (None: never)."""
    silent: float | None = None
    stream_end: float | None = None
    lufs: float | None = None
    notes: list[str] = field(default_factory=list)
    """Doubts about the trial."""
    details: list[str] = field(default_factory=list)
    played: str = ""


def daemon_timing(sink: Sink, second: float, figure: str, kill: float | None,
                  length_s: float) -> Trial:
    clock = sink.clock(second)
    due = second + LEAD_IN_S
    end = due + length_s
    trial = Trial(figure, True)
    began = sink.onset(clock, second, end, "s")
    anything = sink.first_sound(clock, second, end)
    trial.played = sink.summary(clock, second, end + LEAD_OUT_S)
    if began is None:
        trial.notes.append("the stream was never heard")
    else:
        trial.start = began - due
        if anything is not None and anything < began - 0.005:
            trial.notes.append(f"other sound {(anything - due) * 1000:.0f} ms before the stream")
    if kill is not None:
        measure_kill(sink, clock, kill, trial)
    return trial


def measure_kill(sink: Sink, clock: float, kill: float, trial: Trial) -> None:
    until = kill + WINDOW_S
    fallback = sink.onset(clock, kill, until, "f")
    trial.failover = None if fallback is None else fallback - kill
    trial.silent = sink.silent_s(clock, kill, until)
    ended = sink.last(clock, kill, fallback or until, "s")
    trial.stream_end = None if ended is None else ended - kill


def naive_timing(sink: Sink, run: NaiveRun) -> Trial:
    clock = sink.clock(run.start)
    trial = Trial(run.kind, False)
    until = run.kill + WINDOW_S if run.kill is not None else run.start + 5.0
    began = sink.onset(clock, run.start, until, "s")
    trial.played = sink.summary(clock, run.start, until)
    if began is None:
        trial.notes.append("the stream was never heard")
    else:
        trial.start = began - run.start
    if run.kill is not None:
        measure_kill(sink, clock, run.kill, trial)
        if run.exited is not None:
            trial.details.append(f"its ffmpeg exited {run.exited - run.kill:.1f} s after the kill")
        else:
            trial.details.append(f"its ffmpeg still ran {WINDOW_S:g} s after the kill")
    return trial


def loudness(recording: Recording, since: float, until: float,
             after_sound: bool) -> tuple[float, float, str]:
    """Integrated loudness of a parec recording between two wall-clock moments (or from
    ``SKIP_S`` after the first sound following ``since``); returns (LUFS, seconds, note)."""
    samples = raw_s16(recording.path)

    def index(moment: float) -> int:
        return max(0, round((moment - recording.began) * SAMPLE_RATE))

    low = index(since)
    note = ""
    if after_sound:
        loud = np.flatnonzero(np.abs(samples[low: index(until)]) > 0.01)
        if not loud.size:
            return float("nan"), 0.0, "no sound"
        low += int(loud[0]) + round(SKIP_S * SAMPLE_RATE)
    high = min(len(samples), index(until))
    part = samples[low:high]
    step = SAMPLE_RATE // 2
    quiet = sum(1 for at in range(0, len(part) - step + 1, step)
                if np.sqrt(np.mean(part[at: at + step] ** 2)) < 1e-3)
    if quiet:
        note = f"{quiet * 0.5:g} s of it silent"
    return integrated_lufs(part), len(part) / SAMPLE_RATE, note


# -- the report -------------------------------------------------------------------------------


def pick(trials: list[Trial], figure: str, ours: bool, key: str) -> list[float | None]:
    return [getattr(t, key) for t in trials if t.figure == figure and t.ours == ours]


def numbers(values: list[float | None]) -> list[float]:
    return [v for v in values if v is not None and not math.isnan(v)]


def cell(values: list[float | None], unit: str) -> str:
    found = numbers(values)
    if not found:
        return "never" if values else "-"
    scale, digits = (1000.0, 0) if unit == "ms" else (1.0, 2)
    text = (f"{statistics.median(found) * scale:.{digits}f} / "
            f"{max(found, key=abs) * scale:.{digits}f}")
    missing = len(values) - len(found)
    return text + (f" ({missing} never)" if missing else "")


def lufs_cell(values: list[float | None]) -> str:
    found = numbers(values)
    if not found:
        return "-"
    farthest = max(found, key=lambda v: abs(v - TARGET_LUFS))
    return f"{statistics.median(found):.2f} / {farthest:.2f}"


def ratio(ours: list[float | None], theirs: list[float | None]) -> str:
    mine, other = numbers(ours), numbers(theirs)
    if not mine or not other:
        return "n/a (baseline never)" if mine and theirs else "-"
    median_other = statistics.median(other)
    max_other = max(other, key=abs)
    if median_other == 0 or max_other == 0:
        return "-"
    return (f"{statistics.median(mine) / median_other:.2f}x / "
            f"{max(mine, key=abs) / max_other:.2f}x")


def verdict(values: list[float | None], target: float | None) -> str:
    if target is None:
        return ""
    found = numbers(values)
    if not found or len(found) < len(values):
        return "MISSED"
    if max(abs(v) for v in found) <= target:
        return "met"
    return "median met, max missed" if abs(statistics.median(found)) <= target else "MISSED"


def report(trials: list[Trial], args: argparse.Namespace, busy: float, recorder: Recorder,
           drift: float, rows: list[dict[str, object]], ready_s: float) -> None:
    print(f"bench_relay: {args.trials} trials of each figure; the daemon on PulseAudio null sinks, "
          "relaying a private icecast2 (MP3 128 kb/s) and a live HLS playlist (2 s AAC "
          "segments)")
    print("median / max (max = the value farthest from 0); ratio = broadcast / baseline "
          "(median / max)")
    print(f"  {'figure':<44} {'target':>10}  {'broadcast':>16}  {'baseline':>18}  "
          f"{'ratio':>20}  verdict")
    lufs_error = {
        ours: [None if t.lufs is None else abs(t.lufs - TARGET_LUFS)
               for t in trials if t.figure == "loud" and t.ours == ours]
        for ours in (True, False)
    }
    table = [
        ("start, Icecast: stream - (S + 0.5 s), ms", "icecast", "start", "ms", "<= 100 ms",
         TARGETS["start"]),
        ("start, HLS: stream - (S + 0.5 s), ms", "hls", "start", "ms", "<= 100 ms",
         TARGETS["start"]),
        ("failover: kill -> first fallback sample, s", "icecast", "failover", "s", "<= 3 s",
         TARGETS["failover"]),
        (f"failover: silent in {WINDOW_S:g} s after the kill, s", "icecast", "silent", "s", "-",
         None),
        ("failover: kill -> stream's last sample, s", "icecast", "stream_end", "s", "-", None),
    ]
    for label, figure, key, unit, target_text, target in table:
        ours = pick(trials, figure, True, key)
        theirs = pick(trials, figure, False, key)
        print(f"  {label:<44} {target_text:>10}  {cell(ours, unit):>16}  "
              f"{cell(theirs, unit):>18}  {ratio(ours, theirs):>20}  "
              f"{verdict(ours, target)}".rstrip())
    ours_lufs = pick(trials, "loud", True, "lufs")
    their_lufs = pick(trials, "loud", False, "lufs")
    print(f"  {'loudness: |integrated - (-16 LUFS)|, LU':<44} {'<= 2 LU':>10}  "
          f"{cell(lufs_error[True], 'LU'):>16}  {cell(lufs_error[False], 'LU'):>18}  "
          f"{ratio(lufs_error[True], lufs_error[False]):>20}  "
          f"{verdict(lufs_error[True], TARGETS['loudness'])}")
    print(f"  {'loudness: integrated, LUFS':<44} {'-16':>10}  {lufs_cell(ours_lufs):>16}  "
          f"{lufs_cell(their_lufs):>18}")
    print("    (for this row, max is the trial farthest from the target)")
    if args.each:
        print("each trial (start in ms; failover, silence and stream end in s after the kill; "
              "what played per 0.5 s: s stream, f fallback, . silence, ? other):")
        for t in trials:
            parts = []
            if t.start is not None:
                parts.append(f"start {t.start * 1000:.1f}")
            if t.silent is not None:
                failover = "never" if t.failover is None else f"{t.failover:.2f}"
                end = "-" if t.stream_end is None else f"{t.stream_end:.2f}"
                parts.append(f"failover {failover}, silent {t.silent:.2f}, stream end {end}")
            if t.lufs is not None:
                parts.append(f"{t.lufs:.2f} LUFS")
            notes = f"  ({'; '.join([*t.details, *t.notes])})" if t.details or t.notes else ""
            print(f"  {t.figure:<8} {'broadcast' if t.ours else 'baseline':<9} "
                  f"{', '.join(parts)}{notes}")
            if t.played:
                print(f"           {t.played}")
        print("the daemon's as-run log:")
        for row in rows:
            problems = json.loads(str(row["problems"] or "[]"))
            print(f"  {row['program_id']:<10} {row['zone']:<10} {row['outcome']:<8} "
                  f"late {late_ms(row):6.1f} ms  {'; '.join(problems)}")
    print("checks of the measurement:")
    print(f"  machine busy during the run: {busy:.0%} of {os.cpu_count()} CPUs (everything "
          f"running, other work included); recording chunks median {recorder.chunk_ms():.1f} ms;"
          f" clock mapping moved {drift * 1000:+.2f} ms over the run")
    lates = [late_ms(row) for row in rows]
    outcomes = sorted({str(row["outcome"]) for row in rows})
    print(f"  the daemon: ready {ready_s:.0f} s after its start; {len(rows)} airings "
          f"({', '.join(outcomes)}); airing started after the second: median "
          f"{statistics.median(lates):.1f} ms, max {max(lates):.1f} ms")
    started_on_fallback = [str(row["program_id"]) for row in rows
                           if any("from the start" in p
                                  for p in json.loads(str(row["problems"] or "[]")))]
    if started_on_fallback:
        print(f"  relays that started on their fallback: {', '.join(started_on_fallback)}")
    notes = [f"{t.figure} {'broadcast' if t.ours else 'baseline'}: {note}"
             for t in trials for note in t.notes]
    print(f"  notes: {len(notes)}" + "".join(f"\n    {n}" for n in notes))


def late_ms(row: dict[str, object]) -> float:
    if not row["started"]:
        return float("nan")
    started = dt.datetime.fromisoformat(str(row["started"]))
    scheduled = dt.datetime.fromisoformat(str(row["scheduled"]))
    return (started - scheduled).total_seconds() * 1000


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Run:
    plan: Plan
    kills: list[float]
    naive: list[NaiveRun]
    naive_loud: list[NaiveRun]
    rows: list[dict[str, object]]
    ready_s: float


def run_all(args: argparse.Namespace, folder: Path, pulse: PulseServer, recorder: Recorder,
            icecast: IcecastServer, station: HlsStation, sources: list[Source]) -> Run:
    for number in range(args.trials):
        sources.append(Source(icecast, f"vov-{number + 1}", STREAM))
    relayed = list(sources)
    loud = Source(icecast, "loud", LOUD_PROGRAM)
    sources.append(loud)
    station.wait_segments(3)

    ward = folder / "ward"
    make_fallback(ward / "audio" / "fallback.wav")
    began = time.time()
    plan = Plan.make(math.ceil(began + args.lead), args.trials)
    schedule = write_schedule(ward, plan, [s.listen_url for s in relayed], station.url,
                              loud.listen_url)
    state = ward / "state"
    log = folder / "daemon.log"  # outside the ward: the daemon reloads on any file beside it
    daemon = start_daemon(pulse, schedule, state, log,
                          ready_by=plan.icecast[0] - RELAY_LEAD_S - 1.0)
    ready_s = time.time() - began
    naive_loud: list[NaiveRun] = []
    errors: list[BaseException] = []
    halt = threading.Event()
    background = threading.Thread(
        target=naive_loudness, args=(pulse, loud.listen_url, plan, naive_loud, errors, halt),
        name="naive loudness", daemon=True)
    background.start()
    kills = []
    naive: list[NaiveRun] = []
    try:
        # The daemon's programs on zone1: kill each Icecast source 5 s into its relay.
        for number, second in enumerate(plan.icecast):
            sleep_until(second + LEAD_IN_S + KILL_AFTER_S)
            require_server(pulse)
            source = relayed[number]
            assert source.process is not None
            kills.append(time.time())
            source.process.kill()
            source.process.wait()
        sleep_until(plan.timing_over)
        if daemon.poll() is not None:
            raise SystemExit("the daemon stopped:\n" + log_tail(log))
        # The naive relays on zone1, one after the other.
        for number in range(args.trials):
            require_server(pulse)
            naive.append(naive_icecast(pulse, recorder, icecast, number + 1, sources))
            naive.append(naive_hls(pulse, recorder, station, number + 1))
        background.join(timeout=max(1.0, plan.loud[-1] + LOUD_SPACING_S + 30 - time.time()))
        if errors:
            raise errors[0]
        if background.is_alive():
            raise SystemExit("the naive loudness relays did not end")
        rows = wait_aired(state, 3 * args.trials, timeout=60, log=log)
    finally:
        halt.set()
        background.join(timeout=15)
        stop_by_pid(daemon, timeout=30)
    return Run(plan, kills, naive, naive_loud, rows, ready_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=3, help="trials of each (default 3)")
    parser.add_argument("--lead", type=float, default=30.0,
                        help="seconds from the start to the daemon's first program (default 30)")
    parser.add_argument("--each", action="store_true", help="also print every trial")
    args = parser.parse_args()

    busy_before, total_before = cpu_times()
    with tempfile.TemporaryDirectory(prefix="bench-relay-") as tmp:
        folder = Path(tmp)
        pulse = start_pulse(folder / "pulse", sinks=(SINK, LOUD_SINK, NAIVE_LOUD_SINK))
        icecast: IcecastServer | None = None
        station: HlsStation | None = None
        sources: list[Source] = []
        try:
            icecast = start_icecast()
            station = HlsStation(folder / "hls", STREAM)
            recorder = Recorder(pulse)
            loud_recording = pulse.record(LOUD_SINK, folder / "zone2.raw")
            naive_recording = pulse.record(NAIVE_LOUD_SINK, folder / "zone3.raw")
            try:
                run = run_all(args, folder, pulse, recorder, icecast, station, sources)
            finally:
                recorder.stop()
                loud_recording.stop()
                naive_recording.stop()
        finally:
            for source in sources:
                source.stop()
            if station is not None:
                station.close()
            if icecast is not None:
                icecast.remove()
            pulse.stop()

        sink = Sink(recorder)
        trials: list[Trial] = []
        for number in range(args.trials):
            trials.append(daemon_timing(sink, run.plan.icecast[number], "icecast",
                                        run.kills[number], ICECAST_RELAY_S))
            trials.append(daemon_timing(sink, run.plan.hls[number], "hls", None, HLS_RELAY_S))
        trials += [naive_timing(sink, naive) for naive in run.naive]
        for second in run.plan.loud:
            lufs, seconds, note = loudness(loud_recording, second + LEAD_IN_S + SKIP_S,
                                           second + LEAD_IN_S + LOUD_RELAY_S, after_sound=False)
            trials.append(Trial("loud", True, lufs=lufs, notes=[note] if note else [],
                                details=[f"{seconds:.1f} s metered"]))
        for naive in run.naive_loud:
            lufs, seconds, note = loudness(naive_recording, naive.start,
                                           naive.kill or naive.start + NAIVE_LOUD_S,
                                           after_sound=True)
            trials.append(Trial("loud", False, lufs=lufs, notes=[note] if note else [],
                                details=[f"{seconds:.1f} s metered from 5 s after its first "
                                         "sound"]))
        drift = sink.clock(run.naive[-1].start) - sink.clock(run.plan.icecast[0])

    busy_after, total_after = cpu_times()
    busy = (busy_after - busy_before) / (total_after - total_before)
    report(trials, args, busy, recorder, drift, run.rows, run.ready_s)


if __name__ == "__main__":
    main()
