"""The control protocol, version 1: one JSON request and one JSON reply per connection.

A client connects to the daemon's Unix socket (``control.sock`` in the state folder), writes one
JSON object on one line, and reads one JSON object back; then the connection closes. Requests
carry ``"version": 1`` and a ``command``; replies carry ``version``, ``ok`` and either
``message`` (one line for people) and ``data`` (for programs), or ``error`` (one line). Every
message is documented in docs/control.md.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from broadcast.errors import BroadcastError

VERSION = 1
SOCKET_NAME = "control.sock"
MAX_REQUEST_BYTES = 64 * 1024
"""A request is a few hundred bytes; a typed notice at its longest is about 30 kB."""
MAX_REPLY_BYTES = 4 * 1024 * 1024
MAX_TEXT_CHARS = 10_000
"""The longest typed notice (about ten minutes of speech)."""
READ_TIMEOUT_S = 5.0
"""A client that has not sent its whole request this long after connecting is turned away."""

Priority = Literal["normal", "priority", "emergency"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Targets(_Message):
    """Where a request airs: zones by id, groups, or every zone (none given: every zone)."""

    zones: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=200)] = []
    groups: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=200)] = []
    all: bool = False


class Timing(_Message):
    """When it airs: now, or today at ``at`` (HH:MM or HH:MM:SS, the ward's time); ``repeat``
    times in all, ``every`` seconds apart (without ``every``: back to back)."""

    at: Annotated[str, Field(max_length=20)] | None = None
    repeat: Annotated[int, Field(ge=1, le=50)] = 1
    every: Annotated[float, Field(gt=0, le=86400)] | None = None


class Play(Targets, Timing):
    command: Literal["play"]
    target: Annotated[str, Field(min_length=1, max_length=4096)]
    """A program id from the schedule, or a script or audio file (an absolute path inside the
    ward folder)."""
    priority: Priority = "normal"


Signed = Annotated[dict[str, Any], Field(max_length=20)]
"""A typed notice's approval, as ``broadcast approve`` writes one (made at the CLI)."""


class Say(Targets, Timing):
    command: Literal["say"]
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
    priority: Priority = "normal"
    approval: Signed | None = None


class Emergency(Targets):
    command: Literal["emergency"]
    target: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)] | None = None
    repeat: Annotated[int, Field(ge=1, le=10)] = 1
    approval: Signed | None = None


class Stop(Targets):
    command: Literal["stop", "skip"]


class Queue(_Message):
    command: Literal["queue"]


class Cancel(_Message):
    command: Literal["cancel"]
    id: Annotated[int, Field(ge=1)]


class Relay(Targets, Timing):
    command: Literal["relay"]
    source: Annotated[str, Field(min_length=1, max_length=2048)]
    """A name from the schedule's relay_sources, or one of their addresses."""
    duration: Annotated[float, Field(gt=0, le=4 * 3600)]
    priority: Priority = "normal"


Request = Annotated[Play | Say | Emergency | Stop | Queue | Cancel | Relay,
                    Field(discriminator="command")]
_REQUEST: TypeAdapter[Request] = TypeAdapter(Request)
COMMANDS = ("play", "say", "emergency", "stop", "skip", "queue", "cancel", "relay")


class ProtocolError(BroadcastError):
    """A request that cannot be read: malformed, too large, another version, bad values."""


def encode_request(request: Request) -> bytes:
    body = {"version": VERSION, **request.model_dump(exclude_defaults=True)}
    body["command"] = request.command
    return json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n"


def decode_request(data: bytes) -> Request:
    """The request in ``data``, or :class:`ProtocolError` saying in one line what is wrong."""
    if len(data) > MAX_REQUEST_BYTES:
        raise ProtocolError(f"the request is larger than {MAX_REQUEST_BYTES // 1024} kB.")
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError("the request is not JSON in UTF-8.") from None
    if not isinstance(body, dict):
        raise ProtocolError("the request must be a JSON object.")
    version = body.pop("version", None)
    if version != VERSION:
        raise ProtocolError(f"protocol version {version!r} is not spoken here; use {VERSION}.")
    command = body.get("command")
    if command not in COMMANDS:
        raise ProtocolError(f"unknown command {command!r}. Commands: {', '.join(COMMANDS)}.")
    try:
        return _REQUEST.validate_python(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "request"
        raise ProtocolError(f"{command}: {where}: {first['msg']}.") from None


def encode_reply(ok: bool, *, message: str = "", data: dict[str, Any] | None = None,
                 error: str = "") -> bytes:
    body: dict[str, Any] = {"version": VERSION, "ok": ok}
    if ok:
        body.update(message=message, data=data or {})
    else:
        body["error"] = error
    return json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n"
