"""Live control of a real daemon through its socket: the CLI as an operator runs it, and raw
protocol clients (a web console, another user) where the CLI cannot go.

What came out is checked where people would notice: the zones' file outputs and PulseAudio
sinks, an Icecast listener, the rows of the as-run log (plain SQL), and the replies.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.audio_tools import decode, raw_s16
from tests.conftest import REPO, broadcast_cli
from tests.daemon_tools import (
    TZ,
    DaemonProcess,
    Daemons,
    Ward,
    ahead,
    program,
    same_sound,
    sleep_until,
    started,
    wav_seconds,
    zone,
)
from tests.icecast import IcecastServer, Listener
from tests.pulse import PulseServer

NOTICE = "Kính thưa bà con! Chiều nay phường phun thuốc diệt muỗi tại khu phố 1, bà con đóng cửa."
ME = getpass.getuser()
RAW_CLIENT = """
import socket, sys
client = socket.socket(socket.AF_UNIX)
try:
    client.connect(sys.argv[1])
except OSError as exc:
    print("connect:", type(exc).__name__)
    sys.exit(3)
client.sendall(sys.argv[2].encode() + b"\\n")
client.shutdown(socket.SHUT_WR)
print(client.recv(65536).decode())
"""
"""A client in the standard library only, as a web console or another user's tool would be."""


@pytest.fixture
def ward(tmp_path: Path) -> Iterator[Ward]:
    """A ward in a folder every user may enter (so the socket's own mode decides who may use
    it), removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="broadcast-control-"))
    root.chmod(0o755)
    made = Ward(root / "ward")
    (made.root / "scripts" / "unapproved.md").write_text(
        "---\ntitle: Chưa duyệt\n---\n\nBản tin này chưa được duyệt.\n", encoding="utf-8")
    try:
        yield made
    finally:
        shutil.rmtree(root, ignore_errors=True)


def far_program() -> str:
    """A program well outside the test's minutes, so the schedule has one."""
    return program("sang", ahead(4 * 3600), "short")


def ask(ward: Ward, *args: str) -> subprocess.CompletedProcess[str]:
    return broadcast_cli(*args, "--schedule", str(ward.schedule), "--state-dir",
                         str(ward.state), timeout=120)


def start(ward: Ward, daemons: Daemons, tmp_path: Path,
          env: dict[str, str] | None = None) -> DaemonProcess:
    daemon = daemons.start(ward, tmp_path / "daemon.log", env=env)
    daemon.wait_for("control socket", timeout=60)
    return daemon


def raw(ward: Ward, message: str | bytes, user: str | None = None) -> str:
    """Send ``message`` on the socket with the standard-library client (as ``user``)."""
    text = message.decode() if isinstance(message, bytes) else message
    command = ["/usr/bin/python3", "-c", RAW_CLIENT, str(ward.state / "control.sock"), text]
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    return result.stdout.strip()


def frequencies(path: Path) -> set[int]:
    """The strongest pitches (Hz, to 10 Hz) in a file."""
    samples = decode(path)
    spectrum = np.abs(np.fft.rfft(samples))
    hz = np.fft.rfftfreq(len(samples), 1 / 48000)
    strongest = hz[np.argsort(spectrum)[-40:]]
    return {int(round(f / 10) * 10) for f in strongest}


