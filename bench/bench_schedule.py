"""How fast the schedule is read, checked and planned.

Run:  .venv/bin/python bench/bench_schedule.py

Figures (best of several runs), each beside a baseline measured in the same run:

- agenda: ``broadcast agenda --json`` for 365 days of a generated ward with 200 zones and 600
  programs (rotations, a campaign, holidays): in-process, and as a new process (what an operator
  waits for). Baselines: a naive loop of ``datetime.combine`` over the same days x programs, and
  a new process that only starts the CLI (``broadcast --help``). Target: under 2 s.
- plan: the planner alone over the same year, against the naive loop.
- loading: reading and checking the generated 600-program file, against ``yaml.safe_load`` of it.
- validation: loading and checking the sample schedule.yaml (scripts counted afresh each run),
  against ``yaml.safe_load`` of the same file. Target: well under 1 s.
- check on save: ``python -m broadcast check`` as an editor would run it (a new process), against
  a new process that only runs ``yaml.safe_load``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from click.testing import CliRunner

from broadcast.cli import main
from broadcast.planner import plan
from broadcast.schedule_file import load_schedule

REPO = Path(__file__).resolve().parent.parent
ZONES = 200
PROGRAMS = 600
DAYS = 365
FIRST = dt.date(2026, 1, 1)
SCRIPT = """---
title: Bản tin số {n}
approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường
---

Kính thưa bà con nhân dân! {body}
"""


def generate(folder: Path) -> Path:
    """A ward of 200 zones in 20 groups, three programs a zone, rotations and a campaign."""
    scripts = folder / "scripts"
    scripts.mkdir()
    body = " ".join(["Phường ta tổ chức tổng vệ sinh vào sáng Chủ nhật."] * 20)
    for n in range(30):
        (scripts / f"ban-tin-{n:02d}.md").write_text(SCRIPT.format(n=n, body=body),
                                                     encoding="utf-8")
    lines = ["ward:", "  name: Phường Thử Tải", "zones:"]
    for zone in range(ZONES):
        lines += [f"  - id: z-{zone:03d}", f"    name: Cụm loa {zone}",
                  f"    groups: [all, khu-{zone // 10:02d}]"]
    lines.append("programs:")
    starts = ("06:00", "11:15", "17:30")
    patterns = ("weekdays", "daily", "[mon, wed, fri]")
    for number in range(PROGRAMS):
        zone, slot = divmod(number, 3)
        lines += [
            f"  - id: p-{number:03d}", f"    name: Chương trình {number}",
            f"    start: \"{starts[slot]}\"", f"    days: {patterns[number % 3]}",
            "    skip_dates: [2026-04-30, 2026-05-01, {from: 2026-02-16, to: 2026-02-20}]",
            f"    zones: [z-{zone:03d}]", "    max_length: 15m", "    items:",
            f"      - script: scripts/ban-tin-{number % 30:02d}.md",
        ]
        if number % 2:
            lines += ["      - rotation: scripts/ban-tin-1*.md",
                      f"        mode: {('round-robin', 'shuffle', 'weighted')[number % 3]}"]
    lines += ["campaigns:", "  - id: thang-hanh-dong", "    name: Tháng hành động",
              "    from: 2026-05-01", "    to: 2026-05-31",
              f"    programs: [{', '.join(f'p-{n:03d}' for n in range(0, PROGRAMS, 2))}]",
              "    items:", "      - rotation: scripts/ban-tin-2*.md", "        mode: shuffle"]
    path = folder / "schedule.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def best(action: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return min(times)


def naive_combine(starts: list[dt.time]) -> int:
    """The baseline: ``datetime.combine`` for every program on every day, nothing else."""
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    found = 0
    for number in range(DAYS):
        day = FIRST + dt.timedelta(days=number)
        for start in starts:
            dt.datetime.combine(day, start, tzinfo=tz)
            found += 1
    return found


def fresh_copy(target: Path) -> Path:
    """The sample ward in a new folder, so script lengths are counted again, not remembered."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    shutil.copy(REPO / "schedule.yaml", target / "schedule.yaml")
    shutil.copy(REPO / "approvers.yaml", target / "approvers.yaml")
    shutil.copytree(REPO / "scripts", target / "scripts")
    shutil.copytree(REPO / "audio", target / "audio")
    shutil.copy(REPO / "lexicon.yaml", target / "lexicon.yaml")
    return target / "schedule.yaml"


def line(what: str, seconds: float, baseline: str, base: float) -> str:
    return (f"  {what:<34} {seconds:7.3f} s   {baseline:<36} {base:7.3f} s   "
            f"ratio {seconds / base:6.1f}x")


def main_bench() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-schedule-") as tmp:
        folder = Path(tmp)
        (folder / "ward").mkdir()
        big = generate(folder / "ward")
        runner = CliRunner()
        args = ["agenda", "--schedule", str(big), "--from", str(FIRST), "--days", str(DAYS),
                "--json"]
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output[:2000]
        broadcasts = result.output.count("\n")
        agenda = best(lambda: runner.invoke(main, args))
        schedule = load_schedule(big)
        starts = [program.start for program in schedule.programs]
        baseline = best(lambda: naive_combine(starts))
        tz = schedule.ward.tz
        start = dt.datetime.combine(FIRST, dt.time(), tzinfo=tz)
        planning = best(lambda: plan(schedule, start, start + dt.timedelta(days=DAYS)))
        loading = best(lambda: load_schedule(big))
        big_yaml = big.read_text(encoding="utf-8")
        big_parse = best(lambda: yaml.safe_load(big_yaml), runs=3)
        command = best(lambda: subprocess.run(
            [sys.executable, "-m", "broadcast", *args], check=True, stdout=subprocess.DEVNULL),
            runs=3)
        startup = best(lambda: subprocess.run(
            [sys.executable, "-m", "broadcast", "--help"], check=True,
            stdout=subprocess.DEVNULL), runs=3)

        sample_yaml = (REPO / "schedule.yaml").read_text(encoding="utf-8")
        copies = iter(range(1000))
        validation = best(lambda: load_schedule(fresh_copy(folder / f"s{next(copies)}")),
                          runs=7)
        parse_only = best(lambda: yaml.safe_load(sample_yaml), runs=7)
        check = best(lambda: subprocess.run(
            [sys.executable, "-m", "broadcast", "check", "--schedule",
             str(REPO / "schedule.yaml")], check=True, capture_output=True), runs=3)
        bare = best(lambda: subprocess.run(
            [sys.executable, "-c", "import sys, yaml; yaml.safe_load(open(sys.argv[1]))",
             str(REPO / "schedule.yaml")], check=True, capture_output=True), runs=3)

    print(f"bench_schedule: {ZONES} zones, {PROGRAMS} programs, {DAYS} days "
          f"({broadcasts} broadcasts)")
    print(line("agenda --json, 365 days", agenda, "naive datetime.combine loop", baseline))
    print(line("agenda --json, new process", command, "new process: broadcast --help", startup))
    print(line("plan() alone, 365 days", planning, "naive datetime.combine loop", baseline))
    print(line("load + validate the 600 programs", loading, "yaml.safe_load of the same file",
               big_parse))
    print(line("validate sample schedule.yaml", validation, "yaml.safe_load of the same file",
               parse_only))
    print(line("broadcast check (new process)", check, "new process running yaml.safe_load",
               bare))


if __name__ == "__main__":
    main_bench()
