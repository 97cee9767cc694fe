"""Real daemons for tests: a ward folder with scripts and a schedule, the daemon as a process,
and the as-run log read with plain SQL (not our own code)."""

from __future__ import annotations

import datetime as dt
import signal
import sqlite3
import subprocess
import sys
import time
import wave
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.audio_tools import best_alignment, decode, envelope

REPO = Path(__file__).resolve().parent.parent

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

SCRIPT = """---
title: {title}
approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường
---

{body}
"""
SHORT = "Kính thưa bà con! Đây là bản tin thử của hệ thống loa phường."
LONG = (
    "Kính thưa bà con nhân dân! Ủy ban nhân dân phường thông báo lịch khám sức khỏe định kỳ "
    "cho người lao động tại các cơ sở sản xuất trên địa bàn. Đề nghị các chủ cơ sở cử người "
    "lao động đến trạm y tế phường đúng giờ, mang theo giấy tờ tùy thân."
)
EMERGENCY = "Khẩn cấp! Bà con chú ý, có cảnh báo mưa lớn. Đề nghị bà con ở trong nhà."

HEADER = """\
ward:
  name: Phường Thử
  quiet_hours: {start: "00:00", end: "00:00"}
tts:
  engine: espeak
"""


def zone(zone_id: str, output: str) -> str:
    return f"  - id: {zone_id}\n    name: Cụm loa {zone_id}\n    groups: [all]\n" \
           f"    outputs: [{output}]\n"


def program(program_id: str, start: dt.datetime, script: str, *, extra: str = "",
            priority: str = "normal") -> str:
    return (
        f"  - id: {program_id}\n    name: Chương trình {program_id}\n"
        f"    start: \"{start:%H:%M:%S}\"\n    days: [daily]\n    zones: [all]\n"
        f"    priority: {priority}\n{extra}    items:\n      - script: scripts/{script}.md\n"
    )


class Ward:
    """A ward folder: scripts, a schedule with file outputs, and the daemon's state folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "scripts").mkdir(parents=True, exist_ok=True)
        for name, body in (("short", SHORT), ("long", LONG), ("emergency", EMERGENCY)):
            (root / "scripts" / f"{name}.md").write_text(
                SCRIPT.format(title=f"Bản tin {name}", body=body), encoding="utf-8")
        self.schedule = root / "schedule.yaml"
        self.state = root / "state"
        self.out = root / "out"

    def write(self, programs: str, zones: str | None = None, extra: str = "") -> None:
        """The schedule: ``programs`` and ``zones`` as YAML lines, ``extra`` top-level blocks."""
        zones = zones or zone("khu-pho-1", "{type: file, folder: out}")
        self.schedule.write_text(f"{HEADER}{extra}zones:\n{zones}programs:\n{programs}",
                                 encoding="utf-8")

    def rows(self) -> list[dict[str, object]]:
        path = self.state / "as-run.sqlite"
        if not path.exists():
            return []
        db = sqlite3.connect(path)
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute("SELECT * FROM airings ORDER BY id")]
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return []  # the daemon has created the file but not yet its tables
            raise
        finally:
            db.close()

    def wait_rows(self, count: int, timeout: float, final: bool = True) -> list[dict[str, object]]:
        """Wait until the log has ``count`` rows (all ended, with ``final``)."""
        deadline = time.monotonic() + timeout
        rows = self.rows()
        while time.monotonic() < deadline:
            rows = self.rows()
            if len(rows) >= count and (not final or all(r["outcome"] != "airing" for r in rows)):
                return rows
            time.sleep(0.2)
        raise AssertionError(f"expected {count} as-run rows, found: {rows}")

    def files(self) -> list[Path]:
        return sorted(self.out.glob("*.wav")) if self.out.exists() else []


class DaemonProcess:
    def __init__(self, ward: Ward, log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "broadcast", "run", "--schedule", str(ward.schedule),
             "--state-dir", str(ward.state)],
            stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=env, cwd=REPO,
        )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, words: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if words in self.text():
                return self.text()
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"daemon never logged {words!r}:\n{self.text()}")

    def terminate(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


class Daemons:
    """Starts daemons for a test; whatever is still running at the end is killed."""

    def __init__(self) -> None:
        self.started: list[DaemonProcess] = []

    def start(self, ward: Ward, log: Path, env: dict[str, str] | None = None) -> DaemonProcess:
        daemon = DaemonProcess(ward, log, env)
        self.started.append(daemon)
        return daemon


def ahead(seconds: float) -> dt.datetime:
    return (dt.datetime.now(TZ) + dt.timedelta(seconds=seconds)).replace(microsecond=0)


def scheduled(row: dict[str, object]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(row["scheduled"]))


def started(row: dict[str, object]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(row["started"]))


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as handle:
        return handle.getnframes() / handle.getframerate()


def same_sound(program: object, heard: Path) -> float:
    """How well what came out matches the program file (envelope correlation, best offset)."""
    return best_alignment(envelope(decode(Path(str(program)))), envelope(decode(heard)))[1]


def break_days(ward: Ward) -> str:
    """Save a broken edit ('dayz' for 'days'); return the error the daemon should log."""
    good = ward.schedule.read_text(encoding="utf-8")
    ward.schedule.write_text(good.replace("    days:", "    dayz:"), encoding="utf-8")
    where = f"{ward.schedule}:{line_of(ward.schedule, 'dayz:')}:5"
    return f"{where}: unknown setting 'dayz'. Did you mean 'days'?"


def line_of(path: Path, words: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if words in line)


def sleep_until(moment: dt.datetime) -> None:
    time.sleep(max(0.0, moment.timestamp() - time.time()))


def down_across_the_start(ward: Ward, tmp_path: Path, daemons: Daemons, start: dt.datetime,
                          *, killed_before_s: float, back_after_s: float) -> None:
    """A daemon that rendered the broadcast is killed before its start and the ward stays
    without one until after it."""
    first = daemons.start(ward, tmp_path / "first.log")
    first.wait_for("ready 1/", timeout=60)
    sleep_until(start - dt.timedelta(seconds=killed_before_s))
    first.kill()
    sleep_until(start + dt.timedelta(seconds=back_after_s))
