"""Control by hand: from an operator's request on the control socket to what the loudspeaker does.

The daemon runs as a real process on a private PulseAudio server with a null sink (one zone,
espeak-ng), and the requests go to its control socket through the Python client (no CLI start-up
cost). The sink's monitor is recorded the whole run by the ``Recorder`` of
bench_start_accuracy.py, which maps each sample to the wall clock from the chunks that arrived in
a quiet stretch just before the trial (see that script's doc). Sound is a sample above 1% of full
scale. Three figures, each over N trials, median and max:

- say: a 300-character Vietnamese notice (a number in it changes each trial, so the speech cache
  cannot help), zone idle: from sending ``say`` to the first sample of sound on the sink
  (target <= 1.5 s). The daemon airs the opening chime at once and renders the words meanwhile;
  also shown: where the time goes (send -> the chime's airing started, from the as-run log;
  send -> the words' airing started; send -> reply, which comes once the words are cued).
  Baseline: ``espeak-ng -v vi -w x.wav TEXT`` then ``paplay --device=zone1 x.wav``, from starting
  espeak-ng to the first sample on the sink.
- stop: while a ~40 s script airs (``play`` of a script: chime, then speech), ``stop`` is sent
  at a moment the speech is sounding (the next 0.3 s of the file is sound); from sending it to
  the last sample of sound on the sink (target <= 200 ms). Baseline: ``paplay`` of the same
  rendered audio (the daemon's program file, from just before its speech), killed with SIGTERM:
  from the kill to the last sample.
- emergency: the same, but ``emergency --text`` is sent (in a thread: it answers only once the
  message has been handed over, seconds later); from sending it to the speech being cut (its last
  sample) and to the first sample of the alert tone (target <= 500 ms for the tone). The tone is
  the first sound after the silence that follows the cut, and must be tonal: three 10 ms frames in
  a row whose energy is mostly at 880 Hz (Goertzel), which no frame of the speech before it is.
  Baseline: SIGTERM to the ``paplay`` of the speech and at once ``paplay`` of the alert tone
  (``broadcast.assets.synthesize(ALERT_TONE)``, a WAV made beforehand): from the kill to the
  tone's first sample.

Broadcast and baseline run side by side, trial by trial, on the same sink in the same run; each
figure is printed as broadcast / baseline. The daemon is warmed first (one say and one play,
stopped), as an operator's daemon would be; the baseline likewise runs espeak-ng and paplay once.

Run: .venv/bin/python bench/bench_control.py [--trials 5] [--seed 1] [--each]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from bench_start_accuracy import (  # noqa: E402
    QUIET_S,
    SINK,
    THRESHOLD,
    ProgramSound,
    Recorder,
    cpu_times,
    decode_program,
    exact_onset,
    require_server,
    sleep_until,
)

from broadcast.assets import ALERT_TONE, synthesize  # noqa: E402
from broadcast.control.client import Reply, ask  # noqa: E402
from broadcast.control.protocol import Emergency, Play, Queue, Say, Stop  # noqa: E402
from broadcast.outputs.base import SAMPLE_RATE  # noqa: E402
from broadcast.status import read_status  # noqa: E402
from tests.pulse import PulseServer, start_pulse, stop_by_pid  # noqa: E402

ZONE = "khu-pho-1"
SETTLE_S = QUIET_S + 0.4
"""Silence left before each trial, so the clock mapping has a quiet stretch to work from."""
FRAME = SAMPLE_RATE // 100
"""10 ms, for the tone detector and for finding moments of sound in a file."""
TONE_HZ = 880.0
TONAL = 0.6
"""A frame is tonal when this share of its energy is at 880 Hz (the alert tone: about 0.85)."""
CUT_WINDOW_S = (0.3, 2.5)
"""Where in the speech (seconds after it begins) stop and emergency are sent, chosen at random
among moments with sound for the next 0.3 s."""
TARGETS_MS = {"say": 1500.0, "stop": 200.0, "cut": None, "tone": 500.0}

HEADER = """\
ward:
  name: Phường Đo Lệnh
  quiet_hours: {start: "00:00", end: "00:00"}
