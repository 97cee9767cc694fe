"""Hostile input: files made to exhaust memory or time, or to crash the daemon, each refused in
one plain message at its place, by `check` and by a running daemon, which goes on airing the
last good schedule (and starts with it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.daemon_tools import Daemons, Ward, ahead, program

HOSTILE = REPO / "tests" / "hostile"
REFUSED = {
    "alias-bomb.yaml": ":3:34: this file holds more than 100,000 values once its aliases (*name) "
                       "are repeated out. Write the blocks out, or use fewer aliases.",
    "recursive-alias.yaml": ":3:8: the block that starts here contains an alias (*name) to "
                            "itself, so it would never end. Remove that alias.",
    "deep-nesting.yaml": ":3:1007: exceeded maximum nesting depth.",
    "garbage.yaml": ": the file is not UTF-8 text. Save it as UTF-8 in your editor.",
}


def check(schedule: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "broadcast", "check", "--schedule",
                           str(schedule)], capture_output=True, text=True, timeout=60,
                          cwd=REPO, check=False)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_check_refuses_each_hostile_file_at_its_place(name: str, tmp_path: Path) -> None:
    schedule = tmp_path / "schedule.yaml"
    shutil.copy(HOSTILE / name, schedule)
    result = check(schedule)
    assert result.returncode == 1
    assert f"{schedule}{REFUSED[name]}" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_huge_schedule_is_refused_before_it_is_read(tmp_path: Path) -> None:
    schedule = tmp_path / "schedule.yaml"
    with schedule.open("w", encoding="utf-8") as handle:
        handle.write("ward: {name: Phường Thử}\n")
        for number in range(200_000):
            handle.write(f"# ghi chú số {number} của cán bộ phường, dòng này dài cho đủ\n")
    result = check(schedule)
    assert result.returncode == 1
    assert f"{schedule}: the file is larger than 1 MB" in result.stdout


def test_the_daemon_keeps_and_restarts_with_the_last_good_schedule_after_a_hostile_edit(
        tmp_path: Path, daemons: Daemons) -> None:
    ward = Ward(tmp_path / "ward")
    ward.write(program("sang", ahead(4 * 3600), "short"))
    daemon = daemons.start(ward, tmp_path / "daemon.log")
    daemon.wait_for("control socket", timeout=60)
    shutil.copy(HOSTILE / "recursive-alias.yaml", ward.schedule)
    log = daemon.wait_for("still airing the last good schedule", timeout=30)
    assert f"{ward.schedule}{REFUSED['recursive-alias.yaml']}" in log
    assert daemon.process.poll() is None, "the daemon goes on"
    assert daemon.terminate() == 0

    shutil.copy(HOSTILE / "alias-bomb.yaml", ward.schedule)
    again = daemons.start(ward, tmp_path / "again.log")
    log = again.wait_for("ready 1/2: sang@", timeout=60)
    assert f"{ward.schedule}{REFUSED['alias-bomb.yaml']}" in log
    assert "Starting with the last good schedule instead" in log
    assert again.terminate() == 0
    assert "Traceback" not in log
