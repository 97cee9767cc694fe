"""The daemon as a real process, in real time, on schedules a few seconds ahead.

What came out is checked where a listener would notice: the audio on a private PulseAudio sink
or in the file output, and the rows of the as-run log (read with plain SQL, not our own code).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from broadcast.bulletin import content_hash
from broadcast.onair import RESUME_BACK_S
from tests.audio_tools import integrated_lufs, raw_s16
from tests.conftest import REPO, broadcast_cli
from tests.daemon_tools import (
    LONG,
    SCRIPT,
    SHORT,
    Daemons,
    Ward,
    ahead,
    break_days,
    down_across_the_start,
    line_of,
    program,
    same_sound,
    scheduled,
    sleep_until,
    started,
    wav_seconds,
    zone,
)
from tests.icecast import IcecastServer, Listener
from tests.pulse import PulseServer


@pytest.fixture
def ward(tmp_path: Path) -> Ward:
    return Ward(tmp_path / "ward")


def test_daemon_airs_on_time_on_every_output_and_logs_it(
    pulse: PulseServer, ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    start = ahead(20)
    ward.write(
        program("thu", start, "short"),
        zone("khu-pho-1", "{type: device, sink: zone1}, {type: file, folder: out}")
        + zone("khu-pho-2", "{type: device, sink: zone2}").replace(
            "    outputs:", "    target_lufs: -22\n    outputs:"),
    )
    recording = pulse.record("zone1", tmp_path / "zone1.raw")
    quieter = pulse.record("zone2", tmp_path / "zone2.raw")
    daemon = daemons.start(ward, tmp_path / "daemon.log", env=pulse.env)
    log = daemon.wait_for("ready 1/", timeout=60)
    assert f"scheduled: {start:%Y-%m-%d %H:%M:%S %z} Chương trình thu (thu) -> " \
           "khu-pho-1, khu-pho-2" in log
    rows = ward.wait_rows(2, timeout=60)
    assert daemon.terminate() == 0
    assert "stopped" in daemon.text()

    assert {(r["zone"], r["outcome"]) for r in rows} == {("khu-pho-1", "aired"),
                                                         ("khu-pho-2", "aired")}
    for row in rows:
        assert abs((started(row) - scheduled(row)).total_seconds()) < 1.0
        assert "thu.md" not in str(row["items"]) and "short.md" in str(row["items"])
        items = json.loads(str(row["items"]))
        assert items[0]["approved_by"] == "Trần Văn Minh, Phó Chủ tịch UBND phường"
        assert items[0]["content_hash"].startswith("sha256:")
        assert row["engine"].startswith("espeak-ng")  # type: ignore[union-attr]
    first = next(r for r in rows if r["zone"] == "khu-pho-1")
    carried = {o["output"]: o["ok"] for o in json.loads(str(first["outputs"]))}
    assert carried == {"device zone1": True, f"file {ward.out}": True}

    samples = raw_s16(recording.stop())
    sounding = np.flatnonzero(np.abs(samples) > 1e-3)
    assert len(sounding) > 0, "nothing reached the sound device"
    first_sound = recording.began + sounding[0] / 48000
    assert abs(first_sound - 0.5 - start.timestamp()) < 2.0, "audio began on time"
    assert integrated_lufs(samples[sounding[0]:]) == pytest.approx(-16.0, abs=1.5)
    assert integrated_lufs(raw_s16(quieter.stop())) == pytest.approx(-22.0, abs=1.5), (
        "the zone's own loudness target")

    [written] = ward.files()
    assert same_sound(first["audio"], written) > 0.95, "the file output holds what aired"


def test_edits_apply_while_running_and_a_broken_edit_keeps_the_last_good_schedule(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    first = ahead(25)
    ward.write(program("sang", first, "short"))
    daemon = daemons.start(ward, tmp_path / "daemon.log")
    daemon.wait_for("ready 1/", timeout=60)

    good = ward.schedule.read_text(encoding="utf-8")
    error = break_days(ward)
    log = daemon.wait_for("still airing the last good schedule", timeout=20)
    assert error in log
    status = broadcast_cli("status", "--schedule", str(ward.schedule), "--state-dir",
                           str(ward.state))
    assert "Daemon: running" in status.stdout
    assert "the last edit cannot be used" in status.stdout

    second = first + dt.timedelta(seconds=12)
    ward.schedule.write_text(good + program("chieu", second, "long"), encoding="utf-8")
    log = daemon.wait_for("reloaded: 2 broadcasts added, 0 removed, 0 changed", timeout=20)
    rows = ward.wait_rows(2, timeout=80)
    assert daemon.terminate() == 0
    assert [(r["program_id"], r["outcome"]) for r in rows] == [("sang", "aired"),
                                                              ("chieu", "aired")]
    assert abs((started(rows[0]) - first).total_seconds()) < 1.0, "the broken edit did not stop it"
    assert abs((started(rows[1]) - second).total_seconds()) < 1.0, "the added program aired"
    assert len(ward.files()) == 2


@pytest.mark.parametrize("policy", ["restart", "resume", "drop"])
def test_an_emergency_cuts_in_and_the_cut_program_follows_its_policy(
    policy: str, ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    normal = ahead(25)
    urgent = normal + dt.timedelta(seconds=5)
    ward.write(program("thuong", normal, "long", extra=f"    on_interrupt: {policy}\n")
               + program("khan-cap", urgent, "emergency", priority="emergency"))
    daemon = daemons.start(ward, tmp_path / "daemon.log")
    rows = ward.wait_rows(2 if policy == "drop" else 3, timeout=120)
    if policy == "drop":
        daemon.wait_for("dropped after the emergency", timeout=10)
        time.sleep(1)
    assert daemon.terminate() == 0

    outcomes = [(r["program_id"], r["attempt"], r["outcome"]) for r in ward.rows()]
    again_row = [] if policy == "drop" else [("thuong", 2, "aired")]
    assert outcomes == [("thuong", 1, "interrupted"), ("khan-cap", 1, "aired"), *again_row]
    assert rows[0]["reason"] == "cut by emergency 'Chương trình khan-cap'"
    assert abs((started(rows[1]) - urgent).total_seconds()) < 1.0, "the emergency came at once"
    label = f"{normal:%Y%m%d-%H%M%S}-thuong-khu-pho-1"
    cut, again = ward.out / f"{label}.wav", ward.out / f"{label}-2.wav"
    [emergency] = ward.out.glob("*-khan-cap-*.wav")
    on_air = (started(rows[1]) - started(rows[0])).total_seconds()
    assert wav_seconds(cut) == pytest.approx(on_air, abs=0.5), "cut when the emergency came"
    assert wav_seconds(emergency) == pytest.approx(float(str(rows[1]["duration_s"])), abs=0.5)
    full = float(str(rows[0]["duration_s"]))
    if policy == "drop":
        assert not again.exists()
        return
    assert started(rows[2]) >= dt.datetime.fromisoformat(str(rows[1]["ended"]))
    expected = full if policy == "restart" else full - wav_seconds(cut) + 2.0
    assert wav_seconds(again) == pytest.approx(expected, abs=0.7), f"{policy} after the emergency"


def test_kill_9_then_restart_within_grace_airs_late_once(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    start = ahead(20)
    ward.write(program("sang", start, "short"))
    down_across_the_start(ward, tmp_path, daemons, start, killed_before_s=6,
                          back_after_s=3)

    second = daemons.start(ward, tmp_path / "second.log")
    log = second.wait_for("airing it now", timeout=30)
    assert "while the daemon was down" in log
    [row] = ward.wait_rows(1, timeout=60)
    assert second.terminate() == 0
    assert row["outcome"] == "late"
    assert float(str(row["late_s"])) >= 3.0

    third = daemons.start(ward, tmp_path / "third.log")
    third.wait_for("scheduled: ", timeout=30)
    time.sleep(2)
    assert third.terminate() == 0
    assert len(ward.rows()) == 1, "never aired twice"
    assert len(ward.files()) == 1


def test_a_kill_right_after_a_catch_up_does_not_lose_the_broadcast(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    start = ahead(20)
    ward.write(program("sang", start, "short", extra="    grace: 2m\n"))
    down_across_the_start(ward, tmp_path, daemons, start, killed_before_s=6,
                          back_after_s=2)
    # Edited while the daemon was down: the catch-up renders it anew, so its row comes a good
    # second after it says it is airing it.
    script = ward.root / "scripts" / "short.md"
    script.write_text(script.read_text(encoding="utf-8") + "\nXin cảm ơn bà con đã lắng nghe.\n",
                      encoding="utf-8")

    second = daemons.start(ward, tmp_path / "second.log")
    second.wait_for("airing it now", timeout=30)
    second.kill()  # before the catch-up has written its row
    assert ward.rows() == []

    third = daemons.start(ward, tmp_path / "third.log")
    third.wait_for("airing it now", timeout=30)
    [row] = ward.wait_rows(1, timeout=60)
    assert third.terminate() == 0
    assert row["outcome"] == "late"
    assert not list(ward.out.glob(".*")), "no half-written files left"
    assert len(ward.files()) == 1


@pytest.mark.parametrize("policy", ["resume", "restart", "drop"])
def test_a_broadcast_cut_by_a_crash_follows_its_policy_when_the_daemon_comes_back(
    policy: str, ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    start = ahead(18)
    ward.write(program("sang", start, "long", extra=f"    on_interrupt: {policy}\n"))
    first = daemons.start(ward, tmp_path / "first.log")
    ward.wait_rows(1, timeout=60, final=False)
    time.sleep(4)
    first.kill()
    [row] = ward.rows()
    assert row["outcome"] == "airing", "the row was written before the crash"
    assert list(ward.out.glob(".*.part")), "the cut airing left its file half-written"

    second = daemons.start(ward, tmp_path / "second.log")
    second.wait_for("marked interrupted", timeout=30)
    rows = ward.wait_rows(1 if policy == "drop" else 2, timeout=90)
    second.wait_for("scheduled: ", timeout=30)
    assert second.terminate() == 0
    rows = ward.rows()
    assert rows[0]["outcome"] == "interrupted"
    assert "the daemon stopped during the broadcast" in str(rows[0]["reason"])
    label = f"{start:%Y%m%d-%H%M%S}-sang-khu-pho-1"
    cut, again = ward.out / f"{label}.wav", ward.out / f"{label}-2.wav"
    assert not list(ward.out.glob(".*")), "the half-written file was finished"
    assert 3.5 <= wav_seconds(cut) <= 6.0, "what aired before the crash is kept"
    if policy == "drop":
        assert len(rows) == 1
        assert not again.exists()
        return
    [(attempt, outcome, reason)] = [(r["attempt"], r["outcome"], r["reason"]) for r in rows[1:]]
    assert (attempt, outcome) == (2, "aired")
    assert f"{policy} after the daemon came back" in str(reason)
    full = float(str(rows[0]["duration_s"]))
    played = float(str(rows[0]["played_s"]))
    heard = wav_seconds(cut)
    assert heard - RESUME_BACK_S <= played <= heard + 0.5, (
        "the row says where it was cut, no later than what was heard and close enough that a"
        " resume going back RESUME_BACK_S skips nothing")
    expected = full if policy == "restart" else full - played + RESUME_BACK_S
    assert wav_seconds(again) == pytest.approx(expected, abs=0.7)


def test_a_broadcast_a_crash_caught_waiting_in_one_zone_still_airs_there(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    """The crash cuts a broadcast in one zone while, in another, it waits behind a longer one
    and has no row yet: back up, the daemon resumes the cut zone and still owes the other."""
    first_start = ahead(18)
    second_start = first_start + dt.timedelta(seconds=4)
    ward.write(
        program("dai", first_start, "long").replace("zones: [all]", "zones: [khu-pho-1]")
        + program("ngan", second_start, "short", priority="priority"),
        zone("khu-pho-1", "{type: file, folder: out}")
        + zone("khu-pho-2", "{type: file, folder: out}"),
    )
    first = daemons.start(ward, tmp_path / "first.log")
    first.wait_for("airing ngan@", timeout=90)
    time.sleep(1)
    first.kill()
    assert [(r["program_id"], r["zone"]) for r in ward.rows()] == [
        ("dai", "khu-pho-1"), ("ngan", "khu-pho-2")], "ngan waited in khu-pho-1, no row yet"

    second = daemons.start(ward, tmp_path / "second.log")
    ward.wait_rows(5, timeout=120)
    assert second.terminate() == 0
    aired = sorted((r["program_id"], r["zone"]) for r in ward.rows()
                   if r["outcome"] in ("aired", "late"))
    assert aired == [("dai", "khu-pho-1"), ("ngan", "khu-pho-1"), ("ngan", "khu-pho-2")], (
        "each broadcast airs once in each of its zones")


def test_a_broadcast_cut_by_a_crash_is_not_aired_again_after_its_grace(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    start = ahead(18)
    ward.write(program("sang", start, "long", extra="    grace: 2s\n    on_interrupt: resume\n"))
    first = daemons.start(ward, tmp_path / "first.log")
    ward.wait_rows(1, timeout=60, final=False)
    first.kill()
    time.sleep(4)

    second = daemons.start(ward, tmp_path / "second.log")
    log = second.wait_for("after its grace", timeout=30)
    second.wait_for("scheduled: ", timeout=30)
    time.sleep(2)
    assert second.terminate() == 0
    [row] = ward.rows()
    assert row["outcome"] == "interrupted"
    assert "will resume" not in log


def test_restart_after_grace_logs_the_broadcast_as_missed(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    start = ahead(15)
    ward.write(program("sang", start, "short", extra="    grace: 2s\n"))
    down_across_the_start(ward, tmp_path, daemons, start, killed_before_s=5,
                          back_after_s=5)

    second = daemons.start(ward, tmp_path / "second.log")
    log = second.wait_for("missed: sang@", timeout=30)
    assert second.terminate() == 0
    [row] = ward.rows()
    assert row["outcome"] == "missed"
    assert "the daemon was not running" in str(row["reason"])
    assert ward.files() == []
    assert "airing it now" not in log
    status = broadcast_cli("status", "--schedule", str(ward.schedule), "--state-dir",
                           str(ward.state))
    assert "Daemon: not running" in status.stdout
    assert "sang  khu-pho-1  missed: the daemon was not running" in status.stdout


def test_a_second_daemon_for_the_same_ward_refuses_to_start(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    ward.write(program("sang", ahead(7200), "short"))
    daemon = daemons.start(ward, tmp_path / "first.log")
    daemon.wait_for("scheduled: ", timeout=60)
    second = daemons.start(ward, tmp_path / "second.log")
    assert second.process.wait(timeout=60) == 1
    assert "another broadcast daemon" in second.text()
    assert "already airing for this ward" in second.text()
    assert daemon.process.poll() is None, "the first keeps running"
    assert daemon.terminate() == 0


def test_without_a_sound_device_the_daemon_says_so_and_keeps_running(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    cards = Path("/proc/asound/cards")
    if cards.exists() and "no soundcards" not in cards.read_text():
        pytest.skip("this machine has an ALSA sound card")
    start = ahead(15)
    ward.write(program("sang", start, "short"), zone("khu-pho-1", "{type: device}"))
    env = {"PULSE_SERVER": f"unix:{tmp_path / 'nobody-here'}", "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    daemon = daemons.start(ward, tmp_path / "daemon.log", env=env)
    log = daemon.wait_for("scheduled: ", timeout=60)
    assert "zone khu-pho-1: no sound device found" in log
    [row] = ward.wait_rows(1, timeout=60)
    assert daemon.process.poll() is None, "the daemon keeps running"
    assert daemon.terminate() == 0
    assert row["outcome"] == "failed"
    assert "no sound device found" in str(row["reason"])
    shown = broadcast_cli("status", "--schedule", str(ward.schedule), "--state-dir",
                          str(ward.state)).stdout
    [line] = [line for line in shown.splitlines() if line.startswith("  khu-pho-1: device")]
    assert f"FAILING since {started(row):%Y-%m-%d %H:%M:%S}" in line, shown
    assert "no sound device found" in line, "status shows the dead output, not 'none'"


def test_daemon_refuses_a_broken_schedule_with_line_numbers(ward: Ward) -> None:
    ward.write(program("sang", ahead(7200), "short").replace("    start:", "    strat:"))
    result = subprocess.run(
        [sys.executable, "-m", "broadcast", "run", "--schedule", str(ward.schedule)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    assert result.returncode == 78, "a code the service does not restart on: no crash loop"
    where = f"{ward.schedule}:{line_of(ward.schedule, 'strat:')}:5"
    assert f"{where}: unknown setting 'strat'. Did you mean 'start'?" in result.stderr
    assert "Nothing can be aired until the schedule is fixed" in result.stderr
    assert "Traceback" not in result.stderr


def test_amplifier_hooks_run_around_the_broadcast_and_every_airing_is_archived(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    start = ahead(15)
    relay = tmp_path / "relay.log"
    hooks = (
        f"    hooks:\n      before: 'echo \"on $BROADCAST_ZONE $BROADCAST_PHASE\" >> {relay}'\n"
        "      before_lead: 2s\n"
        f"      after: 'echo \"off $BROADCAST_PROGRAM\" >> {relay}; exit 4'\n"
        "      after_delay: 1s\n"
    )
    ward.write(program("sang", start, "short"),
               zone("khu-pho-1", "{type: file, folder: out}") + hooks)
    daemon = daemons.start(ward, tmp_path / "daemon.log")
    [row] = ward.wait_rows(1, timeout=60)
    log = daemon.wait_for("hook 'after' failed with exit code 4", timeout=20)
    assert daemon.terminate() == 0
    assert relay.read_text().splitlines() == ["on khu-pho-1 before", "off sang"]
    assert "hook 'before' ran" in log
    assert row["outcome"] == "aired"
    assert json.loads(str(ward.rows()[0]["problems"])) == [
        "hook 'after' failed with exit code 4"], "a failed hook is on the as-run log"

    listing = broadcast_cli("archive", "--schedule", str(ward.schedule),
                            "--date", f"{start:%Y-%m-%d}")
    assert listing.returncode == 0, listing.stderr
    assert "sang" in listing.stdout and "aired" in listing.stdout
    [archived] = (ward.root / "archive").rglob("*-sang.mp3")
    assert archived.read_bytes() == Path(str(row["audio"])).read_bytes()
    record = json.loads(archived.with_name(archived.name + ".json").read_text())["record"]
    assert record["zone"] == "khu-pho-1"
    assert record["items"][0]["approved_by"] == "Trần Văn Minh, Phó Chủ tịch UBND phường"
    modes = {path.name: oct(path.stat().st_mode & 0o777) for path in (
        ward.state, ward.state / "as-run.sqlite", ward.state / "status.json", archived.parent,
        archived, archived.with_name(archived.name + ".json"))}
    assert modes == {ward.state.name: "0o700", "as-run.sqlite": "0o640",
                     "status.json": "0o640", archived.parent.name: "0o750",
                     archived.name: "0o640", f"{archived.name}.json": "0o640"}, \
        "nothing the daemon keeps is readable by every user"


def test_an_unapproved_script_is_refused_and_the_fallback_airs_instead(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    (ward.root / "scripts" / "draft.md").write_text(
        "---\ntitle: Bản nháp\n---\n\nBản nháp chưa được duyệt, không được phát.\n",
        encoding="utf-8")
    start = ahead(15)
    ward.write(program("sang", start, "draft",
                       extra="    fallback: {script: scripts/short.md}\n"))
    daemon = daemons.start(ward, tmp_path / "daemon.log")
    [row] = ward.wait_rows(1, timeout=60)
    assert daemon.terminate() == 0
    assert row["outcome"] == "refused"
    assert "not approved" in str(row["reason"])
    assert "The fallback (script scripts/short.md) aired instead." in str(row["reason"])
    items = json.loads(str(row["items"]))
    assert [Path(item["script"]).name for item in items] == ["short.md"], "only approved words"
    [aired] = ward.files()
    assert same_sound(row["audio"], aired) > 0.95


def test_a_schedule_saved_in_two_steps_is_not_taken_for_a_broken_edit(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    ward.write(program("sang", ahead(7200), "short"))
    daemon = daemons.start(ward, tmp_path / "daemon.log")
    daemon.wait_for("scheduled: ", timeout=60)
    (ward.root / "broadcast.log").write_text("a log written beside the schedule\n")
    (ward.root / "scripts" / ".short.md.swp").write_bytes(b"an editor's swap file")
    time.sleep(2.5)
    assert "files changed" not in daemon.text(), "only edits to the ward's files count"
    text = ward.schedule.read_text(encoding="utf-8")
    edited = text + program("chieu", ahead(9000), "long")
    with ward.schedule.open("w", encoding="utf-8") as handle:
        handle.write(edited[: len(edited) // 2])
        handle.flush()
        time.sleep(0.3)
        handle.write(edited[len(edited) // 2:])
    log = daemon.wait_for("reloaded: ", timeout=20)
    assert daemon.terminate() == 0
    assert "cannot be used" not in log


def test_an_edited_script_is_rendered_again_and_the_new_words_air(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    start = ahead(25)
    ward.write(program("sang", start, "short"))
    daemon = daemons.start(ward, tmp_path / "daemon.log")
    daemon.wait_for("ready 1/", timeout=60)
    script = ward.root / "scripts" / "short.md"
    script.write_text(SCRIPT.format(title="Bản tin short", body=LONG), encoding="utf-8")
    log = daemon.wait_for("reloaded: 0 broadcasts added, 0 removed, 0 changed", timeout=20)
    assert "files changed: short.md" in log
    [row] = ward.wait_rows(1, timeout=80)
    assert daemon.terminate() == 0
    [item] = json.loads(str(row["items"]))
    assert item["content_hash"] == content_hash("Bản tin short", LONG)
    assert float(str(row["duration_s"])) > 12, "the longer text aired, not the old render"


def test_icecast_receivers_hear_the_broadcast_and_a_broken_output_does_not_stop_the_others(
    icecast: IcecastServer, ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    start = ahead(18)
    outputs = (
        f"{{type: icecast, mount: '127.0.0.1:{icecast.port}/khu-pho-1', "
        "password_env: WARD_ICECAST_PASSWORD}, "
        f"{{type: icecast, mount: '127.0.0.1:{icecast.port}/khu-pho-9', "
        "password_env: NOT_SET_ANYWHERE}, {type: file, folder: out}"
    )
    ward.write(program("sang", start, "short"), zone("khu-pho-1", outputs))
    env = {**os.environ, "WARD_ICECAST_PASSWORD": icecast.password}
    env.pop("NOT_SET_ANYWHERE", None)
    daemon = daemons.start(ward, tmp_path / "daemon.log", env=env)
    log = daemon.wait_for("ready 1/", timeout=60)
    assert "NOT_SET_ANYWHERE that should hold the source password is not set" in log
    listener = Listener.once_up(icecast, "khu-pho-1")
    assert listener is not None, "the mount is up before the broadcast, for receivers to join"
    [row] = ward.wait_rows(1, timeout=60)
    time.sleep(1.5)
    heard = listener.stop()
    assert daemon.terminate() == 0
    assert icecast.password not in daemon.text()

    assert row["outcome"] == "aired"
    carried = {o["output"]: o["ok"] for o in json.loads(str(row["outputs"]))}
    assert carried == {f"icecast 127.0.0.1:{icecast.port}/khu-pho-1": True,
                       f"icecast 127.0.0.1:{icecast.port}/khu-pho-9": False,
                       f"file {ward.out}": True}
    assert "NOT_SET_ANYWHERE" in json.dumps(json.loads(str(row["problems"])))
    received = tmp_path / "received.mp3"
    received.write_bytes(heard)
    assert same_sound(row["audio"], received) > 0.9, "the receiver got the program"


def test_a_restart_with_a_broken_edit_airs_the_last_good_schedule(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    start = ahead(20)
    ward.write(program("sang", start, "short"))
    first = daemons.start(ward, tmp_path / "first.log")
    first.wait_for("scheduled: ", timeout=60)
    assert first.terminate() == 0
    error = break_days(ward)

    second = daemons.start(ward, tmp_path / "second.log")
    log = second.wait_for("Starting with the last good schedule instead", timeout=60)
    assert error in log
    [row] = ward.wait_rows(1, timeout=60)
    assert second.terminate() == 0
    assert row["outcome"] == "aired"


def _with_engine(ward: Ward, tts: str) -> None:
    text = ward.schedule.read_text(encoding="utf-8")
    ward.schedule.write_text(text.replace("  engine: espeak\n", tts), encoding="utf-8")


@pytest.mark.parametrize("google", ["refused", "black-holed"])
def test_with_google_out_of_reach_a_script_saved_just_before_its_time_airs_on_time(
    google: str, ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        port = hole.getsockname()[1]
        if google == "black-holed":
            hole.listen(64)  # connections are taken and never answered
        else:
            hole.close()  # nothing listens: connections are refused
        proxy = f"http://127.0.0.1:{port}"
        env = os.environ | {"https_proxy": proxy, "HTTPS_PROXY": proxy, "no_proxy": ""}
        start = ahead(45)
        ward.write(program("sang", start, "short"))
        _with_engine(ward, "  engine: gtts\n  fallback: [espeak]\n")
        daemon = daemons.start(ward, tmp_path / "daemon.log", env)
        sleep_until(start - dt.timedelta(seconds=16))
        body = "Bà con chú ý: lịch cắt nước được dời sang sáng thứ bảy."
        (ward.root / "scripts" / "short.md").write_text(
            SCRIPT.format(title="Bản tin short", body=body), encoding="utf-8")
        [row] = ward.wait_rows(1, timeout=90)
        assert daemon.terminate() == 0
    assert (row["outcome"], row["engine"]) == ("aired", "espeak-ng:vi:rate=150:pitch=50")
    assert float(str(row["late_s"])) <= 1.0
    [item] = json.loads(str(row["items"]))
    assert item["content_hash"] == content_hash("Bản tin short", body), "the newest words"


@pytest.mark.parametrize("damage", ["garbage", "empty", "half-written", "removed", "unapproved"])
def test_a_script_broken_at_cue_time_airs_its_last_good_version(
    damage: str, ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    start = ahead(25)
    ward.write(program("sang", start, "short"))
    script = ward.root / "scripts" / "short.md"
    good = script.read_text(encoding="utf-8")
    daemon = daemons.start(ward, tmp_path / "daemon.log")
    daemon.wait_for("ready 1/", timeout=60)
    sleep_until(start - dt.timedelta(seconds=4))
    if damage == "garbage":
        script.write_bytes(os.urandom(3000))
    elif damage == "empty":
        script.write_bytes(b"")
    elif damage == "half-written":
        script.write_text(good[:30], encoding="utf-8")
    elif damage == "removed":
        script.unlink()
    else:
        script.write_text(good.replace("approved_by:", "reviewer:").replace("thử", "mới"),
                          encoding="utf-8")
    [row] = ward.wait_rows(1, timeout=60)
    log = daemon.wait_for("its last good version", timeout=10)
    assert daemon.terminate() == 0
    assert row["outcome"] == "aired"
    assert float(str(row["late_s"])) <= 1.0
    [item] = json.loads(str(row["items"]))
    assert item["content_hash"] == content_hash("Bản tin short", SHORT), "the approved words"
    [problem] = json.loads(str(row["problems"]))
    assert problem.startswith("short.md cannot be aired as it is now (")
    assert "its last good version" in log


def test_a_schedule_that_cannot_be_read_is_reported_and_the_last_good_one_airs(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    start = ahead(30)
    ward.write(program("sang", start, "short"))
    daemon = daemons.start(ward, tmp_path / "daemon.log")
    daemon.wait_for("scheduled: ", timeout=30)
    ward.schedule.unlink()
    ward.schedule.symlink_to("/dev/zero")
    daemon.wait_for("larger than 1 MB", timeout=20)
    status = broadcast_cli("status", "--state-dir", str(ward.state))
    [row] = ward.wait_rows(1, timeout=60)
    assert daemon.terminate() == 0
    assert "larger than 1 MB" in status.stdout, status.stdout + status.stderr
    assert row["outcome"] == "aired"
