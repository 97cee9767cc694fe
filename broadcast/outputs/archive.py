"""The archive: a copy of every aired program, with what aired, when and where, kept for a while.

Layout, by the local date and time of the airing::

    archive/2026/05/04/063000-sang.mp3         the program's audio, as it aired
    archive/2026/05/04/063000-sang.mp3.json    its sidecar

A second save of the same program in the same second gets ``063000-sang_2.mp3``. Audio is hard
linked from the finished program when the archive is on the same file system, otherwise copied;
either way a file appears under its final name only when it is complete.

The sidecar holds ``aired_at``, ``program_id``, ``audio`` (the file's name) and ``record``: what
the daemon knows about the airing. ``broadcast archive`` shows these fields of the record, when
present: ``zone`` (an id) or ``zones`` (a list), ``outcome``, ``started`` and ``ended`` (ISO 8601
text).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcast.errors import BroadcastError
from broadcast.fileio import KEPT_FILE_MODE, KEPT_FOLDER_MODE, atomic_path, write_text_atomic
from broadcast.schedule import DEFAULT_TIMEZONE

DEFAULT_KEEP_DAYS = 90
SIDECAR_SUFFIX = ".json"

_NAME_RE = re.compile(r"(?P<time>\d{6})-(?P<program>[A-Za-z0-9-]+?)(?:_\d+)?(?:\.[^.]+)?")
"""An archived audio file's name: HHMMSS-PROGRAM[_N][.EXT]."""
_UNSAFE_RE = re.compile(r"[^A-Za-z0-9-]+")
_LOCK_NAME = ".lock"
_NO_LINK = frozenset({errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP})
"""Why a hard link can fail where a copy still works (other file system, no link support)."""


class ArchiveError(BroadcastError):
    """A program could not be archived (source gone, disk full, no permission)."""


@dataclasses.dataclass(frozen=True)
class ArchiveEntry:
    """One aired program in the archive.

    ``problem`` says what is wrong with the entry: a missing or damaged sidecar (time and program
    are then read from the file name, and ``record`` is empty), or a missing audio file.
    """

    path: Path
    sidecar: Path
    aired_at: dt.datetime
    program_id: str
    record: dict[str, object] = dataclasses.field(default_factory=dict)
    problem: str | None = None


def sidecar_path(audio: Path) -> Path:
    return audio.with_name(audio.name + SIDECAR_SUFFIX)


def _json_value(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Path):
        return value.as_posix()
    raise TypeError(f"{type(value).__name__} cannot be written to an archive sidecar")


