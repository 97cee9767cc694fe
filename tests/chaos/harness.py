"""The reusable parts of the chaos suite.

A chaos run builds a ward folder and writes its schedule itself, so it knows every broadcast that
has to air: which program, when, in which zones. It runs the real daemon as a process and abuses
it for a while (``kill -9`` at bad moments, Google out of reach, broken edits, an Icecast server
that goes away), stops it cleanly, and then compares its own plan with what the daemon says it
did (the as-run log, read with plain SQL) and with what it wrote (the WAV files of the zones'
file outputs). Every disagreement is listed, not just the first.

The environment sets a run up:

- ``BROADCAST_CHAOS_SECONDS``: how long each run abuses the daemon (default
  :data:`DEFAULT_SECONDS`; ``make chaos`` runs 600);
- ``BROADCAST_CHAOS_SEED``: the random seed; without it each run draws one and prints it in its
  summary, so a failing run can be replayed with the same choices;
- ``BROADCAST_CHAOS_REPORT``: a folder where each run also writes its summary as JSON.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcast.bulletin import content_hash
from broadcast.errors import BroadcastError
from broadcast.schedule_file import read_schedule

REPO = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")

DEFAULT_SECONDS = 70.0
"""A short run: long enough for a few broadcasts and a few faults, short enough for ``make
test``."""
TIMEOUT_MARGIN_S = 300.0
"""What a run may take beyond its length before pytest stops it (start-up, the last broadcasts,
the checks)."""

APPROVER = "Trần Văn Minh, Phó Chủ tịch UBND phường"
SCRIPT = "---\ntitle: {title}\napproved_by: {approver}\n---\n\n{body}\n"

FINAL = ("aired", "late")
"""Outcomes that mean the broadcast went out."""
CUE_WINDOW_S = 5.0
"""A daemon that was not up for this long before a start may air it late: it prepares each
broadcast a few seconds ahead."""
KILL_AT_START_S = 1.0
"""A kill this soon after a start counts as a kill at the start."""
RESUME_REPEAT_S = 3.0
"""A resumed broadcast starts a little before where it was cut; this much may be heard twice."""
PROGRESS_NOTE_S = 1.0
"""A cut row's ``ended`` may be this much before the cut (an airing notes its progress about once
a second)."""
WAV_SLACK_S = 0.5
"""A file output writes a little ahead of the clock, and a cut file ends on a block boundary."""


# --------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class ChaosSettings:
    """How long a run lasts, its random seed, and where its report goes."""

    seconds: float
    seed: int
    report: Path | None

    @classmethod
    def from_env(cls) -> ChaosSettings:
        seconds = float(os.environ.get("BROADCAST_CHAOS_SECONDS") or DEFAULT_SECONDS)
        seed_text = os.environ.get("BROADCAST_CHAOS_SEED")
        seed = int(seed_text) if seed_text else random.SystemRandom().randrange(10**9)
        report = os.environ.get("BROADCAST_CHAOS_REPORT")
        return cls(seconds, seed, Path(report) if report else None)


def run_timeout() -> float:
    """Seconds pytest gives one chaos test before calling it hung."""
    return float(os.environ.get("BROADCAST_CHAOS_SECONDS") or DEFAULT_SECONDS) + TIMEOUT_MARGIN_S


# --------------------------------------------------------------------------------------------
# Words


_SUBJECTS = (
    "Ủy ban nhân dân phường", "Trạm y tế phường", "Hội phụ nữ khu phố", "Đoàn thanh niên phường",
    "Ban quản lý chợ", "Công an phường", "Hội người cao tuổi", "Ban chỉ huy quân sự phường",
)
_ACTIONS = (
    "tổ chức tiêm chủng miễn phí", "thông báo lịch cắt điện", "mời bà con họp tổ dân phố",
    "nhắc bà con giữ vệ sinh chung", "phát động phong trào trồng cây",
    "kiểm tra an toàn phòng cháy", "hướng dẫn khám sức khỏe định kỳ",
    "vận động bà con dọn dẹp đường làng",
)
_PLACES = (
    "tại nhà văn hóa khu phố", "tại trạm y tế", "ở sân chợ", "trên đường Trần Phú",
    "tại trụ sở phường", "ở sân trường tiểu học",
)
_WHEN = (
    "vào sáng thứ bảy", "từ bảy giờ sáng", "trong tuần này", "vào chiều chủ nhật", "ngày mai",
    "vào tối thứ sáu",
)


def sentence(rng: random.Random) -> str:
    """One notice sentence (9 to 18 words; about 4 to 7 seconds read aloud)."""
    if rng.random() < 0.5:
        return f"{rng.choice(_SUBJECTS)} {rng.choice(_ACTIONS)} {rng.choice(_WHEN)}."
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_ACTIONS)} {rng.choice(_PLACES)}."


def words(rng: random.Random, sentences: int, unlike: str = "") -> str:
    """A script body of ``sentences`` sentences, never the same as ``unlike``."""
    while True:
        body = " ".join(sentence(rng) for _ in range(sentences))
        if body != unlike:
            return body


def estimated_s(body: str) -> float:
    """About how long the schedule's checks reckon a body takes to read (150 words a minute,
    with a margin), so the run never writes programs that overlap in a zone."""
    return len(body.split()) * 60.0 / 150.0 * 1.2 + 1.0


CLEARANCE_S = 3.0
"""The least time the run leaves between one program's estimated end and the next start in a
zone."""


class Deck:
    """Kinds of abuse drawn in shuffled rounds: each round deals every kind (as many times as its
    weight) before any comes again, so even a short run meets each kind."""

    def __init__(self, rng: random.Random, weights: dict[str, int]) -> None:
        self.rng = rng
        self.weights = weights
        self.cards: list[str] = []

    def draw(self, passed: set[str] | None = None) -> str | None:
        """The next kind not in ``passed``; None when every kind is."""
        passed = passed or set()
        if all(kind in passed for kind in self.weights):
            return None
        if all(card in passed for card in self.cards):
            fresh = [kind for kind, weight in self.weights.items() for _ in range(weight)]
            self.rng.shuffle(fresh)
            self.cards += fresh
        for index, card in enumerate(self.cards):
            if card not in passed:
                return self.cards.pop(index)
        return None

    def put_back(self, kind: str) -> None:
        """A kind that could not be used now comes first next time."""
        self.cards.insert(0, kind)


# --------------------------------------------------------------------------------------------
# The ward


def at(moment: float) -> dt.datetime:
    """A wall-clock time as the ward's local time, to the whole second."""
    return dt.datetime.fromtimestamp(round(moment), TZ)