tts:
  engine: espeak
zones:
  - id: khu-pho-1
    name: Cụm loa Khu phố 1
    groups: [all]
    outputs: [{type: device, sink: zone1}]
programs:
  - id: xa
    name: Chuông xa
    start: "%s"
    days: [daily]
    zones: [all]
    items:
      - chime:
"""
SCRIPT = """---
title: Thông báo khám sức khỏe
approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường
---

Kính thưa bà con nhân dân! Ủy ban nhân dân phường thông báo lịch khám sức khỏe định kỳ cho người
lao động tại các cơ sở sản xuất trên địa bàn. Đề nghị các chủ cơ sở cử người lao động đến trạm y
tế phường đúng giờ, mang theo giấy tờ tùy thân và sổ khám bệnh. Buổi sáng khám từ bảy giờ đến mười
một giờ, buổi chiều từ một giờ đến bốn giờ. Người lao động làm việc trong môi trường có tiếng ồn,
bụi hoặc hóa chất cần đăng ký khám bệnh nghề nghiệp với tổ trưởng tổ dân phố trước ngày thứ sáu.
Mọi thắc mắc xin liên hệ văn phòng ủy ban nhân dân phường. Xin trân trọng cảm ơn bà con.
"""
NOTICE = ("Kính thưa bà con khu phố 1! Chiều nay lúc 3 giờ, đội y tế phường sẽ phun thuốc diệt "
          "muỗi tại {number} hộ gia đình trên các tuyến hẻm. Đề nghị bà con đóng cửa, che đậy "
          "thức ăn, nước uống và đưa trẻ nhỏ ra khỏi nhà trong suốt thời gian phun. Mọi thắc "
          "mắc xin liên hệ tổ trưởng tổ dân phố. Xin cảm ơn bà con.")
ALARM = "Khẩn cấp! Bà con chú ý, có cảnh báo mưa lớn lần {number}. Đề nghị bà con ở trong nhà."


def notice(trial: int) -> str:
    return NOTICE.format(number=137 + 29 * trial)


# -- listening to the sink while a trial runs -------------------------------------------------


def live_clock(recorder: Recorder, moment: float) -> float:
    """The recording's sample 0 on the wall clock, from the chunks so far (as
    ``Recorder.clock_before``, while the recorder still runs)."""
    arrivals = list(recorder._arrivals)
    offsets = [arrived - first / SAMPLE_RATE for arrived, first in arrivals
               if moment - QUIET_S < arrived <= moment]
    if not offsets:
        raise SystemExit("the recorder delivered nothing; is parec still running?")
    return min(offsets)


def wait_sound(recorder: Recorder, since: float, timeout: float) -> float:
    """Wall-clock time of the first sample of sound after ``since`` (approximate, live)."""
    clock = live_clock(recorder, since)
    position = max(0, round((since - clock) * SAMPLE_RATE))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = bytes(recorder._data[position * 2: len(recorder._data) // 2 * 2])
        loud = np.flatnonzero(np.abs(np.frombuffer(data, dtype=np.int16).astype(np.int32))
                              > THRESHOLD)
        if loud.size:
            return clock + (position + int(loud[0])) / SAMPLE_RATE
        position += len(data) // 2
        time.sleep(0.005)
    raise SystemExit(f"no sound on the sink within {timeout:.0f} s")


# -- what the recording says --------------------------------------------------------------------


def tonal(samples: np.ndarray) -> np.ndarray:
    """For each 10 ms frame: whether most of its energy is at 880 Hz and it is sound."""
    count = len(samples) // FRAME
    frames = samples[: count * FRAME].reshape(count, FRAME).astype(np.float64)
    wave_ = np.exp(-2j * np.pi * TONE_HZ * np.arange(FRAME) / SAMPLE_RATE)
    at_tone = np.abs(frames @ wave_) ** 2 / (FRAME / 2)
    energy = (frames ** 2).sum(axis=1) + 1e-9
    return (at_tone / energy > TONAL) & (np.abs(frames).max(axis=1) > THRESHOLD)


@dataclass
class Trial:
    """One measured request (or its baseline), with its wall-clock stamps."""

    figure: str
    """"say", "stop" or "emergency"."""
    ours: bool
    quiet: float
    """A moment after a quiet stretch, before anything of the trial sounds (clock mapping)."""
    sent: float
    until: float = 0.0
    """When the trial's sound was over and the sink quiet again."""
    marks: dict[str, float] = field(default_factory=dict)
    results: dict[str, float] = field(default_factory=dict)
    """Seconds after ``sent``: "say" (first sound), "stop" (last sound), "cut", "tone"."""
    notes: list[str] = field(default_factory=list)
    tone_file: Path | None = None
    """The alert tone's file, to find its first sample in the recording sample for sample."""


