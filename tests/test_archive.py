"""The archive of aired programs: real files, real folders, and the `broadcast archive` command."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcast.outputs.archive import Archive, ArchiveError, sidecar_path
from tests.conftest import broadcast_cli

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MORNING = dt.datetime(2026, 5, 4, 6, 30, 0, tzinfo=TZ)


def record_for(start: dt.datetime, program: str = "sang", outcome: str = "finished",
               seconds: int = 872) -> dict[str, object]:
    """What the daemon writes about an airing."""
    end = start + dt.timedelta(seconds=seconds)
    return {
        "program_id": program,
        "program_name": "Chương trình phát thanh buổi sáng",
        "zone": "khu-pho-1",
        "scheduled": start.isoformat(),
        "started": start.isoformat(),
        "ended": end.isoformat(),
        "outputs": ["device zone1", "icecast 127.0.0.1:8000/khu-pho-1"],
        "items": [{"script": "scripts/phong-ngua-tai-nan-lao-dong.md", "hash": "ab12cd34"}],
        "engine": "espeak",
        "loudness_lufs": -16.1,
        "outcome": outcome,
    }


@pytest.fixture
def program_audio(tmp_path: Path) -> Path:
    """A finished program's file (its bytes are all that matter to the archive)."""
    path = tmp_path / "renders" / "program.mp3"
    path.parent.mkdir()
    path.write_bytes(os.urandom(200_000))
    return path


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "archive", keep_days=90, tz=TZ)


@pytest.fixture
def other_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A folder on another file system than the test's folder (a hard link cannot cross)."""
    here = tmp_path.stat().st_dev
    for candidate in (Path("/dev/shm"), Path(tempfile.gettempdir())):
        if candidate.is_dir() and os.access(candidate, os.W_OK) and \
                candidate.stat().st_dev != here:
            with tempfile.TemporaryDirectory(dir=candidate) as folder:
                yield Path(folder)
            return
    pytest.skip("no writable folder on another file system")


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder`` (hidden ones too), relative; the save lock is left out."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.name != ".lock")


# --- saving ----------------------------------------------------------------------------------


def test_save_keeps_identical_audio_and_sidecar_by_date(archive: Archive,
                                                         program_audio: Path) -> None:
    record = record_for(MORNING)
    saved = archive.save(program_audio, MORNING, "sang", record)
    assert saved == archive.folder / "2026" / "05" / "04" / "063000-sang.mp3"
    assert saved.read_bytes() == program_audio.read_bytes()
    sidecar = json.loads(sidecar_path(saved).read_text(encoding="utf-8"))
    assert sidecar == {"aired_at": MORNING.isoformat(), "program_id": "sang",
                       "audio": "063000-sang.mp3", "record": record}
    [entry] = archive.entries()
    assert (entry.path, entry.sidecar) == (saved, sidecar_path(saved))
    assert (entry.aired_at, entry.program_id, entry.record) == (MORNING, "sang", record)
    assert entry.problem is None


def test_the_archive_is_laid_out_in_the_wards_local_time(archive: Archive,
                                                          program_audio: Path) -> None:
    in_utc = dt.datetime(2026, 5, 3, 23, 30, 0, tzinfo=dt.UTC)
    saved = archive.save(program_audio, in_utc, "sang", {})
    assert saved.relative_to(archive.folder).as_posix() == "2026/05/04/063000-sang.mp3"
    assert archive.entries()[0].aired_at == in_utc


def test_same_file_system_is_a_hard_link(archive: Archive, program_audio: Path) -> None:
    saved = archive.save(program_audio, MORNING, "sang", {})
    assert saved.stat().st_ino == program_audio.stat().st_ino


def test_another_file_system_gets_a_copy(tmp_path: Path, other_filesystem: Path) -> None:
    source = other_filesystem / "program.wav"
    source.write_bytes(os.urandom(100_000))
    archive = Archive(tmp_path / "archive", tz=TZ)
    saved = archive.save(source, MORNING, "sang", {})
    assert saved.read_bytes() == source.read_bytes()
    assert saved.stat().st_dev != source.stat().st_dev
    assert files_under(archive.folder) == ["2026/05/04/063000-sang.wav",
                                           "2026/05/04/063000-sang.wav.json"]