def hms(moment: dt.datetime | float | None) -> str:
    if moment is None:
        return "-"
    if isinstance(moment, float | int):
        moment = dt.datetime.fromtimestamp(moment, TZ)
    return moment.astimezone(TZ).strftime("%H:%M:%S.%f")[:-3]


@dataclass(frozen=True)
class ProgramPlan:
    """One program the run wrote into the schedule: it airs once during the run."""

    id: str
    start: dt.datetime
    zones: tuple[str, ...]
    on_interrupt: str = "restart"
    grace_s: int = 60

    @property
    def script(self) -> str:
        return f"{self.id}.md"

    @property
    def when(self) -> tuple[str, float]:
        """What the checks match rows on: program id and scheduled start."""
        return self.id, self.start.timestamp()

    def describe(self) -> str:
        return f"{self.id} at {self.start:%H:%M:%S} in {'+'.join(self.zones)}"

    def yaml(self) -> str:
        return (
            f"  - id: {self.id}\n"
            f"    name: Chương trình {self.id}\n"
            f"    start: \"{self.start:%H:%M:%S}\"\n"
            "    days: [daily]\n"
            f"    zones: [{', '.join(self.zones)}]\n"
            f"    grace: {self.grace_s}s\n"
            f"    on_interrupt: {self.on_interrupt}\n"
            "    items:\n"
            f"      - script: scripts/{self.script}\n"
        )


def program_times(rng: random.Random, first: float, last: float,
                  gap: tuple[float, float]) -> list[dt.datetime]:
    """Start times from ``first`` to at most ``last``, ``gap`` seconds apart (at random)."""
    starts: list[dt.datetime] = []
    moment = first
    while moment <= last:
        starts.append(at(moment))
        moment += rng.uniform(*gap)
    return starts


def plan_programs(rng: random.Random, ward: ChaosWard, starts: Sequence[dt.datetime],
                  zones: Sequence[tuple[str, ...]], sentences: tuple[int, int],
                  policies: Sequence[str] = ("resume", "restart"),
                  grace_s: int = 60) -> list[ProgramPlan]:
    """A program at each start, on zones drawn from ``zones``, ``on_interrupt`` taking
    ``policies`` in turn, each reading its own approved script of ``sentences`` (at random, as
    many as fit before the next program in one of its zones); the schedule is saved."""
    programs = [ProgramPlan(f"p{number:02d}", start, rng.choice(zones),
                            policies[(number - 1) % len(policies)], grace_s)
                for number, start in enumerate(starts, 1)]
    for index, program in enumerate(programs):
        room = min((later.start.timestamp() - program.start.timestamp()
                    for later in programs[index + 1:] if set(later.zones) & set(program.zones)),
                   default=math.inf)
        count = rng.randint(*sentences)
        body = words(rng, count)
        while count > 1 and estimated_s(body) + CLEARANCE_S > room:
            count -= 1
            body = words(rng, count)
        ward.write_script(program.script, body)
    ward.save_schedule(ward.schedule_text(programs))
    return programs


