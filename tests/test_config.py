"""schedule.yaml: the sample loads; mistakes are reported with file, line, column and a fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from broadcast.config import ScheduleError, ScriptItem, load_schedule, parse_schedule

REPO = Path(__file__).resolve().parent.parent

MINIMAL = """\
ward:
  name: Phường Test
zones:
  - id: khu-pho-1
    name: Khu phố 1
    groups: [all]
programs:
  - id: sang
    name: Buổi sáng
    start: 06:30
    days: [mon, tue]
    items:
      - script: scripts/a.md
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "a.md").write_text("---\ntitle: a\n---\nx\n", encoding="utf-8")
    return tmp_path


def errors_of(text: str, folder: Path) -> list[str]:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text, folder / "schedule.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_sample_schedule_loads() -> None:
    schedule = load_schedule(REPO / "schedule.yaml")
    assert schedule.ward.timezone == "Asia/Ho_Chi_Minh"
    assert 2 <= len(schedule.zones) <= 3
    starts = sorted(p.start for p in schedule.programs)
    assert starts[0] < dt.time(12) <= starts[-1], "a morning and an afternoon program"
    for program in schedule.programs:
        assert program.days == ["mon", "tue", "wed", "thu", "fri"]
        for item in program.items:
            assert isinstance(item, ScriptItem)
            assert schedule.resolve(item.script).is_file()


def test_unquoted_times_are_times_not_numbers(folder: Path) -> None:
    schedule = parse_schedule(MINIMAL.replace("06:30", "17:00"), folder / "schedule.yaml")
    assert schedule.programs[0].start == dt.time(17, 0)
    seconds = parse_schedule(MINIMAL.replace("06:30", '"17:00:05"'), folder / "schedule.yaml")
    assert seconds.programs[0].start == dt.time(17, 0, 5)


def test_unknown_key_suggests_the_right_one(folder: Path) -> None:
    errors = errors_of(MINIMAL.replace("    start: 06:30", "    strat: 06:30"), folder)
    path = folder / "schedule.yaml"
    assert f"{path}:10:5: unknown setting 'strat'. Did you mean 'start'?" in errors
    assert any("'start' is missing" in e for e in errors)


def test_all_problems_are_reported_at_once(folder: Path) -> None:
    text = (MINIMAL.replace("06:30", "25:61")
            .replace("[mon, tue]", "[mon, funday]")
            .replace("scripts/a.md", "scripts/missing.md"))
    errors = errors_of(text, folder)
    path = folder / "schedule.yaml"
    assert any(e.startswith(f"{path}:10:12: ") and "not a real time" in e for e in errors)
    assert any(e.startswith(f"{path}:11:11: ") and "'funday' is not a day" in e for e in errors)
    assert len(errors) == 2, errors


def test_missing_script_is_reported_where_it_is_named(folder: Path) -> None:
    errors = errors_of(MINIMAL.replace("scripts/a.md", "scripts/b.md"), folder)
    assert errors == [
        f"{folder / 'schedule.yaml'}:13:17: script file 'scripts/b.md' does not exist. "
        "Check the name; paths are relative to schedule.yaml."
    ]


def test_unknown_zone_suggests_a_close_name(folder: Path) -> None:
    text = MINIMAL.replace("    days: [mon, tue]", "    days: [mon, tue]\n    zones: [khu-pho1]")
    errors = errors_of(text, folder)
    assert len(errors) == 1
    assert "no zone or group is called 'khu-pho1'. Did you mean 'khu-pho-1'?" in errors[0]
    assert errors[0].startswith(f"{folder / 'schedule.yaml'}:12:13: ")


def test_program_in_quiet_hours_is_refused_unless_emergency(folder: Path) -> None:
    late = MINIMAL.replace("06:30", "22:15")
    errors = errors_of(late, folder)
    assert len(errors) == 1 and "inside quiet hours (21:00-06:00)" in errors[0]
    emergency = late.replace("    days:", "    priority: emergency\n    days:")
    assert parse_schedule(emergency, folder / "schedule.yaml").programs[0].priority == "emergency"


def test_yaml_syntax_error_points_at_the_line(folder: Path) -> None:
    errors = errors_of(MINIMAL.replace("    name: Khu phố 1", "    name: Khu phố 1\n  bad"), folder)
    assert len(errors) == 1
    assert errors[0].startswith(f"{folder / 'schedule.yaml'}:7:")
    assert "indentation" in errors[0]


def test_duplicate_key_is_reported(folder: Path) -> None:
    text = MINIMAL.replace("    start: 06:30", "    start: 06:30\n    start: 07:00")
    errors = errors_of(text, folder)
    assert errors == [
        f"{folder / 'schedule.yaml'}:11:5: 'start' is written twice in the same block. "
        "Keep only one."
    ]


def test_wrong_type_and_bad_choice_are_plain_words(folder: Path) -> None:
    text = MINIMAL.replace("  name: Phường Test", "  name: Phường Test\n  timezone: Mars/Base")
    text = text.replace("    days: [mon, tue]", "    days: [mon, tue]\n    priority: urgent")
    errors = errors_of(text, folder)
    assert any("'Mars/Base' is not a known time zone" in e and ":3:13:" in e for e in errors)
    assert any("'priority' must be one of 'normal', 'priority' or 'emergency'" in e
               for e in errors)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="schedule file not found"):
        load_schedule(tmp_path / "schedule.yaml")
