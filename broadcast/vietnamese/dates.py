"""Reading dates and times: "20/11/2025", "7-8/9", "Chiều 20-10", "3/2025", "7h30"; and the
other numbers joined by "/": "hẻm 45/7", "5/7 khu phố", "trực 24/7"."""

from __future__ import annotations

import re

from .numbers import read_int, read_integer_text, read_month
from .reading import CONTEXT_CHARS, WORD, Reading
from .tokens import Token
from .words import (
    ADDRESS_NUMBER_WORDS,
    BRACKETED_DATE_PREV,
    COUNTED,
    DASH_DATE_PREV,
    DATE_PREV,
    DAY_WORDS,
    DOC_WORDS,
    EVENT_WORDS,
    LIST_JOINERS,
    NO_DAY_WORD,
    NUMBERED_NOUNS,
    RATIO_PREV,
    SHARE_NEXT,
    STREET_WORDS,
    TIME_OF_DAY,
    YEAR_NUMBER_PREV,
)

# A named day in the clause: "Ngày Quốc tế Lao động 1-5".
_NAMED_DAY = re.compile(r"(?<![^\W_])Ngày\s+[^\W\d_]")
# "ngày 10 và 11/9", "ngày 7, 8, 9/9": the list already started with "ngày".
_DAY_LIST = re.compile(
    r"(?:ngày|mùng|mồng)\s+\d{1,2}(?:\s*(?:,|và|hoặc)\s*\d{1,2})*\s*(?:,|và|hoặc)\s*$",
    re.IGNORECASE,
)
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def valid_day_month(day: int, month: int) -> bool:
    """A day that a month has (29 February counts)."""
    return 1 <= month <= 12 and 1 <= day <= _MONTH_DAYS[month - 1]


def date_words(reading: Reading, index: int, day: int, month: int, year: int | None) -> str:
    """ "ngày hai mươi tháng mười một năm …", without "ngày" when the text already said it."""
    words = [] if _day_already_named(reading, index) else ["ngày"]
    words += [read_int(day), "tháng", read_month(month)]
    if year is not None:
        words += ["năm", read_int(year)]
    return " ".join(words)


def _day_already_named(reading: Reading, index: int) -> bool:
    """ "ngày 7/8", "mùng 2/9", "ngày 10 và 11/9", "ngày 7, 8, 9/9" need no extra "ngày"."""
    previous = reading.token(index - 1)
    opened = previous is not None and previous.text == "("
    if reading.word_before(index) in NO_DAY_WORD and not opened:
        return True
    start = reading.tokens[index].start
    tail = reading.line[max(0, start - CONTEXT_CHARS) : start]
    return _DAY_LIST.search(tail) is not None


def read_full_date(reading: Reading, index: int, token: Token) -> int:
    """ "20/11/2025", "2025-11-20"; not a real day: the numbers one by one."""
    assert token.match is not None
    names = ("dd", "dm", "dy") if token.match["dd"] else ("id", "im", "iy")
    day, month, year = (int(token.match[name]) for name in names)
    if valid_day_month(day, month):
        reading.emit(date_words(reading, index, day, month, year))
        following = reading.token(index + 1)
        if (
            following is not None
            and following.match is not None
            and following.kind == "time"
            and following.match["ch"]
            and reading.line[token.end : following.start].isspace()
        ):
            reading.emit("lúc")  # "17/09/2026 08:45": the year does not run into the hour
    else:
        # "18/44/2026", a typo: the numbers as written, kept apart.
        numbers = (read_integer_text(part) for part in re.findall(r"\d+", token.text))
        reading.emit(" trên ".join(numbers))
    return index + 1


def read_date_range(reading: Reading, index: int, token: Token) -> int:
    """ "7-8/9", "10-12/9/2025": from one day to another of a month."""
    assert token.match is not None
    first, last, month = (int(token.match[name]) for name in ("dr1", "dr2", "drm"))
    year = int(token.match["dry"]) if token.match["dry"] else None
    if valid_day_month(first, month) and valid_day_month(last, month) and first < last:
        lead = "" if _day_already_named(reading, index) else "ngày "
        tail = f" năm {read_int(year)}" if year is not None else ""
        reading.emit(
            f"{lead}{read_int(first)} đến ngày {read_int(last)} tháng {read_month(month)}"
            f"{tail}"
        )
        return index + 1
    numbers = [read_int(int(part)) for part in re.findall(r"\d+", token.text)]
    reading.emit(numbers[0], "đến", " trên ".join(numbers[1:]))
    return index + 1


def read_time(reading: Reading, index: int, token: Token) -> int:
    """ "7h30", "7g30", "14:00", "7h"; "tỷ lệ 1:10" or "30:75" (no real time) is a ratio."""
    match = token.match
    assert match is not None
    if match["bh"]:
        reading.emit(read_int(int(match["bh"])), "giờ")
        return index + 1
    if match["th"]:
        hour, minute, second = int(match["th"]), int(match["tm"]), 0
    else:
        hour, minute = int(match["ch"]), int(match["cm"])
        second = int(match["cs"]) if match["cs"] else 0
        if reading.word_before(index) in ("lệ", "tỷ", "tỉ") or hour > 24 or minute > 59:
            reading.emit(read_int(hour), "trên", read_int(minute))
            return index + 1
    words = [read_int(hour), "giờ"]
    if minute:
        words += [read_int(minute), "phút"]
    if second:
        words += [read_int(second), "giây"]
    reading.emit(*words)
    return index + 1


