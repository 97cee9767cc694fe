"""Reports from the as-run log: what was planned, what aired, and why the rest did not.

One stage, plain data in and out. :func:`tally` counts a period's rows by zone, program,
topic, campaign or approver. :func:`export_rows` writes a period's rows as the file a ward
sends to the city (JSON Lines: a header line, one line per row, and a last line with the
SHA-256 of everything before it); :func:`read_export` reads one back and says plainly why it
refuses a file; :func:`merge` makes the city's table across wards from such files.

A broadcast counts once in each zone: its last attempt says how it ended (a broadcast an
emergency cut and that was resumed counts as aired). Minutes aired add up every attempt's
time on air, from its start to its end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broadcast.asrun import OUTCOMES, Row
from broadcast.errors import BroadcastError

GROUPINGS = ("zone", "program", "topic", "campaign", "approver")
"""What a report can count by."""
NOT_GROUPED = "(không có)"
"""The group of a row that has no topic, campaign or approver."""

EXPORT_FORMAT = "broadcast-asrun-export"
EXPORT_VERSION = 1
MAX_EXPORT_BYTES = 200_000_000
"""A year of three broadcasts a day in fifty zones is about 60 MB."""

_ENDED = tuple(outcome for outcome in OUTCOMES if outcome != "airing")
_EXPORTED_FIELDS = tuple(f.name for f in dataclasses.fields(Row) if f.name not in ("id", "audio"))
_TIMES = ("scheduled", "started", "ended")


class ExportError(BroadcastError):
    """A ward's export file that cannot be counted, with the reason."""


@dataclass
class Tally:
    """One group's broadcasts in a period, each counted once per zone by how it ended."""

    planned: int = 0
    on_time: int = 0
    late: int = 0
    interrupted: int = 0
    missed: int = 0
    failed: int = 0
    refused: int = 0
    skipped: int = 0
    seconds_aired: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    """Why what did not air did not air, with how often."""

    @property
    def aired(self) -> int:
        return self.on_time + self.late

    @property
    def on_air_rate(self) -> float | None:
        """The share of planned broadcasts that aired (None when nothing was planned)."""
        return self.aired / self.planned if self.planned else None

    @property
    def minutes_aired(self) -> float:
        return self.seconds_aired / 60

    def count(self, outcome: str, reason: str | None) -> None:
        self.planned += 1
        if outcome == "aired":
            self.on_time += 1
        elif outcome in ("late", "interrupted", "missed", "failed", "refused", "skipped"):
            setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome not in ("aired", "late"):
            self.reasons[reason or outcome] += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "planned": self.planned, "aired": self.aired, "on_time": self.on_time,
            "late": self.late, "interrupted": self.interrupted, "missed": self.missed,
            "failed": self.failed, "refused": self.refused, "skipped": self.skipped,
            "minutes_aired": round(self.minutes_aired, 1),
            "on_air_rate": None if self.on_air_rate is None else round(self.on_air_rate, 4),
            "reasons": dict(self.reasons.most_common()),
        }


def seconds_on_air(row: Row) -> float:
    """How long a row's sound was on air: from its start to its end (0 if it never began)."""
    if row.started is None or row.ended is None:
        return 0.0
    return max(0.0, (row.ended - row.started).total_seconds())


def group_keys(row: Row, by: str) -> list[str]:
    """The groups a row counts in: one zone or program; each of its topics, campaigns or
    approvers (a broadcast of two scripts on two topics counts in both)."""
    if by == "zone":
        return [row.zone]
    if by == "program":
        return [row.program_name]
    if by == "topic":
        return list(row.topics) or [NOT_GROUPED]
    if by == "campaign":
        return list(row.campaigns) or [NOT_GROUPED]
    if by == "approver":
        approvers = sorted({str(item["approved_by"]) for item in row.items
                            if item.get("approved_by")})
        return approvers or [NOT_GROUPED]
    raise ValueError(f"cannot count by {by!r}: choose one of {', '.join(GROUPINGS)}")


def tally(rows: Iterable[Row], by: str) -> dict[str, Tally]:
    """Each group's tally; a broadcast counts by its last attempt in each zone, minutes by
    every attempt. Rows still airing are left out (they have not ended)."""
    last: dict[tuple[str, str], Row] = {}
    seconds: Counter[tuple[str, str]] = Counter()
    for row in rows:
        if row.outcome not in _ENDED:
            continue
        key = (row.occurrence, row.zone)
        seconds[key] += seconds_on_air(row)
        if key not in last or row.attempt >= last[key].attempt:
            last[key] = row
    groups: dict[str, Tally] = {}
    for key, row in last.items():
        for name in group_keys(row, by):
            group = groups.setdefault(name, Tally())
            group.count(row.outcome, row.reason)
            group.seconds_aired += seconds[key]
    return dict(sorted(groups.items()))


# --- export files ------------------------------------------------------------------------


def _row_json(row: Row) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in _EXPORTED_FIELDS}
    for name in _TIMES:
        value = values[name]
        values[name] = None if value is None else value.isoformat(timespec="milliseconds")
    return values


def export_rows(ward: str, first: dt.date, last: dt.date, rows: Sequence[Row],
                exported_at: dt.datetime) -> bytes:
    """The export file of ``ward``'s rows scheduled from ``first`` to ``last`` (included)."""
    header = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "ward": ward,
              "from": first.isoformat(), "to": last.isoformat(),
              "exported_at": exported_at.isoformat(timespec="seconds"), "rows": len(rows)}
    lines = [json.dumps(header, ensure_ascii=False)]
    lines += [json.dumps(_row_json(row), ensure_ascii=False, sort_keys=True) for row in rows]
    body = ("\n".join(lines) + "\n").encode("utf-8")
    footer = json.dumps({"sha256": hashlib.sha256(body).hexdigest()}) + "\n"
    return body + footer.encode("ascii")


