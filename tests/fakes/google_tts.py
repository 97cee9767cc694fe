"""A local fake of Google Translate's text-to-speech endpoint, served over HTTPS.

gTTS posts each text chunk to
``https://translate.google.{tld}/_/TranslateWebserverUi/data/batchexecute``. The fake is reached
at that very address, as a ward behind a proxy reaches Google: while it runs, ``https_proxy``
names its HTTPS proxy on loopback (:mod:`tests.fakes.proxy`), which answers
``CONNECT translate.google.com:443`` (or ``translate.google.com.vn:443``) by tunnelling to the
fake's TLS server and refuses every other target. Everything gTTS does (pre-processing,
chunking, packaging ``f.req``, sending through the proxy, parsing the reply, mapping errors to
``gTTSError``) runs unchanged::

    with FakeGoogleTTS() as fake:
        gTTS("Xin chào bà con", lang="vi").save(path)
        assert fake.texts == ["Xin chào bà con"]

The fake's certificate names both Google hosts and is signed by a test authority the process
makes once; clients that check certificates, as our engine does (gTTS does not), trust that
authority through ``REQUESTS_CA_BUNDLE``. Like the proxy variables, the fake sets it while it
runs and puts back what was there on stop, so commands a test starts inherit both.

Like Google, the fake speaks HTTP/1.1 and keeps a connection open for the next request, so a
client that reuses its connections pays for one TLS handshake, not one per chunk.

Replies carry real speech: espeak-ng's Vietnamese voice, encoded like Google's audio
(MP3, 24 kHz, mono, 32 kbit/s, no ID3 or Xing header, so gTTS's concatenation of
several chunks stays one clean MP3 stream).
"""

import atexit
import base64
import contextlib
import functools
import json
import logging
import os
import random
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.fakes.proxy import TunnelProxy

HOST = "127.0.0.1"
RPC_ID = "jQ1olc"
BATCHEXECUTE_PATH = "/_/TranslateWebserverUi/data/batchexecute"
ESPEAK_VOICE = "vi"
SAMPLE_RATE = 24_000
BITRATE = "32k"

_IO_TIMEOUT = 10.0
_TOOL_TIMEOUT = 60.0
GOOGLE_HOSTS = ("translate.google.com", "translate.google.com.vn")
"""The hosts the fake answers for: Google's for the ``tld`` values ``com`` and ``com.vn``."""
_HTML = "text/html; charset=utf-8"
_CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
_PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY")
_JSON = "application/json; charset=utf-8"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpeechRequest:
    """One chunk gTTS asked the fake to speak, decoded from the ``f.req`` form field.

    ``fault`` names the injected misbehaviour that answered it ("status 429", "hang",
    "garbage", "html", "truncate"), or is None when it got real audio.
    """

    text: str
    lang: str
    slow: bool
    fault: str | None


@dataclass(frozen=True)
class _Status:
    status: int


@dataclass(frozen=True)
class _Hang:
    seconds: float


@dataclass(frozen=True)
class _Garbage:
    html: bool


@dataclass(frozen=True)
class _Truncate:
    keep: float


@dataclass(frozen=True)
class _Corrupt:
    pass


_Fault = _Status | _Hang | _Garbage | _Truncate | _Corrupt


def _label(fault: _Fault) -> str:
    match fault:
        case _Status(status):
            return f"status {status}"
        case _Hang():
            return "hang"
        case _Garbage(html=True):
            return "html"
        case _Garbage():
            return "garbage"
        case _Truncate():
            return "truncate"
        case _Corrupt():
            return "corrupt"


