"""The daemon's control socket: who is asking, whether they may, and one reply each.

The socket is a Unix socket in the state folder, created under a temporary name, given its
group and mode, and only then renamed into place, so it is never open to more users than the
schedule says. Each connection is one request (see :mod:`broadcast.control.protocol`); the
peer's user comes from the kernel (``SO_PEERCRED``), never from the request. A request that
fails in any way gets a one-line error; the daemon goes on.
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import pwd
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broadcast.control.protocol import (
    MAX_REQUEST_BYTES,
    READ_TIMEOUT_S,
    ProtocolError,
    Request,
    decode_request,
    encode_reply,
)
from broadcast.errors import BroadcastError
from broadcast.schedule.control import ControlSettings

log = logging.getLogger("broadcast.control")

MAX_CLIENTS = 8
"""Requests handled at once; more get a 'busy' reply at once."""


@dataclass(frozen=True)
class Peer:
    """Who is on the other end of a connection, as the kernel says."""

    pid: int
    uid: int
    gid: int

    @property
    def user(self) -> str:
        try:
            return pwd.getpwuid(self.uid).pw_name
        except KeyError:
            return f"uid {self.uid}"

    def groups(self) -> set[int]:
        try:
            entry = pwd.getpwuid(self.uid)
        except KeyError:
            return {self.gid}
        return {self.gid, *os.getgrouplist(entry.pw_name, entry.pw_gid)}


def may_control(peer: Peer, settings: ControlSettings) -> bool:
    """Root, the daemon's own user, and (with a group-writable socket) the control group."""
    if peer.uid in (0, os.geteuid()):
        return True
    if settings.group is None or not settings.mode & 0o060:
        return False
    try:
        return grp.getgrnam(settings.group).gr_gid in peer.groups()
    except KeyError:
        return False


def may_say(peer: Peer, settings: ControlSettings) -> bool:
    """Whether the peer may air words typed on the spot (see :mod:`broadcast.daemon.manual`)."""
    return peer.uid in (0, os.geteuid()) or peer.user in settings.say


@dataclass(frozen=True)
class Answer:
    """A handler's reply: one line for people (``message``) and the details for programs."""

    message: str
    data: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Request, Peer], Answer]


class ControlServer:
    """Serves the control socket in a thread of its own (see the module doc)."""

    def __init__(self, path: Path, settings: Callable[[], ControlSettings],
                 handle: Handler) -> None:
        self.path = path
        self.settings = settings
        self.handle = handle
        self._applied: ControlSettings | None = None
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        """Take over the socket's path (a stale socket of a killed daemon is replaced) and
        start answering."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        fresh.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            listener.bind(str(fresh))
        finally:
            os.umask(old_umask)
        self._applied = self.settings()
        self._set_access(fresh, self._applied)
        listener.listen(16)
        os.replace(fresh, self.path)
        self._listener = listener
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self._thread.start()
        log.info("control socket %s (mode %04o%s)", self.path, self._applied.mode,
                 f", group {self._applied.group}" if self._applied.group else "")

    def _current(self) -> ControlSettings:
        """The control settings of the schedule airing now; the socket's group and mode follow
        an edit at the next connection (and each request is checked against them anyway)."""
        settings = self.settings()
        if settings != self._applied:
            self._applied = settings
            with contextlib.suppress(OSError):
                self._set_access(self.path, settings)
        return settings

    def _set_access(self, path: Path, settings: ControlSettings) -> None:
        group = -1
        if settings.group is not None:
            try:
                group = grp.getgrnam(settings.group).gr_gid
            except KeyError:
                log.error("control: there is no group '%s' on this machine, so only the "
                          "daemon's user and root may use the control socket. Create the "
                          "group or fix 'control: group' in schedule.yaml.", settings.group)
        mode = settings.mode if group != -1 else settings.mode & 0o600
        if group != -1:
            try:
                os.chown(path, -1, group)
                os.chown(path.parent, -1, group)
            except PermissionError:
                log.error("control: the daemon may not give the socket to group '%s' (it is "
                          "not a member). Only its own user may use it.", settings.group)
                mode &= 0o600
        os.chmod(path, mode)
        # The group may pass through the state folder to the socket, not list or change it.
        os.chmod(path.parent, 0o710 if mode & 0o060 else 0o700)

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
            self.path.unlink(missing_ok=True)
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _serve(self) -> None:
        while (listener := self._listener) is not None:
            try:
                connection, _ = listener.accept()
            except OSError:
                if self._listener is None:
                    return
                continue
            if not self._slots.acquire(blocking=False):
                with contextlib.suppress(OSError):
                    connection.sendall(encode_reply(
                        False, error="the daemon is busy with other requests; try again."))
                connection.close()
                continue
            threading.Thread(target=self._answer, args=(connection,), name="control request",
                             daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        try:
            with connection:
                reply = self._reply(connection)
                with contextlib.suppress(OSError):
                    connection.sendall(reply)
        finally:
            self._slots.release()

    def _reply(self, connection: socket.socket) -> bytes:
        raw = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                    struct.calcsize("3i"))
        peer = Peer(*struct.unpack("3i", raw))
        try:
            if not may_control(peer, self._current()):
                log.warning("control: refused %s (PID %d): not in the control group",
                            peer.user, peer.pid)
                raise BroadcastError(f"user {peer.user} may not control the loudspeakers. Ask "
                                     "the administrator to add you to the control group.")
            request = decode_request(_read_request(connection))
            log.info("control: %s asks: %s", peer.user, request.command)
            answer = self.handle(request, peer)
        except BroadcastError as exc:
            return encode_reply(False, error=str(exc).splitlines()[0])
        except Exception as exc:
            log.exception("control: a request failed")
            return encode_reply(False, error=f"the daemon could not do it ({exc}). See its log.")
        return encode_reply(True, message=answer.message, data=answer.data)


def _read_request(connection: socket.socket) -> bytes:
    """The request's bytes: up to a newline or the end of input, at most the limit."""
    connection.settimeout(READ_TIMEOUT_S)
    data = b""
    try:
        while b"\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
            if len(data) > MAX_REQUEST_BYTES:
                raise ProtocolError(
                    f"the request is larger than {MAX_REQUEST_BYTES // 1024} kB.")
    except TimeoutError:
        raise ProtocolError(
            f"no complete request came within {READ_TIMEOUT_S:.0f} s of connecting.") from None
    finally:
        connection.settimeout(None)
    if not data.strip():
        raise ProtocolError("the request was empty.")
    return data.split(b"\n", 1)[0]
