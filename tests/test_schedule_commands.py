"""The schedule commands as an operator runs them: agenda, check, schema."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from broadcast.cli import main
from tests.conftest import REPO, SCRIPTS, broadcast_cli

APPROVED = """\
---
title: {title}
author: Lê Thị Mai
approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường
---

Kính thưa bà con! {body}
"""

DAILY = """\
ward:
  name: Phường Thử
  quiet_hours: {start: "00:00", end: "00:00"}
zones:
  - id: khu-pho-1
    name: Khu phố 1
    groups: [all]
programs:
  - id: tin
    name: Bản tin
    start: "12:00"
    days: daily
    items:
      - script: scripts/tin.md
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of the sample ward, so a test can spoil a script."""
    shutil.copy(REPO / "schedule.yaml", tmp_path / "schedule.yaml")
    shutil.copy(REPO / "approvers.yaml", tmp_path / "approvers.yaml")
    (tmp_path / "approvers.yaml").chmod(0o644)
    shutil.copytree(SCRIPTS, tmp_path / "scripts")
    shutil.copytree(REPO / "audio", tmp_path / "audio")
    return tmp_path / "schedule.yaml"


@pytest.fixture
def daily(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "tin.md").write_text(
        APPROVED.format(title="Tin", body="Hôm nay phường làm vệ sinh đường phố."),
        encoding="utf-8")
    path = tmp_path / "schedule.yaml"
    path.write_text(DAILY, encoding="utf-8")
    return path


def test_agenda_lists_broadcasts_with_their_items(sample: Path) -> None:
    result = run("agenda", "--schedule", str(sample), "--from", "2026-05-04", "--days", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "Phường Xuân Hương - Đà Lạt: 4 broadcasts from 2026-05-04 to 2026-05-05. Times are "
        "Asia/Ho_Chi_Minh (UTC+07:00); ~ marks an estimated end.")
    assert "Mon 2026-05-04" in lines
    sang = next(line for line in lines if " sang " in line)
    assert sang.startswith("  06:30:00-~06:")
    assert sang.endswith("Chương trình phát thanh buổi sáng  (normal; khu-pho-1, khu-pho-2, "
                         "khu-pho-3)")
    assert "      1. chime    default" in lines
    assert "      2. script   scripts/thong-bao-kham-sang-loc-tap-huan-atvsld.md" in lines
    assert any(line.endswith("[campaign thang-hanh-dong-atvsld-2026]") for line in lines)
    assert any(line.endswith("[rotation]") for line in lines)


def test_agenda_json_is_one_object_per_broadcast(sample: Path) -> None:
    result = run("agenda", "--schedule", str(sample), "--from", "2026-05-01", "--days", "7",
                 "--json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["program"] for r in records] == ["cuoi-tuan", *["sang", "chieu"] * 4], (
        "Friday 1 May is a holiday; Saturday has the weekend program")
    for record in records:
        start = dt.datetime.fromisoformat(record["start"])
        end = dt.datetime.fromisoformat(record["end"])
        assert start.utcoffset() == dt.timedelta(hours=7)
        assert record["start"].endswith("+07:00") and end > start
        assert record["priority"] == "normal"
        assert record["zones"] and set(record["zones"]) <= {"khu-pho-1", "khu-pho-2", "khu-pho-3"}
        for item in record["items"]:
            assert item["kind"] in ("script", "chime")
            assert (sample.parent / item["path"]).is_file()
    first_weekday = records[1]
    assert first_weekday["start"] == "2026-05-04T06:30:00+07:00"
    assert [item["kind"] for item in first_weekday["items"]] == [
        "chime", "script", "script", "script", "chime"]
    assert first_weekday["items"][-2]["from"] == "campaign:thang-hanh-dong-atvsld-2026"


def test_agenda_zone_filter_takes_zones_and_groups(sample: Path) -> None:
    def programs(zone: str) -> list[str]:
        result = run("agenda", "--schedule", str(sample), "--from", "2026-05-01", "--days", "3",
                     "--json", "--zone", zone)
        assert result.exit_code == 0, result.output
        return [json.loads(line)["program"] for line in result.output.splitlines()]

    assert programs("khu-pho-1") == ["cuoi-tuan"]
    assert programs("trung-tam") == ["cuoi-tuan"]
    assert programs("khu-pho-3") == []
    result = run("agenda", "--schedule", str(sample), "--zone", "khu-pho1")
    assert result.exit_code == 1
    assert "Error: no zone or group is called 'khu-pho1'. Did you mean 'khu-pho-1'?" in (
        result.output)


def test_agenda_says_when_nothing_airs(sample: Path) -> None:
    result = run("agenda", "--schedule", str(sample), "--from", "2026-05-03", "--days", "1")
    assert result.output.strip() == "Nothing airs from 2026-05-03 to 2026-05-03."


def test_agenda_refuses_a_broken_schedule_with_every_problem(sample: Path) -> None:
    text = sample.read_text(encoding="utf-8")
    sample.write_text(text.replace('start: "06:30"', 'start: "6h3"')
                      .replace("max_length: 10m", "max_lenght: 10m"), encoding="utf-8")
    result = run("agenda", "--schedule", str(sample))
    assert result.exit_code == 1
    assert "Error: schedule has 2 problems:" in result.output
    lines = text.splitlines()
    start_line = next(n for n, line in enumerate(lines, 1) if 'start: "06:30"' in line)
    cap_line = next(n for n, line in enumerate(lines, 1) if "max_length: 10m" in line)
    assert f"{sample}:{start_line}:12: '6h3' is not a time." in result.output
    assert (f"{sample}:{cap_line}:5: unknown setting 'max_lenght'. Did you mean 'max_length'?"
            in result.output)


def test_agenda_through_the_real_command(tmp_path: Path) -> None:
    result = broadcast_cli("agenda", "--from", "2026-05-04", "--days", "1", "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["program"], r["start"]) for r in records] == [
        ("sang", "2026-05-04T06:30:00+07:00"), ("chieu", "2026-05-04T17:00:00+07:00")]


def test_check_passes_a_clean_ward(daily: Path) -> None:
    result = run("check", "--schedule", str(daily), "--days", "3")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"OK: {daily} is valid, and the 1 script airing in the "
                                    "next 3 days")


def test_check_refuses_an_unapproved_script(daily: Path) -> None:
    script = daily.parent / "scripts" / "tin.md"
    script.write_text(script.read_text(encoding="utf-8").replace(
        "approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường\n", ""), encoding="utf-8")
    result = run("check", "--schedule", str(daily), "--days", "3")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (f"{script}:2:1: this script is not approved, so it will not be aired. "
                        "Ask the ward leader to approve it, then add 'approved_by: <name, "
                        "position>' to its header.")
    assert re.fullmatch(r"    airs: tin \d{4}-\d\d-\d\d 12:00(, tin \d{4}-\d\d-\d\d 12:00)*",
                        lines[1]), lines[1]
    assert lines[-1] == "1 problem. Fix them, then run 'broadcast check' again."


def test_check_finds_what_the_voice_would_leave_out(daily: Path) -> None:
    script = daily.parent / "scripts" / "tin.md"
    script.write_text(APPROVED.format(
        title="Tin", body="Gọi số 115 hoặc 113.\nMang theo giấy tờ ☺ và # số hồ sơ ☺.\n"),
        encoding="utf-8")
    result = run("check", "--schedule", str(daily), "--days", "2")
    assert result.exit_code == 1
    assert f"{script}:8:19: '☺' would be left out when read aloud. Write it in words. It " \
           "appears 2 times." in result.output
    assert f"{script}:8:24: '#' would be left out when read aloud. Write it in words." in (
        result.output)
    assert "'115'" not in result.output and "'113'" not in result.output
    assert result.output.splitlines()[-1].startswith("2 problems.")


def test_check_only_looks_at_the_days_asked_for(daily: Path) -> None:
    later = dt.date.today() + dt.timedelta(days=30)
    (daily.parent / "scripts" / "nhap.md").write_text("---\ntitle: Nháp\n---\nChưa duyệt.\n",
                                                      encoding="utf-8")
    daily.write_text(DAILY + (
        "  - id: sau\n    name: Sau\n    start: \"13:00\"\n    days: []\n"
        f"    extra_dates: [{later}]\n    items:\n      - script: scripts/nhap.md\n"),
        encoding="utf-8")
    assert run("check", "--schedule", str(daily), "--days", "3").exit_code == 0
    late = run("check", "--schedule", str(daily), "--days", "40")
    assert late.exit_code == 1
    assert "nhap.md:2:1: this script is not approved" in late.output


def test_check_reports_schedule_problems_like_the_rest(daily: Path) -> None:
    daily.write_text(DAILY.replace("scripts/tin.md", "scripts/khong-co.md"), encoding="utf-8")
    result = run("check", "--schedule", str(daily))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{daily}:14:17: script file 'scripts/khong-co.md' does not exist. Check the name; "
        "paths are relative to schedule.yaml.",
        "1 problem. Fix them, then run 'broadcast check' again.",
    ]


def test_schema_command_prints_the_committed_schema() -> None:
    result = run("schema")
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(
        (REPO / "schedule.schema.json").read_text(encoding="utf-8"))
    assert result.output == (REPO / "schedule.schema.json").read_text(encoding="utf-8")
