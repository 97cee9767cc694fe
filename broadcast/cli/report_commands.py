"""Reports: what the ward aired in a period, the file it sends to the city, the city's table."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import click

from broadcast.asrun import AsRunLog, Row
from broadcast.cli.daemon_commands import schedule_option, state_dir_option, ward_state_dir
from broadcast.errors import BroadcastError
from broadcast.fileio import write_bytes_atomic, write_text_atomic
from broadcast.reports import GROUPINGS, Merged, Tally, export_rows, merge, tally
from broadcast.schedule.values import parse_date
from broadcast.schedule_file import load_schedule

_COLUMNS = ("planned", "aired", "on_time", "late", "interrupted", "missed", "failed",
            "refused", "skipped", "minutes_aired", "on_air_rate")


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _vn_date(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def _period_rows(schedule_path: Path, state_dir: Path | None, first: dt.date,
                 last: dt.date) -> tuple[str, list[Row], str]:
    """The ward's name, its rows scheduled in the period, and what range the log covers."""
    if last < first:
        raise BroadcastError(f"--to ({_vn_date(last)}) is before --from ({_vn_date(first)}).")
    schedule = load_schedule(schedule_path)
    tz = schedule.ward.tz
    path = ward_state_dir(schedule_path, state_dir) / "as-run.sqlite"
    if not path.exists():
        raise BroadcastError(f"{path}: there is no as-run log yet. It is written by "
                             "'broadcast run' as broadcasts air.")
    log = AsRunLog(path)
    try:
        start = dt.datetime.combine(first, dt.time(), tz)
        rows = log.between(start, start + dt.timedelta(days=(last - first).days + 1))
        span = log.span()
    finally:
        log.close()
    covers = ("The log is empty." if span is None else
              f"The log covers {_vn_date(span[0].date())} to {_vn_date(span[1].date())}.")
    return schedule.ward.name, [row for row in rows if row.outcome != "airing"], covers


@click.command(name="export")
@schedule_option
@state_dir_option
@click.option("--from", "first", required=True, callback=_date,
              help="First day, e.g. 2026-01-01 or 01/01/2026.")
@click.option("--to", "last", required=True, callback=_date, help="Last day (included).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The file to write (JSON Lines with a checksum).")
def export_command(schedule_path: Path, state_dir: Path | None, first: dt.date, last: dt.date,
                   output: Path) -> None:
    """Write the as-run rows of a period to a file to send to the city (read it with
    'broadcast report --merge')."""
    ward, rows, covers = _period_rows(schedule_path, state_dir, first, last)
    data = export_rows(ward, first, last, rows, dt.datetime.now(dt.UTC).astimezone())
    write_bytes_atomic(output, data)
    click.echo(f"Exported {len(rows)} row(s) of {ward}, {_vn_date(first)} to {_vn_date(last)}, "
               f"to {output}. {covers}")


@click.command()
@schedule_option
@state_dir_option
@click.option("--from", "first", callback=_date, help="First day, e.g. 2026-01-01 or 01/01/2026.")
@click.option("--to", "last", callback=_date, help="Last day (included).")
@click.option("--by", type=click.Choice(GROUPINGS), default="zone", show_default=True,
              help="Count by zone, program, topic (the scripts' tags), campaign or approver.")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text",
              show_default=True, help="How to write the report.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report to this file instead of the screen.")
@click.option("--merge", "merging", is_flag=True,
              help="Make the city's table from wards' export files (FILES) instead.")
@click.option("--expect", multiple=True, metavar="WARD",
              help="With --merge: a ward that should have sent a file (repeat the option).")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