class Archive:
    """Aired programs under ``folder``, by date, each kept ``keep_days`` days.

    Dates and times in the layout are local to ``tz`` (the ward's time zone).
    """

    def __init__(self, folder: Path, keep_days: int = DEFAULT_KEEP_DAYS,
                 tz: dt.tzinfo | None = None) -> None:
        if keep_days < 1:
            raise ValueError("keep_days must be at least 1")
        self.folder = folder
        self.keep_days = keep_days
        self.tz = tz or ZoneInfo(DEFAULT_TIMEZONE)

    def save(self, audio: Path, aired_at: dt.datetime, program_id: str,
             record: dict[str, object]) -> Path:
        """Keep ``audio`` and its sidecar; return where the audio was put.

        Dates, times and paths in ``record`` are written as ISO 8601 text and POSIX paths.
        Raises :class:`ArchiveError` when the audio cannot be kept; nothing is left behind then.
        """
        if aired_at.tzinfo is None:
            raise ValueError("aired_at must carry its time zone")
        local = aired_at.astimezone(self.tz)
        day = self._day_folder(local.date())
        stem = f"{local:%H%M%S}-{_UNSAFE_RE.sub('-', program_id).strip('-') or 'program'}"
        try:
            day.mkdir(mode=KEPT_FOLDER_MODE, parents=True, exist_ok=True)
            with self._locked():
                target = self._free_name(day, stem, audio.suffix.lower())
                sidecar = json.dumps(
                    {"aired_at": aired_at.isoformat(), "program_id": program_id,
                     "audio": target.name, "record": record},
                    ensure_ascii=False, indent=2, default=_json_value,
                )
                _place(audio, target)
                try:
                    target.chmod(KEPT_FILE_MODE)
                    write_text_atomic(sidecar_path(target), sidecar, KEPT_FILE_MODE)
                except OSError:
                    target.unlink(missing_ok=True)
                    raise
        except OSError as exc:
            if not audio.is_file():
                raise ArchiveError(
                    f"could not archive {audio}: the file is not there any more."
                ) from exc
            raise ArchiveError(
                f"could not archive {audio.name} in {self.folder}: {exc.strerror or exc}. "
                "Check that the folder is writable and the disk has free space."
            ) from exc
        return target

    def days(self) -> list[dt.date]:
        """The dates that have a folder in the archive, oldest first."""
        found = []
        for year in _numbered(self.folder, 4):
            for month in _numbered(year, 2):
                for day in _numbered(month, 2):
                    with contextlib.suppress(ValueError):
                        found.append(dt.date(int(year.name), int(month.name), int(day.name)))
        return sorted(found)

    def entries(self, first: dt.date | None = None,
                last: dt.date | None = None) -> list[ArchiveEntry]:
        """Aired programs from ``first`` to ``last`` (both included, local dates), in time order."""
        found = []
        for day in self.days():
            if (first is None or first <= day) and (last is None or day <= last):
                found.extend(self._day_entries(day))
        return sorted(found, key=lambda e: (e.aired_at, e.path.name))

    def prune(self, now: dt.datetime) -> int:
        """Delete entries aired more than ``keep_days`` before ``now``; return how many."""
        cutoff = now - dt.timedelta(days=self.keep_days)
        cutoff_day = cutoff.astimezone(self.tz).date()
        removed = 0
        for entry in self.entries(last=cutoff_day):
            if entry.aired_at < cutoff:
                entry.path.unlink(missing_ok=True)
                entry.sidecar.unlink(missing_ok=True)
                removed += 1
        for day in self.days():
            if day <= cutoff_day:
                self._remove_if_empty(day, stale=day < cutoff_day)
        return removed

    def _day_folder(self, day: dt.date) -> Path:
        return self.folder / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Saves in other threads and processes wait while a name is chosen and filled."""
        with open(self.folder / _LOCK_NAME, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    @staticmethod
    def _free_name(day: Path, stem: str, suffix: str) -> Path:
        number = 1
        while True:
            name = f"{stem}{suffix}" if number == 1 else f"{stem}_{number}{suffix}"
            target = day / name
            if not target.exists() and not sidecar_path(target).exists():
                return target
            number += 1

    def _day_entries(self, day: dt.date) -> list[ArchiveEntry]:
        folder = self._day_folder(day)
        names = {p.name for p in folder.iterdir() if not p.name.startswith(".") and p.is_file()}
        audio_names = {n for n in names if not n.endswith(SIDECAR_SUFFIX)}
        audio_names |= {n.removesuffix(SIDECAR_SUFFIX) for n in names
                        if n.endswith(SIDECAR_SUFFIX)}
        return [self._entry(day, folder / name, name in names)
                for name in sorted(audio_names) if _NAME_RE.fullmatch(name)]

    def _entry(self, day: dt.date, audio: Path, audio_exists: bool) -> ArchiveEntry:
        sidecar = sidecar_path(audio)
        match = _NAME_RE.fullmatch(audio.name)
        assert match is not None
        clock = dt.datetime.strptime(match["time"], "%H%M%S").time()
        guess = ArchiveEntry(audio, sidecar, dt.datetime.combine(day, clock, tzinfo=self.tz),
                             match["program"])
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problem = "is missing"
        except (OSError, UnicodeDecodeError) as exc:
            problem = f"cannot be read ({exc})"
        except json.JSONDecodeError as exc:
            problem = f"is damaged (not JSON at line {exc.lineno})"
        else:
            fields = _sidecar_fields(data)
            if not isinstance(fields, str):
                entry = ArchiveEntry(audio, sidecar, *fields)
                return entry if audio_exists else dataclasses.replace(
                    entry, problem="its audio file is missing")
            problem = fields
        return dataclasses.replace(guess, problem=(
            f"its sidecar {sidecar.name} {problem}: time and program are from the file name"))

    def _remove_if_empty(self, day: dt.date, *, stale: bool) -> None:
        """Remove the day's folder, then its month and year, when nothing is left in them.

        In a ``stale`` day (entirely past the keeping time) leftovers of interrupted saves go too.
        """
        folder = self._day_folder(day)
        if stale:
            for leftover in folder.glob(".*.part*"):
                leftover.unlink(missing_ok=True)
        for empty in (folder, folder.parent, folder.parent.parent):
            try:
                empty.rmdir()
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    return
                raise


def _numbered(folder: Path, width: int) -> Iterator[Path]:
    """Sub-folders whose names are ``width`` digits (the archive's years, months, days)."""
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if len(child.name) == width and child.name.isdigit() and child.is_dir():
            yield child


def _place(audio: Path, target: Path) -> None:
    """Put ``audio`` at ``target``: a hard link when possible, else an atomic copy."""
    try:
        os.link(audio, target)
        return
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
    with atomic_path(target) as tmp:
        shutil.copyfile(audio, tmp)


def _sidecar_fields(data: object) -> tuple[dt.datetime, str, dict[str, object]] | str:
    """The sidecar's time, program and record, or what is wrong with it."""
    if not isinstance(data, dict):
        return "is not a JSON object"
    aired_at = data.get("aired_at")
    program_id = data.get("program_id")
    record = data.get("record")
    try:
        when = dt.datetime.fromisoformat(aired_at) if isinstance(aired_at, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        return "has no valid 'aired_at' time"
    if not isinstance(program_id, str):
        return "has no 'program_id'"
    if not isinstance(record, dict):
        return "has no 'record'"
    return when, program_id, record
