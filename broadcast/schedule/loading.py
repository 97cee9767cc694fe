"""Loading schedule.yaml: the YAML with its positions, the models, then the checks across the
whole file; every problem is reported at once, in file order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from broadcast.errors import BroadcastError, Location
from broadcast.fileio import read_at_most
from broadcast.schedule.checks import Checker, ItemLengths, Rows
from broadcast.schedule.errors import ScheduleError, explain, in_file_order
from broadcast.schedule.programs import Schedule
from broadcast.schedule.ward import EVERY_ZONE
from broadcast.yamlsource import YamlSyntaxError, load_yaml


def _split_valid(data: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``data`` without the list entries that failed, or None when the rest cannot stand."""
    broken: dict[str, set[int]] = {}
    for error in errors:
        loc = tuple(error["loc"])
        if len(loc) >= 2 and loc[0] in ("zones", "programs", "campaigns") and isinstance(
                loc[1], int):
            broken.setdefault(str(loc[0]), set()).add(loc[1])
        elif loc and (loc[0] in ("tts", "loudness", "chimes", "archive")
                      or (len(loc) == 1 and error["type"] == "extra_forbidden")):
            broken.setdefault(str(loc[0]), set())
        else:
            return None
    kept = dict(data)
    for section, rows in broken.items():
        if section not in ("zones", "programs", "campaigns"):
            kept.pop(section, None)
        else:
            kept[section] = [v for i, v in enumerate(data[section]) if i not in rows]
    return kept


def _rows(data: dict[str, Any], kept: dict[str, Any]) -> Rows:
    def rows(section: str) -> list[int]:
        everything = data.get(section) or []
        remaining = kept.get(section) or []
        ids = [id(v) for v in remaining]
        return [i for i, v in enumerate(everything) if id(v) in ids]

    zone_names: set[str] = {EVERY_ZONE}
    for zone in data.get("zones") or []:
        if not isinstance(zone, dict):
            continue
        zone_names.add(str(zone.get("id")))
        groups = zone.get("groups")
        if isinstance(groups, list):
            zone_names.update(str(group) for group in groups)
    program_ids = {
        str(p.get("id")) for p in data.get("programs") or [] if isinstance(p, dict)
    }
    return Rows(rows("zones"), rows("programs"), rows("campaigns"),
                 frozenset(zone_names), frozenset(program_ids))


def validate_schedule(
    text: str, path: Path, estimate: Callable[[Schedule], ItemLengths]
) -> Schedule:
    """Validate schedule text that came from ``path``, with item lengths from
    ``estimate(schedule)``; raise :class:`ScheduleError` listing every problem in file order."""
    try:
        data, positions = load_yaml(text, path)
    except YamlSyntaxError as exc:
        raise ScheduleError([exc]) from None
    if not isinstance(data, dict):
        raise ScheduleError([BroadcastError(
            "the schedule must start with 'ward:', 'zones:' and 'programs:' blocks.",
            Location(path, 1, 1))])
    problems: list[BroadcastError] = []
    if "source" in data:
        problems.append(BroadcastError("unknown setting 'source'.",
                                       positions.location(("source",), key=True)))
        data = {k: v for k, v in data.items() if k != "source"}
    kept: dict[str, Any] | None = data
    try:
        schedule: Schedule | None = Schedule.model_validate({**data, "source": path})
    except ValidationError as exc:
        errors = [dict(error) for error in exc.errors()]
        problems.extend(explain(error, positions, data, Schedule) for error in errors)
        kept = _split_valid(data, errors)
        schedule = None
        if kept is not None:
            try:
                schedule = Schedule.model_validate({**kept, "source": path})
            except ValidationError:
                schedule = None
    warnings: list[BroadcastError] = []
    if schedule is not None and kept is not None:
        checker = Checker(schedule, positions, _rows(data, kept), estimate(schedule))
        problems.extend(checker.run())
        warnings = in_file_order(checker.warnings)
    if problems:
        raise ScheduleError(in_file_order(problems))
    assert schedule is not None
    return schedule.warned(warnings)


MAX_SCHEDULE_BYTES = 1_000_000
"""A schedule.yaml is a few kilobytes; anything past this is not one."""


def schedule_text(path: Path) -> str:
    """The text of a schedule file; :class:`ScheduleError` when it is missing, unreadable, too
    large or not UTF-8."""

    def problem(words: str) -> ScheduleError:
        return ScheduleError([BroadcastError(words, Location(path))])

    try:
        data = read_at_most(path, MAX_SCHEDULE_BYTES)
    except FileNotFoundError:
        raise problem("schedule file not found. Give its path with --schedule.") from None
    except OSError as exc:
        raise problem(f"cannot read the file: {exc.strerror or exc}.") from None
    if data is None:
        raise problem(f"the file is larger than {MAX_SCHEDULE_BYTES // 1_000_000} MB, so it is "
                      "not a schedule. Check that schedule.yaml is the file you meant.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise problem("the file is not UTF-8 text. Save it as UTF-8 in your editor.") from None