def test_saves_in_the_same_second_do_not_overwrite(archive: Archive, tmp_path: Path) -> None:
    sources = []
    for number in range(8):
        source = tmp_path / f"take-{number}.mp3"
        source.write_bytes(f"take {number}".encode() * 1000)
        sources.append(source)
    threads = [threading.Thread(target=archive.save, args=(s, MORNING, "sang", {"take": n}))
               for n, s in enumerate(sources)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    entries = archive.entries()
    assert len({entry.path for entry in entries}) == 8
    assert sorted(entry.path.name for entry in entries)[:2] == ["063000-sang.mp3",
                                                                "063000-sang_2.mp3"]
    for entry in entries:
        number = entry.record["take"]
        assert isinstance(number, int)
        assert entry.path.read_bytes() == sources[number].read_bytes()


def test_dates_and_paths_in_the_record_are_written_as_text(archive: Archive,
                                                            program_audio: Path) -> None:
    archive.save(program_audio, MORNING, "sang",
                 {"actual_start": MORNING, "script": Path("scripts/tin.md")})
    [entry] = archive.entries()
    assert entry.record == {"actual_start": MORNING.isoformat(), "script": "scripts/tin.md"}


def test_a_source_that_is_gone_leaves_nothing(archive: Archive, tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="not there any more"):
        archive.save(tmp_path / "gone.mp3", MORNING, "sang", {})
    assert files_under(archive.folder) == []


def test_a_failed_copy_leaves_nothing_under_the_final_name(archive: Archive,
                                                           tmp_path: Path) -> None:
    unreadable = tmp_path / "renders" / "program.mp3"
    unreadable.mkdir(parents=True)
    with pytest.raises(ArchiveError, match="could not archive"):
        archive.save(unreadable, MORNING, "sang", {})
    assert files_under(archive.folder) == []


def test_a_failed_copy_across_file_systems_leaves_nothing(tmp_path: Path,
                                                          other_filesystem: Path) -> None:
    unreadable = other_filesystem / "program.mp3"
    unreadable.mkdir()
    archive = Archive(tmp_path / "archive", tz=TZ)
    with pytest.raises(ArchiveError):
        archive.save(unreadable, MORNING, "sang", {})
    assert files_under(archive.folder) == []


def test_a_record_that_cannot_be_written_leaves_no_audio(archive: Archive,
                                                         program_audio: Path) -> None:
    with pytest.raises(TypeError):
        archive.save(program_audio, MORNING, "sang", {"player": object()})
    assert files_under(archive.folder) == []


def test_a_time_without_zone_is_refused(archive: Archive, program_audio: Path) -> None:
    with pytest.raises(ValueError, match="time zone"):
        archive.save(program_audio, MORNING.replace(tzinfo=None), "sang", {})


# --- listing -----------------------------------------------------------------------------------


def test_entries_are_in_time_order_and_filtered_by_date(archive: Archive,
                                                        program_audio: Path) -> None:
    times = [MORNING + dt.timedelta(days=1, hours=11), MORNING,
             MORNING + dt.timedelta(days=-1), MORNING + dt.timedelta(hours=10, minutes=30)]
    for when in times:
        archive.save(program_audio, when, "chieu" if when.hour > 12 else "sang", {})
    assert [e.aired_at for e in archive.entries()] == sorted(times)
    day = MORNING.date()
    assert [e.aired_at for e in archive.entries(day, day)] == [MORNING, times[3]]
    assert [e.aired_at for e in archive.entries(first=day)] == [MORNING, times[3], times[0]]
    assert [e.aired_at for e in archive.entries(last=day - dt.timedelta(days=1))] == [times[2]]
    assert archive.days() == [day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)]


