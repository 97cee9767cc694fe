"""The as-run log: what aired, where, when, and what happened to every scheduled broadcast.

One row per broadcast occurrence per zone (and per attempt: a broadcast an emergency cut and
that airs again gets a second row). It is an SQLite database in WAL mode, written with a commit
before the sound starts and after it ends, so a crash or ``kill -9`` loses nothing: the next start
finds the row still "airing" and marks it interrupted. It is also how the daemon never airs the
same occurrence twice: an occurrence with a row has had its turn.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broadcast.fileio import KEPT_FILE_MODE

OUTCOMES = (
    "airing", "aired", "late", "interrupted", "missed", "failed", "refused", "skipped"
)
"""``airing`` is a row whose sound has started and not ended (yet)."""

CUT_BY_CRASH = "the daemon stopped during the broadcast (crash, kill or power cut)"
"""The reason on a row found ``airing`` at the next start."""
CUT_BY_EMERGENCY = "cut by emergency"
"""How the reason on a row an emergency cut begins."""

_ADDED_COLUMNS = {
    "offset_s": "ALTER TABLE airings ADD COLUMN offset_s REAL",
    "played_s": "ALTER TABLE airings ADD COLUMN played_s REAL",
    "origin": "ALTER TABLE airings ADD COLUMN origin TEXT NOT NULL DEFAULT 'schedule'",
    "requested_by": "ALTER TABLE airings ADD COLUMN requested_by TEXT",
    "request": "ALTER TABLE airings ADD COLUMN request TEXT",
    "topics": "ALTER TABLE airings ADD COLUMN topics TEXT NOT NULL DEFAULT '[]'",
    "campaigns": "ALTER TABLE airings ADD COLUMN campaigns TEXT NOT NULL DEFAULT '[]'",
}
"""Columns newer than the first as-run logs, added to an old log when it is opened. Every
statement here is fixed text: nothing from outside is ever spliced into SQL."""

_LEFT_AIRING = "SELECT * FROM airings WHERE outcome = 'airing' ORDER BY scheduled, id"
_CUT_AND_NOT_FOLLOWED = (
    "SELECT * FROM airings WHERE outcome = 'interrupted' AND ended >= ?"
    " AND (reason = ? OR reason LIKE ?)"
    " AND NOT EXISTS (SELECT 1 FROM airings later WHERE later.occurrence = airings.occurrence"
    " AND later.zone = airings.zone AND later.attempt > airings.attempt)"
    " ORDER BY scheduled, id")
_PROBLEMS = (
    "SELECT * FROM airings WHERE outcome IN ('interrupted', 'missed', 'failed', 'refused')"
    " OR problems != '[]' ORDER BY COALESCE(ended, scheduled) DESC, id DESC LIMIT ?")
_RECENT = "SELECT * FROM airings WHERE outputs != '[]' ORDER BY id DESC LIMIT ?"
_BETWEEN = "SELECT * FROM airings WHERE scheduled >= ? AND scheduled < ? ORDER BY scheduled, id"
_SPAN = "SELECT MIN(scheduled), MAX(scheduled) FROM airings"
_OF_REQUEST = ("SELECT * FROM airings WHERE json_extract(request, '$.id') = ?"
               " ORDER BY scheduled, id")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS airings (
    id INTEGER PRIMARY KEY,
    occurrence TEXT NOT NULL,
    zone TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    program_id TEXT NOT NULL,
    program_name TEXT NOT NULL,
    priority TEXT NOT NULL,
    scheduled TEXT NOT NULL,
    started TEXT,
    ended TEXT,
    outcome TEXT NOT NULL,
    reason TEXT,
    late_s REAL,
    audio TEXT,
    duration_s REAL,
    loudness_lufs REAL,
    true_peak_dbtp REAL,
    engine TEXT,
    items TEXT NOT NULL DEFAULT '[]',
    outputs TEXT NOT NULL DEFAULT '[]',
    problems TEXT NOT NULL DEFAULT '[]',
    offset_s REAL,
    played_s REAL,
    origin TEXT NOT NULL DEFAULT 'schedule',
    requested_by TEXT,
    request TEXT,
    topics TEXT NOT NULL DEFAULT '[]',
    campaigns TEXT NOT NULL DEFAULT '[]',
    UNIQUE (occurrence, zone, attempt)
);
CREATE INDEX IF NOT EXISTS airings_scheduled ON airings (scheduled);
CREATE TABLE IF NOT EXISTS daemon (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Row:
    """One row of the as-run log, as plain data."""

    occurrence: str
    zone: str
    program_id: str
    program_name: str
    priority: str
    scheduled: dt.datetime
    outcome: str
    attempt: int = 1
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    reason: str | None = None
    late_s: float | None = None
    audio: str | None = None
    duration_s: float | None = None
    loudness_lufs: float | None = None
    true_peak_dbtp: float | None = None
    engine: str | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """What went wrong without stopping the broadcast: an output or a hook that failed."""
    offset_s: float | None = None
    """Where in the audio this attempt began (a resumed broadcast does not begin at 0)."""
    played_s: float | None = None
    """How far into the audio the airing had come: kept current while it airs, so after a
    crash the broadcast can be resumed where it was cut."""
    origin: str = "schedule"
    """``schedule``, or ``manual`` for a broadcast someone asked the daemon for."""
    requested_by: str | None = None
    """The user (from the operating system) who asked for a manual broadcast."""
    request: dict[str, Any] | None = None
    """A manual broadcast's request: its number, command and arguments (a typed notice's text
    among them)."""
    topics: list[str] = field(default_factory=list)
    """The tags of the scripts it airs (what reports call topics)."""
    campaigns: list[str] = field(default_factory=list)
    """The ids of the campaigns whose items it airs."""
    id: int | None = None


def _time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="milliseconds")


class AsRunLog:
    """The as-run log of one ward (thread-safe; one connection, serialized)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path.stat().st_uid == os.geteuid():
            path.chmod(KEPT_FILE_MODE)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        have = {record[1] for record in self._db.execute("PRAGMA table_info(airings)")}
        for name, statement in _ADDED_COLUMNS.items():
            if name not in have:
                self._db.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, values: tuple[object, ...]) -> int:
        with self._lock:
            cursor = self._db.execute(sql, values)
            return cursor.lastrowid or 0

    def add(self, row: Row) -> int:
        """Record a row now (committed before this returns); return its id."""
        return self._write(
            "INSERT INTO airings (occurrence, zone, attempt, program_id, program_name, priority,"
            " scheduled, started, ended, outcome, reason, late_s, audio, duration_s,"
            " loudness_lufs, true_peak_dbtp, engine, items, outputs, problems, offset_s, played_s,"
            " origin, requested_by, request, topics, campaigns)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?)",
            (row.occurrence, row.zone, row.attempt, row.program_id, row.program_name,
             row.priority, _iso(row.scheduled), _iso(row.started), _iso(row.ended), row.outcome,
             row.reason, row.late_s, row.audio, row.duration_s, row.loudness_lufs,
             row.true_peak_dbtp, row.engine, json.dumps(row.items, ensure_ascii=False),
             json.dumps(row.outputs, ensure_ascii=False),
             json.dumps(row.problems, ensure_ascii=False), row.offset_s, row.played_s,
             row.origin, row.requested_by,
             None if row.request is None else json.dumps(row.request, ensure_ascii=False),
             json.dumps(row.topics, ensure_ascii=False),
             json.dumps(row.campaigns, ensure_ascii=False)),
        )

    def progress(self, row_id: int, played_s: float) -> None:
        """Note how far an airing has come (about once a second while it airs)."""
        self._write("UPDATE airings SET played_s = ? WHERE id = ?", (round(played_s, 2), row_id))

    def end(
        self,
        row_id: int,
        *,
        ended: dt.datetime,
        outcome: str,
        reason: str | None = None,
        outputs: list[dict[str, Any]] | None = None,
        problems: list[str] | None = None,
        played_s: float | None = None,
    ) -> None:
        """Close a row that was ``airing``."""
        self._write(
            "UPDATE airings SET ended = ?, outcome = ?, reason = COALESCE(?, reason),"
            " outputs = COALESCE(?, outputs), problems = COALESCE(?, problems),"
            " played_s = COALESCE(?, played_s) WHERE id = ?",
            (_iso(ended), outcome, reason,
             None if outputs is None else json.dumps(outputs, ensure_ascii=False),
             None if problems is None else json.dumps(problems, ensure_ascii=False),
             None if played_s is None else round(played_s, 2), row_id),
        )

    def add_problem(self, row_id: int, problem: str) -> None:
        """Note a problem on a row after the fact (an amplifier hook that failed)."""
        with self._lock:
            found = self._db.execute(
                "SELECT problems FROM airings WHERE id = ?", (row_id,)).fetchone()
            if found is None:
                return
            problems = [*json.loads(found[0]), problem]
            self._db.execute("UPDATE airings SET problems = ? WHERE id = ?",
                             (json.dumps(problems, ensure_ascii=False), row_id))

    def recover(self, now: dt.datetime) -> list[Row]:
        """Mark rows left ``airing`` by a crash as interrupted; return them.

        A row's end is where its last progress note puts the cut (never later than ``now``).
        """
        left = self._select(_LEFT_AIRING)
        for row in left:
            assert row.id is not None and row.started is not None
            played = (row.played_s or 0.0) - (row.offset_s or 0.0)
            ended = min(now, row.started + dt.timedelta(seconds=max(0.0, played)))
            self.end(row.id, ended=ended, outcome="interrupted", reason=CUT_BY_CRASH)
        return left

    def cut_and_not_followed(self, since: dt.datetime) -> list[Row]:
        """Rows cut by a crash or an emergency since ``since`` whose broadcast has no later
        attempt yet: what a restarted daemon still owes (their programs say whether to restart,
        resume or drop them)."""
        return self._select(_CUT_AND_NOT_FOLLOWED,
                            (_iso(since), CUT_BY_CRASH, f"{CUT_BY_EMERGENCY}%"))

    def has(self, occurrence: str, zone: str) -> bool:
        """Whether the occurrence has had its turn in the zone (any row at all)."""
        with self._lock:
            found = self._db.execute(
                "SELECT 1 FROM airings WHERE occurrence = ? AND zone = ? LIMIT 1",
                (occurrence, zone),
            ).fetchone()
        return found is not None

    def _select(self, query: str, values: tuple[object, ...] = ()) -> list[Row]:
        with self._lock:
            found = self._db.execute(query, values).fetchall()
        return [_row(record) for record in found]

    def of_request(self, number: int) -> list[Row]:
        """The rows of a manual request, by its number."""
        return self._select(_OF_REQUEST, (number,))

    def recent_airings(self, limit: int = 500) -> list[Row]:
        """The latest rows that went to outputs (aired, cut or failed), newest first."""
        return self._select(_RECENT, (limit,))

    def between(self, start: dt.datetime, end: dt.datetime) -> list[Row]:
        """The rows scheduled from ``start`` up to ``end`` (excluded), in order. Times are
        compared as the log writes them, in the ward's time zone."""
        return self._select(_BETWEEN, (_iso(start), _iso(end)))

    def span(self) -> tuple[dt.datetime, dt.datetime] | None:
        """When the first and the last row still in the log were scheduled (None if empty)."""
        with self._lock:
            first, last = self._db.execute(_SPAN).fetchone()
        return None if first is None else (dt.datetime.fromisoformat(first),
                                           dt.datetime.fromisoformat(last))

    def problems(self, limit: int = 5) -> list[Row]:
        """The latest rows that did not air as planned, newest first."""
        return self._select(_PROBLEMS, (limit,))

    def set_value(self, key: str, value: str) -> None:
        self._write("INSERT INTO daemon (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def next_number(self, key: str) -> int:
        """The next number of a counter kept in the log (1 the first time); never repeats, even
        across restarts."""
        with self._lock:
            found = self._db.execute("SELECT value FROM daemon WHERE key = ?", (key,)).fetchone()
            number = int(found[0]) + 1 if found is not None else 1
            self._db.execute("INSERT INTO daemon (key, value) VALUES (?, ?)"
                             " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                             (key, str(number)))
        return number

    def value(self, key: str) -> str | None:
        with self._lock:
            found = self._db.execute("SELECT value FROM daemon WHERE key = ?", (key,)).fetchone()
        return None if found is None else str(found[0])


def _row(record: sqlite3.Row) -> Row:
    values = dict(record)
    for name in ("scheduled", "started", "ended"):
        values[name] = _time(values[name])
    values["items"] = json.loads(values["items"])
    values["outputs"] = json.loads(values["outputs"])
    values["problems"] = json.loads(values["problems"])
    values["topics"] = json.loads(values["topics"])
    values["campaigns"] = json.loads(values["campaigns"])
    if values["request"] is not None:
        values["request"] = json.loads(values["request"])
    return Row(**values)

