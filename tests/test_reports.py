"""Reports from the as-run log: a real daemon airs on file outputs, the report counts what it
aired; the file a ward sends up is checked, and the city's table leaves out what it cannot
trust."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import wave
from pathlib import Path

from broadcast.asrun import AsRunLog, Row
from tests.conftest import broadcast_cli
from tests.daemon_tools import TZ, Daemons, Ward, ahead, zone

TAGGED = """---
title: Bản tin an toàn
approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường
tags: [atvsld, pccc]
---

Kính thưa bà con! Phường nhắc bà con kiểm tra bình chữa cháy và an toàn điện tại nơi làm việc.
"""


def report(ward: Ward, *args: str) -> str:
    done = broadcast_cli("report", "--schedule", str(ward.schedule), "--state-dir",
                         str(ward.state), *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def wav_minutes(path: Path) -> float:
    with wave.open(str(path)) as handle:
        return handle.getnframes() / handle.getframerate() / 60


def test_a_report_counts_what_a_real_daemon_aired_by_zone_and_topic(
    tmp_path: Path, daemons: Daemons
) -> None:
    ward = Ward(tmp_path / "ward")
    (ward.root / "scripts" / "tagged.md").write_text(TAGGED, encoding="utf-8")
    start = ahead(15)
    ward.write(
        f"  - id: sang\n    name: Chương trình sáng\n    start: \"{start:%H:%M:%S}\"\n"
        "    days: [daily]\n    zones: [all]\n    items:\n      - script: scripts/tagged.md\n",
        zone("khu-pho-1", "{type: file, folder: out1}") + zone("khu-pho-2",
                                                               "{type: file, folder: out2}"))
    daemon = daemons.start(ward, tmp_path / "daemon.log")
    ward.wait_rows(2, timeout=90)
    assert daemon.terminate() == 0
    today = start.date().isoformat()

    by_zone = json.loads(report(ward, "--from", today, "--to", today, "--format", "json"))
    assert (by_zone["ward"], by_zone["by"]) == ("Phường Thử", "zone")
    groups = {group["group"]: group for group in by_zone["groups"]}
    assert sorted(groups) == ["khu-pho-1", "khu-pho-2"]
    for name, folder in (("khu-pho-1", "out1"), ("khu-pho-2", "out2")):
        [aired] = sorted((ward.root / folder).glob("*.wav"))
        counted = groups[name]
        assert (counted["planned"], counted["aired"], counted["missed"]) == (1, 1, 0)
        assert counted["on_air_rate"] == 1.0
        assert abs(counted["minutes_aired"] - wav_minutes(aired)) <= 0.1

    by_topic = report(ward, "--from", today, "--to", today, "--by", "topic", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(by_topic)))
    assert [(row["topic"], row["planned"], row["aired"]) for row in table] == [
        ("atvsld", "2", "2"), ("pccc", "2", "2")]

    yesterday = (start.date() - dt.timedelta(days=1)).isoformat()
    empty = report(ward, "--from", yesterday, "--to", yesterday)
    assert "Nothing was planned in this period." in empty
    assert f"The log covers {start:%d/%m/%Y} to {start:%d/%m/%Y}." in empty


def _row(occurrence: str, zone_id: str, outcome: str, start: dt.datetime, seconds: float,
         **values: object) -> Row:
    began = None if seconds == 0 else start
    ended = None if seconds == 0 else start + dt.timedelta(seconds=seconds)
    return Row(occurrence=occurrence, zone=zone_id, program_id=occurrence.split("@")[0],
               program_name=occurrence.split("@")[0].title(), priority="normal",
               scheduled=start, outcome=outcome, started=began, ended=ended,
               **values)  # type: ignore[arg-type]


def _logged_ward(tmp_path: Path) -> Ward:
    """A ward whose log holds, for one day: an aired broadcast, one cut by an emergency and
    resumed, a missed one and a failed one whose fallback aired."""
    ward = Ward(tmp_path / "ward")
    ward.write(
        "  - id: sang\n    name: Sáng\n    start: \"06:30\"\n    days: [daily]\n"
        "    zones: [all]\n    items:\n      - script: scripts/short.md\n",
        zone("khu-pho-1", "{type: file, folder: out}") + zone("khu-pho-2",
                                                              "{type: file, folder: out}"))
    day = dt.datetime(2026, 5, 4, 6, 30, tzinfo=TZ)
    approved = [{"kind": "bulletin", "approved_by": "Trần Văn Minh"}]
    log = AsRunLog(ward.state / "as-run.sqlite")
    try:
        for row in (
            _row("sang@1", "khu-pho-1", "aired", day, 60, items=approved, topics=["atvsld"],
                 campaigns=["thang-hanh-dong"]),
            _row("sang@1", "khu-pho-2", "interrupted", day, 30, items=approved,
                 reason="cut by emergency 'bao'", topics=["atvsld"]),
            _row("sang@1", "khu-pho-2", "late", day + dt.timedelta(minutes=5), 42,
                 attempt=2, items=approved, topics=["atvsld"]),
            _row("chieu@1", "khu-pho-1", "missed", day + dt.timedelta(hours=10), 0,
                 reason="the daemon was not running"),
            _row("chieu@1", "khu-pho-2", "failed", day + dt.timedelta(hours=10), 18,
                 reason="the speech engine failed. The fallback (chime) aired instead."),
            _row("sang@2", "khu-pho-1", "aired", day + dt.timedelta(days=1), 60),
        ):
            log.add(row)
    finally:
        log.close()
    return ward


def test_each_broadcast_counts_once_by_how_it_ended_and_every_minute_on_air_counts(
    tmp_path: Path
) -> None:
    ward = _logged_ward(tmp_path)
    counted = json.loads(report(ward, "--from", "04/05/2026", "--to", "04/05/2026",
                                "--format", "json"))
    groups = {group["group"]: group for group in counted["groups"]}
    assert {name: (g["planned"], g["on_time"], g["late"], g["missed"], g["failed"],
                   g["minutes_aired"]) for name, g in groups.items()} == {
        "khu-pho-1": (2, 1, 0, 1, 0, 1.0),
        "khu-pho-2": (2, 0, 1, 0, 1, 1.5),
    }
    assert groups["khu-pho-1"]["reasons"] == {"the daemon was not running": 1}
    by_approver = json.loads(report(ward, "--from", "2026-05-04", "--to", "2026-05-04",
                                    "--by", "approver", "--format", "json"))
    assert [(g["group"], g["planned"], g["aired"]) for g in by_approver["groups"]] == [
        ("(không có)", 2, 0), ("Trần Văn Minh", 2, 2)]
    text = report(ward, "--from", "2026-05-04", "--to", "2026-05-05", "--by", "campaign")
    assert "thang-hanh-dong: 1 of 1 aired (100.0%; 1 on time, 0 late), 1 min on air" in text


def test_the_city_table_counts_good_exports_and_says_which_it_left_out(tmp_path: Path) -> None:
    ward = _logged_ward(tmp_path)
    good = tmp_path / "phuong-thu.jsonl"
    done = broadcast_cli("export", "--schedule", str(ward.schedule), "--state-dir",
                         str(ward.state), "--from", "2026-05-04", "--to", "2026-05-05",
                         "-o", str(good))
    assert done.returncode == 0, done.stderr
    assert "Exported 6 row(s) of Phường Thử, 04/05/2026 to 05/05/2026" in done.stdout
    data = good.read_bytes()
    truncated = tmp_path / "truncated.jsonl"
    truncated.write_bytes(data[: len(data) // 2])
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(data.replace(b'"missed"', b'"aired"', 1))
    future = tmp_path / "future.jsonl"
    future.write_bytes(data.replace(b'"version": 1', b'"version": 9', 1))
    overlap = tmp_path / "again.jsonl"
    overlap.write_bytes(data)

    merged = broadcast_cli("report", "--merge", "--format", "json", "--expect", "Phường Thử",
                           "--expect", "Phường Khác", str(good), str(truncated), str(tampered),
                           str(future), str(overlap))
    assert merged.returncode == 0, merged.stderr
    table = json.loads(merged.stdout)
    [ward_row] = table["wards"]
    assert (ward_row["group"], ward_row["planned"], ward_row["aired"], ward_row["missed"]) == (
        "Phường Thử", 5, 3, 1), "the same file sent twice counts once"
    assert (ward_row["from"], ward_row["to"]) == ("2026-05-04", "2026-05-05")
    assert table["sent_nothing"] == ["Phường Khác"]
    left_out = "\n".join(table["left_out"])
    assert f"{truncated}: it is not a broadcast export" in left_out
    assert f"{tampered}: its checksum does not match" in left_out
    assert f"{future}: it is an export of version 9" in left_out
    assert [(g["group"], g["planned"]) for g in table["campaigns"]["thang-hanh-dong"]] == [
        ("Phường Thử", 1)]