def synthesize_mp3(text: str) -> bytes:
    """Speak ``text`` with espeak-ng and encode it as Google serves TTS audio."""
    with tempfile.TemporaryDirectory(prefix="fake-google-tts-") as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", ESPEAK_VOICE, "-w", str(wav), "--stdin"],
            input=text.encode("utf-8"),
            capture_output=True,
            check=True,
            timeout=_TOOL_TIMEOUT,
        )
        encode = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(wav)]
        encode += ["-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "libmp3lame", "-b:a", BITRATE]
        encode += ["-map_metadata", "-1", "-id3v2_version", "0", "-write_xing", "0"]
        encode += ["-fflags", "+bitexact", "-f", "mp3", "pipe:1"]
        encoded = subprocess.run(
            encode,
            capture_output=True,
            check=True,
            timeout=_TOOL_TIMEOUT,
        )
    return encoded.stdout


def _compact_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _batchexecute(payload: str | None, status: list[int] | None = None) -> bytes:
    """A batchexecute reply: anti-XSSI prefix, then one length-prefixed JSON frame."""
    frame = _compact_json([["wrb.fr", RPC_ID, payload, None, None, status, "generic"]])
    return f")]}}'\n\n{len(frame)}\n{frame}\n".encode()


def batchexecute_reply(audio: bytes) -> bytes:
    """Wrap MP3 bytes the way Google does: base64 inside a JSON string inside the frame."""
    return _batchexecute(_compact_json([base64.b64encode(audio).decode("ascii")]))


def _html_page(title: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body></body></html>".encode()


def _parse_f_req(body: bytes) -> tuple[str, str, bool]:
    """Decode gTTS's ``f.req`` form field into (text, lang, slow)."""
    (f_req,) = urllib.parse.parse_qs(body.decode("utf-8"))["f.req"]
    rpc_id, params, _, _ = json.loads(f_req)[0][0]
    if rpc_id != RPC_ID:
        raise ValueError(f"unexpected rpcid {rpc_id!r}")
    text, lang, speed, _ = json.loads(params)
    if not isinstance(text, str) or not isinstance(lang, str):
        raise TypeError("text and lang must be strings")
    return text, lang, speed is True


@dataclass(frozen=True)
class _CertificateFiles:
    authority: Path
    """The test authority's certificate, the one file clients trust."""
    chain: Path
    """The server's certificate, then the authority's, as a server sends them."""
    key: Path
    """The server certificate's private key."""


_CERTIFICATE_LOCK = threading.Lock()


def _certificate_files() -> _CertificateFiles:
    """A certificate for the Google hosts signed by a test authority: one of each per process,
    so every fake a process starts is trusted through the same file."""
    with _CERTIFICATE_LOCK:
        return _make_certificate_files()


def _key_usage(*, server: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=server, key_cert_sign=not server, crl_sign=not server,
        content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, encipher_only=False, decipher_only=False,
    )


@functools.cache
def _make_certificate_files() -> _CertificateFiles:
    now = datetime.now(UTC)
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority_name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "Fake Google TTS test authority")]
    )
    authority_id = x509.SubjectKeyIdentifier.from_public_key(authority_key.public_key())
    authority = (
        x509.CertificateBuilder()
        .subject_name(authority_name)
        .issuer_name(authority_name)
        .public_key(authority_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(server=False), critical=True)
        .add_extension(authority_id, critical=False)
        .sign(authority_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, GOOGLE_HOSTS[0])]))
        .issuer_name(authority_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(host) for host in GOOGLE_HOSTS]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(server=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(authority_id),
            critical=False,
        )
        .sign(authority_key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="fake-google-tls-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    files = _CertificateFiles(folder / "authority.pem", folder / "chain.pem", folder / "key.pem")
    authority_pem = authority.public_bytes(serialization.Encoding.PEM)
    files.authority.write_bytes(authority_pem)
    files.chain.write_bytes(server.public_bytes(serialization.Encoding.PEM) + authority_pem)
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _tls_context() -> ssl.SSLContext:
    """A server context with the process's certificate for the Google hosts."""
    files = _certificate_files()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.chain, files.key)
    return context