def report(schedule_path: Path, state_dir: Path | None, first: dt.date | None,
           last: dt.date | None, by: str, fmt: str, output: Path | None, merging: bool,
           expect: tuple[str, ...], files: tuple[Path, ...]) -> None:
    """Count the broadcasts of a period: planned, aired (on time, late), interrupted, missed,
    failed, refused and skipped, with minutes aired and why the rest did not air."""
    if merging:
        if not files:
            raise click.UsageError("--merge needs the wards' export files.")
        text = _merged_text(merge(files, expect), fmt)
    else:
        if files:
            raise click.UsageError("files are read only with --merge.")
        if first is None or last is None:
            raise click.UsageError("give the period: --from DATE --to DATE.")
        ward, rows, covers = _period_rows(schedule_path, state_dir, first, last)
        groups = tally(rows, by)
        text = _ward_text(ward, first, last, by, groups, covers, fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    write_text_atomic(output, text)
    click.echo(f"Report written to {output}.")


def _row(name: str, group: Tally) -> dict[str, Any]:
    values = group.to_json()
    return {"group": name, **{column: values[column] for column in _COLUMNS},
            "reasons": values["reasons"]}


def _csv(header: tuple[str, ...], lines: list[tuple[Any, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    return buffer.getvalue()


def _rate(group: Tally) -> str:
    return "-" if group.on_air_rate is None else f"{group.on_air_rate:.1%}"


def _ward_text(ward: str, first: dt.date, last: dt.date, by: str, groups: dict[str, Tally],
               covers: str, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"ward": ward, "from": first.isoformat(), "to": last.isoformat(),
                           "by": by, "covers": covers,
                           "groups": [_row(name, group) for name, group in groups.items()]},
                          ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return _csv((by, *_COLUMNS, "reasons"), [
            (name, *[_row(name, group)[column] for column in _COLUMNS],
             "; ".join(f"{reason} ({count})" for reason, count in group.reasons.most_common()))
            for name, group in groups.items()])
    lines = [f"{ward}: broadcasts from {_vn_date(first)} to {_vn_date(last)}, by {by}. {covers}"]
    if not groups:
        lines.append("Nothing was planned in this period.")
    for name, group in groups.items():
        lines.append(f"{name}: {group.aired} of {group.planned} aired ({_rate(group)}; "
                     f"{group.on_time} on time, {group.late} late), "
                     f"{group.minutes_aired:.0f} min on air")
        lines += [f"    not aired {count}x: {reason}"
                  for reason, count in group.reasons.most_common()]
    return "\n".join(lines) + "\n"


def _merged_text(merged: Merged, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({
            "wards": [{**_row(ward, group),
                       "from": merged.periods[ward][0].isoformat(),
                       "to": merged.periods[ward][1].isoformat()}
                      for ward, group in merged.wards.items()],
            "campaigns": {campaign: [_row(ward, group) for ward, group in wards.items()]
                          for campaign, wards in merged.by_campaign.items()},
            "sent_nothing": list(merged.silent),
            "left_out": list(merged.left_out),
        }, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        lines = [(ward, "", *[_row(ward, group)[column] for column in _COLUMNS])
                 for ward, group in merged.wards.items()]
        lines += [(ward, campaign, *[_row(ward, group)[column] for column in _COLUMNS])
                  for campaign, wards in merged.by_campaign.items()
                  for ward, group in wards.items()]
        lines += [(ward, "", "sent nothing") for ward in merged.silent]
        return _csv(("ward", "campaign", *_COLUMNS), lines)
    lines = ["Broadcasts by ward:"]
    lines += [f"{ward}: {group.aired} of {group.planned} aired ({_rate(group)}), "
              f"{group.minutes_aired:.0f} min on air" for ward, group in merged.wards.items()]
    lines += [f"{ward}: sent nothing" for ward in merged.silent]
    for campaign, wards in merged.by_campaign.items():
        lines.append(f"Campaign {campaign}:")
        lines += [f"    {ward}: {group.aired} of {group.planned} aired ({_rate(group)}), "
                  f"{group.minutes_aired:.0f} min" for ward, group in wards.items()]
    lines += [f"Left out: {reason}" for reason in merged.left_out]
    return "\n".join(lines) + "\n"
