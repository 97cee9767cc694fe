"""Speech with Google's voice: our gtts engine against gtts-cli, side by side in one run.

Both talk to the same local fake of Google's endpoint, at Google's own address through the
fake's HTTPS proxy on loopback, as a ward behind a proxy does. The fake answers each request
after a fixed latency (default 200 ms, about what a real round trip costs). It makes its audio
with espeak-ng on this machine, so before timing it is given every text either side will ask
for; the timed runs then see only the latency, as they would with Google. Printed:

- cold render of the reference document: gtts-cli time / our time (target >= 8)
- re-render after changing one sentence: gtts-cli time / our time (target >= 20)
- a render while the fake answers 30% of requests with 429: completes, and how many retries
- how many paragraphs each render mastered (the rest were kept from an earlier render)

Run: .venv/bin/python bench/bench_tts.py [REFERENCE_TEXT] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from broadcast.bulletin import parse_bulletin  # noqa: E402
from broadcast.render import spoken_paragraphs  # noqa: E402
from broadcast.tts.speaker import chunk_paragraphs  # noqa: E402
from broadcast.vietnamese import default_lexicon  # noqa: E402
from tests.fakes.google_tts import FakeGoogleTTS  # noqa: E402

DEFAULT_REFERENCE = REPO.parent / "shared" / "reference" / "000_7740bfb2d9ae9fc7.txt"
HEADER = "---\ntitle: Kế hoạch tuyên truyền\napproved_by: Bench\n---\n\n"


def timed(
    command: list[str], env: dict[str, str]
) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{result.stderr[-2000:]}")
    return elapsed, result


def render(script: Path, out: Path, state: Path) -> tuple[float, str]:
    env = {**os.environ, "BROADCAST_STATE_DIR": str(state)}
    command = [sys.executable, "-m", "broadcast", "render", str(script), "-o", str(out),
               "--engine", "gtts"]
    elapsed, result = timed(command, env)
    sidecar = json.loads(out.with_name(out.name + ".json").read_text(encoding="utf-8"))
    mastered = f"{sidecar['paragraphs_mastered']} of {sidecar['paragraphs']} paragraphs mastered"
    return elapsed, f"{result.stdout.strip()}; {mastered}"


def chunks_ours(script_text: str) -> list[str]:
    bulletin = parse_bulletin(script_text, Path("reference.md"))
    spoken = spoken_paragraphs(bulletin, default_lexicon())
    return [chunk for chunks in chunk_paragraphs(spoken, 100) for chunk in chunks]


def chunks_gtts_cli(text: str) -> list[str]:
    from gtts import gTTS

    return list(gTTS(text, lang="vi")._tokenize(text))


def warm(fake: FakeGoogleTTS, texts: list[str]) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(fake.audio_for, dict.fromkeys(texts)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference", nargs="?", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    text = args.reference.read_text(encoding="utf-8")

    with tempfile.TemporaryDirectory(prefix="bench-tts-") as tmp, FakeGoogleTTS() as fake:
        work = Path(tmp)
        fake.latency = args.latency
        (work / "reference.txt").write_text(text, encoding="utf-8")
        script = work / "reference.md"
        script.write_text(HEADER + text, encoding="utf-8")
        sentence = re.search(r"Tăng cường công tác kiểm tra, giám sát[^.]*\.", text)
        assert sentence is not None, "the reference text changed; pick another sentence"
        edited = text.replace(sentence.group(0), sentence.group(0).replace("kiểm tra", "thanh tra"))
        ours = chunks_ours(HEADER + text) + chunks_ours(HEADER + edited)
        warm(fake, chunks_gtts_cli(text) + ours)

        cli = str(Path(sys.executable).with_name("gtts-cli"))
        baseline_s, _ = timed(
            [cli, "-f", str(work / "reference.txt"), "-l", "vi",
             "-o", str(work / "gtts-cli.mp3")],
            dict(os.environ),
        )
        baseline_requests = len(fake.requests)
        fake.reset()
        fake.latency = args.latency

        cold_s, cold_out = render(script, work / "cold.mp3", work / "state")
        cold_requests = len(fake.requests)

        script.write_text(HEADER + edited, encoding="utf-8")
        warm_s, warm_out = render(script, work / "warm.mp3", work / "state")
        warm_requests = len(fake.requests) - cold_requests

        fake.reset()
        fake.latency = args.latency
        fake.fail_randomly(429, 0.3, seed=7)
        script.write_text(HEADER + text, encoding="utf-8")
        storm_s, storm_out = render(script, work / "storm.mp3", work / "storm-state")
        refused = sum(1 for r in fake.requests if r.fault)

    print(f"fake Google latency {args.latency * 1000:.0f} ms per request")
    print(f"baseline gtts-cli (cold, no cache): {baseline_s:.1f} s, {baseline_requests} requests")
    print(f"ours, cold render: {cold_s:.1f} s, {cold_requests} requests -> "
          f"{baseline_s / cold_s:.1f}x faster than gtts-cli (target >= 8x)")
    print(f"ours, after changing one sentence: {warm_s:.1f} s, {warm_requests} requests -> "
          f"{baseline_s / warm_s:.1f}x faster than gtts-cli (target >= 20x)")
    print(f"ours, 30% of requests answered 429: completed in {storm_s:.1f} s, "
          f"{refused} requests refused")
    print(f"  render said: {storm_out}")
    print(f"  cold render said: {cold_out}")
    print(f"  re-render said: {warm_out}")


if __name__ == "__main__":
    main()