@dataclass(frozen=True)
class ScriptVersion:
    content_hash: str
    saved: float
    body: str


class ChaosWard:
    """A ward folder the run writes: approved scripts, a schedule, an output folder per zone."""

    def __init__(self, root: Path, zones: dict[str, str], tts: str) -> None:
        """``zones`` maps each zone id to its ``outputs`` list (YAML); ``tts`` is the ``tts``
        block (YAML flow style)."""
        self.root = root
        (root / "scripts").mkdir(parents=True)
        self.zones = zones
        self.tts = tts
        self.schedule = root / "schedule.yaml"
        self.state = root / "state"
        self.versions: dict[str, list[ScriptVersion]] = {}
        """Every approved version of each script the run saved, in order."""
        self.bodies: dict[str, str] = {}
        """The body of each script's last approved version."""

    @staticmethod
    def file_output(zone: str) -> str:
        return f"{{type: file, folder: out-{zone}}}"

    def folder(self, zone: str) -> Path:
        return self.root / f"out-{zone}"

    def script_path(self, name: str) -> Path:
        return self.root / "scripts" / name

    def title(self, name: str) -> str:
        return f"Bản tin {Path(name).stem}"

    def write_script(self, name: str, body: str) -> str:
        """Save an approved version of a script; return its content hash."""
        text = SCRIPT.format(title=self.title(name), approver=APPROVER, body=body)
        saved = time.time()
        self.script_path(name).write_text(text, encoding="utf-8")
        digest = content_hash(self.title(name), body)
        self.versions.setdefault(name, []).append(ScriptVersion(digest, saved, body))
        self.bodies[name] = body
        return digest

    def break_script(self, name: str, how: str, rng: random.Random) -> None:
        """Leave a script unusable: ``garbage``, ``empty``, ``half`` (cut inside its header) or
        ``removed``."""
        path = self.script_path(name)
        if how == "removed":
            path.unlink(missing_ok=True)
        elif how == "empty":
            path.write_bytes(b"")
        elif how == "half":
            text = SCRIPT.format(title=self.title(name), approver=APPROVER, body=self.bodies[name])
            header_end = text.index("---", 3)
            path.write_text(text[: rng.randint(8, header_end - 1)], encoding="utf-8")
        elif how == "garbage":
            path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(20, 400))))
        else:
            raise ValueError(f"unknown way to break a script: {how}")

    def schedule_text(self, programs: Iterable[ProgramPlan]) -> str:
        zones = "".join(
            f"  - id: {zone}\n    name: Cụm loa {zone}\n    groups: [all]\n"
            f"    outputs: [{outputs}]\n"
            for zone, outputs in self.zones.items()
        )
        return (
            "ward:\n  name: Phường Thử Thách\n  quiet_hours: {start: \"00:00\", end: \"00:00\"}\n"
            f"tts: {self.tts}\n"
            f"zones:\n{zones}"
            f"programs:\n{''.join(program.yaml() for program in programs)}"
        )

    def save_schedule(self, text: str) -> float:
        saved = time.time()
        self.schedule.write_text(text, encoding="utf-8")
        return saved

    def valid(self) -> tuple[bool, str]:
        """Whether the ward's files as they are now make a schedule the daemon can use."""
        try:
            read_schedule(self.schedule)
        except BroadcastError as exc:
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            return False, " ".join(lines[:2]).replace(f"{self.root}/", "")
        return True, ""

    @property
    def asrun(self) -> Path:
        return self.state / "as-run.sqlite"

    def rows(self) -> list[dict[str, object]]:
        """The as-run log's rows, read with plain SQL."""
        if not self.asrun.exists():
            return []
        db = sqlite3.connect(self.asrun, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute("SELECT * FROM airings ORDER BY id")]
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return []
            raise
        finally:
            db.close()

    def integrity(self) -> str:
        if not self.asrun.exists():
            return "no as-run log"
        db = sqlite3.connect(self.asrun, timeout=10)
        try:
            found = [str(r[0]) for r in db.execute("PRAGMA integrity_check")]
        finally:
            db.close()
        return "; ".join(found)

    def file_zones(self) -> list[str]:
        return [zone for zone, outputs in self.zones.items() if "type: file" in outputs]

    def part_files(self) -> list[Path]:
        return sorted(p for zone in self.file_zones() if self.folder(zone).exists()
                      for p in self.folder(zone).glob(".*.part"))

    def wav_files(self, program: ProgramPlan, zone: str) -> list[Path]:
        """The WAV files the zone's file output wrote for ``program``."""
        folder = self.folder(zone)
        if not folder.exists():
            return []
        label = re.escape(f"{program.start:%Y%m%d-%H%M%S}-{program.id}-{zone}")
        named = re.compile(rf"{label}(-\d+)?\.wav")
        return sorted(p for p in folder.iterdir() if named.fullmatch(p.name))


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as handle:
        return handle.getnframes() / handle.getframerate()