def test_a_broken_sidecar_is_listed_with_its_problem(archive: Archive,
                                                     program_audio: Path) -> None:
    good = archive.save(program_audio, MORNING, "sang", record_for(MORNING))
    broken = archive.save(program_audio, MORNING + dt.timedelta(hours=10), "chieu", {})
    sidecar_path(broken).write_text('{"aired_at": "2026-05-04T16:', encoding="utf-8")
    lost = archive.save(program_audio, MORNING + dt.timedelta(hours=11), "toi", {})
    sidecar_path(lost).unlink()
    orphan = archive.save(program_audio, MORNING + dt.timedelta(hours=12), "dem", {"a": 1})
    orphan.unlink()

    entries = archive.entries()
    assert [e.path for e in entries] == [good, broken, lost, orphan]
    assert entries[0].problem is None
    assert entries[1].program_id == "chieu"
    assert entries[1].aired_at == MORNING + dt.timedelta(hours=10)
    assert entries[1].record == {}
    assert entries[1].problem == ("its sidecar 163000-chieu.mp3.json is damaged (not JSON at "
                                  "line 1): time and program are from the file name")
    assert entries[2].problem is not None and "is missing" in entries[2].problem
    assert entries[3].record == {"a": 1}
    assert entries[3].problem == "its audio file is missing"


def test_other_files_in_the_archive_are_left_alone(archive: Archive,
                                                   program_audio: Path) -> None:
    saved = archive.save(program_audio, MORNING, "sang", {})
    (saved.parent / "ghi-chu.txt").write_text("notes", encoding="utf-8")
    (archive.folder / "README").write_text("notes", encoding="utf-8")
    assert [e.path for e in archive.entries()] == [saved]


# --- pruning -----------------------------------------------------------------------------------


def test_prune_removes_exactly_the_old_entries(archive: Archive, program_audio: Path) -> None:
    now = dt.datetime(2026, 8, 10, 9, 0, tzinfo=TZ)
    old = [now - dt.timedelta(days=200), now - dt.timedelta(days=120),
           now - dt.timedelta(days=90, seconds=1)]
    kept = [now - dt.timedelta(days=90) + dt.timedelta(seconds=1), now - dt.timedelta(days=89),
            now - dt.timedelta(days=1)]
    for when in old + kept:
        archive.save(program_audio, when, "sang", {})
    leftover = archive.folder / "2026" / "01" / "22" / ".063000-sang.abc.part.mp3"
    leftover.write_bytes(b"half a file")

    assert archive.prune(now) == 3
    assert [e.aired_at for e in archive.entries()] == kept
    assert not (archive.folder / "2026" / "01").exists()
    assert not (archive.folder / "2026" / "03").exists()
    assert archive.days() == sorted({when.date() for when in kept})
    assert program_audio.exists()
    assert archive.prune(now) == 0


def test_prune_removes_broken_entries_by_their_file_name(archive: Archive,
                                                         program_audio: Path) -> None:
    now = dt.datetime(2026, 8, 10, 9, 0, tzinfo=TZ)
    broken = archive.save(program_audio, now - dt.timedelta(days=100), "sang", {})
    sidecar_path(broken).write_text("not json", encoding="utf-8")
    assert archive.prune(now) == 1
    assert files_under(archive.folder) == []
    assert archive.days() == []


# --- the command -------------------------------------------------------------------------------


def ward_archive(ward: Path) -> Archive:
    return Archive(ward / "archive", keep_days=90, tz=TZ)


