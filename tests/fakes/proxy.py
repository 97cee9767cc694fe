"""An HTTPS proxy on loopback that tunnels to one local server, for a few host names only.

A client told ``https_proxy=http://127.0.0.1:PORT`` asks it ``CONNECT translate.google.com:443``
before each connection. For a target it was given, the proxy answers 200 and then relays bytes
both ways, unread, to ``127.0.0.1:upstream_port``: the TLS session runs between the client and
that server, as it would with Google behind a ward's proxy. Every other target, and every other
method, is refused with 403; if the local server cannot be reached, the answer is 502. The proxy
never resolves a name and never connects anywhere but to that one loopback port, so nothing sent
through it can leave the machine::

    proxy = TunnelProxy({"translate.google.com:443"}, upstream_port=server_port).start()
    os.environ["https_proxy"] = proxy.url
    ...
    proxy.stop()

For outages it has two more modes besides ``serve()``: ``refuse()`` resets every new connection
at once, unanswered, and ends the open tunnels (the nearest a proxy comes to "connection
refused"); ``black_hole()`` accepts each new connection and reads its CONNECT but never answers,
and passes nothing more on through the open tunnels, holding them all until the mode changes or
the proxy stops, as a link that silently drops every packet would.
"""

import contextlib
import enum
import logging
import selectors
import socket
import socketserver
import struct
import sys
import threading
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from typing import Self

HOST = "127.0.0.1"
_IO_TIMEOUT = 10.0
_HEAD_LIMIT = 8192
_RELAY_CHUNK = 65536

_log = logging.getLogger(__name__)


class Mode(enum.Enum):
    """How the proxy treats connections: as usual, refused, or swallowed without an answer."""

    SERVE = "serve"
    REFUSE = "refuse"
    BLACK_HOLE = "black hole"


def _read_head(client: socket.socket) -> tuple[bytes, bytes] | None:
    """The request head up to its blank line, and any bytes the client sent after it; None when
    the client closes first or sends a head too long to be a CONNECT request."""
    received = b""
    while b"\r\n\r\n" not in received:
        if len(received) > _HEAD_LIMIT:
            return None
        data = client.recv(_HEAD_LIMIT)
        if not data:
            return None
        received += data
    head, _, early = received.partition(b"\r\n\r\n")
    return head, early


def _connect_target(head: bytes) -> str | None:
    """The ``host:port`` of a CONNECT request, host in lower case; None for any other request."""
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
    if len(parts) != 3 or parts[0] != "CONNECT" or not parts[2].startswith("HTTP/1."):
        return None
    host, colon, port = parts[1].rpartition(":")
    return f"{host.lower()}:{port}" if colon else None


def _answer(client: socket.socket, status: HTTPStatus) -> None:
    if status == HTTPStatus.OK:
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        return
    client.sendall(
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "Content-Length: 0\r\nConnection: close\r\n\r\n".encode("ascii")
    )


def _relay(client: socket.socket, upstream: socket.socket, server: "_Server") -> None:
    """Copy bytes both ways until either side closes its connection or drops it. Bytes that come
    while the proxy is a black hole are never passed on: the tunnel waits, unanswering, and
    ends when the black hole does (its client has given up by then)."""
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        while True:
            for key, _ in selector.select():
                if server.mode is Mode.BLACK_HOLE:
                    server.wait_while_black_hole()
                    return
                source: socket.socket = key.fileobj  # type: ignore[assignment]
                data = source.recv(_RELAY_CHUNK)
                if not data:
                    return
                key.data.sendall(data)