# --------------------------------------------------------------------------------------------
# The daemon, started again and again


@dataclass
class Launch:
    """One run of the daemon: when it was launched, became ready (its jobs were scheduled) and
    ended, and how it ended."""

    number: int
    process: subprocess.Popen[bytes]
    log: Path
    launched: float
    ready: float | None = None
    ended: float | None = None
    how: str = "running"
    exit_code: int | None = None

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


class DaemonRunner:
    """Starts the real daemon as a process, kills or stops it by its PID, and remembers when
    each one was up."""

    def __init__(self, ward: ChaosWard, logs: Path, env: dict[str, str] | None = None) -> None:
        self.ward = ward
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ if env is None else env)
        self.launches: list[Launch] = []

    @property
    def current(self) -> Launch | None:
        return self.launches[-1] if self.launches else None

    def start(self) -> Launch:
        number = len(self.launches) + 1
        log = self.logs / f"daemon-{number:03d}.log"
        with log.open("wb") as errors:
            process = subprocess.Popen(
                [sys.executable, "-m", "broadcast", "run", "--schedule", str(self.ward.schedule),
                 "--state-dir", str(self.ward.state)],
                stdout=subprocess.DEVNULL, stderr=errors, stdin=subprocess.DEVNULL,
                env=self.env, cwd=REPO,
            )
        launch = Launch(number, process, log, time.time())
        self.launches.append(launch)
        threading.Thread(target=self._watch_ready, args=(launch,), daemon=True).start()
        return launch

    @staticmethod
    def _watch_ready(launch: Launch) -> None:
        while launch.process.poll() is None:
            with contextlib.suppress(OSError):
                if b"scheduled: " in launch.log.read_bytes():
                    launch.ready = time.time()
                    return
            time.sleep(0.05)

    def wait_ready(self, timeout: float) -> bool:
        launch = self.current
        deadline = time.monotonic() + timeout
        while launch is not None and time.monotonic() < deadline:
            if launch.ready is not None:
                return True
            if launch.process.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def _ended(self, launch: Launch, how: str) -> None:
        launch.exit_code = launch.process.wait()
        launch.ended = time.time() if launch.ended is None else launch.ended
        launch.how = how

    def kill(self) -> Launch:
        """``kill -9`` the running daemon."""
        launch = self.current
        assert launch is not None
        if launch.process.poll() is not None:
            launch.ended = time.time()
            self._ended(launch, "exited")
            return launch
        launch.ended = time.time()
        launch.process.kill()
        self._ended(launch, "killed")
        return launch

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, as systemd stops it; its exit code (None if it had to be killed)."""
        launch = self.current
        if launch is None:
            return None
        if launch.process.poll() is not None:
            launch.ended = launch.ended or time.time()
            self._ended(launch, "exited")
            return launch.exit_code
        launch.process.send_signal(signal.SIGTERM)
        try:
            launch.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            launch.ended = time.time()
            launch.process.kill()
            self._ended(launch, "hung on SIGTERM, killed")
            return None
        launch.ended = time.time()
        self._ended(launch, "stopped")
        return launch.exit_code

    def cleanup(self) -> None:
        """Kill whatever this run started and is still running."""
        for launch in self.launches:
            if launch.process.poll() is None:
                launch.process.kill()
                launch.process.wait()
                launch.ended = launch.ended or time.time()
                launch.how = "left running, killed"

    def up_through(self, first: float, last: float) -> bool:
        """Whether one daemon was up and ready all the way from ``first`` to ``last``."""
        return any(
            launch.ready is not None and launch.ready <= first
            and (launch.ended if launch.ended is not None else math.inf) >= last
            for launch in self.launches
        )

    def next_launch_after(self, moment: float) -> float | None:
        later = [launch.launched for launch in self.launches if launch.launched >= moment]
        return min(later, default=None)

    def running(self) -> bool:
        launch = self.current
        return launch is not None and launch.process.poll() is None


# --------------------------------------------------------------------------------------------
# What had to air: the plan, and for runs that edit the schedule, its history

MUST = "must"
MAY = "may"
MUST_NOT = "must not"


@dataclass(frozen=True)
class Expectation:
    """A broadcast and whether it had to air (``MUST``), could go either way because an edit
    landed around its start (``MAY``), or had been taken out of the schedule (``MUST_NOT``)."""

    program: ProgramPlan
    need: str = MUST
    why: str = ""


def expect_all(programs: Iterable[ProgramPlan]) -> list[Expectation]:
    return [Expectation(program) for program in programs]


@dataclass(frozen=True)
class WardState:
    """The ward's files after one save: whether the daemon can use them, and the programs."""

    saved: float
    valid: bool
    programs: tuple[ProgramPlan, ...]
    what: str


