"""Idle footprint of the daemon with the sample ward loaded, beside the bare floor of a scheduler.

The sample ward (schedule.yaml, scripts/, its chimes and lexicon) is copied into a temporary
folder and ``broadcast run --engine espeak`` runs there, its state folder beside the schedule and
a private PulseAudio server with a null sink as its sound device (a broadcast falling inside the
window plays there, not on a real speaker). Once rendering ahead has finished (``broadcast status
--json``: prerender.running is false), the process is sampled every second for the window:

- RSS: VmRSS from /proc/PID/status, the daemon and any children it has at that moment, in MB
  (10^6 bytes); max and mean. Target: <= 80 MB.
- CPU: utime + stime from /proc/PID/stat, children included (finished ones through cutime and
  cstime, running ones directly), over the window, as a percentage of one CPU. Target: <= 1%.

Baseline side by side, sampled in the same loop: "bare Python scheduler", an idle APScheduler
``BackgroundScheduler`` with one hourly job, in the same interpreter (the floor a Python
scheduler cannot go under).

Run: .venv/bin/python bench/bench_idle.py [--duration 600]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from broadcast.planner import plan  # noqa: E402
from broadcast.schedule_file import load_schedule  # noqa: E402
from tests.pulse import start_pulse, stop_by_pid  # noqa: E402

TARGET_RSS_MB = 80.0
TARGET_CPU_PERCENT = 1.0
SAMPLE_EVERY_S = 1.0
PRERENDER_TIMEOUT_S = 1800.0
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
BARE_SCHEDULER = """\
import time
from apscheduler.schedulers.background import BackgroundScheduler

scheduler = BackgroundScheduler()
scheduler.add_job(print, "interval", hours=1)
scheduler.start()
while True:
    time.sleep(3600)
"""


def stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state is the first)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it, now."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(stat_fields(int(entry.name))[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(parent, []).append(int(entry.name))
    tree = [pid]
    for member in tree:
        tree.extend(parents.get(member, []))
    return tree


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` and of its finished (waited-for) children."""
    fields = stat_fields(pid)
    return sum(int(value) for value in fields[11:15])


@dataclass
class Footprint:
    """Samples of one process tree."""

    pid: int
    rss_mb: list[float] = field(default_factory=list)
    ticks: list[int] = field(default_factory=list)
    most_children: int = 0

    def sample(self) -> None:
        rss = ticks = 0
        members = process_tree(self.pid)
        for member in members:
            try:
                rss += rss_kb(member)
                ticks += cpu_ticks(member)
            except (OSError, ValueError, IndexError):
                continue  # ended between the listing and the reading
        self.rss_mb.append(rss * 1024 / 1e6)
        self.ticks.append(ticks)
        self.most_children = max(self.most_children, len(members) - 1)

    def cpu_percent(self, seconds: float) -> float:
        return (self.ticks[-1] - self.ticks[0]) / TICKS / seconds * 100


def status(schedule: Path, state: Path, env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "broadcast", "status", "--json", "--schedule", str(schedule),
         "--state-dir", str(state)],
        capture_output=True, text=True, env=env, cwd=REPO, check=True,
    )
    return json.loads(result.stdout)


def wait_for_prerender(daemon: subprocess.Popen[bytes], schedule: Path, state: Path,
                       env: dict[str, str], log: Path) -> dict[str, object]:
    deadline = time.monotonic() + PRERENDER_TIMEOUT_S
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise SystemExit("the daemon stopped:\n" + log.read_text()[-2000:])
        report = status(schedule, state, env)
        prerender = report.get("prerender")
        if report.get("running") and isinstance(prerender, dict) and not prerender["running"]:
            return prerender
        time.sleep(2)
    raise SystemExit(f"rendering ahead was not over after {PRERENDER_TIMEOUT_S:.0f} s")


