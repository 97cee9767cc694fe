"""The control protocol's messages and the schedule's control block, without a daemon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broadcast.control.protocol import (
    MAX_REQUEST_BYTES,
    Play,
    ProtocolError,
    Say,
    decode_request,
    encode_reply,
    encode_request,
)
from broadcast.schedule import ScheduleError
from broadcast.schedule.control import ControlSettings
from broadcast.schedule_file import parse_schedule


def request(**body: object) -> bytes:
    return json.dumps({"version": 1, **body}).encode()


def test_a_request_goes_over_the_wire_and_back_unchanged() -> None:
    sent = Say(command="say", text="Kính thưa bà con!", zones=["khu-pho-1"], at="17:30",
               repeat=3, every=600.0)
    assert decode_request(encode_request(sent)) == sent
    assert encode_request(sent).endswith(b"\n")
    assert json.loads(encode_request(Play(command="play", target="sang"))) == {
        "version": 1, "command": "play", "target": "sang"}


@pytest.mark.parametrize(("data", "words"), [
    (b"{play", "the request is not JSON in UTF-8."),
    (b"\xff\xfe", "the request is not JSON in UTF-8."),
    (b"[1, 2]", "the request must be a JSON object."),
    (json.dumps({"command": "queue"}).encode(), "protocol version None is not spoken here"),
    (request(command="reboot"), "unknown command 'reboot'."),
    (request(command="play"), "play: target: Field required."),
    (request(command="play", target="sang", repeat=0), "play: repeat: Input should be greater"),
    (request(command="play", target="sang", colour="red"), "play: colour: Extra inputs"),
    (request(command="say", text=""), "say: text: String should have at least 1 character"),
    (request(command="cancel", id=0), "cancel: id: Input should be greater than or equal to 1"),
    (request(command="relay", source="vov1", duration=-5), "relay: duration: Input should be"),
    (request(command="say", text="a" * 10_001), "say: text: String should have at most"),
    (b"x" * (MAX_REQUEST_BYTES + 1), "the request is larger than 64 kB."),
])
def test_a_bad_request_is_refused_in_one_line_saying_what_is_wrong(data: bytes,
                                                                    words: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        decode_request(data)
    assert str(refused.value).startswith(words)
    assert "\n" not in str(refused.value)


def test_replies_carry_the_version_and_either_a_message_or_an_error() -> None:
    assert json.loads(encode_reply(True, message="#1: now.", data={"id": 1})) == {
        "version": 1, "ok": True, "message": "#1: now.", "data": {"id": 1}}
    assert json.loads(encode_reply(False, error="no.")) == {"version": 1, "ok": False,
                                                            "error": "no."}


@pytest.mark.parametrize(("written", "mode"), [
    ('"0600"', 0o600), ('"0660"', 0o660), ('"660"', 0o660), ("0660", 0o660), ("432", 0o660),
    ('"0640"', 0o640),
])
def test_the_socket_mode_is_read_as_operators_write_it(written: str, mode: int) -> None:
    assert _control(f"mode: {written}").mode == mode


@pytest.mark.parametrize(("written", "words"), [
    ('"0666"', "mode 0666 would let every user on the machine control the loudspeakers"),
    ('"0662"', "mode 0662 would let every user"),
    ('"0700"', "mode 0700 cannot be used"),
    ('"0060"', "mode 0060 cannot be used"),
    ('"06x0"', "'06x0' is not a file mode"),
    ("true", "mode must be written in quotes"),
])
def test_a_socket_mode_open_to_everyone_or_unusable_is_refused_at_its_line(
        written: str, words: str) -> None:
    with pytest.raises(ScheduleError) as refused:
        _control(f"mode: {written}")
    assert "schedule.yaml:11:9: " in str(refused.value) and words in str(refused.value)


def test_by_default_only_the_daemon_user_and_root_may_control() -> None:
    assert ControlSettings() == ControlSettings(group=None, mode="0600", say=[])


def _control(line: str) -> ControlSettings:
    text = f"""\
ward:
  name: Phường Thử
zones:
  - id: khu-pho-1
    name: Cụm loa 1
programs: []
control:
  group: loa
  say: [lan]
  # the socket's mode:
  {line}
"""
    return parse_schedule(text, Path("schedule.yaml")).control
