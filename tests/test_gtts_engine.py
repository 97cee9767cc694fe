"""The gtts engine against a fake of Google's endpoint: gTTS builds each request, the engine
sends it over real HTTPS connections it keeps open, and reads the speech from the reply."""

from __future__ import annotations

import json
import os
import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from pydantic import ValidationError
from urllib3.exceptions import MaxRetryError, SSLError

from broadcast.bulletin import load_bulletin
from broadcast.render import spoken_paragraphs
from broadcast.schedule import GttsSettings, TtsSettings
from broadcast.tts import (
    EngineError,
    GttsEngine,
    RetryPolicy,
    SpeechEngine,
    engine_chain,
    gtts_engine,
    speech_engines,
)
from broadcast.tts.speaker import chunk_paragraphs, speak
from broadcast.vietnamese import default_lexicon
from tests.audio_tools import decode, integrated_lufs, true_peak_dbtp
from tests.conftest import REPO, broadcast_cli
from tests.fakes.google_tts import FakeGoogleTTS

SHORT = "scripts/lich-phat-thanh-va-so-dien-thoai-can-nho.md"


def test_engine_returns_googles_audio(fake_google: FakeGoogleTTS) -> None:
    engine = GttsEngine()
    clip = engine.synthesize("Kính thưa bà con nhân dân")
    assert fake_google.texts == ["Kính thưa bà con nhân dân"]
    assert clip.format == "mp3" and clip.retries == 0
    assert clip.data == fake_google.audio_for("Kính thưa bà con nhân dân")
    assert engine.identity == "gtts:vi:tld=com:slow=false"


def test_the_vietnamese_host_is_checked_as_google_com_is(fake_google: FakeGoogleTTS) -> None:
    engine = GttsEngine(tld="com.vn")
    clip = engine.synthesize("Kính thưa bà con nhân dân")
    assert clip.data == fake_google.audio_for("Kính thưa bà con nhân dân")
    assert engine.identity == "gtts:vi:tld=com.vn:slow=false"


def test_requests_go_over_one_kept_open_connection(fake_google: FakeGoogleTTS) -> None:
    engine = GttsEngine()
    texts = [f"Thông báo số {n}" for n in range(6)]
    clips = [engine.synthesize(text) for text in texts]
    assert [clip.data for clip in clips] == [fake_google.audio_for(text) for text in texts]
    assert fake_google.connections_made == 1


def test_connections_through_a_proxy_send_each_request_at_once() -> None:
    # urllib3 leaves Nagle's algorithm on behind a proxy: a request's body would wait for the
    # proxy's delayed acknowledgement of its headers, 40 ms on every kept-open connection.
    adapter = gtts_engine._new_session().get_adapter("https://translate.google.com/")
    manager = adapter.proxy_manager_for("http://127.0.0.1:9")
    no_delay = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    assert no_delay in manager.connection_pool_kw.get("socket_options", ())


def test_a_connection_google_closed_is_opened_again(fake_google: FakeGoogleTTS) -> None:
    engine = GttsEngine()
    engine.synthesize("Kính thưa bà con")
    fake_google.drop_connections()
    clip = engine.synthesize("Xin chào")
    assert clip.data == fake_google.audio_for("Xin chào") and clip.retries == 0
    assert fake_google.connections_made == 2


def test_requests_in_flight_each_have_their_own_connection(fake_google: FakeGoogleTTS) -> None:
    fake_google.latency = 0.1
    engine = GttsEngine(concurrency=3)
    texts = [f"Tổ dân phố số {n}" for n in range(12)]
    speech = speak(texts, [engine])
    assert [clip.data for clips in speech.paragraphs for clip in clips] == [
        fake_google.audio_for(text) for text in texts
    ]
    assert fake_google.max_concurrent == 3
    assert fake_google.connections_made == 3