def copy_sample_ward(target: Path) -> Path:
    target.mkdir()
    shutil.copy(REPO / "schedule.yaml", target / "schedule.yaml")
    for folder in ("scripts", "audio"):
        shutil.copytree(REPO / folder, target / folder)
    if (REPO / "lexicon.yaml").exists():
        shutil.copy(REPO / "lexicon.yaml", target / "lexicon.yaml")
    return target / "schedule.yaml"


def ratio(ours: float, base: float) -> str:
    return f"ratio {ours / base:6.1f}x" if base > 0 else "ratio    n/a (baseline 0)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0,
                        help="seconds sampled once rendering ahead is over (default 600)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-idle-") as tmp:
        folder = Path(tmp)
        schedule = copy_sample_ward(folder / "ward")
        state = folder / "ward" / "state"
        log = folder / "daemon.log"
        pulse = start_pulse(folder / "pulse")
        bare = subprocess.Popen([sys.executable, "-c", BARE_SCHEDULER],
                                stdout=subprocess.DEVNULL)
        began = time.monotonic()
        daemon = subprocess.Popen(
            [sys.executable, "-m", "broadcast", "run", "--schedule", str(schedule),
             "--state-dir", str(state), "--engine", "espeak"],
            stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=pulse.env, cwd=REPO,
        )
        try:
            prerender = wait_for_prerender(daemon, schedule, state, pulse.env, log)
            rendering_s = time.monotonic() - began
            loaded = load_schedule(schedule)
            now = dt.datetime.now(loaded.ward.tz)
            inside = plan(loaded, now, now + dt.timedelta(seconds=args.duration))
            ours, base = Footprint(daemon.pid), Footprint(bare.pid)
            window_began = time.monotonic()
            next_sample = window_began
            while next_sample <= window_began + args.duration:
                time.sleep(max(0.0, next_sample - time.monotonic()))
                ours.sample()
                base.sample()
                next_sample += SAMPLE_EVERY_S
            window_s = time.monotonic() - window_began
            if daemon.poll() is not None:
                raise SystemExit("the daemon stopped during the window:\n"
                                 + log.read_text()[-2000:])
        finally:
            stop_by_pid(daemon, timeout=30)
            stop_by_pid(bare, timeout=30)
            pulse.stop()

    print(f"bench_idle: sample ward ({len(loaded.zones)} zones, {len(loaded.programs)} "
          f"programs), engine espeak; rendering ahead took {rendering_s:.0f} s "
          f"(ready {prerender['ready']}/{prerender['total']}); then {window_s:.0f} s sampled "
          f"every {SAMPLE_EVERY_S:g} s ({len(ours.rss_mb)} samples)")
    name = "bare Python scheduler"
    for what, mine, theirs in (("RSS max", max(ours.rss_mb), max(base.rss_mb)),
                               ("RSS mean", statistics.mean(ours.rss_mb),
                                statistics.mean(base.rss_mb))):
        print(f"  {what:<9} ours {mine:7.1f} MB    {name} {theirs:7.1f} MB    "
              f"{ratio(mine, theirs)}")
    cpu, cpu_base = ours.cpu_percent(window_s), base.cpu_percent(window_s)
    print(f"  {'CPU':<9} ours {cpu:7.3f} %     {name} {cpu_base:7.3f} %     "
          f"{ratio(cpu, cpu_base)}")
    print(f"  children of the daemon seen at once: at most {ours.most_children}")
    rss_ok = max(ours.rss_mb) <= TARGET_RSS_MB
    cpu_ok = cpu <= TARGET_CPU_PERCENT
    print(f"  targets: RSS <= {TARGET_RSS_MB:g} MB {'met' if rss_ok else 'MISSED'}; "
          f"CPU <= {TARGET_CPU_PERCENT:g}% {'met' if cpu_ok else 'MISSED'}")
    if inside:
        for broadcast in inside:
            print(f"  note: {broadcast.program_id} at {broadcast.start:%Y-%m-%d %H:%M %z} falls "
                  "inside the window; its airing is in the figures")
    else:
        print("  no broadcast falls inside the window: the figures are the daemon at rest")


if __name__ == "__main__":
    main()
