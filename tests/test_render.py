"""End to end: an approved script becomes speech at the loudness target, checked independently."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from broadcast.audio import LoudnessTarget, OutputFormat, master
from broadcast.tts.mp3 import inspect_mp3
from tests.audio_tools import decode, integrated_lufs, true_peak_dbtp
from tests.conftest import broadcast_cli

NOTICE = "scripts/thong-bao-kham-sang-loc-tap-huan-atvsld.md"


def test_render_sample_script_with_espeak_lands_on_target(tmp_path: Path) -> None:
    out = tmp_path / "notice.mp3"
    result = broadcast_cli("render", NOTICE, "-o", str(out), "--engine", "espeak")
    assert result.returncode == 0, result.stderr
    assert f"Wrote {out}" in result.stdout

    samples = decode(out)
    seconds = len(samples) / 48000
    assert 60 <= seconds <= 300, f"{seconds:.0f} s is not a 1-5 minute bulletin"
    assert integrated_lufs(samples) == pytest.approx(-16.0, abs=1.0)
    assert true_peak_dbtp(samples) <= -1.5
    assert abs(samples).max() < 1.0, "clipped after MP3 encoding"

    sidecar = json.loads(out.with_name("notice.mp3.json").read_text(encoding="utf-8"))
    assert sidecar["kind"] == "bulletin"
    assert sidecar["script"] == NOTICE
    assert sidecar["content_hash"].startswith("sha256:")
    # The sample ward asks for signed approvals: the approver is the one on its trust list,
    # not the script's own approved_by line.
    assert sidecar["approved_by"].startswith("Người duyệt mẫu (chỉ để thử)")
    assert sidecar["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert sidecar["engine"].startswith("espeak-ng:vi")
    assert sidecar["figures"]["duration_s"] == pytest.approx(seconds, abs=0.2)
    assert sidecar["format"]["sample_rate"] == 48000


def test_render_refuses_unapproved_script_and_writes_nothing(tmp_path: Path) -> None:
    script = tmp_path / "chua-duyet.md"
    script.write_text(
        "---\ntitle: Chưa duyệt\nauthor: Lê Mai\n---\n\nBà con chú ý.\n", encoding="utf-8"
    )
    out = tmp_path / "x.mp3"
    result = broadcast_cli("render", str(script), "-o", str(out), "--engine", "espeak")
    assert result.returncode == 1
    assert "not approved" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [script], "no partial file left behind"


def test_render_other_target_and_wav(tmp_path: Path) -> None:
    out = tmp_path / "quiet.wav"
    result = broadcast_cli(
        "render", "scripts/lich-phat-thanh-va-so-dien-thoai-can-nho.md", "-o", str(out),
        "--engine", "espeak", "--target-lufs", "-20", "--true-peak", "-3",
        "--sample-rate", "44100",
    )
    assert result.returncode == 0, result.stderr
    samples = decode(out, rate=44100)
    assert integrated_lufs(samples, rate=44100) == pytest.approx(-20.0, abs=1.0)
    assert true_peak_dbtp(samples) <= -3.0
    assert json.loads(broadcast_cli("inspect", str(out), "--json").stdout)["sample_rate"] == 44100


def test_render_mp3_bitrate_is_what_was_asked(tmp_path: Path) -> None:
    out = tmp_path / "low.mp3"
    result = broadcast_cli(
        "render", "scripts/lich-phat-thanh-va-so-dien-thoai-can-nho.md", "-o", str(out),
        "--engine", "espeak", "--bitrate", "64", "--sample-rate", "24000",
    )
    assert result.returncode == 0, result.stderr
    info = inspect_mp3(out.read_bytes())
    assert info.sample_rate == 24000
    seconds = info.duration_s
    assert out.stat().st_size * 8 / seconds / 1000 == pytest.approx(64, abs=3)


def test_master_brings_a_loud_recording_down_without_clipping(tmp_path: Path) -> None:
    import subprocess

    loud = tmp_path / "loud.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
         "sine=frequency=440:duration=6,volume=0.99,apulsator=hz=2", "-ar", "44100", str(loud)],
        check=True,
    )
    out = tmp_path / "chime.mp3"
    figures = master(loud, out, LoudnessTarget(-16.0, -1.5), OutputFormat.for_path(out))
    samples = decode(out)
    assert integrated_lufs(samples) == pytest.approx(-16.0, abs=1.0)
    assert figures.true_peak_dbtp <= -1.5
    assert figures.sample_rate == 48000 and figures.channels == 1


def test_inspect_reports_figures_as_json(tmp_path: Path) -> None:
    out = tmp_path / "n.mp3"
    assert broadcast_cli("render", NOTICE, "-o", str(out), "--engine", "espeak").returncode == 0
    result = broadcast_cli("inspect", str(out), "--json")
    figures = json.loads(result.stdout)
    assert figures["integrated_lufs"] == pytest.approx(integrated_lufs(decode(out)), abs=0.5)
    assert figures["sample_rate"] == 48000
    assert figures["channels"] == 1


def test_unwritable_output_is_a_plain_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = broadcast_cli("render", NOTICE, "-o", str(blocker / "x.mp3"), "--engine", "espeak")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert "Check the path" in result.stderr
    assert "Traceback" not in result.stderr
