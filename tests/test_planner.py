"""The plan: which broadcasts air when, from the schedule and the calendar alone."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcast.planner import Broadcast, occurrences, plan
from broadcast.schedule import ChimeItem, RotationItem, Schedule, ScriptItem, SilenceItem
from broadcast.schedule_file import load_schedule, parse_schedule

REPO = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Ho_Chi_Minh")

WARD = """\
ward:
  name: Phường Test
  timezone: {tz}
  quiet_hours: {{start: "00:00", end: "00:00"}}
zones:
  - id: khu-pho-1
    name: Khu phố 1
    groups: [all, trung-tam]
  - id: khu-pho-2
    name: Khu phố 2
    groups: [all]
programs:
"""


def make(folder: Path, programs: str, *, tz: str = "Asia/Ho_Chi_Minh", extra: str = "") -> Schedule:
    scripts = folder / "scripts"
    scripts.mkdir(exist_ok=True)
    for name in ("a", "b", "c", "d"):
        (scripts / f"{name}.md").write_text(f"---\ntitle: {name}\n---\nx\n", encoding="utf-8")
    path = folder / "schedule.yaml"
    path.write_text(WARD.format(tz=tz) + programs + extra, encoding="utf-8")
    return load_schedule(path)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_sample_plan_is_ordered_aware_and_concrete() -> None:
    schedule = load_schedule(REPO / "schedule.yaml")
    found = plan(schedule, local("2026-04-27T00:00"), local("2026-05-11T00:00"))
    assert [b.start for b in found] == sorted(b.start for b in found)
    assert all(b.start.utcoffset() == dt.timedelta(hours=7) for b in found)
    assert {b.program_id for b in found} == {"sang", "chieu", "cuoi-tuan"}
    for broadcast in found:
        assert all(isinstance(i, ScriptItem | ChimeItem) for i in broadcast.items), (
            "rotations resolved")
        assert len(broadcast.origins) == len(broadcast.items)
        assert broadcast.key == f"{broadcast.program_id}@{broadcast.start.isoformat()}"
    by_day = {(b.program_id, b.start.date()): b for b in found}
    assert ("sang", day("2026-04-30")) not in by_day, "public holiday skipped"
    assert ("sang", day("2026-05-01")) not in by_day
    before = by_day[("sang", day("2026-04-29"))]
    during = by_day[("sang", day("2026-05-04"))]
    assert len(during.items) == len(before.items) + 1, "the campaign adds one pick in May"
    assert during.origins[-2] == "campaign:thang-hanh-dong-atvsld-2026", "before the closing chime"
    assert isinstance(during.items[-1], ChimeItem)
    assert by_day[("cuoi-tuan", day("2026-05-02"))].zone_ids == ("khu-pho-1", "khu-pho-2")


def test_plan_keeps_to_the_window() -> None:
    schedule = load_schedule(REPO / "schedule.yaml")
    found = plan(schedule, local("2026-05-04T06:30"), local("2026-05-04T17:00"))
    assert [b.key for b in found] == ["sang@2026-05-04T06:30:00+07:00"]


@pytest.mark.parametrize(("rules", "airs", "silent"), [
    ("days: [mon, wed]", ["2026-05-04", "2026-05-06"], ["2026-05-05", "2026-05-10"]),
    ("days: daily\n    from: 2026-05-05\n    to: 2026-05-07",
     ["2026-05-05", "2026-05-07"], ["2026-05-04", "2026-05-08"]),
    ("days: weekdays\n    skip_dates: [2026-05-05, {from: 2026-05-07, to: 2026-05-08}]",
     ["2026-05-04", "2026-05-06"], ["2026-05-05", "2026-05-07", "2026-05-08"]),
    ("days: [mon]\n    extra_dates: [2026-05-09, 01/06/2026]",
     ["2026-05-04", "2026-05-09", "2026-06-01"], ["2026-05-10"]),
    ("days: []\n    extra_dates: [{from: 2026-02-14, to: 2026-02-16}]",
     ["2026-02-14", "2026-02-16"], ["2026-02-17", "2026-05-04"]),
    ("days: [mon]\n    from: 2026-05-01\n    extra_dates: [2026-04-25]",
     ["2026-04-25", "2026-05-04"], ["2026-04-27"]),
])
def test_days_date_ranges_skip_and_extra_dates(
    tmp_path: Path, rules: str, airs: list[str], silent: list[str]
) -> None:
    schedule = make(tmp_path, f"""\
  - id: sang
    name: Sáng
    start: "06:30"
    {rules}
    items:
      - script: scripts/a.md
""")
    program = schedule.program("sang")
    for text in airs:
        broadcast = occurrences(program, schedule, day(text))
        assert broadcast is not None, text
        assert broadcast.start == local(f"{text}T06:30")
    for text in silent:
        assert occurrences(program, schedule, day(text)) is None, text


def test_counting_airings_matches_walking_the_calendar(tmp_path: Path) -> None:
    chance = random.Random(7)
    weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    for attempt in range(40):
        days = chance.sample(weekdays, chance.randint(1, 7))
        first = day("2026-01-01") + dt.timedelta(days=chance.randint(0, 200))
        last = first + dt.timedelta(days=chance.randint(0, 200))
        span = f"    from: {first}\n    to: {last}\n" if attempt % 3 else ""
        skips = {first + dt.timedelta(days=chance.randint(-20, 220)) for _ in range(6)}
        extras = {first + dt.timedelta(days=chance.randint(-20, 220)) for _ in range(6)} - skips
        folder = tmp_path / str(attempt)
        folder.mkdir()
        schedule = make(folder, f"""\
  - id: sang
    name: Sáng
    start: "06:30"
    days: [{", ".join(days)}]
{span}    skip_dates: [{", ".join(map(str, sorted(skips)))}]
    extra_dates: [{", ".join(map(str, sorted(extras)))}]
    items:
      - script: scripts/a.md
