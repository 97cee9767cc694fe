"""Google Translate's text-to-speech through the gTTS library (needs the internet).

gTTS itself sends one request at a time with no retry, so this engine adds what a broadcast
needs: a timeout on every request, retries with exponential backoff and jitter on rate limits
(429), server errors (5xx), timeouts and dropped connections, and a plain error after the last
try. Each call speaks one chunk that our own chunker cut (at most 100 characters), so gTTS never
re-cuts the text; the engine is called from several threads at once for speed.

gTTS builds each request (Google's address for the ``tld``, its RPC form, the headers). gTTS
would send it on a new connection that loads the whole certificate store, about 30 ms of
processor time before each request, and a TLS handshake with Google every time; this engine
sends it instead on connections it keeps open, one per request in flight.

Unlike gTTS, it checks Google's certificate: the audio goes out on public loudspeakers, so
audio from anyone who could step between the ward and Google must not be taken for Google's.
On a network whose proxy replaces certificates, ``REQUESTS_CA_BUNDLE`` names the file of the
proxy's certificate, as for any program built on requests.
"""

from __future__ import annotations

import base64
import binascii
import queue
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from gtts import gTTS
from pydantic import ValidationError
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.exceptions import ReadTimeoutError
from urllib3.poolmanager import PoolManager
from urllib3.util.ssl_match_hostname import CertificateError

from broadcast.schedule import GttsSettings, value_problem
from broadcast.tts.base import EngineError, SpeechClip
from broadcast.tts.mp3 import inspect_mp3

GTTS_MAX_CHARS = 100
"""gTTS sends at most this many characters per request."""
_DEFAULTS = GttsSettings()


def google_base_url(tld: str) -> str:
    return f"https://translate.google.{tld}/"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on a chunk."""

    attempts: int = _DEFAULTS.retries + 1
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds before try ``attempt + 1``: exponential, randomly shortened by up to half."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2**attempt))
        return ceiling * (0.5 + rng.random() / 2)


class _Retryable(Exception):
    """A failure worth another try; ``reason`` is how the final error describes it."""

    def __init__(self, reason: str, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s


_AUDIO_RE = re.compile(rb'jQ1olc","\[\\"(.*?)\\"]')
"""Where Google's reply holds the speech: base64 inside the TTS RPC's (``jQ1olc``) frame."""


def _check_status(response: requests.Response) -> None:
    """Raise _Retryable or EngineError unless Google answered 200."""
    status = response.status_code
    if status == 200:
        return
    if status == 429:
        retry_after = response.headers.get("Retry-After", "")
        wait = float(retry_after) if retry_after.isdigit() else None
        raise _Retryable("rate-limited us (429)", wait)
    if status >= 500:
        raise _Retryable(f"had a server error ({status})")
    raise EngineError(
        f"Google TTS refused the request ({status}). Check the 'tld' setting, or use the "
        "espeak engine."
    )


def _speech_in(reply: bytes) -> bytes:
    """The MP3 bytes in a 200 reply; _Retryable when it holds none."""
    if b"jQ1olc" not in reply:
        raise _Retryable("sent a web page instead of speech")
    found = _AUDIO_RE.search(reply)
    if found is None:
        raise _Retryable("sent a reply that is not speech")
    try:
        # Not strict, as gTTS: characters outside base64 (an escaped slash) are passed over.
        return base64.b64decode(found.group(1))
    except binascii.Error:
        raise _Retryable("sent a reply that is not speech") from None


_IDLE_S = 60.0
"""A connection unused for this long is not used again: a router on the way (a 4G modem) may have
forgotten it, and a request on it would wait out the whole timeout before a retry."""


@dataclass
class _Kept:
    """A session with its one kept-open connection, and when it last sent a request."""

    session: requests.Session
    used_at: float


class _Adapter(HTTPAdapter):
    """Connections with Nagle's algorithm off, through a proxy as well as straight to Google.

    urllib3 leaves it on for connections through a proxy. A request's headers and body go out
    in two writes, so on a kept-open connection the body would wait for the proxy's delayed
    acknowledgement of the headers: 40 ms more for every request.
    """

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        proxy_kwargs.setdefault("socket_options", HTTPConnection.default_socket_options)
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        return manager


def _new_session() -> requests.Session:
    session = requests.Session()
    session.mount("https://", _Adapter(pool_connections=1, pool_maxsize=1))
    return session


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every error behind it: requests and urllib3 wrap the one that happened."""
    waiting, seen = [exc], set()
    while waiting:
        error = waiting.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        behind = [error.__cause__, error.__context__, getattr(error, "reason", None), *error.args]
        waiting += [b for b in behind if isinstance(b, BaseException)]


def _untrusted(exc: BaseException) -> EngineError | None:
    """The error to give when ``exc`` comes from a certificate that could not be trusted."""
    for error in _causes(exc):
        if isinstance(error, ssl.SSLCertVerificationError):
            said = error.verify_message or "it could not be checked"
        elif isinstance(error, CertificateError):
            said = "it is for another server"
        else:
            continue
        if "expired" in said or "not yet valid" in said:
            advice = "Check this computer's date and time"
        else:
            advice = ("If this network's proxy replaces certificates, set REQUESTS_CA_BUNDLE to "
                      "the file of the proxy's certificate; otherwise use the espeak engine")
        return EngineError(
            f"Google TTS: the server's certificate is not trusted ({said}), so its audio is not "
            f"used. {advice}."
        )
    return None


