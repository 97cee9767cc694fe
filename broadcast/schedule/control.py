"""schedule.yaml: who may control the running daemon (play, say, emergency, stop) and how, and
the live streams it may relay (a loudspeaker network must not become an open relay)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from broadcast.schedule.items import FallbackItem, stream_url
from broadcast.schedule.values import Duration, Model, Slug

_MODE_SCHEMA = {
    "anyOf": [{"type": "string", "pattern": r"^0?[0-6][0-6]0$"}, {"type": "integer"}],
    "description": "Who may use the control socket, as file modes: \"0600\" (the daemon's "
                   "user only) or \"0660\" (its group too). Others never.",
    "examples": ["0660"],
}


def _mode(value: object) -> int:
    """The socket's mode. Quoted ("0660") it is octal; YAML reads an unquoted 0660 as the
    number it stands for, which is the same mode."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError('mode must be written in quotes, e.g. "0660"')
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit() or any(ch in "89" for ch in text):
            raise ValueError(f"'{value}' is not a file mode. Write e.g. \"0660\"")
        value = int(text, 8)
    if value & 0o007:
        raise ValueError(
            f"mode {value:04o} would let every user on the machine control the loudspeakers. "
            'Use "0660" and put the operators in the control group')
    if value & ~0o660 or value & 0o600 != 0o600:
        raise ValueError(f"mode {value:04o} cannot be used. Use \"0600\" or \"0660\"")
    return value


class ControlSettings(Model):
    """The control socket of the running daemon: broadcast play, say, emergency, stop ..."""

    group: str | None = Field(
        None, description="The group of users who may control the daemon, e.g. loa. "
                          "Empty: only the daemon's own user and root.")
    mode: Annotated[int, BeforeValidator(_mode), WithJsonSchema(_MODE_SCHEMA)] = Field(
        "0600", validate_default=True,
        description='Permissions of the socket: "0600" or "0660" (the group may use it).')
    say: list[str] = Field(
        [], description="Users who may air typed notices (broadcast say, emergency --text); "
                        "the daemon's own user and root always may.")
    unsigned_emergency: bool = Field(
        False, description="With approval: signed, a typed emergency message (emergency "
                           "--text) may air without an approver's signature when a user "
                           "listed in say sends it; each one is logged as unsigned. Other "
                           "typed notices must be signed (broadcast say --key).")


class RelaySource(Model):
    """A live stream the ward may relay (tiếp âm), e.g. national or provincial radio."""

    name: Slug = Field(description="Short name used in relay items and 'broadcast relay', "
                                   "e.g. vov1.")
    url: Annotated[str, AfterValidator(stream_url)] = Field(
        description="The stream's address: HTTP/Icecast MP3 or AAC, or HLS (.m3u8).")
    silence: Annotated[Duration, Field(le=dt.timedelta(minutes=5))] = Field(
        dt.timedelta(seconds=10),
        description="Digital silence this long counts as a dead stream: the relay's fallback "
                    "airs until the stream sounds again (e.g. 10s).")
    fallback: FallbackItem | None = Field(
        None, description="What airs while this stream is dead or silent, when the relay item "
                          "names no fallback of its own (and for 'broadcast relay').")
