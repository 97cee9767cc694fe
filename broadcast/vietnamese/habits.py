"""Typing habits of pasted text, rewritten so the reading rules see what the writer meant.

Each rule is a regular expression and what it becomes; they run on a cleaned line, in
order, before the line is cut into tokens:

- "sô" before a number, or "so" before a document code, is "số" mistyped:
  "Công văn sô 512/UBND", "Công văn So 512/UBND" -> "Công văn số 512/UBND";
- a footnote marker glued to a word is dropped: "21 đồng chí[2]" -> "21 đồng chí";
- a number followed by itself in words is said once: "07 (bảy) ngày" -> "07 ngày";
- "9 giờ 00 phút" is "9 giờ";
- a space before the hyphen of a name and its number is a typo: "COVID -19" -> "COVID-19";
- numbered groups added with "+" are a list: "Tổ 4+9+11" -> "Tổ 4, 9 và 11";
- an arrow between steps is a pause: "Chọn A -> Chọn B";
- "24/24h" and "24/24 giờ" are round the clock: "24/24 giờ";
- a chainage is kilometres plus metres: "Km0 + 00" -> "Km 0 + 00", and a dash between two
  chainages is a range: "Km 935+500 - Km 936+200" -> "Km 935+500 đến Km 936+200".

Two habits of tables and web pages are rewritten before the line is cleaned, while their
marks are still there (:func:`rewrite_page_habits`): a start and an end time in adjacent
table cells are a range ("| 08:00 | 11:30 |" -> "08:00 - 11:30"), and the text-size
buttons of a news page at the end of a line ("A A", "A- A+") are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .words import NUMBER_WORDS

_NUMBER_SIGN_TYPO = re.compile(
    r"(?<![^\W_])(?:[Ss]ô|SÔ(?![^\W_])|(?:[Ss]o|SO)(?=\s*:?\s*\d{1,5}\s?[/-]\s?\d{0,4}/?[A-ZĐ]))"
    r"(?=\s*:?\s*\d)"
)
_FOOTNOTE = re.compile(r"(?<=[^\W\d_])[\[(]\d{1,2}[\])]")
_NUMBER_IN_WORDS = re.compile(r"(?<![\d.,])(\d{1,3})\s*\(([^\W\d_]+(?:\s+[^\W\d_]+){0,5})\)")
_ZERO_MINUTES = re.compile(r"(?<!\d)(\d{1,2})\s*giờ\s+00\s*phút(?![^\W\d_])")
_SPACED_NAME_NUMBER = re.compile(r"(?<![^\W_])([A-ZĐ]{3,})\s+-(?=\d)")
_GROUP_NOUNS = r"[Tt]ổ|[Kk]hu phố|[Kk]hối|[Ấấ]p|[Tt]hôn|[Xx]óm|[Ll]ô|[Kk]hu"
_ADDED_GROUPS = re.compile(rf"(?<![^\W_])((?:{_GROUP_NOUNS})\s+)(\d+(?:\s?\+\s?\d+)+)(?!\d)")
_ARROW = re.compile(r"\s*(?:-+>|=+>)\s*")
_CHAINAGE = re.compile(r"(?<![^\W_])(K[mM])(\d{1,4})(?=\s?\+\s?\d)")
_CHAINAGE_RANGE = re.compile(r"(K[mM]\s?\d{1,4}\s?\+\s?\d{1,4})\s*-\s*(?=K[mM]\s?\d)")
_ROUND_THE_CLOCK = re.compile(r"(?<![\d/])24\s?/\s?24\s?(?:h|giờ)(?![^\W_])")


def _number_in_words(match: re.Match[str]) -> str:
    words = match[2].lower().split()
    return match[1] if all(word in NUMBER_WORDS for word in words) else match.group()


def _group_list(match: re.Match[str]) -> str:
    numbers = re.findall(r"\d+", match[2])
    return f"{match[1]}{', '.join(numbers[:-1])} và {numbers[-1]}"


_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (_NUMBER_SIGN_TYPO, "số"),
    (_FOOTNOTE, ""),
    (_NUMBER_IN_WORDS, _number_in_words),
    (_ZERO_MINUTES, r"\1 giờ"),
    (_SPACED_NAME_NUMBER, r"\1-"),
    (_ADDED_GROUPS, _group_list),
    (_ARROW, ", "),
    (_ROUND_THE_CLOCK, "24/24 giờ"),
    (_CHAINAGE, r"\1 \2"),
    (_CHAINAGE_RANGE, r"\1 đến "),
)


_TIME_CELLS = re.compile(r"(?<![\d:])(\d{1,2}:\d{2})\s*\|\s*(\d{1,2}:\d{2})(?=\s*(?:\||$))")
_TEXT_SIZE_BUTTONS = re.compile(r"(?<=\S)(?:\s+A[-+]?){2,3}\s*$")


def rewrite_page_habits(line: str) -> str:
    """The raw line with the habits of tables and web pages above rewritten."""
    return _TEXT_SIZE_BUTTONS.sub("", _TIME_CELLS.sub(r"\1 - \2", line))


def rewrite_habits(line: str) -> str:
    """The line with each typing habit above rewritten."""
    for pattern, replacement in _RULES:
        line = pattern.sub(replacement, line)
    return line