def analyse(recorder: Recorder, trial: Trial) -> None:
    clock = recorder.clock_before(trial.quiet)
    recording = recorder.samples.astype(np.int32)

    def index(moment: float) -> int:
        return round((moment - clock) * SAMPLE_RATE)

    def moment(position: int) -> float:
        return clock + position / SAMPLE_RATE

    low, high = index(trial.sent), min(index(trial.until), len(recording))
    loud = np.flatnonzero(np.abs(recording[low:high]) > THRESHOLD) + low
    if trial.figure == "say":
        if not loud.size:
            raise SystemExit(f"{trial}: no sound after the request")
        trial.results["say"] = moment(int(loud[0])) - trial.sent
        return
    if trial.figure == "stop":
        before = np.abs(recording[low - FRAME * 10: low]) > THRESHOLD
        if not before.any():
            trial.notes.append("silent just before the stop")
        trial.results["stop"] = (moment(int(loud[-1])) - trial.sent) if loud.size else 0.0
        return
    tone = tone_sound(trial.tone_file) if trial.tone_file else None
    head = None if tone is None else tone.samples[tone.onset: tone.onset + SAMPLE_RATE // 10]
    found = None if head is None else exact_onset(recording, head.astype(np.int32), low, high)
    frames = tonal(recording[low:high])
    runs = np.flatnonzero(frames[:-2] & frames[1:-1] & frames[2:])
    by_pitch = low + int(runs[0]) * FRAME if runs.size else None
    if found is None and by_pitch is None:
        raise SystemExit(f"{trial}: no alert tone found after the request")
    if found is None:
        assert by_pitch is not None
        onset = by_pitch
        trial.notes.append("tone not found sample for sample: onset from its 880 Hz energy")
    else:
        onset = found
        if by_pitch is None or abs(by_pitch - onset) > 2 * FRAME:
            trial.notes.append("the 880 Hz detector disagrees with the exact onset")
    speech = loud[loud < onset]
    trial.results["tone"] = moment(onset) - trial.sent
    trial.results["cut"] = (moment(int(speech[-1])) - trial.sent) if speech.size else 0.0
    if speech.size and tonal(recording[max(low - SAMPLE_RATE, 0): int(speech[-1])]).any():
        trial.notes.append("speech before the cut has a frame that looks tonal")


@functools.cache
def tone_sound(path: Path) -> ProgramSound:
    return decode_program(path)


# -- the daemon ------------------------------------------------------------------------------


@dataclass
class Ward:
    root: Path
    schedule: Path
    state: Path
    script: Path
    log: Path


def make_ward(folder: Path) -> Ward:
    root = folder / "ward"
    (root / "scripts").mkdir(parents=True)
    script = root / "scripts" / "long.md"
    script.write_text(SCRIPT, encoding="utf-8")
    far = dt.datetime.now(dt.UTC) + dt.timedelta(hours=7 + 4)  # ward time + 4 h
    schedule = root / "schedule.yaml"
    schedule.write_text(HEADER % f"{far:%H:%M:%S}", encoding="utf-8")
    return Ward(root, schedule, root / "state", script, folder / "daemon.log")


def start_daemon(pulse: PulseServer, ward: Ward) -> subprocess.Popen[bytes]:
    daemon = subprocess.Popen(
        [sys.executable, "-m", "broadcast", "run", "--schedule", str(ward.schedule),
         "--state-dir", str(ward.state), "--horizon-hours", "2"],
        stdout=subprocess.DEVNULL, stderr=ward.log.open("wb"), env=pulse.env, cwd=REPO,
    )
    deadline = time.monotonic() + 120
    while True:
        board = read_status(ward.state / "status.json") or {}
        if ((ward.state / "control.sock").exists()
                and (board.get("prerender") or {}).get("running") is False):
            return daemon
        if daemon.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the daemon did not get ready:\n" + log_tail(ward))
        time.sleep(0.1)


def log_tail(ward: Ward) -> str:
    return ward.log.read_text(encoding="utf-8", errors="replace")[-3000:]


def rows_of(ward: Ward, request: int) -> list[dict[str, object]]:
    db = sqlite3.connect(f"file:{ward.state / 'as-run.sqlite'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in db.execute(
            "SELECT * FROM airings WHERE occurrence LIKE ? ORDER BY id", (f"%#{request}",))]
    finally:
        db.close()


