"""Hostile input: how long `broadcast check` and `broadcast render` take on each input made to
exhaust time or memory, how much memory they peak at, and what they say.

Run: .venv/bin/python bench/bench_hostile.py

Each input is built in a temporary ward folder (the small ones come from tests/hostile/) and run
through the real command in its own process; time is wall-clock, memory the process's peak
resident set (from the kernel, via wait4). Baseline, side by side: the same command on the
sample ward's own schedule.yaml and a sample script. Target: every input ends within 2 s and
200 MB with a one-line message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOSTILE = REPO / "tests" / "hostile"
LIMIT_S = 2.0
LIMIT_MB = 200.0
SCRIPT = "---\ntitle: Thông báo\napproved_by: Trần Văn Minh\n---\n\n"
PROGRAM = ("ward:\n  name: Phường Thử\nzones:\n  - id: a\n    name: A\nprograms:\n"
           "  - id: sang\n    name: Sáng\n    start: \"06:30\"\n    items:\n      - {item}\n")


def run(args: list[str]) -> tuple[float, float, str]:
    """Seconds, peak megabytes and the first line of what the command said."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "broadcast", *args], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    said = process.stdout.read().decode("utf-8", errors="replace")
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    seconds = time.perf_counter() - start
    first = next((line for line in said.splitlines() if line.strip()), "")
    return seconds, usage.ru_maxrss / 1024, first


def huge_schedule(ward: Path) -> Path:
    path = ward / "schedule.yaml"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("ward: {name: Phường Thử}\n")
        line = "# ghi chú của cán bộ phường, dòng này lặp lại cho đến khi tệp thật lớn\n"
        for _ in range(53):  # a megabyte at a time: this process stays small
            handle.write(line * (1_000_000 // len(line.encode())))
    return path


def huge_script(ward: Path) -> Path:
    path = ward / "scripts" / "rat-dai.md"
    paragraph = "Kính thưa bà con, phường thông báo lịch tiêm chủng tháng 6/2026.\n\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(SCRIPT)
        for _ in range(20):
            handle.write(paragraph * (1_000_000 // len(paragraph.encode())))
    return path


def vni_script(ward: Path) -> Path:
    path = ward / "scripts" / "vni.md"
    words = "Kính thöa baø con! Phöôøng Taân Ñònh thoâng baùo ñöôøng daây noùng.\n"
    header = "---\ntitle: Thoâng baùo\napproved_by: Traàn Vaên Minh\n---\n\n"
    path.write_bytes((header + words * 20).encode("cp1252"))
    return path


def schedule_of(item: str) -> Callable[[Path], Path]:
    def make(ward: Path) -> Path:
        path = ward / "schedule.yaml"
        path.write_text(PROGRAM.format(item=item), encoding="utf-8")
        return path
    return make


def copied(name: str) -> Callable[[Path], Path]:
    def make(ward: Path) -> Path:
        return Path(shutil.copy(HOSTILE / name, ward / "schedule.yaml"))
    return make


def linked(ward: Path) -> Path:
    (ward / "scripts" / "link.md").symlink_to("/etc/passwd")
    return schedule_of("script: scripts/link.md")(ward)


def not_audio(ward: Path) -> Path:
    (ward / "nhac.mp3").write_text("không phải âm thanh", encoding="utf-8")
    return schedule_of("audio: nhac.mp3")(ward)


def with_script(make_script: Callable[[Path], Path]) -> Callable[[Path], Path]:
    def make(ward: Path) -> Path:
        script = make_script(ward)
        return schedule_of(f"script: scripts/{script.name}")(ward)
    return make


CHECKED: list[tuple[str, Callable[[Path], Path]]] = [
    ("alias bomb (10^8 values)", copied("alias-bomb.yaml")),
    ("recursive alias", copied("recursive-alias.yaml")),
    ("nesting 5000 deep", copied("deep-nesting.yaml")),
    ("garbage bytes", copied("garbage.yaml")),
    ("53 MB schedule", huge_schedule),
    ("20 MB script", with_script(huge_script)),
    ("VNI-encoded script", with_script(vni_script)),
    ("script: /etc/shadow", schedule_of("script: /etc/shadow")),
    ("audio: /etc/passwd", schedule_of("audio: /etc/passwd")),
    ("link leading out", linked),
    ("text file as audio", not_audio),
]
RENDERED: list[tuple[str, Callable[[Path], Path]]] = [
    ("20 MB script", huge_script),
    ("VNI-encoded script", vni_script),
]


def main() -> None:
    rows: list[tuple[str, str, float, float, str]] = []
    seconds, megabytes, said = run(["check", "--schedule", str(REPO / "schedule.yaml")])
    rows.append(("check", "baseline: the sample ward", seconds, megabytes, said))
    sample = REPO / "scripts" / "phong-ngua-tai-nan-lao-dong.md"
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        out = Path(tmp) / "baseline.mp3"
        seconds, megabytes, said = run(["render", str(sample), "-o", str(out),
                                        "--engine", "espeak"])
        rows.append(("render", "baseline: a sample script", seconds, megabytes, said))
    for name, make in CHECKED:
        with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
            ward = Path(tmp)
            (ward / "scripts").mkdir()
            schedule = make(ward)
            rows.append(("check", name, *run(["check", "--schedule", str(schedule)])))
    for name, make in RENDERED:
        with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
            ward = Path(tmp)
            (ward / "scripts").mkdir()
            script = make(ward)
            rows.append(("render", name, *run(["render", str(script), "-o",
                                                str(ward / "x.mp3"), "--engine", "espeak"])))
    print(f"{'command':7} {'input':26} {'time':>7} {'peak':>8}  message")
    worst_s = worst_mb = 0.0
    for command, name, seconds, megabytes, said in rows:
        print(f"{command:7} {name:26} {seconds:6.2f}s {megabytes:6.0f}MB  {said[:150]}")
        if not name.startswith("baseline"):
            worst_s, worst_mb = max(worst_s, seconds), max(worst_mb, megabytes)
    verdict = "PASS" if worst_s <= LIMIT_S and worst_mb <= LIMIT_MB else "FAIL"
    print(f"worst hostile input: {worst_s:.2f} s, {worst_mb:.0f} MB "
          f"(target {LIMIT_S:.0f} s, {LIMIT_MB:.0f} MB): {verdict}")


if __name__ == "__main__":
    main()