def _trust_env() -> dict[str, str]:
    """Make clients that check certificates trust the fake, as requests does: through
    ``REQUESTS_CA_BUNDLE``. Returns what to put back."""
    taken = {key: os.environ[key] for key in _CA_VARIABLES if key in os.environ}
    for key in taken:
        del os.environ[key]
    os.environ["REQUESTS_CA_BUNDLE"] = str(_certificate_files().authority)
    return taken


def _proxy_env(proxy: TunnelProxy) -> dict[str, str]:
    """Send HTTPS through ``proxy``: ``https_proxy`` names it, and every other proxy variable
    (``no_proxy`` and ``all_proxy`` among them) is taken out. Returns what to put back."""
    taken = {k: v for k, v in os.environ.items() if k.lower().endswith("_proxy")}
    for key in taken:
        del os.environ[key]
    for key in _PROXY_VARIABLES:
        os.environ[key] = proxy.url
    return taken


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"  # keep the connection open between requests
    # Headers and body go out in two writes; on a kept-open connection, Nagle's algorithm would
    # hold the body back until the client's delayed acknowledgement (40 ms), as Google does not.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_GET(self) -> None:
        self.send(HTTPStatus.NOT_FOUND, _html_page("Not Found"))

    def send(self, status: int, body: bytes, content_type: str = _HTML) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True  # server_close() joins every connection thread

    def __init__(self, fake: "FakeGoogleTTS", tls: ssl.SSLContext) -> None:
        self.fake = fake
        self.tls = tls
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.connections_made = 0
        super().__init__((HOST, 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the address's FQDN; skip that lookup.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.socket.getsockname()[1]

    def finish_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:
        # Handshake in the connection's own thread, so a silent client cannot stall accept().
        request.settimeout(_IO_TIMEOUT)
        with self.tls.wrap_socket(request, server_side=True) as connection:
            with self.connections_lock:
                self.open_connections.add(connection)
                self.connections_made += 1
            try:
                self.RequestHandlerClass(connection, client_address, self)
            finally:
                with self.connections_lock:
                    self.open_connections.discard(connection)

    def drop_connections(self) -> None:
        """End every open connection, so threads waiting for a next request finish now."""
        with self.connections_lock:
            connections = list(self.open_connections)
        for connection in connections:
            # The plain socket's shutdown: the TLS layer's own would drop its state under the
            # thread still reading from it.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(connection, socket.SHUT_RDWR)

    def handle_error(self, request: socket.socket, client_address: tuple[str, int]) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            # Clients that time out or drop the connection are part of the game.
            _log.debug("connection from %s ended: %r", client_address, error)
            return
        super().handle_error(request, client_address)


@dataclass(frozen=True)
class _Running:
    server: _Server
    thread: threading.Thread
    proxy: TunnelProxy
    saved_env: dict[str, str]
    """The proxy and certificate variables the fake took out of the environment."""


class FakeGoogleTTS:
    """Google Translate's TTS RPC on 127.0.0.1 over HTTPS, with misbehaviour on demand.

    Use as a context manager (or ``start()``/``stop()``); gTTS and our engine then reach it
    with ``tld`` ``com`` or ``com.vn`` (the ``GOOGLE_HOSTS``). While running it points
    ``https_proxy`` and ``HTTPS_PROXY`` at its proxy (``proxy_url``), takes the other
    ``*_proxy`` variables (``no_proxy``, ``all_proxy``) out of the environment, points
    ``REQUESTS_CA_BUNDLE`` at its test authority, and puts all of them back on stop. All knobs
    and recordings are thread-safe and may be changed while requests are in flight. Faults
    queue up in call order and each one answers one request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._synth_lock = threading.Lock()
        self._stopping = threading.Event()
        self._audio: dict[str, bytes] = {}
        self._requests: list[SpeechRequest] = []
        self._faults: deque[_Fault | None] = deque()
        self._latency = 0.0
        self._random_failure: tuple[int, float, random.Random] | None = None
        self._in_flight = 0
        self._max_concurrent = 0
        self._running: _Running | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Start serving on an OS-chosen port; returns self."""
        if self._running is not None:
            raise RuntimeError("FakeGoogleTTS is already running")
        self._stopping.clear()
        server = _Server(self, _tls_context())
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-google-tts",
            daemon=True,
        )
        thread.start()
        targets = [f"{host}:443" for host in GOOGLE_HOSTS]
        proxy = TunnelProxy(targets, upstream_port=server.server_port).start()
        self._running = _Running(server, thread, proxy, _proxy_env(proxy) | _trust_env())
        return self

    def stop(self) -> None:
        """Release hung requests, stop serving, join all threads, restore the proxy and
        certificate variables."""
        running, self._running = self._running, None
        if running is None:
            return
        self._stopping.set()
        running.server.shutdown()
        running.server.drop_connections()
        running.proxy.stop()
        running.server.server_close()
        running.thread.join()
        for key in ("REQUESTS_CA_BUNDLE", *_PROXY_VARIABLES):
            os.environ.pop(key, None)
        os.environ.update(running.saved_env)

    def drop_connections(self) -> None:
        """Close every open connection, as a server does with idle ones (the proxy's tunnels
        end with them, so clients see it at once)."""
        if self._running is not None:
            self._running.server.drop_connections()
            self._running.proxy.drop_connections()

    def refuse_connections(self) -> None:
        """Google out of reach: every new connection through the proxy is reset at once, with
        no answer, and the open ones end. ``serve_normally()`` ends the outage."""
        self._proxy().refuse()

    def black_hole(self) -> None:
        """Google silent: new connections are taken and never answered, the open ones pass
        nothing on, until ``serve_normally()`` (or ``stop()``)."""
        self._proxy().black_hole()

    def serve_normally(self) -> None:
        """End an outage that ``refuse_connections()`` or ``black_hole()`` began."""
        self._proxy().serve()

    def _proxy(self) -> TunnelProxy:
        if self._running is None:
            raise RuntimeError("FakeGoogleTTS is not running")
        return self._running.proxy

    @property
    def connections_made(self) -> int:
        """How many connections clients have opened since the fake started."""
        return self._running.server.connections_made if self._running else 0

    @property
    def proxy_url(self) -> str:
        """The address of the fake's HTTPS proxy, which ``https_proxy`` names while it runs."""
        if self._running is None:
            raise RuntimeError("FakeGoogleTTS is not running")
        return self._running.proxy.url

    @property
    def requests(self) -> list[SpeechRequest]:
        """Every well-formed TTS request received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def texts(self) -> list[str]:
        """The texts of ``requests``."""
        return [request.text for request in self.requests]

    @property
    def max_concurrent(self) -> int:
        """The most requests that were in flight at the same moment."""
        with self._lock:
            return self._max_concurrent

    @property
    def latency(self) -> float:
        """Seconds every request waits before it is answered."""
        with self._lock:
            return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        with self._lock:
            self._latency = seconds

    def ok_next(self, count: int = 1) -> None:
        """Queue ``count`` normal answers, to aim the faults queued after them at later requests."""
        self._queue(None, count)

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` requests with HTTP ``status`` and an HTML error page."""
        if not 400 <= status <= 599:
            raise ValueError(f"{status} is not an HTTP error status")
        self._queue(_Status(status), count)

    def fail_randomly(self, status: int, fraction: float, seed: int = 0) -> None:
        """Answer about ``fraction`` of requests (those with no queued fault) with ``status``.

        The choice comes from a random generator seeded with ``seed``, so a run repeats.
        ``fraction`` 0 turns it off.
        """
        if not 400 <= status <= 599:
            raise ValueError(f"{status} is not an HTTP error status")
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be in [0, 1]")
        with self._lock:
            self._random_failure = (status, fraction, random.Random(seed)) if fraction else None

    def hang_next(self, count: int = 1, seconds: float = 30.0) -> None:
        """Let the next ``count`` requests stall unanswered, then drop the connection.

        A stall ends after ``seconds`` or as soon as the fake stops.
        """
        self._queue(_Hang(seconds), count)

    def garbage_next(self, count: int = 1, *, html: bool = False) -> None:
        """Answer the next ``count`` requests with a 200 that carries no audio.

        By default the reply is Google's RPC error frame (rpcid present, payload null),
        which gTTS reports as ``gTTSError``. With ``html=True`` it is an HTML page that
        never mentions the rpcid: gTTS then writes nothing for that chunk and raises
        nothing.
        """
        self._queue(_Garbage(html), count)

    def truncate_next(self, count: int = 1, keep: float = 0.1) -> None:
        """Answer the next ``count`` requests with only the first ``keep`` of the MP3 bytes.

        The base64 stays valid; the audio is cut mid-frame and far too short.
        """
        if not 0 <= keep < 1:
            raise ValueError("keep must be in [0, 1)")
        self._queue(_Truncate(keep), count)

    def corrupt_next(self, count: int = 1) -> None:
        """Answer the next ``count`` requests with a frame whose audio is not valid base64.

        gTTS's own decoding then fails with ``binascii.Error``, not ``gTTSError``.
        """
        self._queue(_Corrupt(), count)

    def reset(self) -> None:
        """Forget requests and queued faults, zero latency and ``max_concurrent``.

        The audio cache is kept.
        """
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._latency = 0.0
            self._random_failure = None
            self._max_concurrent = self._in_flight

    def audio_for(self, text: str) -> bytes:
        """The MP3 the fake serves for ``text`` (synthesized once, then cached)."""
        with self._synth_lock:
            audio = self._audio.get(text)
            if audio is None:
                audio = synthesize_mp3(text)
                self._audio[text] = audio
            return audio

    def _queue(self, fault: _Fault | None, count: int) -> None:
        if count < 0:
            raise ValueError("count cannot be negative")
        with self._lock:
            self._faults.extend([fault] * count)

    def _serve(self, handler: _Handler) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_concurrent = max(self._max_concurrent, self._in_flight)
        try:
            self._answer(handler)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, handler: _Handler) -> None:
        if urllib.parse.urlsplit(handler.path).path != BATCHEXECUTE_PATH:
            handler.close_connection = True  # its body, if any, is left unread
            handler.send(HTTPStatus.NOT_FOUND, _html_page("Not Found"))
            return
        try:
            length = int(handler.headers.get("Content-Length", "0"))
            text, lang, slow = _parse_f_req(handler.rfile.read(length))
        except (KeyError, IndexError, TypeError, ValueError):
            handler.send(HTTPStatus.BAD_REQUEST, _html_page("Bad Request"))
            return

        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            if fault is None and self._random_failure is not None:
                status, fraction, rng = self._random_failure
                if rng.random() < fraction:
                    fault = _Status(status)
            latency = self._latency
            label = None if fault is None else _label(fault)
            self._requests.append(SpeechRequest(text, lang, slow, label))

        if isinstance(fault, _Hang):
            self._stopping.wait(fault.seconds)
            handler.close_connection = True
            return
        self._stopping.wait(latency)

        match fault:
            case None:
                handler.send(200, batchexecute_reply(self.audio_for(text)), _JSON)
            case _Status(status):
                handler.send(status, _html_page(f"Error {status}"))
            case _Garbage(html=True):
                handler.send(200, _html_page("Google Translate"))
            case _Garbage():
                handler.send(200, _batchexecute(None, [3]), _JSON)
            case _Corrupt():
                handler.send(200, _batchexecute(_compact_json(["abc"])), _JSON)
            case _Truncate(keep):
                audio = self.audio_for(text)
                reply = batchexecute_reply(audio[: int(len(audio) * keep)])
                handler.send(200, reply, _JSON)


def start_fake_google() -> FakeGoogleTTS:
    """Start a fake for fixtures that manage its lifetime; call ``stop()`` when done."""
    return FakeGoogleTTS().start()