def read_slash(reading: Reading, index: int, token: Token) -> int:
    """Numbers joined by "/": a date, a month and year, a house number, a share or a ratio."""
    assert token.match is not None
    first_text, second_text = token.match["sa"], token.match["sb"]
    if token.match["sc"]:
        # "hẻm 45/7/12": a house number in several levels.
        parts = token.match["slash"].split("/")
        reading.emit(" trên ".join(read_integer_text(part) for part in parts))
        return index + 1
    first, second = int(first_text), int(second_text)
    before = reading.word_before(index)
    if len(second_text) == 4 and 1900 <= second <= 2100:
        _month_year(reading, index, first_text, second)
        return index + 1
    short = len(first_text) <= 2 and len(second_text) <= 2
    is_date = short and valid_day_month(first, second)
    if (first, second) == (24, 7) and before not in DAY_WORDS:
        # "trực 24/7", "Tổng đài 24/7": every hour of every day; "ngày 24/7" is a date.
        reading.emit(read_int(first), "trên", read_int(second))
        return index + 1
    if before in STREET_WORDS and is_date:
        reading.emit(read_int(first), "tháng", read_month(second))
    elif before in ADDRESS_NUMBER_WORDS:
        reading.emit(read_integer_text(first_text), "trên", read_integer_text(second_text))
    elif is_date and before in DATE_PREV:
        reading.emit(date_words(reading, index, first, second, None))
    elif (
        reading.next_word(index) in SHARE_NEXT
        or before == "chiếm"
        or (
            before in ("khoảng", "gần", "hơn")
            and first < second
            and not _time_follows(reading, index)
        )
    ):
        reading.emit(read_int(first), "phần", "tư" if second == 4 else read_int(second))
    elif is_date and before not in RATIO_PREV and reading.next_word(index) not in COUNTED:
        reading.emit(date_words(reading, index, first, second, None))
    else:
        reading.emit(read_integer_text(first_text), "trên", read_integer_text(second_text))
    return index + 1


def _time_follows(reading: Reading, index: int) -> bool:
    """ "khoảng 3/4 chiều nay" is a date; "khoảng 3/4 chiều cao" a share."""
    following = reading.token(index + 1)
    words = following.lower.split()[:2] if following is not None else []
    if not words or words[0] not in TIME_OF_DAY:
        return False
    return len(words) == 1 or words[1] not in ("cao", "dài", "rộng", "sâu")


def _month_year(reading: Reading, index: int, first_text: str, year: int) -> None:
    first = int(first_text)
    words = reading.words_before(index, 2)
    before = words[0] if words else ""
    doc = before in YEAR_NUMBER_PREV or before in DOC_WORDS
    if 1 <= first <= 12 and not doc:
        lead = "" if before == "tháng" else "tháng "
        reading.emit(f"{lead}{read_month(first)} năm {read_int(year)}")
    else:
        reading.emit(read_int(first), "năm", read_int(year))


def dash_date(reading: Reading, index: int, day_text: str) -> tuple[int, int] | None:
    """ "Chiều 20-10", "(20-10)", "Quốc khánh 2-9": a day and a month joined by a dash."""
    dash, following = reading.token(index + 1), reading.token(index + 2)
    if (
        dash is None
        or dash.text != "-"
        or following is None
        or following.match is None
        or following.kind != "num"
        or following.match["unit"]
        or reading.spaced_before(index + 1)
        or reading.spaced_before(index + 2)
    ):
        return None
    month_text = following.match["num"]
    if not (day_text.isdigit() and month_text.isdigit() and len(day_text + month_text) <= 4):
        return None
    day, month = int(day_text), int(month_text)
    if not valid_day_month(day, month):
        return None
    before = reading.word_before(index)
    if before in DAY_WORDS or (before in DASH_DATE_PREV and day > month):
        return day, month  # "sáng sớm 30-4 người dân ...": 30 to 4 is no range
    if reading.quantity_follows(index + 2) or before in RATIO_PREV:
        return None
    if before in DASH_DATE_PREV:
        return day, month
    if (
        reading.text_at(index - 1) == "("
        and reading.text_at(index + 3) == ")"
        and (day > month or reading.word_before(index) in BRACKETED_DATE_PREV)
    ):
        return day, month  # "Sáng nay (6-11)", "(20-10)"; "mức rất cao (8-10)" is a range
    if before in NUMBERED_NOUNS:
        return None
    if index - 2 in reading.dates and reading.text_at(index - 1).lower() in LIST_JOINERS:
        return day, month
    clause = reading.clause_before(index)
    words = {word.lower() for word in WORD.findall(clause)}
    if words & EVENT_WORDS or _NAMED_DAY.search(clause):
        return day, month
    # "20-10" cannot be a range; it is a date unless it is a score ("thắng 3-1").
    if day >= month and not reading.score_context(index):
        return day, month
    return None

