"""Table-driven tests for to_spoken: one TSV file per category under data/vietnamese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from broadcast.vietnamese import to_spoken

DATA = Path(__file__).parent / "data" / "vietnamese"
CATEGORIES = (
    "numbers",
    "money",
    "percent",
    "ordinals_weekdays",
    "years_periods",
    "dates",
    "times",
    "phones",
    "codes",
    "abbreviations",
    "headings",
    "roman",
    "units",
    "ranges",
    "unicode",
    "markup",
    "misc",
    "identifiers",
    "web",
)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|t|n)")


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code == "t":
            return "\t"
        if code == "n":
            return "\n"
        return chr(int(code[1:], 16))

    return _ESCAPE.sub(replace, text)


def load_cases(category: str) -> list[tuple[str, str, str]]:
    """(id, input, expected) rows of one category file; '#' lines are comments."""
    path = DATA / f"{category}.tsv"
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        source, expected = line.split("\t", 1)
        cases.append((f"{category}:{number}", _unescape(source), _unescape(expected)))
    return cases


ALL_CASES = [case for category in CATEGORIES for case in load_cases(category)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [pytest.param(source, expected, id=case_id) for case_id, source, expected in ALL_CASES],
)
def test_reads_like_an_announcer(source: str, expected: str) -> None:
    assert to_spoken(source) == expected


def test_every_category_has_cases() -> None:
    for category in CATEGORIES:
        assert len(load_cases(category)) >= 15, category


def test_at_least_four_hundred_cases() -> None:
    assert len(ALL_CASES) >= 400
