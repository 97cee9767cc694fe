"""Playback on a real (private) PulseAudio server: what the sink received is what was rendered."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.audio_tools import best_alignment, decode, envelope, integrated_lufs, raw_s16
from tests.conftest import broadcast_cli
from tests.icecast import IcecastServer, Listener
from tests.pulse import PulseServer

ANNOUNCEMENT = """---
title: Thông báo ngắn
category: thông báo
author: Lê Thị Mai
approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường
---

Kính thưa bà con! Sáng thứ 7 ngày 6/6/2026, khu phố 2 tạm ngừng cấp điện từ 7h30 đến 11h00.

Mọi thắc mắc xin gọi số 0263.3822.123. Xin cảm ơn bà con.
"""


@pytest.fixture(scope="module")
def short_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scripts") / "cat-dien.md"
    path.write_text(ANNOUNCEMENT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rendered(short_script: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = short_script.with_suffix(".mp3")
    # Module fixtures come before each test's own state folder: give this one its own.
    state = {**os.environ, "BROADCAST_STATE_DIR": str(tmp_path_factory.mktemp("state"))}
    result = broadcast_cli("render", str(short_script), "-o", str(out), "--engine", "espeak",
                           env=state)
    assert result.returncode == 0, result.stderr
    return out


def sounding_span(samples: np.ndarray, floor: float = 1e-3) -> float:
    """Seconds from the first to the last sample above ``floor``."""
    loud = np.flatnonzero(np.abs(samples) > floor)
    return 0.0 if len(loud) == 0 else (loud[-1] - loud[0]) / 48000


def test_play_audio_file_reaches_the_sink_intact(
    pulse: PulseServer, rendered: Path, tmp_path: Path
) -> None:
    recording = pulse.record("zone1", tmp_path / "zone1.raw")
    result = broadcast_cli("play", str(rendered), "--sink", "zone1", env=pulse.env)
    time.sleep(0.5)
    recorded = raw_s16(recording.stop())
    assert result.returncode == 0, result.stderr
    assert "Done: played" in result.stdout

    reference = decode(rendered)
    assert sounding_span(recorded) == pytest.approx(sounding_span(reference), abs=0.3), (
        "the whole bulletin played, not a part of it"
    )
    offset, score = best_alignment(envelope(reference), envelope(recorded))
    assert score > 0.95, f"recorded audio does not match the rendered file (r={score:.3f})"
    aligned = recorded[offset * 480 : offset * 480 + len(reference)]
    assert integrated_lufs(aligned) == pytest.approx(integrated_lufs(reference), abs=0.5)


def test_play_script_renders_then_plays_on_the_chosen_sink(
    pulse: PulseServer, short_script: Path, tmp_path: Path
) -> None:
    wanted = pulse.record("zone2", tmp_path / "zone2.raw")
    other = pulse.record("zone1", tmp_path / "zone1.raw")
    result = broadcast_cli(
        "play", str(short_script), "--sink", "zone2", "--engine", "espeak", env=pulse.env
    )
    time.sleep(0.5)
    on_zone2 = raw_s16(wanted.stop())
    on_zone1 = raw_s16(other.stop())
    assert result.returncode == 0, result.stderr
    assert integrated_lufs(on_zone2) == pytest.approx(-16.0, abs=1.5)
    assert np.abs(on_zone1).max() < 1e-3, "nothing leaks onto the other zone's sink"


def test_play_without_a_sound_device_says_so(tmp_path: Path, rendered: Path) -> None:
    if Path("/proc/asound/cards").exists() and "no soundcards" not in Path(
        "/proc/asound/cards"
    ).read_text():
        pytest.skip("this machine has an ALSA sound card")
    env = {"PULSE_SERVER": f"unix:{tmp_path / 'nobody-here'}", "PATH": "/usr/bin:/bin"}
    result = broadcast_cli("play", str(rendered), env=env)
    assert result.returncode == 1
    assert "no sound device found" in result.stderr
    assert "Traceback" not in result.stderr


def test_play_on_several_outputs_named_on_the_command_line(
    icecast: IcecastServer, rendered: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "line-out"
    mount = "thu-tay"
    result_box: list[subprocess.CompletedProcess[str]] = []
    address = f"icecast://source@127.0.0.1:{icecast.port}/{mount}"
    player = threading.Thread(target=lambda: result_box.append(broadcast_cli(
        "play", str(rendered), "--output", f"file:{folder}", "--output", address,
        "--output", "file:/proc/no-such-place", "--password-env", "SOURCE_PASSWORD",
        env={**os.environ, "SOURCE_PASSWORD": icecast.password})))
    player.start()
    listener = None
    deadline = time.monotonic() + 20
    while listener is None and time.monotonic() < deadline:
        try:
            listener = Listener(icecast, mount)
        except (RuntimeError, OSError):
            time.sleep(0.05)
    player.join(timeout=120)
    assert listener is not None
    heard = listener.stop()
    [result] = result_box
    assert result.returncode == 0, result.stderr
    assert "Warning: file /proc/no-such-place: cannot create the folder" in result.stderr
    assert icecast.password not in result.stdout + result.stderr
    assert "password is on the command line" not in result.stderr
    assert f"on file {folder}, icecast 127.0.0.1:{icecast.port}/{mount}." in result.stdout

    [written] = folder.glob("*.wav")
    program = envelope(decode(rendered))
    assert best_alignment(program, envelope(decode(written)))[1] > 0.95
    received = tmp_path / "received.mp3"
    received.write_bytes(heard)
    heard_envelope = envelope(decode(received))
    pieces = [program[at:at + 150] for at in range(0, len(program) - 150, 150)]
    found = [best_alignment(piece, heard_envelope)[1] > 0.9 for piece in pieces]
    # Piece by piece: a busy machine may make the stream skip a moment, which must not hide
    # whether the listener heard the program.
    assert sum(found) >= 0.8 * len(pieces), "the Icecast listener heard the program"


def test_play_refuses_an_output_it_does_not_know(rendered: Path) -> None:
    result = broadcast_cli("play", str(rendered), "--output", "speaker:1")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: 'speaker:1' is not an output. Write device, device:SINK, file:FOLDER or "
        "icecast://USER:PASSWORD@HOST:PORT/MOUNT.")


def test_a_password_on_the_command_line_is_warned_about_and_a_shared_file_refused(
    rendered: Path, tmp_path: Path
) -> None:
    inline = broadcast_cli("play", str(rendered), "--output",
                           "icecast://source:hunter2@127.0.0.1:9/thu")
    assert ("Warning: the Icecast password is on the command line, where other users of this "
            "machine can see it. Use --password-env or --password-file.") in inline.stderr
    shared = tmp_path / "password"
    shared.write_text("hunter2\n", encoding="utf-8")
    shared.chmod(0o644)
    refused = broadcast_cli("play", str(rendered), "--output", "icecast://source@127.0.0.1:9/thu",
                            "--password-file", str(shared))
    assert refused.returncode == 1
    assert f"Error: {shared} may be read by other users. Protect it first: chmod 600" \
        in refused.stderr
    twice = broadcast_cli("play", str(rendered), "--output", "icecast://source:a@127.0.0.1:9/thu",
                          "--password-env", "HOME")
    assert "the password is given twice. Take it out of the address." in twice.stderr
