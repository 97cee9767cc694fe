"""Amplifier hooks: real shell commands, real process groups."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from broadcast.outputs.hooks import OUTPUT_LIMIT, run_hook

AIRING = {
    "BROADCAST_ZONE": "khu-pho-1",
    "BROADCAST_PROGRAM": "sang",
    "BROADCAST_PHASE": "before",
    "BROADCAST_START": "2026-05-04T06:30:00+07:00",
}


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def pid_file(tmp_path: Path) -> Iterator[Path]:
    """Where a hook writes the PID of what it starts; that process is ended after the test."""
    path = tmp_path / "child.pid"
    yield path
    if path.exists() and alive(pid := int(path.read_text())):
        os.kill(pid, 9)


def test_the_airing_reaches_the_command(tmp_path: Path) -> None:
    seen = tmp_path / "seen.txt"
    airing = {**AIRING, "BROADCAST_PROGRAM": "Bản tin sáng", "SEEN": str(seen)}
    result = run_hook(
        'printf "%s|%s|%s|%s|%s\\n" "$BROADCAST_ZONE" "$BROADCAST_PROGRAM" "$BROADCAST_PHASE" '
        '"$BROADCAST_START" "$HOME" > "$SEEN"',
        timeout_s=30, env=airing,
    )
    assert result.ok, result.describe()
    assert seen.read_text(encoding="utf-8").strip() == (
        f"khu-pho-1|Bản tin sáng|before|2026-05-04T06:30:00+07:00|{os.environ['HOME']}")


def test_a_command_that_works() -> None:
    result = run_hook("echo relay 1 on", timeout_s=30, env=AIRING)
    assert (result.ok, result.exit_code, result.timed_out) == (True, 0, False)
    assert result.output == "relay 1 on"
    assert result.command == "echo relay 1 on"
    assert result.describe("before").startswith("hook 'before' ran in ")


def test_a_failing_command_says_its_exit_code_and_last_words() -> None:
    result = run_hook("echo checking relay; echo relay not found >&2; exit 3",
                      timeout_s=30, env=AIRING)
    assert (result.ok, result.exit_code, result.timed_out) == (False, 3, False)
    assert result.output == "checking relay\nrelay not found"
    assert result.describe("before") == "hook 'before' failed with exit code 3: relay not found"
    assert result.describe().startswith("hook 'echo checking relay; ")


def test_a_missing_program_is_a_failure_not_an_exception() -> None:
    result = run_hook("relay-switch-that-does-not-exist on", timeout_s=30, env=AIRING)
    assert (result.ok, result.exit_code) == (False, 127)
    assert "relay-switch-that-does-not-exist" in result.output
    assert "not found" in result.output
    assert "Check the command's name" in result.describe("after")


def test_a_command_that_cannot_start_is_a_failure() -> None:
    result = run_hook("echo \0", timeout_s=30, env=AIRING)
    assert (result.ok, result.exit_code, result.timed_out) == (False, None, False)
    assert result.describe("before").startswith("hook 'before' could not start: ")


def test_only_the_end_of_long_output_is_kept() -> None:
    result = run_hook("seq 1 100000; echo done >&2", timeout_s=60, env=AIRING)
    assert result.ok
    assert len(result.output.encode()) <= OUTPUT_LIMIT
    assert result.output.endswith("99999\n100000\ndone")


def test_a_killed_command_names_the_signal() -> None:
    result = run_hook("kill -TERM $$", timeout_s=30, env=AIRING)
    assert (result.ok, result.exit_code) == (False, -15)
    assert result.describe("after") == "hook 'after' was killed by SIGTERM"


def test_timeout_stops_the_whole_group(pid_file: Path) -> None:
    result = run_hook(f"echo switching; sleep 300 & echo $! > {pid_file}; wait",
                      timeout_s=5, env=AIRING)
    assert (result.ok, result.exit_code, result.timed_out) == (False, None, True)
    assert result.output == "switching"
    assert result.describe("before").startswith(
        "hook 'before' timed out after 5 s and was stopped: switching.")
    assert gone_within(int(pid_file.read_text()), 30)


def test_timeout_kills_what_ignores_the_polite_stop(pid_file: Path) -> None:
    result = run_hook(f"sh -c 'trap \"\" TERM; sleep 300' & echo $! > {pid_file}; wait",
                      timeout_s=5, env=AIRING)
    assert result.timed_out
    assert gone_within(int(pid_file.read_text()), 30)


def test_timeout_when_the_command_closes_its_output(pid_file: Path) -> None:
    result = run_hook(f"echo $$ > {pid_file}; exec >/dev/null 2>&1; sleep 300",
                      timeout_s=5, env=AIRING)
    assert result.timed_out
    assert gone_within(int(pid_file.read_text()), 30)


def test_something_left_running_in_the_background_is_not_waited_for(pid_file: Path) -> None:
    result = run_hook(f"sleep 300 & echo $! > {pid_file}; echo started", timeout_s=120,
                      env=AIRING)
    assert (result.ok, result.timed_out) == (True, False)
    assert result.output == "started"
    assert result.duration_s < 60
    assert alive(int(pid_file.read_text()))