@dataclass(frozen=True)
class Export:
    """A ward's export file, read and checked."""

    path: Path
    ward: str
    first: dt.date
    last: dt.date
    exported_at: str
    rows: tuple[Row, ...]


def _row_from_json(values: dict[str, Any]) -> Row:
    missing = {"occurrence", "zone", "program_id", "program_name", "priority", "scheduled",
               "outcome"} - values.keys()
    if missing:
        raise ValueError(f"a row lacks {', '.join(sorted(missing))}")
    unknown = values.keys() - set(_EXPORTED_FIELDS)
    if unknown:
        raise ValueError(f"a row has fields this version does not know: {', '.join(unknown)}")
    for name in _TIMES:
        if values.get(name) is not None:
            values[name] = dt.datetime.fromisoformat(values[name])
    if values["outcome"] not in _ENDED:
        raise ValueError(f"a row has the outcome {values['outcome']!r}")
    return Row(**values)


def read_export(path: Path) -> Export:
    """Read a ward's export file; :class:`ExportError` says why one cannot be counted."""
    def refuse(why: str) -> ExportError:
        return ExportError(f"{path}: {why}. Ask the ward to export the period again.")

    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_EXPORT_BYTES + 1)
    except OSError as exc:
        raise ExportError(f"{path}: cannot read the file ({exc.strerror}).") from None
    if len(data) > MAX_EXPORT_BYTES:
        raise refuse(f"the file is larger than {MAX_EXPORT_BYTES // 1_000_000} MB")
    body, _, footer = data.rstrip(b"\n").rpartition(b"\n")
    try:
        header = json.loads(data.split(b"\n", 1)[0])
        checksum = json.loads(footer)["sha256"]
    except (ValueError, KeyError, TypeError):
        raise refuse("it is not a broadcast export (no header or no checksum line)") from None
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        raise refuse("it is not a broadcast export")
    if header.get("version") != EXPORT_VERSION:
        raise ExportError(f"{path}: it is an export of version {header.get('version')!r}, and "
                          f"this program reads version {EXPORT_VERSION}. Update broadcast.")
    if hashlib.sha256(body + b"\n").hexdigest() != checksum:
        raise refuse("its checksum does not match: the file was cut short or changed")
    lines = body.split(b"\n")[1:]
    if len(lines) != header.get("rows"):
        raise refuse(f"it should hold {header.get('rows')} rows and holds {len(lines)}")
    try:
        rows = tuple(_row_from_json(json.loads(line)) for line in lines)
        first, last = dt.date.fromisoformat(header["from"]), dt.date.fromisoformat(header["to"])
        ward = str(header["ward"])
    except (ValueError, KeyError, TypeError) as exc:
        raise refuse(f"a line is malformed ({exc})") from None
    return Export(path, ward, first, last, str(header.get("exported_at", "")), rows)


# --- the city's table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Merged:
    """The city's table: each ward's tally, by campaign too, and what could not be counted."""

    wards: dict[str, Tally]
    by_campaign: dict[str, dict[str, Tally]]
    """Campaign, then ward."""
    silent: tuple[str, ...]
    """Wards expected that sent nothing."""
    left_out: tuple[str, ...]
    """Files that could not be counted, each with the reason."""
    periods: dict[str, tuple[dt.date, dt.date]]


def merge(paths: Iterable[Path], expected: Iterable[str] = ()) -> Merged:
    """Count every ward's export; a file that cannot be read is left out with its reason and
    does not stop the others. Two files of one ward are counted together (each broadcast
    once)."""
    rows: dict[str, list[Row]] = {}
    periods: dict[str, tuple[dt.date, dt.date]] = {}
    left_out: list[str] = []
    for path in paths:
        try:
            export = read_export(path)
        except ExportError as exc:
            left_out.append(str(exc))
            continue
        rows.setdefault(export.ward, []).extend(export.rows)
        first, last = periods.get(export.ward, (export.first, export.last))
        periods[export.ward] = (min(first, export.first), max(last, export.last))
    wards = {ward: tally(_unique(ward_rows), "zone") for ward, ward_rows in rows.items()}
    by_campaign: dict[str, dict[str, Tally]] = {}
    for ward, ward_rows in sorted(rows.items()):
        for campaign, counted in tally(_unique(ward_rows), "campaign").items():
            by_campaign.setdefault(campaign, {})[ward] = counted
    return Merged(
        wards={ward: _total(zones.values()) for ward, zones in sorted(wards.items())},
        by_campaign=dict(sorted(by_campaign.items())),
        silent=tuple(sorted(set(expected) - rows.keys())),
        left_out=tuple(left_out),
        periods=periods,
    )


def _unique(rows: list[Row]) -> list[Row]:
    """Rows once each, when two exports of a ward overlap."""
    seen: dict[tuple[str, str, int], Row] = {}
    for row in rows:
        seen[(row.occurrence, row.zone, row.attempt)] = row
    return list(seen.values())


def _total(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for part in tallies:
        for name in ("planned", "on_time", "late", "interrupted", "missed", "failed",
                     "refused", "skipped", "seconds_aired"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.reasons.update(part.reasons)
    return total