class ScheduleHistory:
    """What the run saved and when, to judge each broadcast by the schedule in force at its
    start.

    The daemon uses a save once the files have stayed unchanged for a moment: a state that
    lasted less than :data:`UNUSED_BELOW_S` was never used; one that lasted :data:`USED_WITHIN_S`
    was in use by then. A broadcast whose start falls where either of two schedules may have
    been in force may air or not (once at most).
    """

    UNUSED_BELOW_S = 1.8
    USED_WITHIN_S = 6.0
    DECIDED_BEFORE_S = 4.0
    """The daemon settles what a broadcast airs a few seconds before its start."""

    def __init__(self, programs: Sequence[ProgramPlan], started: float) -> None:
        self.states = [WardState(started, True, tuple(programs), "the first schedule")]

    @property
    def programs(self) -> tuple[ProgramPlan, ...]:
        return self.states[-1].programs

    def record(self, saved: float, valid: bool, programs: Sequence[ProgramPlan],
               what: str) -> None:
        self.states.append(WardState(saved, valid, tuple(programs), what))

    def expectations(self) -> list[Expectation]:
        states = self.states
        ends = [s.saved for s in states[1:]] + [math.inf]
        possible, certain, earliest, latest = [], [], [], []
        for index, (state, end) in enumerate(zip(states, ends, strict=True)):
            lasted = end - state.saved
            first = index == 0
            possible.append(state.valid and (first or lasted >= self.UNUSED_BELOW_S))
            certain.append(state.valid and (first or lasted >= self.USED_WITHIN_S))
            earliest.append(-math.inf if first else state.saved + self.UNUSED_BELOW_S)
            latest.append(-math.inf if first else state.saved + self.USED_WITHIN_S)
        everything: dict[tuple[str, float], ProgramPlan] = {}
        for index, state in enumerate(states):
            if possible[index]:
                for program in state.programs:
                    everything.setdefault(program.when, program)
        found = []
        for when, program in sorted(everything.items(), key=lambda item: item[0][1]):
            start = when[1]
            candidates = [
                index for index in range(len(states))
                if possible[index] and earliest[index] <= start + 0.5
                and not any(certain[later] and latest[later] <= start - self.DECIDED_BEFORE_S
                            for later in range(index + 1, len(states)))
            ]
            planned = [when in {p.when for p in states[index].programs} for index in candidates]
            names = ", ".join(f"'{states[index].what}' saved {hms(states[index].saved)}"
                              for index in candidates if index)
            if all(planned):
                found.append(Expectation(program, MUST))
            elif not any(planned):
                found.append(Expectation(program, MUST_NOT, (
                    f"the schedule in force at its start ({names or 'the first'}) does not "
                    "have it")))
            else:
                found.append(Expectation(program, MAY, f"edits around its start: {names}"))
        return found


# --------------------------------------------------------------------------------------------
# The checks


@dataclass
class Figures:
    planned: int = 0
    """(broadcast, zone) pairs that had to air."""
    aired: int = 0
    """Of those, how many aired (last attempt aired or late)."""
    missing: int = 0
    """Of those, how many have no as-run row at all."""
    duplicates: int = 0
    cut: int = 0
    """Rows with outcome 'interrupted'."""
    completed: int = 0
    """Cut rows followed by an attempt that finished the broadcast in time."""
    late: int = 0
    late_allowed: int = 0
    failed: int = 0
    refused: int = 0
    parts: int = 0
    integrity: str = "?"

    def line(self) -> str:
        return (
            f"planned {self.planned}, aired {self.aired}, missing {self.missing}, "
            f"duplicates {self.duplicates}, cut {self.cut} (completed {self.completed}), "
            f"late {self.late} (allowed {self.late_allowed}), failed {self.failed}, "
            f"refused {self.refused}, .part files {self.parts}, integrity {self.integrity}"
        )