def test_say_airs_the_typed_words_and_logs_who_asked_and_what_they_typed(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    ward.write(far_program(), zone("khu-pho-1", "{type: file, folder: out}")
               + zone("khu-pho-2", "{type: file, folder: out2}"))
    daemon = start(ward, daemons, tmp_path)
    said = ask(ward, "say", NOTICE, "--zone", "khu-pho-1")
    assert said.returncode == 0, said.stderr
    assert said.stdout.startswith("#1: typed notice") and "khu-pho-1, now" in said.stdout
    chime, row = ward.wait_rows(2, timeout=60)
    assert daemon.terminate() == 0

    assert [(r["program_id"], r["outcome"]) for r in (chime, row)] == [
        ("say-chime", "aired"), ("say", "aired")], "the chime while the words were rendered"
    assert (row["zone"], row["origin"], row["requested_by"]) == ("khu-pho-1", "manual", ME)
    request = json.loads(str(row["request"]))
    assert request == {"id": 1, "command": "say", "text": NOTICE, "zones": ["khu-pho-1"]}
    assert json.loads(str(chime["request"])) == request
    [item] = [i for i in json.loads(str(row["items"])) if i["kind"] == "bulletin"]
    assert item["approved_by"] == f"{ME} (typed notice)"
    words = next(ward.out.glob("*-say-1-khu-pho-1.wav"))
    assert same_sound(row["audio"], words) > 0.95, "the zone aired the rendered notice"
    assert wav_seconds(words) > 5, "the whole notice"
    gap = (started(row) - dt.datetime.fromisoformat(str(chime["ended"]))).total_seconds()
    assert abs(gap) < 1.0, "the words follow the chime"
    assert not (ward.root / "out2").exists(), "only the zone asked for"


def test_a_manual_play_waits_its_turn_and_an_emergency_cuts_in_with_its_alert_tone(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    first = ahead(25)
    ward.write(program("thuong", first, "long", extra="    on_interrupt: restart\n"))
    daemon = start(ward, daemons, tmp_path)
    sleep_until(first + dt.timedelta(seconds=2))
    played = ask(ward, "play", str(ward.root / "scripts" / "short.md"))
    assert played.returncode == 0, played.stderr
    time.sleep(2)
    urgent = ask(ward, "emergency", "--text", "Khẩn cấp! Bà con chú ý, nước sông đang lên.")
    assert urgent.returncode == 0, urgent.stderr
    rows = ward.wait_rows(5, timeout=120)
    assert daemon.terminate() == 0

    outcomes = [(r["program_id"], r["attempt"], r["outcome"]) for r in rows]
    assert outcomes == [("thuong", 1, "interrupted"), ("emergency-alert", 1, "aired"),
                        ("emergency", 1, "aired"), ("thuong", 2, "aired"),
                        ("manual", 1, "late")], "emergency first, then the cut one, then ours"
    assert rows[0]["reason"].startswith("cut by emergency")  # type: ignore[union-attr]
    assert "waited for" in str(rows[4]["reason"])
    assert [r["origin"] for r in rows] == ["schedule", "manual", "manual", "schedule", "manual"]
    alert = next(ward.out.glob("*-emergency-alert-*.wav"))
    assert {880, 660} <= frequencies(alert), "the alert is the hi-lo tone"
    assert not {880, 660} <= frequencies(next(ward.out.glob("*-thuong-*-2.wav")))
    message_start = started(rows[2])
    alert_end = dt.datetime.fromisoformat(str(rows[1]["ended"]))
    assert abs((message_start - alert_end).total_seconds()) < 1.5, "the message follows the tone"


def test_stop_silences_the_sink_and_skip_goes_on_to_the_next(
    pulse: PulseServer, ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    ward.write(far_program(), zone("khu-pho-1", "{type: device, sink: zone1}, "
                                                "{type: file, folder: out}"))
    daemon = start(ward, daemons, tmp_path, env=pulse.env)
    long_script = str(ward.root / "scripts" / "long.md")
    short_script = str(ward.root / "scripts" / "short.md")
    for script in (long_script, short_script):
        assert ask(ward, "play", script).returncode == 0
    time.sleep(3)
    skipped = ask(ward, "skip")
    assert "Skipped: Bản tin long in khu-pho-1" in skipped.stdout, skipped.stderr
    ward.wait_rows(2, timeout=60)

    for script in (long_script, short_script):
        assert ask(ward, "play", script).returncode == 0
    recording = pulse.record("zone1", tmp_path / "zone1.raw")
    ward.wait_rows(3, timeout=60, final=False)  # the long one is on air (even if it began late)
    time.sleep(2.5)
    stopped = ask(ward, "stop")
    stop_returned = time.time()
    assert "Stopped: Bản tin long in khu-pho-1. 1 waiting broadcast(s) dropped." in \
        stopped.stdout, stopped.stderr
    rows = ward.wait_rows(4, timeout=30)
    time.sleep(3)
    samples = raw_s16(recording.stop())
    assert daemon.terminate() == 0

    assert [(r["outcome"], r["reason"]) for r in ward.rows()] == [
        ("interrupted", f"skipped by {ME}"), ("late", rows[1]["reason"]),
        ("interrupted", f"stopped by {ME}"), ("skipped", f"stopped by {ME}")]
    assert float(str(rows[0]["played_s"])) < float(str(rows[0]["duration_s"])) - 5
    assert float(str(rows[1]["played_s"])) == pytest.approx(float(str(rows[1]["duration_s"])),
                                                            abs=1.0), "the next one aired whole"
    # Where the sound was is measured, not assumed: on a loaded machine the recorder and the
    # sink may start a little late, so no fixed window before the stop is sure to hold sound.
    loud = np.flatnonzero(np.abs(samples) > 1e-3)
    assert loud.size, "it was on"
    last_sound = recording.began + loud[-1] / 48000
    assert last_sound < stop_returned + 0.3, "silence after the stop"


def test_at_and_repeat_air_at_their_times_and_a_cancelled_request_does_not(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    ward.write(far_program())
    daemon = start(ward, daemons, tmp_path)
    when = ahead(12)
    short_script = str(ward.root / "scripts" / "short.md")
    booked = ask(ward, "play", short_script, "--at", f"{when:%H:%M:%S}", "--repeat", "2",
                 "--every", "12s")
    assert booked.returncode == 0, booked.stderr
    assert f"{when:%H:%M:%S}, {when + dt.timedelta(seconds=12):%H:%M:%S}" in booked.stdout
    other = ask(ward, "say", NOTICE, "--at", f"{when + dt.timedelta(seconds=6):%H:%M:%S}")
    assert other.returncode == 0, other.stderr
    listed = ask(ward, "queue")
    assert f"#1 play script scripts/short.md by {ME} on khu-pho-1" in listed.stdout
    assert f"#2 say typed notice ({len(NOTICE)} characters)" in listed.stdout
    cancelled = ask(ward, "cancel", "2")
    assert cancelled.stdout.strip() == "Request #2 cancelled.", cancelled.stderr
    assert "#2 say" not in ask(ward, "queue").stdout
    rows = ward.wait_rows(2, timeout=60)
    assert daemon.terminate() == 0

    assert len(ward.rows()) == 2, "the cancelled request never aired (between the two)"
    for row, due in zip(rows, (when, when + dt.timedelta(seconds=12)), strict=True):
        assert row["outcome"] == "aired"
        assert abs((started(row) - due).total_seconds()) < 1.0
        assert json.loads(str(row["request"]))["id"] == 1


def test_bad_requests_get_one_line_and_change_nothing_and_quiet_hours_let_only_emergencies(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    now = dt.datetime.now(TZ)
    hour = dt.timedelta(hours=1)
    ward.write(program("sang", ahead(4 * 3600), "short", priority="emergency"))
    quiet = f'{{start: "{now - hour:%H:%M}", end: "{now + hour:%H:%M}"}}'
    ward.schedule.write_text(ward.schedule.read_text(encoding="utf-8").replace(
        '{start: "00:00", end: "00:00"}', quiet), encoding="utf-8")
    daemon = start(ward, daemons, tmp_path)
    past = now - dt.timedelta(minutes=5)
    refused = {
        ("say", NOTICE, "--zone", "nope"): "Error: there is no zone 'nope'. Zones: khu-pho-1.",
        ("say", NOTICE, "--group", "nope"): "Error: there is no group 'nope'. Groups: all.",
        ("play", str(ward.root / "scripts" / "unapproved.md")): "this script is not approved",
        ("play", "/etc/hostname"): "is outside the ward folder",
        ("play", "no-such-program"): "'no-such-program' is not a program of the schedule",
        ("say", "... !!! ---", "--priority", "emergency"): "the text has nothing to read aloud",
        ("say", NOTICE): "is inside the quiet hours",
        ("cancel", "7"): "there is no request #7",
    }
    if past.date() == now.date():
        refused[("play", "sang", "--at", f"{past:%H:%M}")] = "has already passed today"
    for args, words in refused.items():
        result = ask(ward, *args)
        assert result.returncode == 1 and words in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "not JSON" in raw(ward, "{play")
    assert "version 2 is not spoken here" in raw(ward, json.dumps({"version": 2}))
    assert "unknown command 'format'" in raw(ward, json.dumps({"version": 1,
                                                               "command": "format"}))
    assert "repeat" in raw(ward, json.dumps({"version": 1, "command": "play", "target": "sang",
                                             "repeat": 1000}))
    assert "larger than 64 kB" in raw(ward, json.dumps({"version": 1, "command": "say",
                                                        "text": "a" * 70000}))
    with socket.socket(socket.AF_UNIX) as silent:
        silent.connect(str(ward.state / "control.sock"))
        silent.settimeout(20)
        reply = json.loads(silent.recv(65536))
    assert reply == {"version": 1, "ok": False,
                     "error": "no complete request came within 5 s of connecting."}
    assert ward.rows() == [], "nothing refused went on the air or the log"

    urgent = ask(ward, "emergency", "sang")
    assert urgent.returncode == 0, urgent.stderr
    rows = ward.wait_rows(2, timeout=60)
    assert daemon.terminate() == 0
    assert [(r["program_id"], r["outcome"]) for r in rows] == [("emergency-alert", "aired"),
                                                               ("emergency", "aired")]
    assert json.loads(str(rows[1]["request"]))["target"] == "sang"


def test_the_socket_lets_in_only_the_control_group_and_say_only_the_users_named(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    ward.write(far_program())
    daemon = start(ward, daemons, tmp_path)
    assert oct((ward.state / "control.sock").stat().st_mode & 0o777) == "0o600"
    queue = json.dumps({"version": 1, "command": "queue"})
    assert raw(ward, queue, user="nobody") == "connect: PermissionError"
    assert '"ok": true' in raw(ward, queue)
    assert daemon.terminate() == 0

    ward.write(far_program(), extra='control: {group: nogroup, mode: "0660", say: [root]}\n')
    daemon = start(ward, daemons, tmp_path)
    assert oct((ward.state / "control.sock").stat().st_mode & 0o777) == "0o660"
    said = json.loads(raw(ward, json.dumps({"version": 1, "command": "say", "text": NOTICE}),
                          user="nobody"))
    assert said["ok"] is False and said["error"].startswith("user nobody may not air typed")
    played = json.loads(raw(ward, json.dumps({
        "version": 1, "command": "play", "target": str(ward.root / "scripts" / "short.md")}),
        user="nobody"))
    assert played["ok"] is True, played
    [row] = ward.wait_rows(1, timeout=60)
    assert daemon.terminate() == 0
    assert (row["requested_by"], row["outcome"]) == ("nobody", "aired")


def test_without_a_daemon_commands_say_so_and_a_stale_socket_is_replaced(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    ward.write(far_program())
    result = ask(ward, "stop")
    assert result.returncode == 1
    assert "the broadcast daemon is not running for this ward" in result.stderr
    assert "Start it with 'broadcast run'" in result.stderr
    assert "only a script or audio file" in ask(ward, "play", "sang").stderr

    daemon = start(ward, daemons, tmp_path)
    daemon.kill()
    assert (ward.state / "control.sock").exists(), "a killed daemon leaves its socket behind"
    assert "not running" in ask(ward, "queue").stderr
    daemon = start(ward, daemons, tmp_path)
    listed = ask(ward, "queue")
    assert listed.returncode == 0 and "khu-pho-1: nothing" in listed.stdout, listed.stderr
    assert daemon.terminate() == 0
    assert not (ward.state / "control.sock").exists(), "a daemon that stops removes it"


def test_a_direct_play_holds_the_ward_so_a_daemon_starting_meanwhile_refuses(
    pulse: PulseServer, ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    ward.write(far_program())
    env = {**pulse.env, "BROADCAST_STATE_DIR": str(ward.state)}
    direct = subprocess.Popen(
        [sys.executable, "-m", "broadcast", "play", str(ward.root / "scripts" / "long.md"),
         "--schedule", str(ward.schedule), "--engine", "espeak"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    lock = ward.state / "daemon.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
            lock.exists() and "broadcast play" in lock.read_text(encoding="utf-8")):
        time.sleep(0.1)
    refused = daemons.start(ward, tmp_path / "refused.log", env=pulse.env)
    assert refused.process.wait(timeout=60) == 1
    assert f"another broadcast play (PID {direct.pid}) is already airing for this ward" in \
        refused.text()
    out, err = direct.communicate(timeout=120)
    assert direct.returncode == 0, err
    assert "The daemon is not running: playing directly." in err
    assert "Done: played" in out


def test_a_say_on_an_icecast_zone_reaches_its_receivers(
    icecast: IcecastServer, ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    mount = (f"{{type: icecast, mount: '127.0.0.1:{icecast.port}/khu-pho-1', "
             "password_env: WARD_ICECAST_PASSWORD}")
    ward.write(far_program(), zone("khu-pho-1", mount))
    env = {**os.environ, "WARD_ICECAST_PASSWORD": icecast.password}
    daemon = start(ward, daemons, tmp_path, env=env)
    listener = Listener.once_up(icecast, "khu-pho-1")
    assert listener is not None
    assert ask(ward, "say", NOTICE).returncode == 0
    _, row = ward.wait_rows(2, timeout=60)
    time.sleep(1.5)
    heard = listener.stop()
    assert daemon.terminate() == 0
    received = tmp_path / "received.mp3"
    received.write_bytes(heard)
    assert row["outcome"] == "aired" and row["requested_by"] == ME
    assert same_sound(row["audio"], received) > 0.9, "the receivers got the notice"


def test_a_request_for_later_survives_a_crash_and_airs_at_its_time(
    ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    ward.write(far_program())
    first = start(ward, daemons, tmp_path)
    when = ahead(25)
    short_script = str(ward.root / "scripts" / "short.md")
    booked = ask(ward, "play", short_script, "--at", f"{when:%H:%M:%S}")
    assert booked.returncode == 0, booked.stderr
    first.kill()
    time.sleep(2)
    second = daemons.start(ward, tmp_path / "second.log")
    second.wait_for("control socket", timeout=60)
    assert f"#1 play script scripts/short.md by {ME} on khu-pho-1 at {when:%H:%M:%S}" in \
        ask(ward, "queue").stdout
    [row] = ward.wait_rows(1, timeout=60)
    assert second.terminate() == 0
    assert (row["outcome"], row["requested_by"]) == ("aired", ME)
    assert abs((started(row) - when).total_seconds()) < 1.0
    assert json.loads(str(row["request"]))["id"] == 1
