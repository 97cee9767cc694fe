"""Commands that read the schedule: agenda, check, schema."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from broadcast.approval import ApprovalRule
from broadcast.bulletin import Bulletin, BulletinError, load_bulletin
from broadcast.errors import BroadcastError, Location
from broadcast.estimate import Estimator
from broadcast.planner import Broadcast, plan
from broadcast.prerender import approval_rule, schedule_lexicon
from broadcast.schedule import (
    SCRIPT_SUFFIXES,
    AiredItem,
    AudioItem,
    ChimeItem,
    RelayItem,
    Schedule,
    ScheduleError,
    ScriptItem,
    SilenceItem,
    parse_date,
    schedule_json_schema,
)
from broadcast.schedule_file import load_schedule
from broadcast.vietnamese import (
    Lexicon,
    TextDecodingError,
    decode_text,
    spelled_words,
    to_spoken,
)
from broadcast.watch import approved_files

schedule_option = click.option(
    "--schedule", "schedule_path", type=click.Path(path_type=Path, dir_okay=False),
    default=Path("schedule.yaml"), show_default=True, help="The ward's schedule.",
)

_SILENT = frozenset(".,;:?!()[]\"'\u201c\u201d\u2018\u2019\u00ab\u00bb-\u2013\u2014\u2026/")
"""Punctuation that is meant to be heard as a pause or not at all."""
_MARKUP = re.compile(r"\s*(?:[-*+•·▪►●○■◦➢➤→#>]+\s+)*")
_WORD = re.compile(r"\S+")


class _Day(click.ParamType):
    name = "date"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> dt.date:
        try:
            return parse_date(value)
        except ValueError as exc:
            self.fail(f"{exc}.", param, ctx)


def _zones_matching(schedule: Schedule, name: str) -> set[str]:
    zones = {z.id for z in schedule.zones_for([name])}
    if zones:
        return zones
    names = sorted({z.id for z in schedule.zones} | {g for z in schedule.zones for g in z.groups})
    guess = difflib.get_close_matches(name, names, n=1)
    hint = f" Did you mean '{guess[0]}'?" if guess else f" Zones and groups: {', '.join(names)}."
    raise BroadcastError(f"no zone or group is called '{name}'.{hint}")


def _item_fields(item: AiredItem, schedule: Schedule) -> dict[str, Any]:
    if isinstance(item, ScriptItem):
        return {"kind": "script", "path": item.script.as_posix()}
    if isinstance(item, AudioItem):
        return {"kind": "audio", "path": item.audio.as_posix()}
    if isinstance(item, RelayItem):
        source = schedule.relay_source(item.relay)
        return {"kind": "relay", "source": source.name if source else item.relay,
                "url": source.url if source else item.relay}
    if isinstance(item, ChimeItem):
        chime = schedule.chimes.get(item.chime or "default")
        fields: dict[str, Any] = {"kind": "chime", "name": item.chime or "default"}
        return {**fields, "path": chime.as_posix()} if chime else fields
    return {"kind": "silence"}


def _describe(item: AiredItem) -> str:
    if isinstance(item, ScriptItem):
        return f"script   {item.script.as_posix()}"
    if isinstance(item, AudioItem):
        return f"audio    {item.audio.as_posix()}"
    if isinstance(item, RelayItem):
        return f"relay    {item.relay}"
    if isinstance(item, ChimeItem):
        return f"chime    {item.chime or 'default'}"
    assert isinstance(item, SilenceItem)
    return f"silence  {item.silence:g} s"


def _origin(origin: str) -> str:
    if origin.startswith("campaign:"):
        return f"  [campaign {origin.removeprefix('campaign:')}]"
    return "  [rotation]" if origin == "rotation" else ""


class _JsonLines:
    """One JSON object per broadcast. Items and programs repeat all year, so their JSON is made
    once and reused."""

    def __init__(self, schedule: Schedule, estimate: Estimator) -> None:
        self.schedule = schedule
        self.estimate = estimate
        self._items: dict[tuple[int, str], tuple[AiredItem, str]] = {}
        self._lists: dict[tuple[tuple[int, ...], tuple[str, ...]],
                          tuple[tuple[AiredItem, ...], str, float]] = {}
        self._same: dict[int, tuple[tuple[AiredItem, ...], tuple[str, ...], str, float]] = {}
        self._programs: dict[str, str] = {}
        self._times: dict[dt.datetime, str] = {}

    def _item(self, item: AiredItem, origin: str) -> str:
        known = self._items.get((id(item), origin))
        if known is None:
            fields = {**_item_fields(item, self.schedule),
                      "seconds": round(self.estimate.seconds(item), 1), "from": origin}
            known = (item, json.dumps(fields, ensure_ascii=False))
            self._items[(id(item), origin)] = known
        return known[1]

    def _program(self, broadcast: Broadcast) -> str:
        known = self._programs.get(broadcast.program_id)
        if known is None:
            fields = {"program": broadcast.program_id, "program_name": broadcast.program_name,
                      "zones": list(broadcast.zone_ids), "priority": broadcast.priority}
            known = self._programs[broadcast.program_id] = json.dumps(
                fields, ensure_ascii=False)[1:-1]
        return known

    def _list(self, broadcast: Broadcast) -> tuple[str, float]:
        same = self._same.get(id(broadcast.items))
        if same is not None and same[0] is broadcast.items and same[1] is broadcast.origins:
            return same[2], same[3]
        key = (tuple(map(id, broadcast.items)), broadcast.origins)
        known = self._lists.get(key)
        if known is None:
            text = ", ".join(self._item(item, origin) for item, origin in zip(
                broadcast.items, broadcast.origins, strict=True))
            known = (broadcast.items, text, round(self.estimate.total(broadcast.items)))
            self._lists[key] = known
        self._same[id(broadcast.items)] = (broadcast.items, broadcast.origins, *known[1:])
        return known[1], known[2]

    def line(self, broadcast: Broadcast) -> str:
        items, seconds = self._list(broadcast)
        times = self._times
        start = broadcast.start
        end = start + dt.timedelta(seconds=seconds)
        begins = times.get(start) or times.setdefault(start, start.isoformat())
        ends = times.get(end) or times.setdefault(end, end.isoformat())
        return (f'{{"start": "{begins}", "end": "{ends}", "end_estimated": true, '
                f'{self._program(broadcast)}, "items": [{items}]}}')


def _text_lines(broadcasts: list[Broadcast], estimate: Estimator) -> list[str]:
    lines: list[str] = []
    day: dt.date | None = None
    for broadcast in broadcasts:
        if broadcast.start.date() != day:
            day = broadcast.start.date()
            lines.extend(["", f"{broadcast.start:%a %Y-%m-%d}"])
        end = broadcast.start + dt.timedelta(seconds=round(estimate.total(broadcast.items)))
        lines.append(
            f"  {broadcast.start:%H:%M:%S}-~{end:%H:%M:%S}  {broadcast.program_id}  "
            f"{broadcast.program_name}  ({broadcast.priority}; {', '.join(broadcast.zone_ids)})"
        )
        for number, (item, origin) in enumerate(
                zip(broadcast.items, broadcast.origins, strict=True), start=1):
            lines.append(f"      {number}. {_describe(item)}{_origin(origin)}")
    return lines


@click.command()
@schedule_option
@click.option("--from", "first", type=_Day(), help="First day, YYYY-MM-DD (default: today).")
@click.option("--days", type=click.IntRange(1, 3660), default=7, show_default=True,
              help="How many days to show.")
@click.option("--zone", help="Only what airs in this zone (a zone id or a group).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per broadcast per line.")
def agenda(schedule_path: Path, first: dt.date | None, days: int, zone: str | None,
           as_json: bool) -> None:
    """Show what airs when: start, end, zones, program and items."""
    schedule = load_schedule(schedule_path)
    tz = schedule.ward.tz
    first = first or dt.datetime.now(tz).date()
    start = dt.datetime.combine(first, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(first + dt.timedelta(days=days), dt.time(), tzinfo=tz)
    broadcasts = plan(schedule, start, end)
    if zone is not None:
        wanted = _zones_matching(schedule, zone)
        broadcasts = [b for b in broadcasts if wanted.intersection(b.zone_ids)]
    estimate = Estimator(schedule)
    if as_json:
        if broadcasts:
            lines = _JsonLines(schedule, estimate)
            click.echo("\n".join(lines.line(b) for b in broadcasts))
        return
    last = first + dt.timedelta(days=days - 1)
    where = f" in {zone}" if zone else ""
    if not broadcasts:
        click.echo(f"Nothing airs{where} from {first} to {last}.")
        return
    count = len(broadcasts)
    click.echo(
        f"{schedule.ward.name}: {count} broadcast{'s' if count != 1 else ''}{where} from "
        f"{first} to {last}. Times are {schedule.ward.timezone} (UTC{start.isoformat()[-6:]}); "
        "~ marks an estimated end."
    )
    click.echo("\n".join(_text_lines(broadcasts, estimate)))


def _leftovers(path: Path, lexicon: Lexicon) -> list[BroadcastError]:
    """Symbols and numbers in the script that would be skipped when read aloud.

    A word with digits, or a symbol, counts as skipped when the words read for its line are the
    same with and without it. Each different leftover is reported once, where it first appears.
    """
    try:
        lines = decode_text(path.read_bytes()).replace("\r\n", "\n").split("\n")
    except (OSError, TextDecodingError):
        return []
    fences = [n for n, line in enumerate(lines) if line.strip() == "---"][:2]
    found: dict[str, tuple[Location, int]] = {}
    for number in range(fences[-1] + 1 if len(fences) == 2 else 0, len(lines)):
        line = lines[number]
        if not line.strip():
            continue
        spoken = to_spoken(line, lexicon)
        for column, piece in _pieces(line):
            without = line[:column] + " " + line[column + len(piece):]
            if to_spoken(without, lexicon) == spoken:
                where, times = found.get(piece, (Location(path, number + 1, column + 1), 0))
                found[piece] = (where, times + 1)
    problems = []
    for piece, (where, times) in found.items():
        more = f" It appears {times} times." if times > 1 else ""
        problems.append(BroadcastError(
            f"'{piece}' would be left out when read aloud. Write it in words.{more}", where))
    return problems


def _pieces(line: str) -> list[tuple[int, str]]:
    """Words with digits, and symbols, of a script line: what a reader could skip."""
    markup = _MARKUP.match(line)
    pieces: list[tuple[int, str]] = []
    for word in _WORD.finditer(line, markup.end() if markup else 0):
        if any(ch.isdigit() for ch in word.group()):
            pieces.append((word.start(), word.group()))
        pieces.extend(
            (word.start() + offset, ch) for offset, ch in enumerate(word.group())
            if not ch.isalnum() and ch not in _SILENT
        )
    return pieces


def _script_problems(path: Path, lexicon: Lexicon, lexicon_file: str, rule: ApprovalRule,
                     uses: list[Broadcast]) -> list[BroadcastError]:
    try:
        bulletin = load_bulletin(path)
    except BulletinError as exc:
        return list(exc.problems)
    _note_spelled(bulletin, lexicon, lexicon_file)
    problems: list[BroadcastError] = []
    try:
        approved = rule.approve(bulletin)
    except BroadcastError as exc:
        problems.append(exc)
    else:
        _warn_when_approval_ends(approved, uses)
    return problems + _leftovers(path, lexicon)


def _note_spelled(bulletin: Bulletin, lexicon: Lexicon, lexicon_file: str) -> None:
    """A note naming the words the voice will spell letter by letter: most are abbreviations
    that have a spoken form the lexicon does not know yet."""
    spelled = spelled_words("\n\n".join(bulletin.paragraphs), lexicon)
    if spelled:
        click.echo(f"Note: {bulletin.path}: will be spelled letter by letter: "
                   f"{', '.join(spelled)}. Add them to {lexicon_file} if they have a spoken "
                   "form.", err=True)


def _recording_problems(path: Path, rule: ApprovalRule) -> list[BroadcastError]:
    try:
        rule.approve_recording(path)
    except BroadcastError as exc:
        return [exc]
    return []


def _warn_when_approval_ends(bulletin: Bulletin, uses: list[Broadcast]) -> None:
    """A warning when a script's approval ends before one of its airings."""
    until = bulletin.approved_until
    after = [use for use in uses if until is not None and use.start.date() > until]
    if after:
        click.echo(f"Warning: {bulletin.path.name}: its approval ends on {until}, before it "
                   f"airs on {after[0].start:%Y-%m-%d} ({after[0].program_id}). Ask for a new "
                   "approval in time.", err=True)