@dataclass
class Verdict:
    scenario: str
    settings: ChaosSettings
    figures: Figures = field(default_factory=Figures)
    violations: list[str] = field(default_factory=list)
    extras: dict[str, object] = field(default_factory=dict)
    """The scenario's own figures (kills, edits, outages...), for the summary."""
    events: list[str] = field(default_factory=list)
    """What the run did and when, to read a failure against."""

    def summary(self) -> str:
        extras = "".join(f", {key} {value}" for key, value in self.extras.items())
        return (
            f"chaos {self.scenario} (seed {self.settings.seed}, "
            f"{self.settings.seconds:.0f} s): {self.figures.line()}{extras}; "
            f"{len(self.violations)} violations"
        )

    def publish(self) -> None:
        """Print the summary line (on stderr, which pytest-xdist's workers pass through with
        ``-s``); with ``BROADCAST_CHAOS_REPORT`` also write it as JSON."""
        print(f"\n{self.summary()}", file=sys.stderr)
        folder = self.settings.report
        if folder is None:
            return
        folder.mkdir(parents=True, exist_ok=True)
        report = {
            "scenario": self.scenario, "seed": self.settings.seed,
            "seconds": self.settings.seconds, "summary": self.summary(),
            "figures": asdict(self.figures), "extras": self.extras,
            "violations": self.violations, "events": self.events,
        }
        path = folder / f"{self.scenario}-{self.settings.seed}.json"
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")

    def assert_clean(self) -> None:
        if not self.violations:
            return
        listed = "\n".join(f"  - {violation}" for violation in self.violations)
        events = "\n".join(f"    {event}" for event in self.events)
        replay = (f"replay: BROADCAST_CHAOS_SEED={self.settings.seed} "
                  f"BROADCAST_CHAOS_SECONDS={self.settings.seconds:.0f}")
        pytest.fail(f"{self.summary()}\n{replay}\n{len(self.violations)} violations:\n{listed}"
                    f"\nwhat the run did:\n{events}", pytrace=False)


def stamp(value: object) -> float | None:
    return None if value is None else dt.datetime.fromisoformat(str(value)).timestamp()


def describe_row(row: dict[str, object]) -> str:
    late = f", late {row['late_s']} s" if row.get("late_s") is not None else ""
    reason = f" ({row['reason']})" if row.get("reason") else ""
    return (f"#{row['id']} attempt {row['attempt']} {row['outcome']} "
            f"{hms(stamp(row['started']))}→{hms(stamp(row['ended']))}{late}{reason}")


def describe_rows(rows: Sequence[dict[str, object]]) -> str:
    return "; ".join(describe_row(row) for row in rows) or "none"


def _busy(row: dict[str, object], start: float, zone_rows: Sequence[dict[str, object]]) -> bool:
    """Whether something else aired in the zone between this broadcast's start and its own."""
    began = stamp(row["started"])
    if began is None:
        return False
    for other in zone_rows:
        if other["id"] == row["id"] or other["occurrence"] == row["occurrence"]:
            continue
        other_began = stamp(other["started"])
        if other_began is None or other_began >= began:
            continue
        other_ended = stamp(other["ended"])
        if (other_ended if other_ended is not None else began) > start - 0.5:
            return True
    return False