def _failure(exc: requests.RequestException) -> _Retryable | EngineError:
    """What a request that raised ``exc`` means: worth another try, or not."""
    untrusted = _untrusted(exc)
    if untrusted is not None:
        return untrusted
    if isinstance(exc, requests.Timeout) or any(
        isinstance(error, ReadTimeoutError | TimeoutError) for error in _causes(exc)
    ):
        return _Retryable("did not answer in time")
    return _Retryable("could not be reached")


@dataclass(frozen=True)
class GttsEngine:
    """Speech from Google. ``tld`` picks Google's host suffix (``com``, ``com.vn``); one that
    schedule.yaml would not take is an EngineError."""

    tld: str = _DEFAULTS.tld
    slow: bool = _DEFAULTS.slow
    timeout_s: float = _DEFAULTS.timeout
    concurrency: int = _DEFAULTS.concurrency
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    name: str = "gtts"
    max_chunk_chars: int = GTTS_MAX_CHARS
    _kept: queue.SimpleQueue[_Kept] = field(  # one per request in flight
        default_factory=queue.SimpleQueue, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # The tld becomes part of the host every request goes to: only schedule.yaml's plain
        # Google suffixes, so the bulletin's text cannot be sent anywhere else.
        try:
            GttsSettings(tld=self.tld)
        except ValidationError as exc:
            raise EngineError(" ".join(value_problem(e, "tld") for e in exc.errors())) from None

    @classmethod
    def from_settings(cls, settings: GttsSettings) -> GttsEngine:
        return cls(
            tld=settings.tld, slow=settings.slow, timeout_s=settings.timeout,
            concurrency=settings.concurrency, retry=RetryPolicy(attempts=settings.retries + 1),
        )

    @property
    def identity(self) -> str:
        return f"gtts:vi:tld={self.tld}:slow={str(self.slow).lower()}"

    def reachable(self, timeout_s: float = 2.0) -> bool:
        """Whether Google's TTS host, or the proxy that requests to it go through, answers a
        TCP connection right now."""
        url = google_base_url(self.tld)
        proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
        parts = urlsplit(proxy or url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            if parts.hostname is None:
                return False
            with socket.create_connection((parts.hostname, port), timeout=timeout_s):
                return True
        except (OSError, ValueError):
            return False

    def _take(self) -> _Kept:
        """A session that no other request is using, with a connection not idle too long."""
        while True:
            try:
                kept = self._kept.get_nowait()
            except queue.Empty:
                return _Kept(_new_session(), time.monotonic())
            if time.monotonic() - kept.used_at <= _IDLE_S:
                return kept
            kept.session.close()

    def _request(self, text: str) -> bytes:
        """One request. Raises _Retryable or EngineError; returns MP3 bytes that decode."""
        try:
            (request,) = gTTS(
                text,
                lang="vi",
                tld=self.tld,
                slow=self.slow,
                lang_check=False,
                pre_processor_funcs=[],
                tokenizer_func=lambda whole: [whole],
            )._prepare_requests()
        except AssertionError:
            raise EngineError("Google TTS got no text to read.") from None
        kept = self._take()
        try:
            # Proxies and the certificate file from the environment, as requests takes them.
            settings = kept.session.merge_environment_settings(request.url, {}, False, True, None)
            response = kept.session.send(request, timeout=self.timeout_s, **settings)
            reply = response.content
        except requests.RequestException as exc:
            raise _failure(exc) from None
        except OSError as exc:
            if "certificate" not in str(exc):
                raise _Retryable("could not be reached") from None
            # requests checks the certificate file before it connects.
            raise EngineError(
                f"Google TTS: cannot use the certificate file REQUESTS_CA_BUNDLE names ({exc}). "
                "Correct the path, or remove the setting."
            ) from None
        finally:
            kept.used_at = time.monotonic()
            self._kept.put(kept)
        _check_status(response)
        data = _speech_in(reply)
        try:
            inspect_mp3(data)
        except ValueError:
            raise _Retryable("sent audio that is cut short or broken") from None
        return data

    def synthesize(self, text: str, cancel: threading.Event | None = None) -> SpeechClip:
        rng = random.Random()
        started = time.monotonic()
        cancel = cancel or threading.Event()
        last: _Retryable | None = None
        for attempt in range(self.retry.attempts):
            try:
                return SpeechClip(self._request(text), "mp3", retries=attempt)
            except _Retryable as exc:
                last = exc
                if attempt + 1 < self.retry.attempts:
                    wait = exc.wait_s if exc.wait_s is not None else self.retry.delay(attempt, rng)
                    if cancel.wait(min(wait, self.retry.max_delay_s)):
                        raise EngineError("Google TTS request stopped.") from None
        assert last is not None
        elapsed = time.monotonic() - started
        raise EngineError(
            f"Google TTS {last.reason} {self.retry.attempts} times over {elapsed:.0f} s. "
            "Check the internet connection, or use the espeak engine."
        )
