"""Approvers' commands: make a key, and approve scripts by signing their words."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import click
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broadcast.approval import (
    TRUST_LIST,
    approval_path,
    load_trust_list,
    new_key,
    private_key,
    public_text,
    read_approval,
    recording_hash,
    sign,
    verify,
    write_approval,
)
from broadcast.bulletin import Bulletin, load_bulletin, notice_script, parse_bulletin
from broadcast.cli.app import lexicon_for
from broadcast.cli.daemon_commands import schedule_option
from broadcast.errors import BroadcastError
from broadcast.prerender import WARD_SCHEDULE, schedule_lexicon, ward_rule
from broadcast.schedule import AUDIO_SUFFIXES, SCRIPT_SUFFIXES, parse_date
from broadcast.schedule_file import load_schedule
from broadcast.vietnamese import Lexicon, to_spoken
from broadcast.watch import approved_files

MIN_PASSPHRASE = 8


def _passphrase(prompt: str, *, twice: bool = False) -> str:
    """A passphrase typed without echo on a terminal; from a script, the next line(s) of its
    input."""
    if sys.stdin.isatty():
        return str(click.prompt(prompt, hide_input=True, confirmation_prompt=twice, err=True))
    first = sys.stdin.readline().rstrip("\n")
    if twice and sys.stdin.readline().rstrip("\n") != first:
        raise BroadcastError("the two passphrases differ. Nothing was made.")
    return first


def key_folder() -> Path:
    """Where an approver's keys are kept: their own config folder, never the ward's."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "broadcast" / "keys"


@click.group()
def keys() -> None:
    """Approvers' keys: each approver makes one on their own computer."""


@keys.command(name="new")
@click.option("--name", required=True, help="The approver's full name.")
@click.option("--position", default="", help="Their position, e.g. Phó Chủ tịch UBND phường.")
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False),
              help="Where to keep the key (default: your own config folder).")
def new_key_command(name: str, position: str, folder: Path | None) -> None:
    """Make a key pair: the private key stays here, encrypted with your passphrase; the public
    key is printed for the ward's approvers.yaml."""
    passphrase = _passphrase("Passphrase for the new key", twice=True)
    if len(passphrase) < MIN_PASSPHRASE:
        raise BroadcastError(f"the passphrase must be at least {MIN_PASSPHRASE} characters.")
    path, public = new_key(folder or key_folder(), passphrase)
    entry = {"name": name, "position": position, "key": public_text(public)}
    card = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False)
    path.with_suffix(".pub").write_text(card, encoding="utf-8")
    click.echo(f"Private key: {path} (keep it here; never send it to anyone).", err=True)
    click.echo("Give these lines to the ward, to add under 'approvers:' in approvers.yaml:",
               err=True)
    click.echo(card, nl=False)


def _own_keys() -> list[Path]:
    return sorted(key_folder().glob("*.pem")) if key_folder().is_dir() else []


def _default_key() -> Path:
    found = _own_keys()
    if len(found) != 1:
        raise click.UsageError(f"say which key to sign with: --key FILE (keys in "
                               f"{key_folder()}: {len(found)}).")
    return found[0]


def _signer(key_file: Path) -> tuple[Ed25519PrivateKey, str, str]:
    """The private key in ``key_file`` (its passphrase asked for) and the name and position
    its card gives."""
    private = private_key(key_file, _passphrase(f"Passphrase for {key_file.name}"))
    card = key_file.with_suffix(".pub")
    who = yaml.safe_load(card.read_text(encoding="utf-8"))[0] if card.is_file() else {}
    return private, str(who.get("name") or "unknown"), str(who.get("position") or "")


def sign_notice(text: str, key_file: Path | None) -> dict[str, Any] | None:
    """A typed notice signed with ``key_file`` (by default the approver's one key, when they
    have one); None when there is no key to sign with."""
    if key_file is None:
        found = _own_keys()
        if len(found) != 1:
            return None
        key_file = found[0]
    bulletin = parse_bulletin(notice_script(text), Path("notice.md"))
    click.echo("-- the notice, as the voice will read it:", err=True)
    for paragraph in bulletin.paragraphs:
        click.echo(to_spoken(paragraph, lexicon_for(None)), err=True)
    private, name, position = _signer(key_file)
    now = dt.datetime.now().astimezone()
    # Good for today only: a signed notice kept somewhere cannot be aired again next week.
    return sign(bulletin, private, name=name, position=position, signed_at=now,
                valid_until=now.date())