class Checker:
    """Compares the run's plan with the as-run log and the output folders (see the module doc)."""

    def __init__(self, ward: ChaosWard, runner: DaemonRunner, verdict: Verdict) -> None:
        self.ward = ward
        self.runner = runner
        self.verdict = verdict
        self.rows = ward.rows()

    def fail(self, words: str) -> None:
        self.verdict.violations.append(words.replace(f"{self.ward.root}/", ""))

    def run(self, expectations: Sequence[Expectation], *, strict_on_time: bool = False) -> None:
        figures = self.verdict.figures
        by_when: dict[tuple[str, float], list[dict[str, object]]] = {}
        for row in self.rows:
            by_when.setdefault((str(row["program_id"]), stamp(row["scheduled"]) or 0.0),
                               []).append(row)
        known = {expectation.program.when for expectation in expectations}
        for (program_id, start), rows in sorted(by_when.items(), key=lambda item: item[0][1]):
            if (program_id, start) not in known:
                self.fail(f"{program_id} at {hms(start)}: rows for a broadcast the run never "
                          f"planned: {describe_rows(rows)}")
        for row in self.rows:
            figures.failed += row["outcome"] == "failed"
            figures.refused += row["outcome"] == "refused"
        for expectation in expectations:
            for zone in expectation.program.zones:
                rows = [r for r in by_when.get(expectation.program.when, []) if r["zone"] == zone]
                self._pair(expectation, zone, rows, strict_on_time)
        self._files(expectations, by_when)
        figures.integrity = self.ward.integrity()
        if figures.integrity != "ok":
            self.fail(f"the as-run log fails PRAGMA integrity_check: {figures.integrity}")
        self._daemons()

    def _pair(self, expectation: Expectation, zone: str, rows: list[dict[str, object]],
              strict_on_time: bool) -> None:
        figures = self.verdict.figures
        program = expectation.program
        name = f"{program.id} at {program.start:%H:%M:%S} in {zone}"
        rows = sorted(rows, key=lambda r: (int(str(r["attempt"])), int(str(r["id"]))))
        if expectation.need == MUST_NOT:
            if rows:
                self.fail(f"{name}: should not have aired ({expectation.why}), but has rows: "
                          f"{describe_rows(rows)}")
            return
        must = expectation.need == MUST
        figures.planned += must
        if not rows:
            if must:
                figures.missing += 1
                self.fail(f"{name}: no as-run row at all; expected it to air once "
                          f"({program.on_interrupt} on interruption, grace {program.grace_s} s)")
            return
        last = rows[-1]
        went_out = [r for r in rows if r["outcome"] in FINAL]
        if last["outcome"] in FINAL:
            figures.aired += must
        elif last["outcome"] != "interrupted":  # a cut never finished: see the cut's own check
            self.fail(f"{name}: the last attempt ended '{last['outcome']}', expected aired or "
                      f"late. Rows: {describe_rows(rows)}")
        if len(went_out) > 1:
            figures.duplicates += 1
            self.fail(f"{name}: aired {len(went_out)} times. Rows: {describe_rows(rows)}")
        zone_rows = [r for r in self.rows if r["zone"] == zone]
        start = program.start.timestamp()
        for row in rows:
            if row["outcome"] == "interrupted":
                self._cut(name, program, row, rows, last)
            self._on_time(name, start, row, rows, zone_rows, strict_on_time)

    def _cut(self, name: str, program: ProgramPlan, row: dict[str, object],
             rows: list[dict[str, object]], last: dict[str, object]) -> None:
        figures = self.verdict.figures
        figures.cut += 1
        began = stamp(row["started"]) or program.start.timestamp()
        cut = stamp(row["ended"]) or self.runner.next_launch_after(began)
        attempt = int(str(row["attempt"])) + 1
        follow = [r for r in rows if int(str(r["attempt"])) == attempt]
        follow_start = stamp(follow[0]["started"]) if follow else None
        by = None if cut is None else cut + program.grace_s
        if (follow_start is not None and by is not None and follow_start <= by + 1.0
                and last["outcome"] in FINAL):
            figures.completed += 1
            return
        self.fail(
            f"{name}: attempt {row['attempt']} was cut at {hms(cut)} ({row['reason']}); "
            f"expected attempt {attempt} to {program.on_interrupt} it by {hms(by)} (grace "
            f"{program.grace_s} s) and finish it. Rows: {describe_rows(rows)}"
        )

    def _on_time(self, name: str, start: float, row: dict[str, object],
                 rows: list[dict[str, object]], zone_rows: list[dict[str, object]],
                 strict: bool) -> None:
        figures = self.verdict.figures
        late_s = row["late_s"]
        first = int(str(row["attempt"])) == 1
        if strict and first and row["outcome"] == "aired" and (
                late_s is None or float(str(late_s)) > 1.0):
            self.fail(f"{name}: expected it aired on time (outcome 'aired', late_s ≤ 1.0); "
                      f"row {describe_row(row)}")
        if row["outcome"] != "late":
            return
        figures.late += 1
        if not first:
            figures.late_allowed += 1  # finishing a cut broadcast is late by nature
            return
        down = not self.runner.up_through(start - CUE_WINDOW_S, start + KILL_AT_START_S)
        busy = _busy(row, start, zone_rows)
        if not strict and (down or busy):
            figures.late_allowed += 1
            return
        why = "the daemon was up and the zone free at its start"
        if strict:
            why = "Google being out of reach must not make a broadcast late"
        self.fail(f"{name}: aired late by {late_s} s, but {why}. Rows: {describe_rows(rows)}")

    def _files(self, expectations: Sequence[Expectation],
               by_when: dict[tuple[str, float], list[dict[str, object]]]) -> None:
        figures = self.verdict.figures
        parts = self.ward.part_files()
        figures.parts = len(parts)
        if parts:
            names = ", ".join(f"{p.parent.name}/{p.name}" for p in parts)
            self.fail(f"{len(parts)} hidden .part files left in the file outputs after the "
                      f"clean stop: {names}")
        file_zones = set(self.ward.file_zones())
        for expectation in expectations:
            program = expectation.program
            for zone in program.zones:
                if zone not in file_zones:
                    continue
                rows = [r for r in by_when.get(program.when, []) if r["zone"] == zone]
                files = self.ward.wav_files(program, zone)
                if not files:
                    if any(r["outcome"] in FINAL for r in rows):
                        self.fail(f"{program.id} at {program.start:%H:%M:%S} in {zone}: aired, "
                                  f"but its file output wrote no WAV file. Rows: "
                                  f"{describe_rows(rows)}")
                    continue
                if not rows:
                    self.fail(f"{program.id} at {program.start:%H:%M:%S} in {zone}: WAV files "
                              f"with no as-run row: {', '.join(p.name for p in files)}")
                    continue
                self._heard_once(program, zone, rows, files)

    def _heard_once(self, program: ProgramPlan, zone: str, rows: list[dict[str, object]],
                    files: list[Path]) -> None:
        seconds: dict[str, float] = {}
        for path in files:
            try:
                seconds[path.name] = wav_seconds(path)
            except (OSError, EOFError, wave.Error) as exc:
                self.fail(f"{zone}/{path.name}: not a readable WAV file ({exc})")
        length = max((float(str(r["duration_s"])) for r in rows if r["duration_s"] is not None),
                     default=0.0)
        allowance = length + WAV_SLACK_S
        for row in rows:
            if row["outcome"] != "interrupted":
                continue
            allowance += WAV_SLACK_S
            if program.on_interrupt == "resume":
                allowance += RESUME_REPEAT_S
            else:  # a restart airs again what was cut
                began, ended = stamp(row["started"]), stamp(row["ended"])
                allowance += (ended - began + PROGRESS_NOTE_S
                              if began is not None and ended is not None else length)
        total = sum(seconds.values())
        if total > allowance:
            listed = ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items())
            self.fail(f"{program.id} at {program.start:%H:%M:%S} in {zone}: {total:.1f} s of "
                      f"audio written for a {length:.1f} s program (at most {allowance:.1f} s "
                      f"with its cuts): {listed}. Rows: {describe_rows(rows)}")

    def _daemons(self) -> None:
        for launch in self.runner.launches:
            if launch.how == "exited":
                self.fail(f"daemon #{launch.number} (launched {hms(launch.launched)}) exited by "
                          f"itself with code {launch.exit_code}: {tail(launch.text())}")
            elif launch.how != "killed" and launch.how != "stopped":
                self.fail(f"daemon #{launch.number}: {launch.how}")
            elif launch.how == "stopped" and launch.exit_code != 0:
                self.fail(f"daemon #{launch.number} exited with code {launch.exit_code} on "
                          f"SIGTERM: {tail(launch.text())}")
            for line in unexpected_lines(launch.text()):
                self.fail(f"daemon #{launch.number} logged: {line}")


