"""The Icecast output against a real icecast2, heard by a real HTTP listener.

What the listener receives is decoded with ffmpeg and compared with what was written by the shape
of its loudness over time, so a test passes only if the program really went through.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from broadcast.outputs.base import BYTES_PER_SECOND, SAMPLE_RATE, OutputError
from broadcast.outputs.icecast import IcecastMount
from broadcast.schedule import IcecastOutput
from tests.audio_tools import best_alignment, decode, envelope
from tests.icecast import IcecastServer, Listener, start_icecast

LOGGER = "broadcast.outputs.icecast"
SPEECH_A = ("Thông báo của Ủy ban nhân dân phường: sáng thứ bảy tuần này, trạm y tế phường tổ "
            "chức khám sức khỏe miễn phí cho người lao động.")
SPEECH_B = "Đề nghị bà con đến đúng giờ và mang theo căn cước công dân."
SILENT_RMS = 1e-3


def _speech(folder: Path, name: str, text: str) -> bytes:
    """Real program-like audio: Vietnamese speech from espeak-ng, as the outputs take it."""
    wav = folder / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), text], check=True)
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(wav), "-f", "s16le", "-ar", str(SAMPLE_RATE),
         "-ac", "1", "-"],
        capture_output=True, check=True,
    ).stdout


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    folder = tmp_path_factory.mktemp("speech")
    return _speech(folder, "a", SPEECH_A), _speech(folder, "b", SPEECH_B)


@pytest.fixture
def mount(icecast: IcecastServer) -> Iterator[IcecastMount]:
    output = IcecastMount.from_url(icecast.url("zone1"))
    output.start()
    output.wait_connected(timeout=30)
    try:
        yield output
    finally:
        output.close()


def _air(output: IcecastMount, pcm: bytes, label: str = "bản tin") -> None:
    """Feed ``pcm`` as the daemon does: in small pieces, as fast as the sink takes them."""
    sink = output.open(label)
    for start in range(0, len(pcm), 4800):
        sink.write(pcm[start : start + 4800])
    sink.finish()


def _heard(listener: Listener, folder: Path) -> np.ndarray:
    path = folder / "heard.mp3"
    path.write_bytes(listener.stop())
    return decode(path)


def _samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0


def _find(reference: bytes, heard: np.ndarray) -> tuple[int, int, float]:
    """Where ``reference`` sits in ``heard`` (start and end sample) and how well it matches."""
    wanted = envelope(_samples(reference))
    offset, score = best_alignment(wanted, envelope(heard))
    hop = SAMPLE_RATE // 100
    return offset * hop, (offset + len(wanted)) * hop, score


def test_listener_hears_the_airing_between_silence(
    mount: IcecastMount, icecast: IcecastServer, speech: tuple[bytes, bytes], tmp_path: Path
) -> None:
    listener = Listener(icecast, "zone1")
    assert listener.content_type == "audio/mpeg"
    time.sleep(1.0)
    _air(mount, speech[0])
    time.sleep(1.5)
    heard = _heard(listener, tmp_path)

    start, end, score = _find(speech[0], heard)
    assert score > 0.9, f"the airing is not in what the listener got (match {score:.2f})"
    assert start > SAMPLE_RATE // 2
    assert _rms(heard[: start - SAMPLE_RATE // 10]) < SILENT_RMS
    assert _rms(heard[end + SAMPLE_RATE // 10 :]) < SILENT_RMS
    assert _rms(heard[start:end]) > 20 * SILENT_RMS


def test_mount_stays_connected_between_airings(
    mount: IcecastMount, icecast: IcecastServer, speech: tuple[bytes, bytes], tmp_path: Path
) -> None:
    listener = Listener(icecast, "zone1")
    _air(mount, speech[0], "first")
    time.sleep(2.0)
    _air(mount, speech[1], "second")
    time.sleep(1.5)
    assert not listener.ended.is_set(), "the listener was cut off between airings"
    heard = _heard(listener, tmp_path)

    _, first_end, first_score = _find(speech[0], heard)
    second_start, _, second_score = _find(speech[1], heard)
    assert first_score > 0.9
    assert second_score > 0.9
    assert second_start - first_end > SAMPLE_RATE
    gap = heard[first_end + SAMPLE_RATE // 10 : second_start - SAMPLE_RATE // 10]
    assert _rms(gap) < SILENT_RMS
    assert icecast.mounts() == ["/zone1"]


def test_idle_sound_plays_between_airings(
    icecast: IcecastServer, speech: tuple[bytes, bytes], tmp_path: Path
) -> None:
    idle = tmp_path / "idle.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=1000:duration=0.37",
         str(idle)],
        check=True,
    )
    output = IcecastMount("127.0.0.1", icecast.port, "zone2", "source", icecast.password,
                          idle=idle)
    output.start()
    try:
        output.wait_connected(timeout=30)
        listener = Listener(icecast, "zone2")
        time.sleep(1.5)
        _air(output, speech[1])
        time.sleep(1.0)
        heard = _heard(listener, tmp_path)
    finally:
        output.close()

    start, end, score = _find(speech[1], heard)
    assert score > 0.8
    before = heard[: start - SAMPLE_RATE // 10]
    assert _rms(before) > 0.03
    spectrum = np.abs(np.fft.rfft(before))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / len(before) - 1000) < 20
    assert _rms(heard[end + SAMPLE_RATE // 10 :]) > 0.03


def test_abort_cuts_back_to_silence(
    mount: IcecastMount, icecast: IcecastServer, speech: tuple[bytes, bytes], tmp_path: Path
) -> None:
    listener = Listener(icecast, "zone1")
    sink = mount.open("cut short")
    long_program = speech[0] * 4
    writer = threading.Thread(target=sink.write, args=(long_program,))
    writer.start()
    time.sleep(1.5)
    sink.abort()
    writer.join(timeout=10)
    assert not writer.is_alive(), "write() did not return after abort()"
    time.sleep(1.0)
    heard = _heard(listener, tmp_path)

    loud = envelope(heard) > 0.01
    aired_s = (np.nonzero(loud)[0][-1] - np.nonzero(loud)[0][0]) / 100
    assert aired_s < len(long_program) / BYTES_PER_SECOND / 2
    assert _rms(heard[-SAMPLE_RATE // 2 :]) < SILENT_RMS
    sink.abort()


def test_reconnects_after_icecast_restarts_mid_airing(
    mount: IcecastMount, icecast: IcecastServer, speech: tuple[bytes, bytes], tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    program = speech[0] * 2
    sink = mount.open("cut by a restart")
    for start in range(0, len(program), 4800):
        sink.write(program[start : start + 4800])
        if start == 2 * BYTES_PER_SECOND:
            icecast.stop()
        if start == 4 * BYTES_PER_SECOND:
            icecast.start()
    with pytest.raises(OutputError, match=r"down for \d+\.\d s of 'cut by a restart'") as error:
        sink.finish()

    mount.wait_connected(timeout=60)
    listener = Listener(icecast, "zone1")
    _air(mount, speech[1])
    time.sleep(1.5)
    _, _, score = _find(speech[1], _heard(listener, tmp_path))
    assert score > 0.9, "nothing reached listeners after the reconnect"

    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert any("stream down" in line and "reconnecting in" in line for line in lines)
    assert any("stream back after" in line for line in lines)
    assert all("\n" not in line for line in lines)
    assert icecast.password not in caplog.text
    assert icecast.password not in str(error.value)


def test_wrong_password_is_a_clear_error(
    icecast: IcecastServer, speech: tuple[bytes, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    wrong = "not-the-right-secret"
    output = IcecastMount("127.0.0.1", icecast.port, "zone1", "source", wrong)
    output.start()
    try:
        with pytest.raises(OutputError, match="refused the source password") as waited:
            output.wait_connected(timeout=3)
        sink = output.open("never heard")
        sink.write(speech[1][: BYTES_PER_SECOND])
        with pytest.raises(OutputError, match="refused the source password") as finished:
            sink.finish()
    finally:
        output.close()
    assert any("stream down (the server refused the source password)" in r.getMessage()
               for r in caplog.records)
    for text in (caplog.text, str(waited.value), str(finished.value), repr(output)):
        assert wrong not in text


def test_password_from_environment_or_file(
    icecast: IcecastServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mount = f"127.0.0.1:{icecast.port}/khu-pho-1"
    monkeypatch.setenv("ICECAST_TEST_PASSWORD", icecast.password)
    (tmp_path / "icecast.pass").write_text(icecast.password + "\n", encoding="utf-8")
    (tmp_path / "icecast.pass").chmod(0o600)
    for output in (
        IcecastOutput(type="icecast", mount=mount, password_env="ICECAST_TEST_PASSWORD"),
        IcecastOutput(type="icecast", mount=mount, password_file=Path("icecast.pass")),
    ):
        zone = IcecastMount.from_settings(output, tmp_path)
        assert zone.describe() == f"icecast {mount}"
        zone.start()
        try:
            zone.wait_connected(timeout=30)
        finally:
            zone.close()


@contextlib.contextmanager
def _server_with_a_mount(secret: str) -> Iterator[IcecastServer]:
    """A private icecast2 whose source password is ``secret``, with /zone1 connected to it."""
    server = start_icecast(sources=3, password=secret)
    try:
        zone = IcecastMount("127.0.0.1", server.port, "zone1", "source", secret)
        zone.start()
        try:
            zone.wait_connected(timeout=30)
            assert server.mounts() == ["/zone1"]
            yield server
        finally:
            zone.close()
    finally:
        server.remove()


def test_user_and_password_with_address_characters_connect(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "p@ss:w%41rd/ 50%"
    with _server_with_a_mount(secret) as server:
        wrong = IcecastMount("127.0.0.1", server.port, "zone2", "so:ur@ce", secret + "!")
        wrong.start()
        try:
            with pytest.raises(OutputError, match="refused the source password") as error:
                wrong.wait_connected(timeout=3)
        finally:
            wrong.close()
    for text in (caplog.text, str(error.value)):
        assert "p@ss" not in text and "p%40ss" not in text


def _command_lines() -> list[str]:
    """The command line of every process this user can see, as ``ps`` would show them."""
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
    return lines


def test_the_password_is_on_no_command_line() -> None:
    secret = f"mat-khau-{uuid.uuid4().hex}"
    with _server_with_a_mount(secret):
        lines = _command_lines()
        assert any("libmp3lame" in line for line in lines)  # the encoder is running
        assert not [line for line in lines if secret in line]


def test_missing_password_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mount = "127.0.0.1:8000/khu-pho-1"
    monkeypatch.delenv("ICECAST_TEST_PASSWORD", raising=False)
    unset = IcecastOutput(type="icecast", mount=mount, password_env="ICECAST_TEST_PASSWORD")
    with pytest.raises(OutputError, match=r"ICECAST_TEST_PASSWORD .*not set.*Set it"):
        IcecastMount.from_settings(unset, tmp_path)

    monkeypatch.setenv("ICECAST_TEST_PASSWORD", "  ")
    with pytest.raises(OutputError, match=r"ICECAST_TEST_PASSWORD .*empty"):
        IcecastMount.from_settings(unset, tmp_path)

    no_file = IcecastOutput(type="icecast", mount=mount, password_file=Path("secret.txt"))
    with pytest.raises(OutputError, match=r"secret\.txt.*Put the source password in it"):
        IcecastMount.from_settings(no_file, tmp_path)

    (tmp_path / "secret.txt").write_text("hunter2\n", encoding="utf-8")
    (tmp_path / "secret.txt").chmod(0o640)
    with pytest.raises(OutputError, match=r"secret\.txt' may be read or changed by other users "
                                          r"\(mode 0640\)\. Protect it: chmod 600"):
        IcecastMount.from_settings(no_file, tmp_path)

    (tmp_path / "secret.txt").write_text("\n", encoding="utf-8")
    (tmp_path / "secret.txt").chmod(0o600)
    with pytest.raises(OutputError, match=r"secret\.txt is empty"):
        IcecastMount.from_settings(no_file, tmp_path)


def test_mount_from_a_command_line_address() -> None:
    zone = IcecastMount.from_url("icecast://source:s%40cret@127.0.0.1:8000/khu-pho-1")
    assert zone.describe() == "icecast 127.0.0.1:8000/khu-pho-1"
    assert "s@cret" not in repr(zone)

    with pytest.raises(OutputError, match="no source password"):
        IcecastMount.from_url("icecast://127.0.0.1:8000/khu-pho-1")
    with pytest.raises(OutputError, match="not an Icecast mount") as error:
        IcecastMount.from_url("http://source:hunter2@127.0.0.1:8000/khu-pho-1")
    assert "hunter2" not in str(error.value)


def test_close_ends_the_stream(mount: IcecastMount, icecast: IcecastServer) -> None:
    assert icecast.mounts() == ["/zone1"]
    mount.close()
    assert not mount.connected
    deadline = time.monotonic() + 30
    while icecast.mounts() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert icecast.mounts() == []
