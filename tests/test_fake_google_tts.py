"""The Google TTS fake, exercised through the real gTTS request and parsing code."""

import os
import re
import socket
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from gtts import gTTS, gTTSError

from tests.audio_tools import decode
from tests.fakes.google_tts import GOOGLE_HOSTS, SAMPLE_RATE, FakeGoogleTTS, SpeechRequest

GREETING = "Xin chào bà con"
BULLETIN = (
    "Thông báo của Ủy ban nhân dân phường: sáng thứ bảy này, từ bảy giờ đến mười một giờ, "
    "phường tổ chức tiêm chủng miễn phí cho trẻ em dưới năm tuổi tại trạm y tế phường, "
    "đề nghị phụ huynh mang theo sổ tiêm chủng và giấy khai sinh của cháu. Xin cảm ơn bà con."
)


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def test_save_writes_real_speech(fake_google: FakeGoogleTTS, tmp_path: Path) -> None:
    out = tmp_path / "greeting.mp3"

    gTTS(GREETING, lang="vi").save(out)

    samples = decode(out, SAMPLE_RATE)
    assert len(samples) / SAMPLE_RATE > 0.3
    assert np.sqrt(np.mean(samples**2)) > 0.01
    assert np.abs(samples).max() > 0.1
    assert out.read_bytes() == fake_google.audio_for(GREETING)
    assert fake_google.requests == [SpeechRequest(GREETING, "vi", slow=False, fault=None)]


def test_slow_speech_is_recorded(fake_google: FakeGoogleTTS, tmp_path: Path) -> None:
    gTTS(GREETING, lang="vi", slow=True).save(tmp_path / "slow.mp3")

    assert fake_google.requests == [SpeechRequest(GREETING, "vi", slow=True, fault=None)]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (429, "429 (Too Many Requests) from TTS API. Probable cause: Unknown"),
        (500, "500 (Internal Server Error) from TTS API. Probable cause: Upstream API error."),
        (503, "503 (Service Unavailable) from TTS API. Probable cause: Upstream API error."),
    ],
)
def test_error_status_raises_gtts_error(
    fake_google: FakeGoogleTTS, tmp_path: Path, status: int, message: str
) -> None:
    out = tmp_path / "failed.mp3"
    fake_google.fail_next(status)

    with pytest.raises(gTTSError) as failure:
        gTTS(GREETING, lang="vi").save(out)

    assert str(failure.value).startswith(message)
    assert failure.value.rsp is not None
    assert failure.value.rsp.status_code == status
    # save() opens the file before the request: a failure leaves an empty file behind.
    assert out.read_bytes() == b""
    # gTTS does not retry; the fault was spent on the single request.
    assert [r.fault for r in fake_google.requests] == [f"status {status}"]
    gTTS(GREETING, lang="vi").save(out)
    assert out.read_bytes() == fake_google.audio_for(GREETING)


def test_garbage_reply_raises_gtts_error(fake_google: FakeGoogleTTS, tmp_path: Path) -> None:
    fake_google.garbage_next()

    with pytest.raises(gTTSError, match=r"^200 \(OK\) from TTS API"):
        gTTS(GREETING, lang="vi").save(tmp_path / "garbage.mp3")