def _show(bulletin: Bulletin | Path, shown: dict[Path, str]) -> None:
    """Show what is to be approved; for a recording, remember the digest shown (what is
    signed is that digest, even if the file changes before the passphrase is typed)."""
    if isinstance(bulletin, Path):
        size = bulletin.stat().st_size
        shown[bulletin] = recording_hash(bulletin)
        click.echo(f"== {bulletin.name}: a recording, {size / 1000:.0f} kB, SHA-256 "
                   f"{shown[bulletin].removeprefix('sha256:')}")
        click.echo("-- listen to it in full before you approve it: the approval binds these "
                   "exact bytes.")
        click.echo()
        return
    click.echo(f"== {bulletin.path.name}: {bulletin.title}")
    click.echo(bulletin.body)
    click.echo("-- as the voice will read it:")
    lexicon = _ward_lexicon(bulletin.path)
    for paragraph in bulletin.paragraphs:
        click.echo(to_spoken(paragraph, lexicon))
    click.echo()


def _ward_lexicon(script: Path) -> Lexicon:
    """The lexicon the voice will read ``script`` with: its ward's, when the script is in a
    ward whose schedule can be read, else the built-in one (and ./lexicon.yaml)."""
    rule = ward_rule(script)
    if rule.trust_list is None:
        return lexicon_for(None)
    try:
        return schedule_lexicon(load_schedule(rule.trust_list.parent / WARD_SCHEDULE))
    except BroadcastError as exc:
        click.echo(f"Note: the ward's lexicon cannot be used ({exc}); showing the built-in "
                   "reading.", err=True)
        return lexicon_for(None)


@click.command()
@click.argument("scripts", nargs=-1, required=True,
                type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--key", "key_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Your private key (default: the one key in your config folder).")
@click.option("--valid-until", help="Last day the approval holds (YYYY-MM-DD); default: no end.")
@click.option("--yes", is_flag=True, help="Do not ask to confirm (the words are still shown).")
def approve(scripts: tuple[Path, ...], key_file: Path | None, valid_until: str | None,
            yes: bool) -> None:
    """Approve scripts (and recordings): see their words and how the voice will read them,
    then sign them with your key. Each approval is written beside its file (FILE.approval)."""
    until = None
    if valid_until is not None:
        try:
            until = parse_date(valid_until)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--valid-until") from None
    key_file = key_file or _default_key()
    bulletins = [_approvable(path) for path in scripts]
    shown: dict[Path, str] = {}
    for bulletin in bulletins:
        _show(bulletin, shown)
    if not yes:
        click.confirm(f"Approve {len(bulletins)} file(s) to air exactly as shown?",
                      abort=True, err=True)
    private, name, position = _signer(key_file)
    now = dt.datetime.now().astimezone()
    for bulletin in bulletins:
        path = bulletin if isinstance(bulletin, Path) else bulletin.path
        fields = sign(bulletin, private, name=name, position=position, signed_at=now,
                      valid_until=until, content_hash=shown.get(path))
        write_approval(path, fields)
        click.echo(f"Approved: {path.name} ({approval_path(path).name})")


def _approvable(path: Path) -> Bulletin | Path:
    """A script as a bulletin, a recording as its path; anything else is refused."""
    suffix = path.suffix.lower()
    if suffix in SCRIPT_SUFFIXES:
        return load_bulletin(path)
    if suffix in AUDIO_SUFFIXES:
        return path
    raise BroadcastError(f"{path.name} is neither a script (.md, .txt) nor a recording "
                         f"({', '.join(AUDIO_SUFFIXES)}), so it cannot be approved.")


@click.command()
@schedule_option
@click.option("--days", type=click.IntRange(0, 366), default=14, show_default=True,
              help="Say which approvals end within this many days.")
def approvals(schedule_path: Path, days: int) -> None:
    """The signed approval of every script and recording the schedule uses: by whom and when,
    until when, or why it does not hold (not approved, changed after approval, ...). Exits 1
    when one does not hold."""
    schedule = load_schedule(schedule_path)
    trust = load_trust_list(schedule.base_dir / TRUST_LIST)
    today = dt.datetime.now(schedule.ward.tz).date()
    named, recorded = approved_files(schedule)
    scripts = sorted(named)
    files = [*scripts, *sorted(recorded)]
    failing = 0
    for script in files:
        name = script.relative_to(schedule.base_dir).as_posix() \
            if script.is_relative_to(schedule.base_dir) else str(script)
        try:
            subject = load_bulletin(script) if script in scripts else script
            approval, fields = read_approval(script)
            verified = verify(subject, approval, fields, trust, today)
        except BroadcastError as exc:
            failing += 1
            click.echo(f"{name}: NOT APPROVED: {exc.message}")
            continue
        until = approval.valid_until
        ends = ""
        if until is not None:
            left = (until - today).days
            ends = f", until {until}" + (f" (ends in {left} days)" if left <= days else "")
        click.echo(f"{name}: approved by {verified.approved_by} on "
                   f"{approval.signed_at:%Y-%m-%d}{ends}")
    recorded = " and recordings" if len(files) > len(scripts) else ""
    click.echo(f"{len(files) - failing} of {len(files)} scripts{recorded} approved.")
    if failing:
        raise SystemExit(1)
