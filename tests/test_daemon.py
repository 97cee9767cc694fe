"""The daemon, as a real process on a real (private) sound server, on a schedule seconds ahead."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tests.audio_tools import integrated_lufs, raw_s16
from tests.conftest import REPO
from tests.pulse import PulseServer

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

SCRIPT = """---
title: Thông báo thử
category: thông báo
author: Lê Thị Mai
approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường
---

Kính thưa bà con! Đây là bản tin thử của hệ thống loa phường, phát lúc {clock}.
"""

SCHEDULE = """\
ward:
  name: Phường Thử
  quiet_hours: {{start: "00:00", end: "00:00"}}
tts:
  engine: espeak
zones:
  - id: khu-pho-1
    name: Khu phố 1
    groups: [all]
    outputs: [{{type: device, sink: zone1}}]
  - id: khu-pho-2
    name: Khu phố 2, gần trường học
    groups: [all]
    target_lufs: -22
    outputs: [{{type: device, sink: zone2}}]
programs:
  - id: thu
    name: Chương trình thử
    start: "{start}"
    days: [daily]
    zones: [all]
    items:
      - script: scripts/thu.md
      - silence: 1
      - script: scripts/thu.md
"""


def make_ward(folder: Path, start: dt.datetime) -> Path:
    (folder / "scripts").mkdir(parents=True)
    clock = f"{start:%H:%M:%S}"
    (folder / "scripts" / "thu.md").write_text(SCRIPT.format(clock=clock), encoding="utf-8")
    schedule = folder / "schedule.yaml"
    schedule.write_text(SCHEDULE.format(start=clock), encoding="utf-8")
    return schedule


class DaemonProcess:
    def __init__(self, schedule: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "broadcast", "run", "--schedule", str(schedule)],
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
            time.sleep(0.2)
        raise AssertionError(f"daemon never logged {words!r}:\n{self.text()}")

    def terminate(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


@pytest.fixture
def daemons() -> Iterator[list[DaemonProcess]]:
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()


def test_daemon_airs_the_program_at_its_time(
    pulse: PulseServer, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    start = (dt.datetime.now(TZ) + dt.timedelta(seconds=30)).replace(microsecond=0)
    schedule = make_ward(tmp_path / "ward", start)
    recording = pulse.record("zone1", tmp_path / "zone1.raw")
    quieter = pulse.record("zone2", tmp_path / "zone2.raw")
    recording_began = time.time()
    daemon = DaemonProcess(schedule, pulse.env, tmp_path / "daemon.log")
    daemons.append(daemon)

    log = daemon.wait_for("ready: thu@", timeout=60)
    assert (f"scheduled: {start:%Y-%m-%d %H:%M:%S %z} Chương trình thử (thu) -> "
            "khu-pho-1, khu-pho-2") in log
    daemon.wait_for("aired thu on khu-pho-1", timeout=90)
    daemon.wait_for("aired thu on khu-pho-2", timeout=30)
    assert daemon.terminate() == 0
    assert "stopped" in daemon.text()

    samples = raw_s16(recording.stop())
    sounding = np.flatnonzero(np.abs(samples) > 1e-3)
    assert len(sounding) > 0, "nothing reached the sound device"
    first_sound = recording_began + sounding[0] / 48000
    lead_in = 0.5
    assert abs(first_sound - lead_in - start.timestamp()) < 2.0, "audio began on time"
    assert integrated_lufs(samples[sounding[0] :]) == pytest.approx(-16.0, abs=1.5)
    near_school = raw_s16(quieter.stop())
    assert integrated_lufs(near_school) == pytest.approx(-22.0, abs=1.5), (
        "the zone's own loudness target"
    )


def test_daemon_without_sound_device_keeps_running_and_says_why(
    tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    cards = Path("/proc/asound/cards")
    if cards.exists() and "no soundcards" not in cards.read_text():
        pytest.skip("this machine has an ALSA sound card")
    start = (dt.datetime.now(TZ) + dt.timedelta(hours=2)).replace(microsecond=0)
    schedule = make_ward(tmp_path / "ward", start)
    env = {"PULSE_SERVER": f"unix:{tmp_path / 'nobody-here'}", "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    daemon = DaemonProcess(schedule, env, tmp_path / "daemon.log")
    daemons.append(daemon)
    log = daemon.wait_for("scheduled: ", timeout=60)
    assert "zone khu-pho-1: no sound device found" in log
    assert "Broadcasts will be logged but not heard" in log
    time.sleep(1)
    assert daemon.process.poll() is None, "the daemon keeps running"

    second = DaemonProcess(schedule, env, tmp_path / "second.log")
    daemons.append(second)
    assert second.process.wait(timeout=60) == 1
    assert "another broadcast daemon" in second.text()
    assert "already running for this ward" in second.text()

    assert daemon.terminate() == 0


def test_daemon_refuses_a_broken_schedule_with_line_numbers(tmp_path: Path) -> None:
    start = dt.datetime.now(TZ) + dt.timedelta(hours=2)
    schedule = make_ward(tmp_path / "ward", start)
    schedule.write_text(schedule.read_text().replace("    start:", "    strat:"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "broadcast", "run", "--schedule", str(schedule)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    assert result.returncode == 1
    assert f"{schedule}:19:5: unknown setting 'strat'. Did you mean 'start'?" in result.stderr
    assert "Traceback" not in result.stderr