def test_reply_without_rpc_frame_silently_yields_no_audio(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    out = tmp_path / "html.mp3"
    fake_google.garbage_next(html=True)

    gTTS(GREETING, lang="vi").save(out)

    assert out.read_bytes() == b""
    assert [r.fault for r in fake_google.requests] == ["html"]


def test_truncated_audio_is_saved_without_complaint(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    whole, cut = tmp_path / "whole.mp3", tmp_path / "cut.mp3"
    fake_google.ok_next()
    fake_google.truncate_next(keep=0.2)

    gTTS(GREETING, lang="vi").save(whole)
    gTTS(GREETING, lang="vi").save(cut)

    assert cut.read_bytes() == whole.read_bytes()[: len(cut.read_bytes())]
    assert len(decode(cut, SAMPLE_RATE)) < len(decode(whole, SAMPLE_RATE)) / 2
    assert [r.fault for r in fake_google.requests] == [None, "truncate"]


def test_hang_with_timeout_raises(fake_google: FakeGoogleTTS, tmp_path: Path) -> None:
    fake_google.hang_next(seconds=60)
    started = time.monotonic()

    with pytest.raises(gTTSError, match="Failed to connect") as failure:
        gTTS(GREETING, lang="vi", timeout=1).save(tmp_path / "hung.mp3")

    assert time.monotonic() - started < 20
    assert isinstance(failure.value.__context__, requests.exceptions.ReadTimeout)
    assert [r.fault for r in fake_google.requests] == ["hang"]


def test_stop_releases_a_hung_request(tmp_path: Path) -> None:
    errors: list[gTTSError] = []

    with FakeGoogleTTS() as fake:
        fake.hang_next(seconds=120)

        def speak() -> None:
            try:
                gTTS(GREETING, lang="vi").save(tmp_path / "hung.mp3")
            except gTTSError as error:
                errors.append(error)

        client = threading.Thread(target=speak)
        client.start()
        deadline = time.monotonic() + 20
        while not fake.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fake.requests

        started = time.monotonic()
        fake.stop()
        client.join(timeout=20)

    assert time.monotonic() - started < 15
    assert not client.is_alive()
    assert len(errors) == 1
    assert isinstance(errors[0].__context__, requests.exceptions.ConnectionError)


def test_long_text_is_sent_in_pieces(fake_google: FakeGoogleTTS, tmp_path: Path) -> None:
    out = tmp_path / "bulletin.mp3"

    gTTS(BULLETIN, lang="vi").save(out)

    pieces = fake_google.texts
    assert len(pieces) >= 3
    assert all(0 < len(piece) <= 100 for piece in pieces)
    assert words(" ".join(pieces)) == words(BULLETIN)
    assert out.read_bytes() == b"".join(fake_google.audio_for(piece) for piece in pieces)
    assert len(decode(out, SAMPLE_RATE)) / SAMPLE_RATE > 5


def test_failure_mid_text_leaves_a_partial_file(fake_google: FakeGoogleTTS, tmp_path: Path) -> None:
    out = tmp_path / "partial.mp3"
    fake_google.ok_next()
    fake_google.fail_next(500)

    with pytest.raises(gTTSError, match=r"^500 "):
        gTTS(BULLETIN, lang="vi").save(out)

    first, second = fake_google.requests
    assert (first.fault, second.fault) == (None, "status 500")
    assert out.read_bytes() == fake_google.audio_for(first.text)


def test_max_concurrent_counts_parallel_clients(fake_google: FakeGoogleTTS, tmp_path: Path) -> None:
    texts = [f"Loa số {n} đang phát" for n in range(4)]
    for text in texts:
        fake_google.audio_for(text)
    fake_google.latency = 3.0
    barrier = threading.Barrier(len(texts))

    def speak(text: str) -> bytes:
        out = tmp_path / f"{texts.index(text)}.mp3"
        barrier.wait(timeout=20)
        gTTS(text, lang="vi").save(out)
        return out.read_bytes()

    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        replies = list(pool.map(speak, texts))

    assert fake_google.max_concurrent == len(texts)
    assert sorted(fake_google.texts) == sorted(texts)
    assert replies == [fake_google.audio_for(text) for text in texts]

    fake_google.reset()
    assert fake_google.max_concurrent == 0
    for text in texts[:2]:
        gTTS(text, lang="vi").save(tmp_path / "sequential.mp3")
    assert fake_google.max_concurrent == 1


def test_the_fake_is_reached_through_its_proxy_while_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Nothing listens on the discard port: a request sent to this proxy would fail.
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")

    with FakeGoogleTTS() as fake:
        assert os.environ["https_proxy"] == os.environ["HTTPS_PROXY"] == fake.proxy_url
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", fake.proxy_url)
        assert "no_proxy" not in os.environ and "ALL_PROXY" not in os.environ
        gTTS(GREETING, lang="vi").save(tmp_path / "through-proxy.mp3")

    assert fake.texts == [GREETING]
    assert os.environ["https_proxy"] == os.environ["HTTPS_PROXY"] == "http://127.0.0.1:9"
    assert os.environ["no_proxy"] == "*" and os.environ["ALL_PROXY"] == "http://127.0.0.1:9"


def test_the_vietnamese_host_is_served_too(fake_google: FakeGoogleTTS, tmp_path: Path) -> None:
    out = tmp_path / "com-vn.mp3"

    gTTS(GREETING, lang="vi", tld="com.vn").save(out)

    assert out.read_bytes() == fake_google.audio_for(GREETING)
    assert fake_google.texts == [GREETING]


def ask_proxy(proxy_url: str, request: str) -> str:
    """Send one raw request to the proxy; its status line."""
    address = urllib.parse.urlsplit(proxy_url)
    assert address.hostname == "127.0.0.1" and address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request.encode("latin-1"))
        reply = b""
        while b"\r\n" not in reply:
            data = connection.recv(1024)
            if not data:
                break
            reply += data
    return reply.split(b"\r\n", 1)[0].decode("latin-1")


@pytest.fixture
def looked_up(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name this process resolves while the test runs."""
    names: list[str] = []
    resolve = socket.getaddrinfo

    def recording(host: str | bytes | None, *args: Any, **kwargs: Any) -> Any:
        names.append(str(host))
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    return names


def test_proxy_tunnels_the_google_hosts(fake_google: FakeGoogleTTS, looked_up: list[str]) -> None:
    for host in GOOGLE_HOSTS:
        request = f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n"
        assert ask_proxy(fake_google.proxy_url, request) == "HTTP/1.1 200 Connection established"
    assert set(looked_up) == {"127.0.0.1"}


@pytest.mark.parametrize(
    "request_line",
    [
        "CONNECT example.com:443 HTTP/1.1",
        "CONNECT translate.google.com.evil.example:443 HTTP/1.1",
        "CONNECT translate.google.com:8443 HTTP/1.1",
        "CONNECT translate.google.com HTTP/1.1",
        "CONNECT 127.0.0.1:443 HTTP/1.1",
        "CONNECT 8.8.8.8:443 HTTP/1.1",
        "CONNECT [::1]:443 HTTP/1.1",
        "GET http://translate.google.com/ HTTP/1.1",
        "GET https://example.com/ HTTP/1.1",
    ],
)
def test_proxy_refuses_every_other_target(
    fake_google: FakeGoogleTTS, looked_up: list[str], request_line: str
) -> None:
    status = ask_proxy(fake_google.proxy_url, f"{request_line}\r\nHost: x\r\n\r\n")

    assert status == "HTTP/1.1 403 Forbidden"
    assert set(looked_up) == {"127.0.0.1"}, "the proxy resolved a name"
    assert fake_google.connections_made == 0


def test_a_client_sent_elsewhere_gets_a_refusal(
    fake_google: FakeGoogleTTS, looked_up: list[str]
) -> None:
    with pytest.raises(requests.exceptions.ProxyError, match="403 Forbidden"):
        requests.get("https://example.com/", timeout=10)

    assert set(looked_up) == {"127.0.0.1"}
    assert fake_google.connections_made == 0
