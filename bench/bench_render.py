"""Rendering overhead and memory, measured side by side in one run.

1. Overhead: ``broadcast render --engine espeak`` on a sample bulletin, against the bare steps a
   careful user would script by hand on the same words: espeak-ng to WAV, then ffmpeg's loudnorm
   in two passes to MP3. Printed as ours / baseline (target <= 1.3).
2. Peak memory while rendering a 45-minute program (items rendered, then joined and encoded),
   read from the kernel's peak RSS of the rendering process and of its largest child (ffmpeg).
   Target: under 300 MB.

Run: .venv/bin/python bench/bench_render.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from broadcast.bulletin import load_bulletin  # noqa: E402
from broadcast.render import spoken_paragraphs  # noqa: E402
from broadcast.vietnamese import default_lexicon  # noqa: E402

SCRIPT = REPO / "scripts" / "phong-ngua-tai-nan-lao-dong.md"


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{result.stderr[-2000:]}")
    return result


def baseline(words: Path, work: Path) -> float:
    """espeak-ng, then loudnorm two-pass to MP3, as a user would script it."""
    started = time.perf_counter()
    raw = work / "raw.wav"
    run(["espeak-ng", "-v", "vi", "-s", "150", "-w", str(raw), "-f", str(words)])
    first = run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(raw), "-af",
                 "loudnorm=I=-16:TP=-1.5:LRA=7:print_format=json", "-f", "null", "-"])
    report = json.loads(first.stderr[first.stderr.rindex("{") :])
    second = (
        "loudnorm=I=-16:TP=-1.5:LRA=7:linear=true:"
        f"measured_I={report['input_i']}:measured_TP={report['input_tp']}:"
        f"measured_LRA={report['input_lra']}:measured_thresh={report['input_thresh']}:"
        f"offset={report['target_offset']}"
    )
    run(["ffmpeg", "-y", "-v", "error", "-i", str(raw), "-af", second, "-ar", "48000",
         "-ac", "1", "-c:a", "libmp3lame", "-b:a", "96k", str(work / "baseline.mp3")])
    return time.perf_counter() - started


def ours(work: Path) -> float:
    started = time.perf_counter()
    run([sys.executable, "-m", "broadcast", "render", str(SCRIPT), "-o", str(work / "ours.mp3"),
         "--engine", "espeak", "--no-cache"], cwd=REPO,
        env={**os.environ, "BROADCAST_STATE_DIR": str(work / "state")})
    return time.perf_counter() - started


PROGRAM_RENDER = textwrap.dedent(
    """
    import datetime as dt, json, resource, sys
    from pathlib import Path
    from broadcast.schedule_file import load_schedule
    from broadcast.planner import plan
    from broadcast.prerender import RenderStore, prepare_program
    from broadcast.render import RenderSettings
    from broadcast.tts import EspeakEngine
    from broadcast.vietnamese import default_lexicon

    schedule = load_schedule(Path(sys.argv[1]))
    start = dt.datetime(2026, 6, 1, tzinfo=schedule.ward.tz)
    broadcast = plan(schedule, start, start + dt.timedelta(days=1))[0]
    settings = RenderSettings(engines=(EspeakEngine(),), lexicon=default_lexicon())
    program = prepare_program(schedule, broadcast, settings, RenderStore(Path(sys.argv[2])))
    print(json.dumps({
        "duration_s": program.figures.duration_s,
        "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }))
    """
)


def program_memory(work: Path, minutes: float) -> dict[str, float]:
    """Render a program about ``minutes`` long from the sample scripts; report peak memory."""
    scripts = sorted(p for p in (REPO / "scripts").glob("*.md") if p.name != "README.md")
    items, total = [], 0.0
    while total < minutes * 60:
        for script in scripts:
            words = len(load_bulletin(script).body.split())
            items.append(f"      - script: {script}")
            total += words / 150 * 60 * 0.85
            if total >= minutes * 60:
                break
    schedule = work / "schedule.yaml"
    schedule.write_text(
        "ward: {name: Bench, quiet_hours: {start: '23:00', end: '05:00'}}\n"
        "zones: [{id: z, name: Z, groups: [all]}]\n"
        "programs:\n  - id: long\n    name: Long\n    start: '07:00'\n    items:\n"
        + "\n".join(items) + "\n",
        encoding="utf-8",
    )
    result = run([sys.executable, "-c", PROGRAM_RENDER, str(schedule), str(work / "renders")],
                 cwd=REPO)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=45.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        work = Path(tmp)
        spoken = spoken_paragraphs(load_bulletin(SCRIPT), default_lexicon())
        words = work / "words.txt"
        words.write_text("\n\n".join(spoken), encoding="utf-8")
        base_times, our_times = [], []
        for _ in range(args.repeat):
            base_times.append(baseline(words, work))
            our_times.append(ours(work))
        base, mine = statistics.median(base_times), statistics.median(our_times)
        print(f"bulletin: {SCRIPT.name}, same words for both, median of {args.repeat}")
        print(f"baseline (espeak-ng + loudnorm two-pass): {base:.2f} s")
        print(f"ours (broadcast render --engine espeak): {mine:.2f} s")
        print(f"overhead: {mine / base:.2f}x the baseline (target <= 1.3x)")

        memory = program_memory(work, args.minutes)
        print(f"program of {memory['duration_s'] / 60:.1f} min: peak RSS "
              f"{memory['self_kb'] / 1024:.0f} MB in the renderer, "
              f"{memory['children_kb'] / 1024:.0f} MB in its largest child "
              "(target < 300 MB)")


if __name__ == "__main__":
    main()