def rows_of_all(ward: Ward) -> list[dict[str, object]]:
    db = sqlite3.connect(f"file:{ward.state / 'as-run.sqlite'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in db.execute("SELECT * FROM airings ORDER BY id")]
    finally:
        db.close()


def started_row(ward: Ward, request: int, program: str | None = None,
                timeout: float = 30) -> dict[str, object]:
    """The request's first as-run row that has started (of ``program``, if given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for row in rows_of(ward, request):
            if row["started"] and program in (None, row["program_id"]):
                return row
        time.sleep(0.02)
    raise SystemExit(f"request #{request} never started airing:\n" + log_tail(ward))


def stamp(row: dict[str, object]) -> float:
    return dt.datetime.fromisoformat(str(row["started"])).timestamp()


def wait_idle(ward: Ward, timeout: float = 60) -> None:
    """Until the zone airs nothing and nothing waits, then a quiet stretch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        zone = ask(ward.state, Queue(command="queue")).data["zones"][ZONE]
        if zone["airing"] is None and not zone["waiting"]:
            time.sleep(SETTLE_S)
            return
        time.sleep(0.05)
    raise SystemExit("the zone did not fall idle:\n" + log_tail(ward))


class Programs:
    """Program files the daemon aired, decoded once each, with where their speech begins."""

    def __init__(self) -> None:
        self._decoded: dict[str, ProgramSound] = {}

    def get(self, row: dict[str, object]) -> tuple[ProgramSound, float]:
        path = str(row["audio"])
        if path not in self._decoded:
            self._decoded[path] = decode_program(Path(path))
        items = json.loads(str(row["items"]))
        return self._decoded[path], float(items[-1]["start_s"])


def moment_in(samples: np.ndarray, low_s: float, high_s: float, rng: random.Random) -> float:
    """A moment (seconds into ``samples``) between ``low_s`` and ``high_s`` with sound in every
    10 ms frame of the 0.3 s after it and of the 50 ms before."""
    count = len(samples) // FRAME
    peaks = np.abs(samples[: count * FRAME].reshape(count, FRAME).astype(np.int32)).max(axis=1)
    loud = peaks > THRESHOLD
    good = [frame for frame in range(int(low_s * 100), min(int(high_s * 100), count - 30))
            if loud[frame - 5: frame + 30].all()]
    if not good:
        raise SystemExit(f"the speech has no 0.35 s of unbroken sound in {low_s:.1f}-"
                         f"{high_s:.1f} s")
    return rng.choice(good) / 100


# -- the trials --------------------------------------------------------------------------------


def ours_say(recorder: Recorder, ward: Ward, text: str) -> Trial:
    sent = time.time()
    reply = ask(ward.state, Say(command="say", text=text, zones=[ZONE]))
    replied = time.time()
    heard = wait_sound(recorder, sent, timeout=60)
    chime = started_row(ward, int(reply.data["id"]), program="say-chime")
    words = started_row(ward, int(reply.data["id"]), program="say")
    time.sleep(max(0.0, heard + 0.2 - time.time()))
    ask(ward.state, Stop(command="stop", zones=[ZONE]))
    wait_idle(ward)
    return Trial("say", True, sent, sent, time.time() - SETTLE_S / 2,
                 {"reply": replied, "started": stamp(chime), "words": stamp(words)})


def naive_say(recorder: Recorder, pulse: PulseServer, folder: Path, text: str) -> Trial:
    wav = folder / "x.wav"
    sent = time.time()
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), text], check=True)
    spoken = time.time()
    player = subprocess.Popen(["paplay", f"--device={SINK}", str(wav)], env=pulse.env)
    heard = wait_sound(recorder, sent, timeout=30)
    time.sleep(max(0.0, heard + 0.2 - time.time()))
    player.send_signal(signal.SIGTERM)
    player.wait(timeout=10)
    time.sleep(SETTLE_S)
    return Trial("say", False, sent, sent, time.time() - SETTLE_S / 2, {"spoken": spoken})


