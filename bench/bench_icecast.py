"""Icecast output at scale: one process feeding N zone mounts at once, against plain ffmpeg.

For each N (default 10, 50, 100) a private icecast2 on loopback takes N mounts. Every mount airs
the same program at the same moment: the project's jingle and Vietnamese speech (espeak-ng),
about 25 s, as a ward's bulletin would sound.

- ours: one process, N ``IcecastMount`` outputs (each a feeder thread and one long-lived ffmpeg
  encoder), connected beforehand and fed the program through their sinks.
- baseline "ffmpeg -re per mount": the plain way, one
  ``ffmpeg -re -i program.wav -c:a libmp3lame -b:a 64k -f mp3 icecast://...`` per mount, all
  started together.

Printed per N: CPU per mount (% of one core: CPU time of our process and its ffmpeg children, or
of the baseline's ffmpeg processes, over wall time, over N), our own process's part of it, and
the ratio ours / baseline; then underruns. Either side underran if a listener on a sample of
mounts (curl, in its own process) got less audio than real time over a window inside the airing
(by more than SLACK_S) or an airing failed; ours also if a feeder fell so far behind the clock
that it skipped ahead. "Strict" also counts any block sent after its due time (the feeder's lead
used up). The largest N with no underrun is reported for each.

Run: .venv/bin/python bench/bench_icecast.py [--zones 10 50 100] [--seconds 25]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from broadcast.outputs.base import BYTES_PER_SECOND, SAMPLE_RATE  # noqa: E402
from broadcast.outputs.icecast import LEAD_S, FeedStats, IcecastMount  # noqa: E402
from tests.icecast import IcecastServer, start_icecast  # noqa: E402

SCRIPT = REPO / "scripts" / "phong-ngua-tai-nan-lao-dong.md"
JINGLE = REPO / "audio" / "jingle.flac"
BITRATE_KBPS = 64
LISTENERS = 5
SLACK_S = 0.5
"""A listener window may come up this much short of real time before it counts as an underrun."""
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    cpu_per_mount: float
    """Share of one core per mount."""
    listener_worst: float
    """Lowest audio received / real time among the sampled listeners."""
    window_s: float
    feeder_per_mount: float = 0.0
    """Share of one core per mount taken by our own process (feeders and writers)."""
    late_blocks: int = 0
    max_late_ms: float = 0.0
    skipped_s: float = 0.0
    failed: int = 0

    @property
    def underran(self) -> bool:
        """Audio was lost or late: a feeder skipped ahead, an airing failed, or a listener
        got less than real time."""
        return (self.skipped_s > 0 or self.failed > 0
                or self.listener_worst * self.window_s < self.window_s - SLACK_S)

    @property
    def strict_underran(self) -> bool:
        """As ``underran``, and also any block sent after its due time (the lead used up)."""
        return self.underran or self.late_blocks > 0


def run(command: list[str]) -> bytes:
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{result.stderr.decode()[-2000:]}")
    return result.stdout


def make_program(folder: Path, seconds: float) -> Path:
    """The jingle, then the bulletin read by espeak-ng, cut to ``seconds``, as 48 kHz mono WAV."""
    body = SCRIPT.read_text(encoding="utf-8").split("---", 2)[2]
    speech = folder / "speech.wav"
    run(["espeak-ng", "-v", "vi", "-w", str(speech), " ".join(body.split()[:200])])
    program = folder / "program.wav"
    run(["ffmpeg", "-v", "error", "-y", "-i", str(JINGLE), "-i", str(speech), "-filter_complex",
         "[0:a]aformat=sample_rates=48000:channel_layouts=mono[j];"
         "[1:a]aformat=sample_rates=48000:channel_layouts=mono[s];[j][s]concat=n=2:v=0:a=1",
         "-t", f"{seconds}", "-ar", str(SAMPLE_RATE), "-ac", "1", "-c:a", "pcm_s16le",
         str(program)])
    return program


def pcm_of(program: Path) -> bytes:
    return run(["ffmpeg", "-v", "error", "-i", str(program), "-f", "s16le", "-ar",
                str(SAMPLE_RATE), "-ac", "1", "-"])


def children_cpu_s(name: str) -> dict[int, float]:
    """CPU seconds so far of this process's children called ``name``, by PID."""
    found: dict[int, float] = {}
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if comm == name and int(fields[1]) == me:
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICK
    return found


def own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


class Listeners:
    """curl pulling a sample of mounts to files, in their own processes."""

    def __init__(self, server: IcecastServer, mounts: list[str], folder: Path) -> None:
        self.files = [folder / f"listen-{mount.strip('/').replace('/', '-')}.mp3"
                      for mount in mounts]
        self.processes = [
            subprocess.Popen(["curl", "-s", "-N", "-o", str(path),
                              f"http://{server.host}:{server.port}{mount}"])
            for mount, path in zip(mounts, self.files, strict=True)
        ]

    def sizes(self) -> list[int]:
        return [path.stat().st_size if path.exists() else 0 for path in self.files]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait()


