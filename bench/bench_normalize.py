"""Benchmark: how long to_spoken takes on a real bulletin, against a budget and a baseline.

    python bench/bench_normalize.py [PATH] [--runs N]

PATH defaults to the reference plan kept next to the repository
(../shared/reference/000_7740bfb2d9ae9fc7.txt from the repository root).  The baseline is
the cheapest thing that could call itself a normaliser: NFC plus one regex pass that
replaces each digit with its word.  Both run in the same process, interleaved, so the
ratio between them is fair on any machine.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from broadcast.vietnamese import to_spoken
from broadcast.vietnamese.numbers import DIGIT_WORDS

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DOCUMENT = REPO.parent / "shared" / "reference" / "000_7740bfb2d9ae9fc7.txt"
BUDGET_MS = 100.0
_DIGIT = re.compile(r"\d")


def baseline(text: str) -> str:
    """NFC + one regex pass replacing each digit with its word."""
    nfc = unicodedata.normalize("NFC", text)
    return _DIGIT.sub(lambda m: f" {DIGIT_WORDS[int(m.group())]} ", nfc)


def timed(function: Callable[[str], str], text: str) -> float:
    start = time.perf_counter()
    function(text)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_DOCUMENT)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    text = args.path.read_text(encoding="utf-8")
    to_spoken(text)
    baseline(text)
    ours: list[float] = []
    naive: list[float] = []
    for _ in range(args.runs):
        ours.append(timed(to_spoken, text))
        naive.append(timed(baseline, text))
    ours_ms, naive_ms = statistics.median(ours), statistics.median(naive)
    size_kb = len(text.encode("utf-8")) / 1024
    print(f"document: {args.path.name}, {size_kb:.1f} KB, {len(text)} characters")
    print(f"runs: {args.runs} (median)")
    budget = f"{ours_ms / BUDGET_MS:.3f} x the {BUDGET_MS:.0f} ms budget"
    print(f"to_spoken: {ours_ms:8.2f} ms   {budget}")
    print(f"baseline:  {naive_ms:8.2f} ms   (NFC + one regex pass replacing each digit)")
    print(f"to_spoken / baseline: {ours_ms / naive_ms:.1f} x")


if __name__ == "__main__":
    main()