def ours_cut(recorder: Recorder, ward: Ward, programs: Programs, figure: str, trial: int,
             rng: random.Random) -> tuple[Trial, float]:
    """Play the long script and, during its speech, send ``stop`` or ``emergency``; return the
    trial and the moment into the speech it was sent."""
    quiet = time.time()
    reply = ask(ward.state, Play(command="play", target=str(ward.script), zones=[ZONE]))
    heard = wait_sound(recorder, quiet, timeout=60)
    row = started_row(ward, int(reply.data["id"]))
    sound, speech_s = programs.get(row)
    into = moment_in(sound.samples, speech_s + CUT_WINDOW_S[0], speech_s + CUT_WINDOW_S[1], rng)
    sleep_until(heard + into - sound.lead_in_s)
    marks: dict[str, float] = {}
    tone_file = None
    if figure == "stop":
        sent = time.time()
        ask(ward.state, Stop(command="stop", zones=[ZONE]))
        marks["reply"] = time.time()
    else:
        answer: list[Reply] = []
        request = Emergency(command="emergency", text=ALARM.format(number=trial + 1),
                            zones=[ZONE])
        asking = threading.Thread(target=lambda: answer.append(ask(ward.state, request)))
        sent = time.time()
        asking.start()
        asking.join(timeout=120)
        marks["reply"] = time.time()
        if not answer:
            raise SystemExit("the emergency was not answered:\n" + log_tail(ward))
        alert = started_row(ward, int(answer[0].data["id"]), program="emergency-alert")
        marks["started"] = stamp(alert)
        tone_file = Path(str(alert["audio"]))
        ask(ward.state, Stop(command="stop", zones=[ZONE]))  # the message and the script's restart
    wait_idle(ward)
    return (Trial(figure, True, quiet, sent, time.time() - SETTLE_S / 2, marks,
                  tone_file=tone_file), into - speech_s)


def naive_cut(recorder: Recorder, pulse: PulseServer, speech: Path, speech_from_s: float,
              onset_s: float, alert: Path, figure: str, into_speech: float) -> Trial:
    """paplay of the speech, killed (and, for an emergency, the alert tone played) the same way
    into the speech as the daemon's trial."""
    quiet = time.time()
    player = subprocess.Popen(["paplay", f"--device={SINK}", str(speech)], env=pulse.env)
    heard = wait_sound(recorder, quiet, timeout=30)
    sleep_until(heard + speech_from_s + into_speech - onset_s)
    sent = time.time()
    player.send_signal(signal.SIGTERM)
    tone = None
    if figure == "emergency":
        tone = subprocess.Popen(["paplay", f"--device={SINK}", str(alert)], env=pulse.env)
    player.wait(timeout=10)
    if tone is not None:
        time.sleep(1.5)
        tone.send_signal(signal.SIGTERM)
        tone.wait(timeout=10)
    time.sleep(SETTLE_S)
    return Trial(figure, False, quiet, sent, time.time() - SETTLE_S / 2,
                 tone_file=alert if figure == "emergency" else None)


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes(samples.astype(np.int16).tobytes())


