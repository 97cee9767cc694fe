"""Commands that ask the running daemon: play, say, emergency, stop, skip, queue, cancel, relay.

Each sends one request on the ward's control socket (see docs/control.md) and prints the
daemon's answer. ``play`` alone also works without a daemon: it then plays the file directly.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from broadcast.cli.app import SpeechChoice, speech_options
from broadcast.cli.approval_commands import sign_notice
from broadcast.cli.audio_commands import play_directly, source_password
from broadcast.cli.daemon_commands import schedule_option, state_dir_option, ward_state_dir
from broadcast.control.client import DaemonNotRunning, Reply, ask
from broadcast.control.protocol import (
    MAX_TEXT_CHARS,
    Cancel,
    Emergency,
    Play,
    Queue,
    Relay,
    Request,
    Say,
    Stop,
)
from broadcast.errors import BroadcastError
from broadcast.fileio import read_at_most
from broadcast.outputs import SPEC_HELP
from broadcast.schedule.values import parse_duration
from broadcast.vietnamese import TextDecodingError, decode_text

PRIORITIES = ("normal", "priority", "emergency")


def _seconds(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value).total_seconds()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


KEY_OPTION = click.option(
    "--key", "key_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Sign the typed words with this approver key (default: your one key, if you have "
         "one; with none, the words go unsigned).")


def ward_options(command: Callable[..., None]) -> Callable[..., None]:
    """--schedule and --state-dir, turned into the ward's state folder (``state``)."""

    @schedule_option
    @state_dir_option
    @functools.wraps(command)
    def wrapper(schedule_path: Path, state_dir: Path | None, **kwargs: Any) -> None:
        command(state=ward_state_dir(schedule_path, state_dir), **kwargs)

    return wrapper


def target_options(command: Callable[..., None]) -> Callable[..., None]:
    """--zone, --group and --all, as a ``targets`` dict for the request."""

    @click.option("--zone", "zones", multiple=True, metavar="ZONE",
                  help="A zone (by id); repeat for several.")
    @click.option("--group", "groups", multiple=True, metavar="GROUP",
                  help="Every zone of a group; repeat for several.")
    @click.option("--all", "every_zone", is_flag=True,
                  help="Every zone (also what happens when no zone or group is given).")
    @functools.wraps(command)
    def wrapper(zones: tuple[str, ...], groups: tuple[str, ...], every_zone: bool,
                **kwargs: Any) -> None:
        if every_zone and (zones or groups):
            raise click.UsageError("give --all, or --zone/--group, not both.")
        command(targets={"zones": list(zones), "groups": list(groups), "all": every_zone},
                **kwargs)

    return wrapper


def timing_options(command: Callable[..., None]) -> Callable[..., None]:
    """--priority, --at, --repeat and --every."""

    @click.option("--priority", type=click.Choice(PRIORITIES), default="normal",
                  show_default=True, help="normal waits its turn; priority goes before waiting "
                  "broadcasts; emergency cuts in.")
    @click.option("--at", "at", metavar="HH:MM[:SS]", help="Air today at this time (the ward's "
                  "clock) instead of now.")
    @click.option("--repeat", type=click.IntRange(1, 50), default=1, show_default=True,
                  help="How many times in all.")
    @click.option("--every", metavar="DURATION", help="Time between repeats, e.g. 10m (without "
                  "it, the repeats follow each other).")
    @functools.wraps(command)
    def wrapper(priority: str, at: str | None, repeat: int, every: str | None,
                **kwargs: Any) -> None:
        if every is not None and repeat == 1:
            raise click.UsageError("--every needs --repeat (how many times in all).")
        command(timing={"priority": priority, "at": at, "repeat": repeat,
                        "every": _seconds(every, "--every")}, **kwargs)

    return wrapper


def _send(state: Path, request: Request) -> Reply:
    reply = ask(state, request)
    click.echo(reply.message)
    return reply


def _target(target: str) -> str:
    """A file named on the command line, as an absolute path (the daemon has another folder);
    anything else as it is (a program id)."""
    path = Path(target)
    return str(path.resolve()) if path.exists() else target


@click.command(name="play")
@click.argument("target")
@target_options
@timing_options
@ward_options
@click.option("--output", "specs", multiple=True, metavar="SPEC",
              help=f"Without a daemon only: where to play it: {SPEC_HELP}. Repeat for several "
                   "outputs (default: the sound device).")
@click.option("--sink", help="Without a daemon only: PulseAudio sink or ALSA device.")
@click.option("--password-env", metavar="NAME",
              help="Without a daemon only: the environment variable that holds the Icecast "
                   "source password (then write the address without it).")
@click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Without a daemon only: a file that holds the Icecast source password.")
@speech_options
def play_command(target: str, targets: dict[str, Any], timing: dict[str, Any], state: Path,
                 specs: tuple[str, ...], sink: str | None, password_env: str | None,
                 password_file: Path | None, speech: SpeechChoice) -> None:
    """Play a program, a script or an audio file now (or --at a time), by hand.

    With the daemon running, it airs like a scheduled broadcast: on the zones' outputs, after
    what is airing (or cutting in, with --priority emergency), logged in the as-run log with
    your user. Without a daemon, a script or audio file plays directly on the sound device
    (or --output), under the ward's lock so that a daemon does not start over it; the speech
    options apply only then (the daemon speaks with the schedule's engines).
    """
    if not (specs or sink):
        try:
            _send(state, Play(command="play", target=_target(target), **targets, **timing))
            return
        except DaemonNotRunning as exc:
            asked = (any(targets.values()) or timing["priority"] != "normal" or timing["at"]
                     or timing["repeat"] > 1)
            if asked or not Path(target).is_file():
                raise BroadcastError(f"{exc} Without it, only a script or audio file can be "
                                     "played, now, on this machine's sound device.") from None
            click.echo("The daemon is not running: playing directly.", err=True)
    password = source_password(password_env, password_file)
    if any(urllib.parse.urlsplit(spec).password for spec in specs if spec.startswith("icecast:")):
        click.echo("Warning: the Icecast password is on the command line, where other users "
                   "of this machine can see it. Use --password-env or --password-file.",
                   err=True)
    play_directly(Path(target), state, speech, specs, sink, password)