def test_command_lists_one_day(ward: Path, program_audio: Path) -> None:
    archive = ward_archive(ward)
    archive.save(program_audio, MORNING, "sang", record_for(MORNING))
    evening = MORNING.replace(hour=17, minute=0)
    archive.save(program_audio, evening, "chieu",
                 {**record_for(evening, "chieu", "interrupted", seconds=75),
                  "zones": ["khu-pho-1", "khu-pho-2"]})
    archive.save(program_audio, MORNING + dt.timedelta(days=1), "sang", {})

    result = broadcast_cli("archive", "--schedule", str(ward / "schedule.yaml"),
                           "--date", "2026-05-04")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("2 programs aired on 2026-05-04, kept in ")
    assert "\x1b[" not in result.stdout
    assert lines[1].split() == ["2026-05-04", "06:30:00", "sang", "khu-pho-1", "finished",
                                "14", "min", "32", "s", "2026/05/04/063000-sang.mp3"]
    assert lines[2].split() == ["2026-05-04", "17:00:00", "chieu", "khu-pho-1,", "khu-pho-2",
                                "interrupted", "1", "min", "15", "s",
                                "2026/05/04/170000-chieu.mp3"]
    assert len(lines) == 3


def test_command_lists_the_last_seven_days_and_problems(ward: Path,
                                                        program_audio: Path) -> None:
    archive = ward_archive(ward)
    now = dt.datetime.now(TZ).replace(microsecond=0)
    recent = now - dt.timedelta(days=1)
    archive.save(program_audio, recent, "sang", record_for(recent))
    broken = archive.save(program_audio, recent + dt.timedelta(seconds=5), "chieu", {})
    sidecar_path(broken).write_text("{", encoding="utf-8")
    archive.save(program_audio, now - dt.timedelta(days=8), "cu", record_for(now))

    result = broadcast_cli("archive", "--schedule", str(ward / "schedule.yaml"))
    assert result.returncode == 0, result.stderr
    first = (now - dt.timedelta(days=6)).date()
    assert f"2 programs aired from {first} to {now.date()}" in result.stdout
    assert " cu " not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[2].split()[2:4] == ["chieu", "?"]
    assert lines[3] == (f"  ! its sidecar {sidecar_path(broken).name} is damaged (not JSON at "
                        "line 1): time and program are from the file name.")


def test_command_says_when_nothing_is_archived(ward: Path, program_audio: Path) -> None:
    schedule = str(ward / "schedule.yaml")
    result = broadcast_cli("archive", "--schedule", schedule)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Nothing has been archived yet in ")

    ward_archive(ward).save(program_audio, MORNING, "sang", {})
    result = broadcast_cli("archive", "--schedule", schedule, "--date", "2026-05-09")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("Nothing was archived on 2026-05-09. The archive holds "
                                     "2026-05-04: pick a day with --date.")


def test_command_prunes_with_keep_days_from_the_schedule(ward: Path,
                                                         program_audio: Path) -> None:
    schedule = ward / "schedule.yaml"
    text = schedule.read_text(encoding="utf-8")
    assert "  folder: archive\n  keep_days: 90\n" in text
    schedule.write_text(text.replace("  folder: archive\n  keep_days: 90\n",
                                     "  folder: kho-luu\n  keep_days: 30\n"), encoding="utf-8")
    archive = Archive(ward / "kho-luu", keep_days=30, tz=TZ)
    now = dt.datetime.now(TZ)
    archive.save(program_audio, now - dt.timedelta(days=45), "sang", {})
    archive.save(program_audio, now - dt.timedelta(days=31), "chieu", {})
    archive.save(program_audio, now - dt.timedelta(days=2), "sang", {})

    result = broadcast_cli("archive", "--schedule", str(schedule), "--prune")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (f"Removed 2 programs aired more than 30 days ago from "
                                     f"{ward.resolve() / 'kho-luu'}.")
    assert len(archive.entries()) == 1

    result = broadcast_cli("archive", "--schedule", str(schedule), "--prune")
    assert "nothing removed" in result.stdout


def test_command_help_and_option_mistakes(ward: Path) -> None:
    result = broadcast_cli("archive", "--help")
    assert result.returncode == 0
    for option in ("--schedule", "--date", "--prune", "keep_days"):
        assert option in result.stdout
    result = broadcast_cli("archive", "--schedule", str(ward / "schedule.yaml"), "--prune",
                           "--date", "2026-05-04")
    assert result.returncode == 2
    assert "one or the other" in result.stderr
