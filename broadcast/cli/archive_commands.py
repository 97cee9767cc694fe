"""The archive command: list the programs that aired, and delete those past their keeping time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from broadcast.cli.schedule_commands import _Day, schedule_option
from broadcast.outputs.archive import Archive, ArchiveEntry
from broadcast.schedule import Schedule, say_length
from broadcast.schedule_file import load_schedule

DEFAULT_DAYS = 7
"""How many days the listing covers when no --date is given (today included)."""


def _zones(record: dict[str, object]) -> str:
    zones = record.get("zones", record.get("zone"))
    if isinstance(zones, str) and zones:
        return zones
    return ", ".join(str(z) for z in zones) if isinstance(zones, list) and zones else "?"


def _length(record: dict[str, object]) -> str:
    start, end = record.get("started"), record.get("ended")
    if not isinstance(start, str) or not isinstance(end, str):
        return "?"
    try:
        length = dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)
    except (ValueError, TypeError):
        return "?"
    return say_length(length.total_seconds())


def _columns(entry: ArchiveEntry, archive: Archive) -> list[str]:
    outcome = entry.record.get("outcome")
    return [
        f"{entry.aired_at.astimezone(archive.tz):%Y-%m-%d %H:%M:%S}",
        entry.program_id,
        _zones(entry.record),
        str(outcome) if outcome else "?",
        _length(entry.record),
        entry.path.relative_to(archive.folder).as_posix(),
    ]


def _listing(entries: list[ArchiveEntry], archive: Archive) -> list[str]:
    rows = [_columns(entry, archive) for entry in entries]
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]) - 1)]
    lines = []
    for entry, row in zip(entries, rows, strict=True):
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]))
        if entry.problem:
            lines.append(click.style(f"  ! {entry.problem}.", fg="yellow"))
    return lines


def _nothing(schedule: Schedule, archive: Archive, first: dt.date, last: dt.date) -> str:
    days = archive.days()
    if not days:
        if not schedule.archive.enabled:
            return (f"Nothing has been archived yet in {archive.folder}. Archiving is off: set "
                    "archive.enabled to true in the schedule to keep what airs.")
        return (f"Nothing has been archived yet in {archive.folder}. "
                "Programs are kept there as 'broadcast run' airs them.")
    span = f"on {first}" if first == last else f"from {first} to {last}"
    held = str(days[0]) if len(days) == 1 else f"{days[0]} to {days[-1]}"
    return f"Nothing was archived {span}. The archive holds {held}: pick a day with --date."


@click.command()
@schedule_option
@click.option("--date", "day", type=_Day(),
              help="List what aired on this day, YYYY-MM-DD (default: the last 7 days).")
@click.option("--prune", is_flag=True,
              help="Delete what aired longer ago than archive.keep_days in the schedule.")
def archive(schedule_path: Path, day: dt.date | None, prune: bool) -> None:
    """List archived programs, or prune old ones.

    Each line is one airing: time, program, zones, outcome, length and the audio file (inside
    the archive folder, beside a .json file with all the details). --prune deletes what aired
    more than archive.keep_days ago. The folder and keep_days come from 'archive:' in the
    schedule.
    """
    if prune and day is not None:
        raise click.UsageError("--prune deletes by age and takes no --date; use one or the other.")
    schedule = load_schedule(schedule_path)
    settings = schedule.archive
    store = Archive(schedule.resolve(settings.folder), settings.keep_days, schedule.ward.tz)
    now = dt.datetime.now(schedule.ward.tz)
    if prune:
        removed = store.prune(now)
        if removed:
            click.echo(f"Removed {removed} program{'s' if removed != 1 else ''} aired more than "
                       f"{store.keep_days} days ago from {store.folder}.")
        else:
            click.echo(f"Nothing in {store.folder} is older than {store.keep_days} days; "
                       "nothing removed.")
        return
    last = day or now.date()
    first = day or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    entries = store.entries(first, last)
    if not entries:
        click.echo(_nothing(schedule, store, first, last))
        return
    count = len(entries)
    span = f"on {first}" if first == last else f"from {first} to {last}"
    click.echo(click.style(
        f"{count} program{'s' if count != 1 else ''} aired {span}, kept in {store.folder} for "
        f"{store.keep_days} days. Times are {schedule.ward.timezone}.", bold=True))
    click.echo("\n".join(_listing(entries, store)))