# -- the report --------------------------------------------------------------------------------


def values(trials: list[Trial], ours: bool, figure: str, key: str,
           minus: float = 0.0) -> list[float]:
    return [t.results[key] - minus for t in trials if t.ours == ours and t.figure == figure]


def marks(trials: list[Trial], figure: str, ours: bool,
          span: Callable[[Trial], float]) -> list[float]:
    return [span(t) for t in trials if t.ours == ours and t.figure == figure]


def ms(numbers: list[float]) -> str:
    return (f"{statistics.median(numbers) * 1000:6.0f} / {max(numbers) * 1000:6.0f}"
            if numbers else "     - /      -")


def ratio(ours: list[float], theirs: list[float]) -> str:
    if not ours or not theirs or min(statistics.median(theirs), max(theirs)) <= 0:
        return "   -"
    return (f"{statistics.median(ours) / statistics.median(theirs):5.2f}x / "
            f"{max(ours) / max(theirs):5.2f}x")


def verdict(numbers: list[float], target_ms: float | None) -> str:
    if target_ms is None:
        return ""
    return "met" if max(numbers) * 1000 <= target_ms else (
        "median met, max missed" if statistics.median(numbers) * 1000 <= target_ms
        else "MISSED")


def report(trials: list[Trial], args: argparse.Namespace, busy: float, recorder: Recorder,
           long_s: float) -> None:
    print(f"bench_control: {args.trials} trials of each request, daemon on a PulseAudio null "
          f"sink (espeak-ng; notice {len(notice(0))} characters; script {long_s:.0f} s)")
    print("times in ms from sending the request (baseline: from starting espeak-ng / the kill)"
          ", median / max; ratio = broadcast / baseline")
    print(f"  {'figure':<32} {'target':>9}  {'broadcast':>15}  {'baseline':>15}  "
          f"{'ratio (median / max)':>20}  verdict")
    rows = [
        ("say: first sound", "say", "say", 0.0, "say"),
        ("stop: sound ends", "stop", "stop", 0.0, "stop"),
        ("emergency: speech cut", "emergency", "cut", 0.0, "cut"),
        ("emergency: alert tone starts", "emergency", "tone", 0.0, "tone"),
    ]
    for label, figure, key, minus, target_key in rows:
        ours = values(trials, True, figure, key, minus)
        theirs = values(trials, False, figure, key)
        target = TARGETS_MS[target_key]
        target_text = f"<= {target:.0f}" if target is not None else "-"
        print(f"  {label:<32} {target_text:>9}  {ms(ours):>15}  {ms(theirs):>15}  "
              f"{ratio(ours, theirs):>20}  {verdict(ours, target)}".rstrip())
    print("where the time goes (median / max, ms):")
    lines = [
        ("say, ours: send -> chime airing started", "say", True,
         lambda t: t.marks["started"] - t.sent),
        ("say, ours: chime started -> first sound", "say", True,
         lambda t: t.sent + t.results["say"] - t.marks["started"]),
        ("say, ours: send -> words airing started", "say", True,
         lambda t: t.marks["words"] - t.sent),
        ("say, ours: send -> reply (words cued)", "say", True,
         lambda t: t.marks["reply"] - t.sent),
        ("say, baseline: espeak-ng", "say", False, lambda t: t.marks["spoken"] - t.sent),
        ("say, baseline: paplay -> first sound", "say", False,
         lambda t: t.sent + t.results["say"] - t.marks["spoken"]),
        ("stop, ours: send -> reply", "stop", True, lambda t: t.marks["reply"] - t.sent),
        ("emergency, ours: send -> alert airing started", "emergency", True,
         lambda t: t.marks["started"] - t.sent),
        ("emergency, ours: alert started -> tone", "emergency", True,
         lambda t: t.sent + t.results["tone"] - t.marks["started"]),
        ("emergency, ours: silence between cut and tone", "emergency", True,
         lambda t: t.results["tone"] - t.results["cut"]),
        ("emergency, ours: send -> reply (message cued)", "emergency", True,
         lambda t: t.marks["reply"] - t.sent),
    ]
    for label, figure, ours_, span in lines:
        print(f"  {label:<48} {ms(marks(trials, figure, ours_, span))}")
    if args.each:
        print("each trial (ms after sending):")
        for t in trials:
            found = ", ".join(f"{k} {v * 1000:.0f}" for k, v in t.results.items())
            notes = f"  ({'; '.join(t.notes)})" if t.notes else ""
            print(f"  {t.figure:<9} {'broadcast' if t.ours else 'baseline':<9} {found}{notes}")
    print("checks of the measurement:")
    print(f"  machine busy during the run: {busy:.0%} of {os.cpu_count()} CPUs (everything "
          f"running, other work included); recording chunks median {recorder.chunk_ms():.1f} ms")
    notes = [f"{t.figure} {'broadcast' if t.ours else 'baseline'}: {note}"
             for t in trials for note in t.notes]
    print(f"  trials with a doubt: {len(notes)}" + "".join(f"\n    {n}" for n in notes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5, help="trials of each (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="where in the speech to cut")
    parser.add_argument("--each", action="store_true", help="also print every trial")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    busy_before, total_before = cpu_times()
    trials: list[Trial] = []
    with tempfile.TemporaryDirectory(prefix="bench-control-") as tmp:
        folder = Path(tmp)
        pulse = start_pulse(folder / "pulse", sinks=(SINK,))
        daemon = None
        try:
            recorder = Recorder(pulse)
            try:
                ward = make_ward(folder)
                daemon = start_daemon(pulse, ward)
                programs = Programs()
                # Warm-up, not measured: a say and a play (which renders the script), stopped.
                text = notice(-1)
                subprocess.run(["espeak-ng", "-v", "vi", "-w", str(folder / "x.wav"), text],
                               check=True)
                ours_say(recorder, ward, text)
                ours_cut(recorder, ward, programs, "stop", 0, random.Random(0))
                row = [r for r in rows_of_all(ward) if r["program_id"] == "manual"][-1]
                sound, speech_s = programs.get(row)
                speech_from = max(0.0, speech_s - 1.0)
                speech = folder / "speech.wav"
                write_wav(speech, sound.samples[round(speech_from * SAMPLE_RATE):])
                first = np.flatnonzero(np.abs(sound.samples[round(speech_from * SAMPLE_RATE):]
                                              .astype(np.int32)) > THRESHOLD)
                onset_s = int(first[0]) / SAMPLE_RATE
                alert = folder / "alert.wav"
                synthesize(ALERT_TONE, alert)
                for number in range(args.trials):
                    require_server(pulse)
                    trials.append(ours_say(recorder, ward, notice(number)))
                    trials.append(naive_say(recorder, pulse, folder, notice(number)))
                    for figure in ("stop", "emergency"):
                        mine, into = ours_cut(recorder, ward, programs, figure, number, rng)
                        trials.append(mine)
                        trials.append(naive_cut(recorder, pulse, speech,
                                                speech_s - speech_from, onset_s, alert, figure,
                                                into))
            finally:
                if daemon is not None:
                    stop_by_pid(daemon, timeout=30)
                recorder.stop()
        finally:
            pulse.stop()
        for trial in trials:
            analyse(recorder, trial)
    busy_after, total_after = cpu_times()
    busy = (busy_after - busy_before) / (total_after - total_before)
    report(trials, args, busy, recorder, len(sound.samples) / SAMPLE_RATE)


if __name__ == "__main__":
    main()