@click.command()
@click.argument("text", required=False)
@click.option("--file", "text_file", type=click.Path(path_type=Path, dir_okay=False,
                                                      exists=True),
              help="Read the notice from this text file instead.")
@KEY_OPTION
@target_options
@timing_options
@ward_options
def say(text: str | None, text_file: Path | None, key_file: Path | None,
        targets: dict[str, Any], timing: dict[str, Any], state: Path) -> None:
    """Air a typed notice: rendered now (with the opening chime) and aired like a broadcast.

    An approver signs the notice with their key (asked for its passphrase); a ward with
    'approval: signed' airs only signed notices. Unsigned, only users listed in 'control: say'
    of schedule.yaml may air one. Your user and the exact text go on the as-run log.
    """
    words = _notice(text, text_file)
    _send(state, Say(command="say", text=words, approval=sign_notice(words, key_file),
                     **targets, **timing))


def _notice(text: str | None, text_file: Path | None) -> str:
    if (text is None) == (text_file is None):
        raise click.UsageError('give the notice as "TEXT" or with --file, one of the two.')
    if text_file is None:
        assert text is not None
        return text
    data = read_at_most(text_file, MAX_TEXT_CHARS * 4)
    if data is None:
        raise BroadcastError(f"{text_file} is longer than a notice may be "
                             f"({MAX_TEXT_CHARS} characters).")
    try:
        return decode_text(data)
    except TextDecodingError as exc:
        raise BroadcastError(f"{text_file}: {exc}") from None


@click.command()
@click.argument("target", required=False)
@click.option("--text", help="A message typed now, instead of a script or recording.")
@target_options
@click.option("--repeat", type=click.IntRange(1, 10), default=1, show_default=True,
              help="How many times the message is read, back to back.")
@KEY_OPTION
@ward_options
def emergency(target: str | None, text: str | None, targets: dict[str, Any], repeat: int,
              key_file: Path | None, state: Path) -> None:
    """Cut in at once: the alert tone, then the message (a script, a recording, a program of
    the schedule, or --text). What was cut follows its program's on_interrupt. Airs in quiet
    hours too. A --text message is signed like 'broadcast say' (see 'control:
    unsigned_emergency' in docs/schedule.md)."""
    if (target is None) == (text is None):
        raise click.UsageError('give a script, recording or program, or --text "...", one of '
                               "the two.")
    _send(state, Emergency(command="emergency", target=None if target is None else
                           _target(target), text=text, repeat=repeat,
                           approval=None if text is None else sign_notice(text, key_file),
                           **targets))


@click.command()
@target_options
@ward_options
def stop(targets: dict[str, Any], state: Path) -> None:
    """Stop what is airing and drop what waits (in the zones given, or everywhere).
    Requests for later stay: see 'broadcast queue', take them back with 'broadcast cancel'."""
    _send(state, Stop(command="stop", **targets))


@click.command()
@target_options
@ward_options
def skip(targets: dict[str, Any], state: Path) -> None:
    """Stop what is airing; what waits goes on air next."""
    _send(state, Stop(command="skip", **targets))


@click.command()
@click.argument("request_id", metavar="ID", type=click.IntRange(min=1))
@ward_options
def cancel(request_id: int, state: Path) -> None:
    """Take back a request (its number is in the reply and in 'broadcast queue'): what waits
    is dropped, what airs is cut."""
    _send(state, Cancel(command="cancel", id=request_id))


@click.command()
@ward_options
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def queue(state: Path, as_json: bool) -> None:
    """What is airing and waiting in each zone, and the requests for later."""
    reply = ask(state, Queue(command="queue"))
    if as_json:
        click.echo(json.dumps(reply.data, ensure_ascii=False, indent=2))
        return
    for zone_id, zone in sorted(reply.data["zones"].items()):
        airing = zone["airing"]
        now = "nothing" if airing is None else _cue_line(airing)
        click.echo(f"{zone_id}: {now}")
        for waiting in zone["waiting"]:
            click.echo(f"    then {_cue_line(waiting)}")
    click.echo("Requests for later:" if reply.data["requests"] else "Requests for later: none")
    for request in reply.data["requests"]:
        times = ", ".join(_clock(start) for start in request["starts"])
        click.echo(f"  #{request['id']} {request['command']} {request['what']} by "
                   f"{request['requested_by']} on {', '.join(request['zones'])} at {times}")


def _clock(text: str) -> str:
    return f"{dt.datetime.fromisoformat(text):%H:%M:%S}"


def _cue_line(cue: dict[str, Any]) -> str:
    who = f", #{cue['request']} by {cue['requested_by']}" if cue["request"] else ""
    return f"{cue['program']} ({cue['priority']}, {cue['length_s']} s{who})"


@click.command()
@click.argument("source")
@click.option("--for", "length", required=True, metavar="DURATION",
              help="How long to relay, e.g. 15m.")
@target_options
@timing_options
@ward_options
def relay(source: str, length: str, targets: dict[str, Any], timing: dict[str, Any],
          state: Path) -> None:
    """Relay a live stream now: a source named in 'relay_sources' of schedule.yaml (by name or
    address)."""
    seconds = _seconds(length, "--for")
    assert seconds is not None
    _send(state, Relay(command="relay", source=source, duration=seconds, **targets, **timing))
