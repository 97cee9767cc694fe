"""Asking the running daemon: connect to its socket, send one request, read one reply."""

from __future__ import annotations

import errno
import json
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broadcast.control.protocol import (
    MAX_REPLY_BYTES,
    SOCKET_NAME,
    VERSION,
    Request,
    encode_request,
)
from broadcast.errors import BroadcastError

REPLY_TIMEOUT_S = 300.0
"""A request that renders speech (say, play of a long script) may take a while to answer."""


class DaemonNotRunning(BroadcastError):
    """No daemon answers on this ward's control socket."""


@dataclass(frozen=True)
class Reply:
    message: str
    data: dict[str, Any]


def socket_path(state_dir: Path) -> Path:
    return state_dir / SOCKET_NAME


def ask(state_dir: Path, request: Request, timeout_s: float = REPLY_TIMEOUT_S) -> Reply:
    """Send ``request`` to the daemon of the ward whose state folder is ``state_dir``.

    Raises :class:`DaemonNotRunning` when no daemon answers, and :class:`BroadcastError` with
    the daemon's own words when it refuses the request.
    """
    path = socket_path(state_dir)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout_s)
        try:
            connection.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise DaemonNotRunning(
                f"the broadcast daemon is not running for this ward (nothing answers at {path}). "
                "Start it with 'broadcast run' or 'systemctl start broadcast'."
            ) from None
        except PermissionError:
            raise BroadcastError(
                "you may not control this ward's loudspeakers. Ask the administrator to add "
                "your user to the control group (control: group in schedule.yaml)."
            ) from None
        except OSError as exc:
            if exc.errno == errno.ENOTSOCK:
                raise DaemonNotRunning(f"{path} is not the daemon's control socket.") from None
            raise
        connection.sendall(encode_request(request))
        connection.shutdown(socket.SHUT_WR)
        data = _read_all(connection)
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BroadcastError("the daemon's reply could not be read. Is it the same version "
                             "as this command? Check with 'broadcast --version'.") from None
    if not isinstance(body, dict) or body.get("version") != VERSION:
        raise BroadcastError("the daemon speaks another version of the control protocol. "
                             "Restart it after an upgrade.")
    if not body.get("ok"):
        raise BroadcastError(str(body.get("error") or "the daemon refused the request."))
    return Reply(str(body.get("message", "")), dict(body.get("data") or {}))


def _read_all(connection: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := connection.recv(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_REPLY_BYTES:
                raise BroadcastError("the daemon's reply is too large to be read.")
    except TimeoutError:
        raise BroadcastError("the daemon took too long to answer. Check 'broadcast status' "
                             "and its log.") from None
    if not chunks:
        raise BroadcastError("the daemon closed the connection without answering. Check its "
                             "log.")
    return b"".join(chunks)
