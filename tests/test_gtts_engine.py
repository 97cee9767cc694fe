"""The gtts engine against a fake of Google's endpoint: the real gTTS code runs end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broadcast.bulletin import load_bulletin
from broadcast.render import RenderSettings, spoken_chunks
from broadcast.tts import EngineError, GttsEngine, choose_engine
from broadcast.vietnamese import default_lexicon
from tests.audio_tools import decode, integrated_lufs
from tests.conftest import REPO, broadcast_cli
from tests.fakes.google_tts import FakeGoogleTTS

SHORT = "scripts/lich-phat-thanh-va-so-dien-thoai-can-nho.md"


def test_engine_returns_googles_audio(fake_google: FakeGoogleTTS) -> None:
    engine = GttsEngine(tld=fake_google.tld)
    speech = engine.synthesize("Kính thưa bà con nhân dân")
    assert fake_google.texts == ["Kính thưa bà con nhân dân"]
    assert speech.duration_seconds > 0.5
    assert speech.dBFS > -40
    assert engine.identity == f"gtts:vi:tld={fake_google.tld}:slow=false"


def test_render_with_gtts_sends_our_chunks_and_lands_on_target(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    out = tmp_path / "gtts.mp3"
    result = broadcast_cli("render", SHORT, "-o", str(out), "--engine", "gtts",
                           "--tld", fake_google.tld)
    assert result.returncode == 0, result.stderr

    settings = RenderSettings(engine=GttsEngine(tld=fake_google.tld), lexicon=default_lexicon())
    expected = [c for p in spoken_chunks(load_bulletin(REPO / SHORT), settings) for c in p]
    assert sorted(fake_google.texts) == sorted(expected)
    assert all(len(text) <= 100 for text in fake_google.texts)
    assert integrated_lufs(decode(out)) == pytest.approx(-16.0, abs=1.0)
    sidecar = json.loads(out.with_name("gtts.mp3.json").read_text(encoding="utf-8"))
    assert sidecar["engine"].startswith("gtts:vi:")


def test_google_failure_is_a_clear_error_and_leaves_no_file(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    fake_google.fail_next(503, count=100)
    out = tmp_path / "x.mp3"
    result = broadcast_cli("render", SHORT, "-o", str(out), "--engine", "gtts",
                           "--tld", fake_google.tld)
    assert result.returncode == 1
    assert "Google TTS failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_engine_raises_engine_error_on_garbage(fake_google: FakeGoogleTTS) -> None:
    fake_google.garbage_next()
    with pytest.raises(EngineError):
        GttsEngine(tld=fake_google.tld).synthesize("Xin chào")


def test_auto_uses_google_when_it_answers(fake_google: FakeGoogleTTS) -> None:
    engine, note = choose_engine("auto", tld=fake_google.tld)
    assert engine.name == "gtts" and note is None


def test_auto_falls_back_to_espeak_when_google_is_unreachable(tmp_path: Path) -> None:
    unreachable = "com@127.0.0.1:9"
    engine, note = choose_engine("auto", tld=unreachable)
    assert engine.name == "espeak"
    assert note is not None and "espeak-ng" in note

    out = tmp_path / "offline.mp3"
    result = broadcast_cli("render", SHORT, "-o", str(out), "--tld", unreachable)
    assert result.returncode == 0, result.stderr
    assert "Using the offline espeak-ng voice" in result.stderr
    sidecar = json.loads(out.with_name("offline.mp3.json").read_text(encoding="utf-8"))
    assert sidecar["engine"].startswith("espeak-ng:")
