"""How the voice reads sentences in the shapes real notices take, as a native reader judged it.

`tests/data/vietnamese/real/judgement.tsv` holds, for every line of `corpus.tsv`, the words
the normalizer says and a reader's verdict on them. A change in how any line is read fails
here until the line is judged again, so the share of lines read right is always the share
for the code as it is.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from broadcast.vietnamese import default_lexicon, to_spoken

REAL = Path(__file__).parent / "data" / "vietnamese" / "real"
REQUIRED_SHARE = 0.97


def _rows(name: str) -> list[dict[str, str]]:
    with (REAL / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


CORPUS = {row["id"]: row["text"] for row in _rows("corpus.tsv")}
JUDGED = {row["id"]: row for row in _rows("judgement.tsv")}


def test_every_line_of_the_corpus_is_judged_once() -> None:
    assert list(JUDGED) == list(CORPUS)
    assert {row["verdict"] for row in JUDGED.values()} <= {"OK", "WRONG"}
    assert all(row["note"] for row in JUDGED.values() if row["verdict"] == "WRONG")


@pytest.mark.parametrize("line_id", list(CORPUS))
def test_each_line_is_read_as_it_was_judged(line_id: str) -> None:
    said = to_spoken(CORPUS[line_id], default_lexicon())
    assert said == JUDGED[line_id]["spoken"], (
        f"{line_id} is read differently from when it was judged: judge it again in"
        " judgement.tsv (verdict and spoken form)"
    )


def test_at_least_97_percent_of_the_lines_are_read_right() -> None:
    right = sum(row["verdict"] == "OK" for row in JUDGED.values())
    assert right / len(JUDGED) >= REQUIRED_SHARE, f"{right} of {len(JUDGED)} read right"
