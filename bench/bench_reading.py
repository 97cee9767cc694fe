"""Benchmark: the share of real notice sentences read right, ours against vinorm 2.0.7.

    python bench/bench_reading.py

Both shares come from the line-by-line judgements kept with the corpus
(tests/data/vietnamese/real/judgement.tsv and judgement-vinorm.tsv, judged by a native
reader as the README there says). The script reads the corpus again with our normalizer,
and with vinorm when it is installed, and says how many lines now read differently from
what was judged: those lines need judging again before the figure holds.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path

from broadcast.vietnamese import default_lexicon, to_spoken

REAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "vietnamese" / "real"


def rows(name: str) -> list[dict[str, str]]:
    with (REAL / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def vinorm_reader() -> Callable[[str], str] | None:
    try:
        from vinorm import TTSnorm  # type: ignore[import-not-found]
    except ImportError:
        return None

    def read(text: str) -> str:
        # vinorm prints its own debug lines after the text ("Roman ..."); keep the text.
        return str(TTSnorm(text)).split("\n")[0].split("Roman ")[0].strip()

    return read


def report(name: str, judged: list[dict[str, str]], corpus: dict[str, str],
           read: Callable[[str], str] | None) -> float:
    right = sum(row["verdict"] == "OK" for row in judged)
    share = right / len(judged)
    line = f"{name:<22} {right:4d} / {len(judged)} read right = {share:6.1%}"
    if read is None:
        print(f"{line}   (not installed: judged readings not re-checked)")
        return share
    start = time.perf_counter()
    moved = sum(read(corpus[row["id"]]) != row["spoken"] for row in judged)
    elapsed = (time.perf_counter() - start) * 1000
    print(f"{line}   {moved} line(s) read differently since judged, {elapsed:.0f} ms")
    return share


def main() -> None:
    corpus = {row["id"]: row["text"] for row in rows("corpus.tsv")}
    lexicon = default_lexicon()
    ours = report("broadcast", rows("judgement.tsv"), corpus,
                  lambda text: to_spoken(text, lexicon))
    baseline = report("vinorm 2.0.7", rows("judgement-vinorm.tsv"), corpus, vinorm_reader())
    print(f"lines read right, broadcast / vinorm: {ours / baseline:.2f} x")
    print(f"lines read wrong, vinorm / broadcast: {(1 - baseline) / (1 - ours):.1f} x")


if __name__ == "__main__":
    main()