""")
        program = schedule.program("sang")
        low = day("2025-12-01") + dt.timedelta(days=chance.randint(0, 100))
        high = low + dt.timedelta(days=chance.randint(0, 300))
        walked = sum(program.airs_on(low + dt.timedelta(days=n)) for n in range((high - low).days))
        assert program.count_airings(low, high) == walked


def test_campaign_items_go_inside_the_chimes(tmp_path: Path) -> None:
    schedule = make(tmp_path, """\
  - id: sang
    name: Sáng
    start: "06:30"
    items:
      - chime:
      - script: scripts/a.md
      - chime:
""", extra="""\
campaigns:
  - id: mo-dau
    name: Mở đầu
    from: 2026-05-01
    to: 2026-05-31
    programs: [sang]
    position: start
    items:
      - script: scripts/b.md
  - id: ket-thuc
    name: Kết thúc
    from: 2026-05-10
    to: 2026-05-31
    programs: sang
    items:
      - silence: 2
      - script: scripts/c.md
""")
    program = schedule.program("sang")
    early = occurrences(program, schedule, day("2026-05-04"))
    late = occurrences(program, schedule, day("2026-05-11"))
    outside = occurrences(program, schedule, day("2026-06-01"))
    assert early is not None and late is not None and outside is not None

    def names(broadcast: Broadcast) -> list[str]:
        return [type(i).__name__ if not isinstance(i, ScriptItem) else i.script.stem
                for i in broadcast.items]

    assert names(outside) == ["ChimeItem", "a", "ChimeItem"]
    assert names(early) == ["ChimeItem", "b", "a", "ChimeItem"]
    assert names(late) == ["ChimeItem", "b", "a", "SilenceItem", "c", "ChimeItem"]
    assert late.origins == ("program", "campaign:mo-dau", "program", "campaign:ket-thuc",
                            "campaign:ket-thuc", "program")
    assert isinstance(late.items[0], ChimeItem) and isinstance(late.items[3], SilenceItem)


def test_vietnam_time_has_no_daylight_saving(tmp_path: Path) -> None:
    schedule = make(tmp_path, """\
  - id: sang
    name: Sáng
    start: "06:30:15"
    days: daily
    items:
      - script: scripts/a.md
""")
    year = plan(schedule, local("2026-01-01T00:00"), local("2027-01-01T00:00"))
    assert len(year) == 365
    assert {b.start.isoformat()[10:] for b in year} == {"T06:30:15+07:00"}


def test_a_daylight_saving_zone_airs_once_at_a_real_instant(tmp_path: Path) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    schedule = make(tmp_path, """\
  - id: dem
    name: Đêm
    start: "02:30"
    days: daily
    priority: emergency
    items:
      - script: scripts/a.md
""", tz="Europe/Berlin")
    program = schedule.program("dem")
    spring = occurrences(program, schedule, day("2026-03-29"))
    autumn = occurrences(program, schedule, day("2026-10-25"))
    assert spring is not None and autumn is not None
    assert spring.start.isoformat() == "2026-03-29T03:30:00+02:00", "02:30 does not exist"
    assert autumn.start.isoformat() == "2026-10-25T02:30:00+02:00", "the first 02:30"
    week = plan(schedule, dt.datetime(2026, 3, 27, tzinfo=berlin),
                dt.datetime(2026, 4, 2, tzinfo=berlin))
    assert len(week) == 6
    utc = [b.start.astimezone(dt.UTC) for b in week]
    assert len(set(utc)) == len(utc)


def test_rotations_never_reach_the_broadcast(tmp_path: Path) -> None:
    schedule = make(tmp_path, """\
  - id: sang
    name: Sáng
    start: "06:30"
    items:
      - rotation: scripts/*.md
        pick: 2
""")
    assert isinstance(schedule.program("sang").items[0], RotationItem)
    broadcast = occurrences(schedule.program("sang"), schedule, day("2026-05-04"))
    assert broadcast is not None
    assert [type(i) for i in broadcast.items] == [ScriptItem, ScriptItem]
    assert broadcast.origins == ("rotation", "rotation")


def test_schedule_items_resolve_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "ward").mkdir()
    schedule = make(tmp_path / "ward", """\
  - id: sang
    name: Sáng
    start: "06:30"
    items:
      - script: scripts/a.md
""")
    broadcast = occurrences(schedule.program("sang"), schedule, day("2026-05-04"))
    assert broadcast is not None
    item = broadcast.items[0]
    assert isinstance(item, ScriptItem)
    assert schedule.resolve(item.script) == tmp_path / "ward" / "scripts" / "a.md"
    assert parse_schedule((tmp_path / "ward" / "schedule.yaml").read_text(),
                          tmp_path / "ward" / "schedule.yaml").base_dir == tmp_path / "ward"