def _when(broadcasts: list[Broadcast]) -> str:
    if not broadcasts:
        return "    a chime or an idle sound: it airs with manual requests or between broadcasts"
    shown = ", ".join(f"{b.program_id} {b.start:%Y-%m-%d %H:%M}" for b in broadcasts[:3])
    more = f" and {len(broadcasts) - 3} more" if len(broadcasts) > 3 else ""
    return f"    airs: {shown}{more}"


@click.command()
@schedule_option
@click.option("--days", type=click.IntRange(0, 3660), default=7, show_default=True,
              help="Check the scripts airing in this many days from now.")
def check(schedule_path: Path, days: int) -> None:
    """Check the schedule and every script it airs in the next days; also name the words each
    script will spell letter by letter."""
    try:
        schedule = load_schedule(schedule_path)
    except ScheduleError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        _fail(len(exc.problems))
    for warning in schedule.warnings:
        click.echo(f"Warning: {warning}", err=True)
    now = dt.datetime.now(schedule.ward.tz)
    broadcasts = plan(schedule, now, now + dt.timedelta(days=days))
    airings: dict[Path, list[Broadcast]] = {}
    for broadcast in broadcasts:
        for item in broadcast.items:
            if isinstance(item, ScriptItem | AudioItem):
                path = schedule.resolve(item.script if isinstance(item, ScriptItem)
                                        else item.audio)
                uses = airings.setdefault(path, [])
                if broadcast not in uses:
                    uses.append(broadcast)
    for sound in sorted(approved_files(schedule)[1]):
        airings.setdefault(sound, [])
    lexicon = schedule_lexicon(schedule)
    lexicon_file = (schedule.tts.lexicon or Path("lexicon.yaml")).as_posix()
    rule = approval_rule(schedule)
    count = 0
    for path, uses in airings.items():
        problems = (_script_problems(path, lexicon, lexicon_file, rule, uses)
                    if path.suffix.lower() in SCRIPT_SUFFIXES else _recording_problems(path, rule))
        for problem in problems:
            click.echo(str(problem))
        if problems:
            click.echo(_when(uses))
        count += len(problems)
    if count:
        _weaker(rule)
        _fail(count)
    scripts = sum(path.suffix.lower() in SCRIPT_SUFFIXES for path in airings)
    what = _counted(scripts, "script") + (
        f" and {_counted(len(airings) - scripts, 'recording')}" if len(airings) > scripts else "")
    click.echo(
        f"OK: {schedule_path} is valid, and the {what} airing in the next {days} days "
        f"({len(broadcasts)} broadcasts) are approved and read cleanly."
    )
    _weaker(rule)


def _counted(count: int, thing: str) -> str:
    return f"{count} {thing}{'s' if count != 1 else ''}"


def _weaker(rule: ApprovalRule) -> None:
    if not rule.signed:
        click.echo("Warning: with 'approval: header' anyone who can edit a script can mark it "
                   "approved. Sign scripts with 'broadcast approve' and set 'approval: signed' "
                   "(see docs/schedule.md).", err=True)


def _fail(count: int) -> None:
    click.echo(f"{count} problem{'s' if count != 1 else ''}. Fix them, then run "
               "'broadcast check' again.")
    sys.exit(1)


@click.command()
def schema() -> None:
    """Print the JSON Schema of schedule.yaml, for editors."""
    click.echo(json.dumps(schedule_json_schema(), indent=2, ensure_ascii=False))