def _reset(connection: socket.socket) -> None:
    """Close with a reset rather than an orderly end: the client sees its connection refused."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def _no_delay(connection: socket.socket) -> None:
    # Bytes are passed on as they come, often in several writes; with Nagle's algorithm a later
    # write would wait for the other side's delayed acknowledgement of the one before (40 ms).
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Handler(socketserver.BaseRequestHandler):
    server: "_Server"
    request: socket.socket

    def handle(self) -> None:
        client = self.request
        client.settimeout(_IO_TIMEOUT)
        with self.server.tracked(client) as open_:
            if not open_:
                return
            mode = self.server.mode
            if mode is Mode.REFUSE:
                _reset(client)
                return
            received = _read_head(client)
            if received is None:
                return
            if mode is Mode.BLACK_HOLE:
                # The request was read; no answer ever comes. Let go once the mode changes.
                self.server.wait_while_black_hole()
                return
            head, early = received
            target = _connect_target(head)
            if target not in self.server.targets:
                _log.debug("refused %r", head.split(b"\r\n", 1)[0])
                _answer(client, HTTPStatus.FORBIDDEN)
                return
            try:
                upstream = socket.create_connection(
                    (HOST, self.server.upstream_port), timeout=_IO_TIMEOUT
                )
            except OSError:
                _answer(client, HTTPStatus.BAD_GATEWAY)
                return
            with upstream, self.server.tracked(upstream) as still_open:
                if not still_open:
                    return
                _no_delay(client)
                _no_delay(upstream)
                _answer(client, HTTPStatus.OK)
                if early:
                    upstream.sendall(early)
                _relay(client, upstream, self.server)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = True  # server_close() joins every tunnel's thread

    def __init__(self, targets: frozenset[str], upstream_port: int) -> None:
        self.targets = targets
        self.upstream_port = upstream_port
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.closing = False
        self.mode = Mode.SERVE
        self.mode_changed = threading.Condition(self.connections_lock)
        super().__init__((HOST, 0), _Handler)

    def set_mode(self, mode: Mode) -> None:
        with self.connections_lock:
            self.mode = mode
            self.mode_changed.notify_all()

    def wait_while_black_hole(self) -> bool:
        """Wait while the proxy is a black hole; False once it is closing."""
        with self.connections_lock:
            self.mode_changed.wait_for(lambda: self.mode is not Mode.BLACK_HOLE or self.closing)
            return not self.closing

    @contextlib.contextmanager
    def tracked(self, connection: socket.socket) -> Iterator[bool]:
        """Keep ``connection`` where ``drop_connections`` finds it; yields False once the proxy
        is closing, and the caller then leaves the connection alone."""
        with self.connections_lock:
            if self.closing:
                open_ = False
            else:
                open_ = True
                self.open_connections.add(connection)
        try:
            yield open_
        finally:
            with self.connections_lock:
                self.open_connections.discard(connection)

    def drop_connections(self, *, closing: bool = False) -> None:
        """End every tunnel; with ``closing``, also every tunnel still being set up."""
        with self.connections_lock:
            self.closing = self.closing or closing
            connections = list(self.open_connections)
            self.mode_changed.notify_all()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: socket.socket, client_address: tuple[str, int]) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            # Clients that time out or drop the connection are part of the game.
            _log.debug("tunnel for %s ended: %r", client_address, error)
            return
        super().handle_error(request, client_address)


class TunnelProxy:
    """A CONNECT proxy on 127.0.0.1 that tunnels ``targets`` (``host:port``) to
    ``127.0.0.1:upstream_port`` and refuses everything else."""

    def __init__(self, targets: Iterable[str], upstream_port: int) -> None:
        self._server = _Server(frozenset(target.lower() for target in targets), upstream_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-https-proxy",
            daemon=True,
        )

    def start(self) -> Self:
        """Start serving on an OS-chosen port; returns self."""
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        """The proxy's address, as ``https_proxy`` takes it."""
        return f"http://{HOST}:{self._server.server_address[1]}"

    def drop_connections(self) -> None:
        """End every open tunnel: the clients see their connections closed at once."""
        self._server.drop_connections()

    @property
    def mode(self) -> Mode:
        """How connections are treated now (``serve()``, ``refuse()``, ``black_hole()``)."""
        return self._server.mode

    def serve(self) -> None:
        """Tunnel as usual again; connections held by a black hole are closed unanswered."""
        self._server.set_mode(Mode.SERVE)

    def refuse(self) -> None:
        """Reset every new connection at once, unanswered, and end every open tunnel."""
        self._server.set_mode(Mode.REFUSE)
        self._server.drop_connections()

    def black_hole(self) -> None:
        """Accept new connections and read their CONNECT but never answer; open tunnels pass
        nothing more on. Both are held until the mode changes or the proxy stops, then closed."""
        self._server.set_mode(Mode.BLACK_HOLE)

    def stop(self) -> None:
        """Stop taking connections, end every tunnel and join all threads."""
        self._server.shutdown()
        self._server.drop_connections(closing=True)
        self._server.server_close()
        self._thread.join()
