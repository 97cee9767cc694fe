"""Relays (tiếp âm) through the real daemon: a program of the schedule relaying a private
Icecast stream, and 'broadcast relay' of a live HLS playlist, heard in the zone's file output.

The stream is a 440 Hz tone and the fallback a 1 kHz one, so each half second of what aired
says which of them the listeners heard.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.audio_tools import decode, integrated_lufs
from tests.conftest import broadcast_cli
from tests.daemon_tools import Daemons, Ward, ahead, sleep_until, started, zone
from tests.hls import HlsStation
from tests.icecast import IcecastServer
from tests.test_relay import Source

STREAM = "sine=f=440:sample_rate=44100,volume=-6dB"
WINDOW_S = 0.5


@pytest.fixture
def ward(tmp_path: Path) -> Ward:
    made = Ward(tmp_path / "ward")
    (made.root / "audio").mkdir()
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
         "sine=f=1000:sample_rate=48000", "-t", "40", "-af", "volume=-13dB", "-ac", "1",
         str(made.root / "audio" / "fallback.wav")],
        check=True,
    )
    return made


@pytest.fixture
def hls(tmp_path: Path) -> Iterator[HlsStation]:
    station = HlsStation(tmp_path / "hls", STREAM)
    try:
        station.wait_segments(2)
        yield station
    finally:
        station.close()


def sources(*pairs: tuple[str, str]) -> str:
    lines = "".join(f"  - name: {name}\n    url: {url}\n    silence: 5s\n" for name, url in pairs)
    return f"relay_sources:\n{lines}"


def relay_program(start: dt.datetime, source: str, seconds: int) -> str:
    return (f"  - id: tiep-am\n    name: Tiếp âm {source}\n    start: \"{start:%H:%M:%S}\"\n"
            f"    days: [daily]\n    items:\n      - relay: {source}\n"
            f"        duration: {seconds}s\n        fallback: {{audio: audio/fallback.wav}}\n")


def heard(path: Path) -> list[str]:
    """What each half second of ``path`` is: stream, fallback or silence."""
    samples = decode(path)
    step = int(WINDOW_S * 48000)
    found = []
    for at in range(0, len(samples) - step + 1, step):
        window = samples[at:at + step]
        if np.sqrt(np.mean(window ** 2)) < 1e-3:
            found.append("silence")
            continue
        peak = np.argmax(np.abs(np.fft.rfft(window * np.hanning(len(window))))) / WINDOW_S
        found.append("stream" if abs(peak - 440) < 20 else
                     "fallback" if abs(peak - 1000) < 20 else f"{peak:.0f} Hz")
    return found


def runs(labels: list[str]) -> list[str]:
    """The labels with repeats folded: what listeners heard, in order."""
    return [label for i, label in enumerate(labels) if i == 0 or labels[i - 1] != label]


def test_a_relay_airs_on_time_fails_over_when_the_stream_dies_and_takes_it_back(
    icecast: IcecastServer, ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    source = Source(icecast, "vov1", STREAM)
    try:
        start = ahead(18)
        ward.write(relay_program(start, "vov1", 26), zone("khu-pho-1", "{type: file, folder: out}"),
                   extra=sources(("vov1", source.listen_url)))
        daemon = daemons.start(ward, tmp_path / "daemon.log")
        daemon.wait_for("ready 1/", timeout=60)
        sleep_until(start + dt.timedelta(seconds=8))
        source.stop()
        time.sleep(6)
        source.start()
        [row] = ward.wait_rows(1, timeout=90)
    finally:
        source.stop()
    assert daemon.terminate() == 0

    assert row["outcome"] == "aired", row
    assert abs((started(row) - start).total_seconds()) < 1.0, "on the second"
    problems = json.loads(str(row["problems"]))
    assert any("the fallback airs" in p for p in problems), problems
    assert any("relaying again" in p or "back" in p for p in problems), problems
    [written] = ward.files()
    labels = heard(written)
    assert len(labels) * WINDOW_S == pytest.approx(0.5 + 26 + 1.0, abs=1.0), "its whole length"
    sounding = [label for label in runs(labels) if label != "silence"]
    assert sounding[:3] == ["stream", "fallback", "stream"], runs(labels)
    assert labels[2:6] == ["stream"] * 4, "the stream from its first second"
    stream = decode(written)[48000:48000 * 8]
    assert integrated_lufs(stream) == pytest.approx(-16.0, abs=2.0), "at the ward's loudness"


def test_broadcast_relay_airs_a_listed_hls_stream_through_an_outage_and_refuses_others(
    hls: HlsStation, ward: Ward, tmp_path: Path, daemons: Daemons
) -> None:
    listed = sources(("vtv", hls.url)) + "    fallback: {audio: audio/fallback.wav}\n"
    ward.write(relay_program(ahead(4 * 3600), "vtv", 60),
               zone("khu-pho-1", "{type: file, folder: out}"), extra=listed)
    daemon = daemons.start(ward, tmp_path / "daemon.log")
    daemon.wait_for("control socket", timeout=60)

    def control(*args: str) -> subprocess.CompletedProcess[str]:
        return broadcast_cli(*args, "--schedule", str(ward.schedule), "--state-dir",
                             str(ward.state))

    refused = control("relay", "http://127.0.0.1:9/other.m3u8", "--for", "10s")
    assert refused.returncode == 1
    assert "is not in relay_sources of schedule.yaml, and only those may be relayed " \
           "(sources: vtv)" in refused.stderr
    asked = control("relay", "vtv", "--for", "28s")
    assert asked.returncode == 0, asked.stderr
    assert "relay vtv for 28 s (30 s) on khu-pho-1" in asked.stdout
    [airing] = ward.wait_rows(1, timeout=30, final=False)
    begins = dt.datetime.fromisoformat(str(airing["scheduled"]))
    sleep_until(begins + dt.timedelta(seconds=10))
    hls.stop_serving()
    time.sleep(6)
    hls.serve()
    [row] = ward.wait_rows(1, timeout=90)
    assert daemon.terminate() == 0

    assert (row["outcome"], row["origin"], row["program_id"]) == ("aired", "manual", "relay")
    assert abs((started(row) - begins).total_seconds()) < 1.0, "on the second, after pre-roll"
    assert json.loads(str(row["items"])) == [
        {"kind": "relay", "source": "vtv", "start_s": 0.5, "duration_s": 28.0}]
    [written] = ward.files()
    labels = heard(written)
    assert labels[2:20] == ["stream"] * 18, runs(labels)
    sounding = [label for label in runs(labels) if label != "silence"]
    assert sounding[:3] == ["stream", "fallback", "stream"], runs(labels)