def wait_for_mounts(server: IcecastServer, mounts: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not set(mounts) <= set(server.mounts()):
        if time.monotonic() > deadline:
            raise SystemExit(f"mounts did not come up within {timeout:.0f} s")
        time.sleep(0.1)


def listener_share(listeners: Listeners, window_s: float) -> float:
    """Worst audio received / real time over ``window_s`` among the sampled listeners."""
    before = listeners.sizes()
    time.sleep(window_s)
    after = listeners.sizes()
    byte_rate = BITRATE_KBPS * 1000 / 8
    return min((b - a) / byte_rate / window_s for a, b in zip(before, after, strict=True))


def ours(server: IcecastServer, zones: int, pcm: bytes, window_s: float, folder: Path) -> Result:
    mounts = [IcecastMount(server.host, server.port, f"ours-{zones}-{n}", "source",
                           server.password, BITRATE_KBPS) for n in range(zones)]
    failures: list[str] = []
    try:
        for mount in mounts:
            mount.start()
        for mount in mounts:
            mount.wait_connected(timeout=120)
        listeners = Listeners(server, [m.mount for m in mounts[:LISTENERS]], folder)
        time.sleep(2)

        def air(mount: IcecastMount) -> None:
            sink = mount.open("bench")
            try:
                for start in range(0, len(pcm), BYTES_PER_SECOND // 10):
                    sink.write(pcm[start : start + BYTES_PER_SECOND // 10])
                sink.finish()
            except Exception as exc:
                failures.append(str(exc))
                sink.abort()

        for mount in mounts:
            mount.stats = FeedStats()
        encoders = children_cpu_s("ffmpeg")
        cpu, wall = own_cpu_s(), time.monotonic()
        writers = [threading.Thread(target=air, args=(mount,)) for mount in mounts]
        for writer in writers:
            writer.start()
        time.sleep(1)
        share = listener_share(listeners, window_s)
        for writer in writers:
            writer.join()
        wall = time.monotonic() - wall
        feeder = own_cpu_s() - cpu
        after = children_cpu_s("ffmpeg")
        cpu = feeder + sum(after[pid] - encoders.get(pid, 0.0) for pid in after)
        listeners.stop()
    finally:
        for mount in mounts:
            mount.close()
    return Result(
        cpu_per_mount=cpu / wall / zones, listener_worst=share, window_s=window_s,
        feeder_per_mount=feeder / wall / zones,
        late_blocks=sum(m.stats.late_blocks for m in mounts),
        max_late_ms=max(m.stats.max_late_s for m in mounts) * 1000,
        skipped_s=sum(m.stats.skipped_s for m in mounts), failed=len(failures),
    )


def baseline(
    server: IcecastServer, zones: int, program: Path, window_s: float, folder: Path
) -> Result:
    mounts = [f"/base-{zones}-{n}" for n in range(zones)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.monotonic()
    processes = [
        subprocess.Popen(
            ["ffmpeg", "-v", "error", "-nostdin", "-re", "-i", str(program), "-c:a",
             "libmp3lame", "-b:a", f"{BITRATE_KBPS}k", "-content_type", "audio/mpeg", "-f",
             "mp3", f"icecast://source:{server.password}@{server.host}:{server.port}{mount}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for mount in mounts
    ]
    wait_for_mounts(server, mounts[:LISTENERS], timeout=60)
    listeners = Listeners(server, mounts[:LISTENERS], folder)
    time.sleep(1)
    share = listener_share(listeners, window_s)
    failed = sum(process.wait() != 0 for process in processes)
    wall = time.monotonic() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    listeners.stop()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Result(cpu_per_mount=cpu / wall / zones, listener_worst=share, window_s=window_s,
                  failed=failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--seconds", type=float, default=25.0)
    args = parser.parse_args()
    window_s = args.seconds - 5
    with tempfile.TemporaryDirectory(prefix="bench-icecast-") as temp:
        folder = Path(temp)
        program = make_program(folder, args.seconds)
        pcm = pcm_of(program)
        print(f"program: jingle + espeak-ng speech, {len(pcm) / BYTES_PER_SECOND:.1f} s, "
              f"MP3 {BITRATE_KBPS} kbit/s; machine: {os.cpu_count()} CPUs")
        print("baseline: 'ffmpeg -re per mount' (ffmpeg -re -i program.wav -c:a libmp3lame "
              "-f mp3 icecast://... per mount)")
        print(f"listeners: curl on {LISTENERS} mounts, audio over a {window_s:.0f} s window")
        print()
        print(f"{'zones':>5}  {'CPU %core/mount: ours':>21} {'(feeder)':>8} {'baseline':>8} "
              f"{'ratio':>5}  {'late blocks (max ms)':>20}  {'listener/real: ours':>19} "
              f"{'baseline':>8}  {'underrun: ours':>14} {'baseline':>8}")
        sustained = {"ours": 0, "ours, strict": 0, "baseline": 0}
        holding = dict.fromkeys(sustained, True)
        for zones in args.zones:
            server = start_icecast(sources=2 * zones + 10)
            try:
                mine = ours(server, zones, pcm, window_s, folder)
                plain = baseline(server, zones, program, window_s, folder)
            finally:
                server.remove()
            for name, underran in (("ours", mine.underran),
                                   ("ours, strict", mine.strict_underran),
                                   ("baseline", plain.underran)):
                holding[name] = holding[name] and not underran
                if holding[name]:
                    sustained[name] = zones
            late = f"{mine.late_blocks} ({mine.max_late_ms:.0f})"
            print(f"{zones:>5}  {mine.cpu_per_mount * 100:>21.2f} "
                  f"{mine.feeder_per_mount * 100:>8.2f} {plain.cpu_per_mount * 100:>8.2f} "
                  f"{mine.cpu_per_mount / plain.cpu_per_mount:>5.2f}  {late:>20}  "
                  f"{mine.listener_worst:>19.3f} {plain.listener_worst:>8.3f}  "
                  f"{'yes' if mine.underran else 'no':>14} "
                  f"{'yes' if plain.underran else 'no':>8}", flush=True)
        print()
        print("largest N with no underrun: " + ", ".join(
            f"{name} {zones}" for name, zones in sustained.items()))
        print("(strict: also no block sent after its due time, i.e. the "
              f"{LEAD_S * 1000:.0f} ms lead never used up)")


if __name__ == "__main__":
    main()