def tail(text: str, lines: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def unexpected_lines(text: str) -> list[str]:
    """Log lines that say something went wrong inside the daemon itself."""
    found = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if "unexpected error" in line or line.startswith("Traceback"):
            detail = next((later for later in lines[number + 1:number + 40]
                           if later and not later.startswith((" ", "Traceback"))), "")
            found.append(f"{line.strip()} {detail.strip()}".strip())
    return found


def check(ward: ChaosWard, runner: DaemonRunner, verdict: Verdict,
          expectations: Sequence[Expectation], *, strict_on_time: bool = False) -> Verdict:
    """Run every check of the module doc; the violations go into ``verdict``."""
    Checker(ward, runner, verdict).run(expectations, strict_on_time=strict_on_time)
    return verdict


# --------------------------------------------------------------------------------------------
# Waiting


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def wait_for_row(ward: ChaosWard, until: float,
                 wanted: Callable[[dict[str, object]], bool]) -> dict[str, object] | None:
    """The first row ``wanted`` accepts, polling the as-run log until ``until``."""
    while time.time() < until:
        for row in ward.rows():
            if wanted(row):
                return row
        time.sleep(0.1)
    return None


def settled(ward: ChaosWard, expectations: Sequence[Expectation]) -> bool:
    """Whether every broadcast that had to air is done: none airing, each last attempt final."""
    rows = ward.rows()
    if any(row["outcome"] == "airing" for row in rows):
        return False
    last: dict[tuple[str, float, str], dict[str, object]] = {}
    for row in sorted(rows, key=lambda r: (int(str(r["attempt"])), int(str(r["id"])))):
        last[(str(row["program_id"]), stamp(row["scheduled"]) or 0.0, str(row["zone"]))] = row
    for expectation in expectations:
        if expectation.need != MUST:
            continue
        for zone in expectation.program.zones:
            row = last.get((*expectation.program.when, zone))
            if row is None or row["outcome"] == "interrupted":
                return False
    return True


def wait_settled(ward: ChaosWard, expectations: Sequence[Expectation], deadline: float) -> None:
    """Wait until every broadcast is done, or ``deadline``; then a moment for the last rows."""
    while time.time() < deadline and not settled(ward, expectations):
        time.sleep(0.5)
    time.sleep(1.0)


def last_start(programs: Iterable[ProgramPlan]) -> float:
    return max(program.start.timestamp() for program in programs)


def elapsed(since: float) -> str:
    return f"t+{time.time() - since:6.1f}s"
