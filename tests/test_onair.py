"""A zone's channel in-process: one broadcast at a time, in priority order, each logged.

Real WAV files go out through a real file output, and the as-run log is read with plain SQL.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from broadcast.asrun import AsRunLog
from broadcast.audio import AudioFigures, LoudnessTarget, OutputFormat
from broadcast.onair import Cue, ZoneChannel, broadcast_topics
from broadcast.outputs.file import WavFolder
from broadcast.planner import Broadcast
from broadcast.render import ProgramSidecar, RenderedAudio, Rendering
from broadcast.schedule import ScriptItem

TZ = dt.timezone(dt.timedelta(hours=7))
RATE = 48000


def tone(path: Path, seconds: float, hertz: float) -> RenderedAudio:
    samples = (0.3 * np.sin(2 * np.pi * hertz * np.arange(int(seconds * RATE)) / RATE))
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes((samples * 32767).astype("<i2").tobytes())
    figures = AudioFigures(seconds, -16.0, -10.0, 0.0, RATE, 1)
    rendering = Rendering.now(figures, LoudnessTarget(), OutputFormat())
    return RenderedAudio(path, ProgramSidecar("", (), rendering))


def cue(program: str, priority: str, audio: RenderedAudio, folder: Path,
        start: dt.datetime) -> Cue:
    broadcast = Broadcast(program, f"Chương trình {program}", start, ("khu-pho-1",), priority, ())
    return Cue(broadcast=broadcast, zone="khu-pho-1", audio=audio, outputs=[WavFolder(folder)])


def rows(path: Path) -> list[tuple[str, int, str]]:
    db = sqlite3.connect(path)
    try:
        return list(db.execute("SELECT program_id, attempt, outcome FROM airings ORDER BY id"))
    finally:
        db.close()


def wait_for_rows(path: Path, count: int) -> list[tuple[str, int, str]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = rows(path)
        if len(found) >= count and all(outcome != "airing" for _, _, outcome in found):
            return found
        time.sleep(0.05)
    raise AssertionError(f"expected {count} rows, found {rows(path)}")


@pytest.fixture
def channel(tmp_path: Path) -> ZoneChannel:
    log = AsRunLog(tmp_path / "as-run.sqlite")
    return ZoneChannel("khu-pho-1", log)


def test_a_priority_broadcast_goes_before_waiting_normal_ones(
    channel: ZoneChannel, tmp_path: Path
) -> None:
    now = dt.datetime.now(TZ)
    out = tmp_path / "out"
    # Due a little ahead, so that it counts as on time however long its output takes to open.
    ahead = now + dt.timedelta(seconds=10)
    channel.submit(cue("dang-phat", "normal", tone(tmp_path / "a.wav", 1.5, 440), out, ahead))
    time.sleep(0.3)
    channel.submit(cue("thuong", "normal", tone(tmp_path / "b.wav", 0.5, 550), out, now))
    channel.submit(cue("uu-tien", "priority", tone(tmp_path / "c.wav", 0.5, 660), out, now))
    found = wait_for_rows(tmp_path / "as-run.sqlite", 3)
    channel.stop()
    assert found == [("dang-phat", 1, "aired"), ("uu-tien", 1, "late"), ("thuong", 1, "late")]
    db = sqlite3.connect(tmp_path / "as-run.sqlite")
    reasons = [r for (r,) in db.execute("SELECT reason FROM airings ORDER BY id")]
    db.close()
    for reason in reasons[1:]:
        assert reason.startswith("late by ")
        assert reason.endswith(" s; waited for 'Chương trình dang-phat'")
    assert len(list(out.glob("*.wav"))) == 3, "one at a time, nobody cut"


def test_stopping_cuts_what_is_on_and_logs_what_was_waiting(
    channel: ZoneChannel, tmp_path: Path
) -> None:
    now = dt.datetime.now(TZ)
    out = tmp_path / "out"
    channel.submit(cue("dai", "normal", tone(tmp_path / "a.wav", 20, 440), out, now))
    channel.submit(cue("cho", "normal", tone(tmp_path / "b.wav", 1, 550), out, now))
    deadline = time.monotonic() + 30
    while rows(tmp_path / "as-run.sqlite") != [("dai", 1, "airing")]:
        assert time.monotonic() < deadline, "the first broadcast never began"
        time.sleep(0.05)
    channel.stop()
    found = rows(tmp_path / "as-run.sqlite")
    assert sorted(found) == [("cho", 1, "skipped"), ("dai", 1, "interrupted")]
    [cut] = out.glob("*.wav")
    with wave.open(str(cut)) as handle:
        assert handle.getnframes() / RATE < 3, "the sound stopped at once"


def test_a_row_says_the_topics_and_campaigns_it_aired(channel: ZoneChannel, tmp_path: Path) -> None:
    now = dt.datetime.now(TZ)
    broadcast = Broadcast("sang", "Chương trình sáng", now, ("khu-pho-1",), "normal", (),
                          origins=("program", "campaign:thang-hanh-dong", "rotation",
                                   "campaign:pccc-2026"))
    channel.submit(Cue(broadcast=broadcast, zone="khu-pho-1",
                       audio=tone(tmp_path / "a.wav", 0.5, 440),
                       outputs=[WavFolder(tmp_path / "out")], topics=("atvsld", "pccc")))
    wait_for_rows(tmp_path / "as-run.sqlite", 1)
    db = sqlite3.connect(tmp_path / "as-run.sqlite")
    try:
        [(topics, campaigns)] = list(db.execute("SELECT topics, campaigns FROM airings"))
    finally:
        db.close()
    assert (topics, campaigns) == ('["atvsld", "pccc"]', '["pccc-2026", "thang-hanh-dong"]')


def test_topics_are_the_tags_of_the_scripts_as_they_are_now(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    header = "---\ntitle: Tin\napproved_by: Trần Văn Minh\ntags: [{tags}]\n---\n\nNội dung.\n"
    (scripts / "a.md").write_text(header.format(tags="atvsld, pccc"), encoding="utf-8")
    (scripts / "b.md").write_text(header.format(tags="sot-xuat-huyet, atvsld"), encoding="utf-8")
    (scripts / "broken.md").write_text("no header at all\n", encoding="utf-8")
    items = tuple(ScriptItem(script=Path(f"scripts/{name}.md"))
                  for name in ("a", "b", "broken", "missing"))
    broadcast = Broadcast("sang", "Sáng", dt.datetime.now(TZ), ("khu-pho-1",), "normal", items)
    assert broadcast_topics(broadcast, tmp_path) == ("atvsld", "pccc", "sot-xuat-huyet")
    (scripts / "a.md").write_text(header.format(tags="bau-cu, pccc"), encoding="utf-8")
    assert broadcast_topics(broadcast, tmp_path) == (
        "atvsld", "bau-cu", "pccc", "sot-xuat-huyet"), "an edited script's new tags count"


def test_an_as_run_log_from_before_topics_gets_the_columns_and_keeps_its_rows(
    tmp_path: Path
) -> None:
    path = tmp_path / "as-run.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE airings (id INTEGER PRIMARY KEY, occurrence TEXT NOT NULL,"
               " zone TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 1, program_id TEXT NOT NULL,"
               " program_name TEXT NOT NULL, priority TEXT NOT NULL, scheduled TEXT NOT NULL,"
               " started TEXT, ended TEXT, outcome TEXT NOT NULL, reason TEXT, late_s REAL,"
               " audio TEXT, duration_s REAL, loudness_lufs REAL, true_peak_dbtp REAL,"
               " engine TEXT, items TEXT NOT NULL DEFAULT '[]', outputs TEXT NOT NULL DEFAULT"
               " '[]', problems TEXT NOT NULL DEFAULT '[]', UNIQUE (occurrence, zone, attempt))")
    db.execute("INSERT INTO airings (occurrence, zone, program_id, program_name, priority,"
               " scheduled, started, ended, outcome) VALUES ('sang@x', 'khu-pho-1', 'sang',"
               " 'Sáng', 'normal', '2026-05-04T06:30:00+07:00', '2026-05-04T06:30:00+07:00',"
               " '2026-05-04T06:35:00+07:00', 'missed')")
    db.commit()
    db.close()
    log = AsRunLog(path)
    try:
        [row] = log.problems()
    finally:
        log.close()
    assert (row.program_id, row.outcome, row.topics, row.campaigns) == (
        "sang", "missed", [], [])