def test_a_connection_left_idle_too_long_is_not_used_again(
    fake_google: FakeGoogleTTS, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = GttsEngine()
    engine.synthesize("Kính thưa bà con")
    monkeypatch.setattr(gtts_engine, "_IDLE_S", 0.0)
    clip = engine.synthesize("Xin chào")
    assert clip.data == fake_google.audio_for("Xin chào") and clip.retries == 0
    assert fake_google.connections_made == 2


def test_a_server_with_an_untrusted_certificate_is_not_used(
    fake_google: FakeGoogleTTS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the fake's test authority among the trusted ones, it stands for someone between
    # the ward and Google: nothing it sends may be aired.
    with monkeypatch.context() as env:
        env.delenv("REQUESTS_CA_BUNDLE")
        with pytest.raises(EngineError, match="certificate is not trusted") as caught:
            GttsEngine(retry=QUICK).synthesize("Xin chào")
        assert "self-signed certificate" in str(caught.value)
        assert "REQUESTS_CA_BUNDLE" in str(caught.value)

        out = tmp_path / "fallback.mp3"
        result = broadcast_cli("render", SHORT, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "certificate is not trusted" in result.stderr
    sidecar = json.loads(out.with_name("fallback.mp3.json").read_text(encoding="utf-8"))
    assert sidecar["engine"].startswith("espeak-ng:")
    assert fake_google.requests == []


def test_a_certificate_file_that_is_not_there_is_a_clear_error(
    fake_google: FakeGoogleTTS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "proxy-ca.pem"
    with monkeypatch.context() as env:
        env.setenv("REQUESTS_CA_BUNDLE", str(missing))
        with pytest.raises(EngineError, match="certificate file REQUESTS_CA_BUNDLE") as caught:
            GttsEngine(retry=QUICK).synthesize("Xin chào")
        assert str(missing) in str(caught.value)

        out = tmp_path / "fallback.mp3"
        result = broadcast_cli("render", SHORT, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "Correct the path" in result.stderr
    assert fake_google.requests == []


def _verify_failure(message: str) -> requests.exceptions.SSLError:
    """A certificate failure wrapped the way urllib3 and requests hand it on."""
    failure = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    failure.verify_message = message
    pool_error = MaxRetryError(None, "https://translate.google.com/", SSLError(failure))  # type: ignore[arg-type]
    return requests.exceptions.SSLError(pool_error)


@pytest.mark.parametrize(
    ("verify_message", "advice"),
    [
        ("certificate has expired", "date and time"),
        ("certificate is not yet valid", "date and time"),
        ("unable to get local issuer certificate", "REQUESTS_CA_BUNDLE"),
        ("self-signed certificate in certificate chain", "REQUESTS_CA_BUNDLE"),
    ],
)
def test_a_certificate_failure_says_what_to_check(verify_message: str, advice: str) -> None:
    error = gtts_engine._failure(_verify_failure(verify_message))
    assert isinstance(error, EngineError)
    assert verify_message in str(error) and advice in str(error)


CLOSED_PROXY = "http://127.0.0.1:9"
"""A proxy address on loopback where nothing listens: Google cannot be reached through it."""


def use_proxy(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Send HTTPS through ``url`` only, in this process and the commands it starts."""
    for name in ("no_proxy", "NO_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("https_proxy", url)


def test_auto_looks_for_the_proxy_when_one_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    google = GttsEngine()
    use_proxy(monkeypatch, CLOSED_PROXY)
    assert not google.reachable(timeout_s=1)
    with socket.create_server(("127.0.0.1", 0)) as proxy:
        use_proxy(monkeypatch, f"http://127.0.0.1:{proxy.getsockname()[1]}")
        assert google.reachable(timeout_s=1)


def test_render_with_gtts_sends_our_chunks_and_lands_on_target(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    out = tmp_path / "gtts.mp3"
    result = broadcast_cli("render", SHORT, "-o", str(out), "--engine", "gtts")
    assert result.returncode == 0, result.stderr

    spoken = spoken_paragraphs(load_bulletin(REPO / SHORT), default_lexicon())
    expected = [c for p in chunk_paragraphs(spoken, 100) for c in p]
    assert sorted(fake_google.texts) == sorted(expected)
    assert all(len(text) <= 100 for text in fake_google.texts)
    samples = decode(out)
    assert integrated_lufs(samples) == pytest.approx(-16.0, abs=1.0)
    assert true_peak_dbtp(samples) <= -1.5
    sidecar = json.loads(out.with_name("gtts.mp3.json").read_text(encoding="utf-8"))
    assert sidecar["engine"].startswith("gtts:vi:")


def test_google_failure_is_a_clear_error_and_leaves_no_file(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    fake_google.fail_next(503, count=100)
    out = tmp_path / "x.mp3"
    result = broadcast_cli("render", SHORT, "-o", str(out), "--engine", "gtts",
                           "--retries", "2")
    assert result.returncode == 1
    assert "Google TTS had a server error (503) 3 times over" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


QUICK = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.05)


def test_one_garbage_reply_is_retried(fake_google: FakeGoogleTTS) -> None:
    fake_google.garbage_next()
    clip = GttsEngine(retry=QUICK).synthesize("Xin chào")
    assert clip.retries == 1
    assert clip.data == fake_google.audio_for("Xin chào")


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (lambda fake: fake.fail_next(429, count=9), "rate-limited us (429) 3 times over"),
        (lambda fake: fake.fail_next(502, count=9), "had a server error (502) 3 times"),
        (lambda fake: fake.garbage_next(count=9), "sent a reply that is not speech 3 times"),
        (lambda fake: fake.garbage_next(count=9, html=True),
         "sent a web page instead of speech 3 times"),
        (lambda fake: fake.truncate_next(count=9), "sent audio that is cut short or broken"),
        (lambda fake: fake.corrupt_next(count=9), "sent a reply that is not speech 3 times"),
        (lambda fake: fake.hang_next(count=9, seconds=5), "did not answer in time 3 times"),
    ],
)
def test_each_fault_ends_in_a_plain_error(
    fake_google: FakeGoogleTTS, fault: Callable[[FakeGoogleTTS], None], words: str
) -> None:
    fake_google.audio_for("Xin chào bà con")  # made now, not within the short timeout
    fault(fake_google)
    engine = GttsEngine(retry=QUICK, timeout_s=0.5)
    with pytest.raises(EngineError) as caught:
        engine.synthesize("Xin chào bà con")
    assert f"Google TTS {words}" in str(caught.value)
    assert "use the espeak engine" in str(caught.value)


def test_refusal_is_not_retried(fake_google: FakeGoogleTTS) -> None:
    fake_google.fail_next(403, count=9)
    with pytest.raises(EngineError, match=r"refused the request \(403\)"):
        GttsEngine(retry=QUICK).synthesize("Xin chào")
    assert len(fake_google.requests) == 1


def with_google(google: GttsEngine) -> dict[str, SpeechEngine]:
    """The schedule's default engines, with Google's pointed at ``google``'s host."""
    return {**speech_engines(TtsSettings()), "gtts": google}


def test_auto_uses_google_when_it_answers(fake_google: FakeGoogleTTS) -> None:
    engines, note = engine_chain(["auto"], with_google(GttsEngine()))
    assert [e.name for e in engines] == ["gtts", "espeak"] and note is None


def test_auto_falls_back_to_espeak_when_google_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_proxy(monkeypatch, CLOSED_PROXY)
    engines, note = engine_chain(["auto"], with_google(GttsEngine()))
    assert [e.name for e in engines] == ["espeak"]
    assert note is not None and "espeak-ng" in note

    out = tmp_path / "offline.mp3"
    result = broadcast_cli("render", SHORT, "-o", str(out), env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "Using the offline espeak-ng voice" in result.stderr
    sidecar = json.loads(out.with_name("offline.mp3.json").read_text(encoding="utf-8"))
    assert sidecar["engine"].startswith("espeak-ng:")


@pytest.mark.parametrize(
    "tld", ["com@127.0.0.1:9", "com/", "com.vn:8443", "example.org#", "COM", "com.vn.evil.net"]
)
def test_a_tld_that_is_not_a_google_suffix_is_refused(tld: str) -> None:
    with pytest.raises(ValidationError) as in_settings:
        GttsSettings(tld=tld)
    with pytest.raises(EngineError) as caught:
        GttsEngine(tld=tld)
    assert str(caught.value) == f"{in_settings.value.errors()[0]['ctx']['error']}."
    assert str(caught.value) == f"'{tld}' is not a Google host suffix. Write com or com.vn."


def test_render_refuses_a_tld_that_would_send_the_text_elsewhere(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    out = tmp_path / "elsewhere.mp3"
    result = broadcast_cli("render", SHORT, "-o", str(out), "--engine", "gtts",
                           "--tld", "com@127.0.0.1:9")
    assert result.returncode == 1
    assert "--tld: 'com@127.0.0.1:9' is not a Google host suffix" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and not out.with_name("elsewhere.mp3.json").exists()
    assert fake_google.requests == [] and fake_google.connections_made == 0
