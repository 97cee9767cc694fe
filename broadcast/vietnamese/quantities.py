"""Reading numbers in context: amounts, decimals, money, units, hotlines, phones, plates, ranges."""

from __future__ import annotations

import re

from .abbreviations import WEEKDAY_ABBREVIATION
from .dates import dash_date, date_words, valid_day_month
from .numbers import (
    LONGEST_NUMBER,
    read_decimal,
    read_digits,
    read_int,
    read_integer_text,
    read_month,
    read_ordinal,
)
from .reading import Reading
from .text import spell
from .tokens import NUMERIC, WORDLIKE, Token
from .words import (
    ADDRESS_WORDS,
    AMOUNT_PREV,
    COUNTED,
    DAY_WORDS,
    DOT_DATE_PREV,
    HOTLINE_FILLERS,
    HOTLINE_TRIGGERS,
    HOUR_PREV,
    LIST_JOINERS,
    MULTIPLIERS,
    NOT_A_LINE,
    PER_WORDS,
    QUANTITY_WORDS,
    SPREAD_WORDS,
    TIME_OF_DAY,
    UNIT_NAMES,
    WEEKDAY_NAMES,
)

# Quantities this long are written with thousand separators; bare runs are identifiers
# unless they count something ("1200000000 đồng").  A shorter bare run is one after a
# colon or a dash ("Thông tin điện nước - 8012046"), else a count ("1200000 cây").
_LONGEST_QUANTITY = 9
_LONGEST_BARE_COUNT = 7


def read_number(reading: Reading, index: int, token: Token) -> int:
    """A number with its unit, or a day and month joined by a dash ("20-10")."""
    assert token.match is not None
    body, unit = token.match["num"], token.match["unit"]
    day_month = None if unit else dash_date(reading, index, body)
    if day_month is not None:
        reading.dates.add(index)
        reading.emit(date_words(reading, index, *day_month, None))
        return index + 3
    spoken = _number_words(reading, index, body, unit)
    reading.emit(spoken)
    if unit == "g" and _is_hour(reading, index, body):
        reading.emit("giờ")  # "lúc 18g", "đến 21g", "5g-7g"
    elif unit:
        reading.emit(UNIT_NAMES[unit])
    return index + 1


def _is_hour(reading: Reading, index: int, body: str) -> bool:
    """ "21g" is an hour after "lúc", "từ", "đến" ... or beside another hour ("5g-7g");
    "500g" and "khoảng 5g muối" are grams."""
    if not body.isdigit() or int(body) > 24:
        return False
    if reading.word_before(index) in HOUR_PREV or reading.next_word(index) in TIME_OF_DAY:
        return True  # "đến 21g", "21g tối"
    for neighbour in (index - 2, index + 2):
        other = reading.token(neighbour)
        between = reading.token((index + neighbour) // 2)
        if (
            other is not None
            and between is not None
            and between.text == "-"
            and other.kind in ("num", "time")
            and other.match is not None
            and (other.match["unit"] == "g" or other.kind == "time")
        ):
            return True
    return False


_CURRENCIES = frozenset({"đ", "VNĐ", "VND", "vnđ", "vnd", "USD", "$"})


def _number_words(reading: Reading, index: int, body: str, unit: str | None) -> str:
    if "." in body and re.fullmatch(r"\d+(?:\.\d{1,2})+", body):
        return _dotted(reading, index, body, unit)
    if re.fullmatch(r"\d{1,3}(?:,\d{3}){2,}", body):
        return read_integer_text(body.replace(",", ""))
    if re.fullmatch(r"\d{1,3},000", body) and (unit in _CURRENCIES or (
        not unit and reading.next_word(index) in ("đồng", "nghìn", "triệu", "tỷ")
    )):
        return read_integer_text(body.replace(",", ""))  # "150,000 đồng": a comma for thousands
    if "," in body:
        integer, fraction = body.split(",", 1)
        return read_decimal(integer, fraction)
    if "." in body:
        return read_integer_text(body)
    if unit:
        return read_integer_text(body)
    return _plain_number(reading, index, body)


def _dotted(reading: Reading, index: int, body: str, unit: str | None) -> str:
    parts = body.split(".")
    if len(parts) == 2 and (
        unit or reading.next_word(index) in MULTIPLIERS or _decimal_range(reading, index)
    ):
        return read_decimal(parts[0], parts[1])
    if _dot_date(reading, index, parts):
        reading.dates.add(index)
        day, month = int(parts[0]), int(parts[1])
        if reading.word_before(index) in DAY_WORDS:
            return f"{read_int(day)} tháng {read_month(month)}"
        return date_words(reading, index, day, month, None)
    # "12.05" keeps the zero of its second part: mười hai chấm không năm.
    return " chấm ".join(
        read_digits(part) if position and part.startswith("0") else read_integer_text(part)
        for position, part in enumerate(parts)
    )


def _is_dot_decimal(token: Token | None) -> bool:
    return (
        token is not None
        and token.kind == "num"
        and token.match is not None
        and re.fullmatch(r"\d+\.\d{1,2}", token.match["num"]) is not None
    )


def _decimal_range(reading: Reading, index: int) -> bool:
    """ "1.2-1.8 độ C", "0.3-0.5 m", "dao động 6.8-7.2": a range of numbers written with a
    decimal dot, its unit after the last member only (or a change or a spread before it)."""
    if reading.text_at(index + 1) == "-" and _is_dot_decimal(reading.token(index + 2)):
        first, last = index, index + 2
    elif reading.text_at(index - 1) == "-" and _is_dot_decimal(reading.token(index - 2)):
        first, last = index - 2, index
    else:
        return False
    last_token = reading.tokens[last]
    if last_token.match is not None and last_token.match["unit"]:
        return True
    following = reading.next_word(last)
    if following is not None and (following in QUANTITY_WORDS or following in UNIT_NAMES):
        return True
    return reading.word_before(first) in SPREAD_WORDS


def _dot_date(reading: Reading, index: int, parts: list[str]) -> bool:
    """ "ngày 29.4", "Sáng 14.4", "lễ 30.4", "hôm nay 15.10", "từ 26.6 đến 28.6": a day
    and a month written with a dot, after a word that names a day or a time of day."""
    if len(parts) != 2 or len(parts[0]) > 2 or len(parts[1]) > 2:
        return False
    if not valid_day_month(int(parts[0]), int(parts[1])):
        return False
    if reading.quantity_follows(index):
        return False
    before = reading.word_before(index)
    if before in DOT_DATE_PREV:
        return True
    if before == "đến":  # "từ ngày 26.6 đến 28.6"
        return any(earlier in reading.dates for earlier in range(max(0, index - 4), index))
    if before == "từ":
        until, last = reading.token(index + 1), reading.token(index + 2)
        if until is None or last is None or until.first_word != "đến" or last.match is None:
            return False
        other = last.match["num"] or ""
        pieces = other.split(".")
        return (
            last.kind == "num"
            and not last.match["unit"]
            and len(pieces) == 2
            and valid_day_month(int(pieces[0]), int(pieces[1]))
            and not reading.quantity_follows(index + 2)
        )
    return False


def _plain_number(reading: Reading, index: int, digits: str) -> str:
    if len(digits) > LONGEST_NUMBER:
        return read_digits(digits)
    value = int(digits)
    before = reading.word_before(index)
    if before == "thứ":
        return read_ordinal(value)
    if before == "tháng" and 1 <= value <= 12 and len(digits) <= 2:
        return read_month(value)
    if before == "giờ" and digits == "00":
        return ""
    if _is_hotline(reading, index, digits):
        reading.hotlines.add(index)
        return read_digits(digits)
    if _is_identifier(reading, index, digits):
        # In groups, as a phone number is: "8012046" -> "tám không một, hai không bốn sáu".
        return ", ".join(read_digits(part) for part in _split_digit_run(digits))
    spoken = read_integer_text(digits)
    previous = reading.token(index - 2)
    if (
        before == "giờ"
        and len(digits) == 2
        and value <= 59
        and previous is not None
        and previous.kind == "num"
        and reading.next_word(index) not in ("phút", "giây")
    ):
        return f"{spoken} phút"
    return spoken


def _is_identifier(reading: Reading, index: int, digits: str) -> bool:
    """Account numbers, ID numbers and codes are read digit by digit."""
    following = reading.next_word(index)
    counted = following in MULTIPLIERS or following in COUNTED or following == "đồng"
    if len(digits) >= _LONGEST_QUANTITY and not counted:
        return True
    if len(digits) >= _LONGEST_BARE_COUNT and not counted:
        after_colon = reading.text_at(index - 1) in (":", "-")
        return after_colon or reading.word_before(index) in HOTLINE_TRIGGERS
    return len(digits) >= 4 and reading.after_identifier_word(index)


def _is_hotline(reading: Reading, index: int, digits: str) -> bool:
    if not 3 <= len(digits) <= 5:
        return False
    emergency = 111 <= int(digits) <= 115 and len(digits) == 3
    joiner = reading.token(index - 1)
    if (
        index - 2 in reading.hotlines
        and joiner is not None
        and joiner.lower in LIST_JOINERS
    ):
        return True
    before, after = reading.token(index - 1), reading.token(index + 1)
    if (
        emergency
        and before is not None
        and before.text == "("
        and after is not None
        and after.text == ")"
    ):
        return True
    words = reading.words_before(index, 5)
    if emergency:
        return _emergency_context(reading, index, words)
    for word in words:
        if word not in HOTLINE_FILLERS:
            return word in HOTLINE_TRIGGERS and word != "báo"
    return False


def _emergency_context(reading: Reading, index: int, words: list[str]) -> bool:
    """111-115 are the national service numbers, read digit by digit, unless they count
    something ("113 người", "114 ca") or number a document or a total ("Thông báo số 113",
    "Tổng số: 112", "Số hộ: 113")."""
    following = reading.next_word(index)
    if following in ADDRESS_WORDS or reading.quantity_follows(index):
        return False
    if following is not None and reading.word_before(index) in AMOUNT_PREV:
        return False  # "có 113 chiến sĩ"
    for position, word in enumerate(words):
        farther = words[position + 1 : position + 2]
        next_to = all(nearer in HOTLINE_FILLERS for nearer in words[:position])
        if word == "số" and next_to:
            return not farther or farther[0] not in NOT_A_LINE
        if word in ("hộ", "lượng") and position == 0:
            return False
    return True


def read_phone(reading: Reading, index: int, token: Token) -> int:
    """A phone number, digit by digit in groups with a pause between."""
    groups: list[str] = []
    short = ""
    for group in re.findall(r"\+?\d+|[xX]+", token.text):
        if group.isalpha():
            # "0905.xxx.xxx": digits the press hides are said as letters.
            groups.append(group.lower())
            continue
        # "3.822.123" is one seven-digit number written with a thousands dot.
        if len(group) < 2:
            short += group
            continue
        groups.append(short + group)
        short = ""
    spoken: list[str] = []
    for group in groups:
        if group.startswith("+"):
            spoken.append("cộng " + read_digits(group))
            continue
        if group.isalpha():
            spoken.append(spell(group))
            continue
        spoken.extend(read_digits(part) for part in _split_digit_run(group))
    for position, words in enumerate(spoken):
        if position:
            reading.emit(",")
        reading.emit(words)
    return index + 1


def read_dotted(reading: Reading, index: int, token: Token) -> int:
    """A dotted identifier, part by part with "chấm" between: a procedure code
    "1.004227.000.00.00.H38" -> "một chấm không không bốn hai hai bảy chấm … chấm hát ba tám"."""
    words: list[str] = []
    for part in token.text.split("."):
        if part.isdigit():
            plain = len(part) <= 2 and not part.startswith("0")
            words.append(read_int(int(part)) if plain else read_digits(part))
        else:
            letters = part.rstrip("0123456789")
            words.append(" ".join(filter(None, (spell(letters), read_digits(part[len(letters):])))))
    reading.emit(" chấm ".join(words))
    return index + 1


def read_plate(reading: Reading, index: int, token: Token) -> int:
    """Vehicle plate "49A-123.45": bốn chín a, một hai ba, bốn năm."""
    match = token.match
    assert match is not None
    series = " ".join(
        read_digits(char) if char.isdigit() else spell(char) for char in match["series"]
    )
    reading.emit(f"{read_digits(match['province'])} {series}")
    for group in (match["serial"] or match["spaced"]).split("."):
        # "51LD - 093.xx": the hidden digits of a plate in the press are said as letters.
        reading.emit(",", read_digits(group) if group.isdigit() else spell(group.lower()))
    return index + 1


def _split_digit_run(digits: str) -> list[str]:
    """Long unbroken digit runs in phone numbers are read in groups of 3-4."""
    sizes = {6: (3, 3), 7: (4, 3), 8: (4, 4), 9: (3, 3, 3), 10: (4, 3, 3), 11: (4, 4, 3)}
    layout = sizes.get(len(digits))
    if layout is None:
        return [digits]
    parts: list[str] = []
    position = 0
    for size in layout:
        parts.append(digits[position : position + size])
        position += size
    return parts


def read_comparison(reading: Reading, index: int, text: str) -> int:
    """ ">", "<", ">=", "<=": trên, dưới, từ, không quá."""
    following = reading.token(index + 1)
    or_equal = following is not None and following.text == "="
    if text == ">":
        reading.emit("từ" if or_equal else "trên")
    else:
        reading.emit("không quá" if or_equal else "dưới")
    return index + 2 if or_equal else index + 1


def read_per(reading: Reading, index: int) -> int:
    """ "/": "mỗi" between an amount and the unit it is counted by ("850.000đ/tháng"),
    "trên" before a number ("ca mắc/100.000 dân"), "năm" before a year, and a pause
    between two names ("TTXVN/Báo Tin tức", "Điện lực/Công ty Điện lực")."""
    following = reading.token(index + 1)
    previous = reading.token(index - 1)
    if following is None or previous is None:
        return index + 1
    if _between_numbers_to_call(reading, index):
        return index + 1
    if previous.kind == "num" and reading.spaced_before(index + 1) and not reading.spaced_before(
        index
    ):
        return index + 1  # "Công văn số 512/ ngày 3/6": a code left unfinished
    if following.kind == "num" and following.match is not None:
        body = following.match["num"]
        if len(body) == 4 and body.isdigit() and 1900 <= int(body) <= 2100:
            reading.emit("năm")
            return index + 1
    if previous.last_word in ("ngày", "tháng") and following.first_word in ("tháng", "năm"):
        # "ngày/tháng/năm sinh" is read as the words alone.
        return index + 1
    written = reading.line[following.start : following.end]
    if following.kind in WORDLIKE and written[:1].isupper() and previous.kind in WORDLIKE:
        reading.emit(",")
        return index + 1
    unit, _, rest = following.text.partition(" ")
    if unit in UNIT_NAMES and following.kind in ("word", "mixed", "plain"):
        reading.emit("mỗi", UNIT_NAMES[unit], rest)
        return index + 2
    if following.kind == "num":
        reading.emit("trên")
    elif following.first_word in PER_WORDS or (
        following.kind in WORDLIKE and _is_measure(previous)
    ):
        reading.emit("mỗi")
    return index + 1


def _between_numbers_to_call(reading: Reading, index: int) -> bool:
    """ "0263.3822.555 / 0912.345.678": two phone numbers, either of them to call."""
    previous, following = reading.token(index - 1), reading.token(index + 1)
    if previous is None or following is None or (previous.kind, following.kind) != ("phone",) * 2:
        return False
    reading.emit(",", "hoặc")
    return True


def _is_measure(token: Token) -> bool:
    """An amount or a unit: what comes before "/" in "1.200.000đ/học kỳ", "đồng/suất"."""
    if token.kind == "num" and token.match is not None:
        return bool(token.match["unit"])
    last = token.last_word
    return last == "đồng" or last in PER_WORDS or last in UNIT_NAMES


def read_hyphen(reading: Reading, index: int) -> int:
    """ "-": a range ("đến"), a minus sign ("âm"), a pause when spaced; a score says nothing."""
    previous, following = reading.token(index - 1), reading.token(index + 1)
    spaced = reading.spaced_before(index) or (
        following is not None and reading.spaced_before(index + 1)
    )
    if _between_numbers_to_call(reading, index):
        return index + 1
    if previous is not None and following is not None:
        if _period_year(reading, index, previous, following):
            reading.emit("năm")  # "quý 2-2026", "tháng 7-2026"
            return index + 1
        if previous.kind in NUMERIC and following.kind in NUMERIC:
            return _numeric_range(reading, index, previous, following, spaced)
        if _same_unit_range(reading, index) or (spaced and _measured_range(reading, index)):
            reading.emit("đến")
            return index + 1
    if (
        following is not None
        and following.kind == "num"
        and not reading.spaced_before(index + 1)
        and (previous is None or previous.kind not in NUMERIC)
        and (reading.spaced_before(index) or (previous is not None and previous.text == "("))
    ):
        change = previous is not None and previous.text == "(" and reading.percent_follows(index)
        if not change:
            reading.emit("âm")  # "-5 độ" is a value
        elif reading.word_before(index) not in ("giảm", "tăng"):
            reading.emit("giảm")  # "(-12,5%)" is a fall, unless the text just said so
        return index + 1
    if spaced or _between_abbreviations(reading, index):
        reading.emit(",")  # "kinh tế - xã hội", "Văn phòng HĐND-UBND"
    return index + 1


def _between_abbreviations(reading: Reading, index: int) -> bool:
    previous, following = reading.token(index - 1), reading.token(index + 1)
    if previous is None or following is None:
        return False
    written = [reading.line[token.start : token.end] for token in (previous, following)]
    return all(len(word) >= 2 and word.isalpha() and word.isupper() for word in written)


def _period_year(reading: Reading, index: int, previous: Token, following: Token) -> bool:
    """ "quý 2-2026", "tháng 7-2026": a quarter or a month, then its year."""
    if previous.kind != "num" or following.kind != "num" or reading.spaced_before(index):
        return False
    if reading.word_before(index - 1) not in ("quý", "tháng"):
        return False
    year = following.text
    return (
        previous.text.isdigit() and len(year) == 4 and year.isdigit() and 1900 <= int(year) <= 2100
    )


def _measured_range(reading: Reading, index: int) -> bool:
    """ "800.000 đồng - 1.000.000 đồng", "7 giờ 30 - 11 giờ": amounts with their words."""
    unit, number = reading.token(index - 1), reading.token(index - 2)
    following = reading.token(index + 1)
    return (
        unit is not None
        and number is not None
        and following is not None
        and unit.kind in ("word", "plain")
        and len(unit.text.split()) == 1
        and number.kind in NUMERIC
        and following.kind in NUMERIC
    )


def _same_unit_range(reading: Reading, index: int) -> bool:
    """ "tháng 3 - tháng 5", "thứ 2 - thứ 6", "T2 - CN": ranges of named units."""
    previous, following = reading.token(index - 1), reading.token(index + 1)
    assert previous is not None and following is not None
    if previous.kind == "num" and following.kind in ("word", "plain"):
        return reading.word_before(index - 1) == following.first_word
    before = reading.words_before(index, 2)
    if (
        len(before) == 2
        and before[0] in WEEKDAY_NAMES
        and before[1] in ("thứ", "chủ")
        and following.first_word in ("thứ", "chủ")
    ):
        return True  # "Thứ Hai - Thứ Sáu"
    weekday = ("mixed", "word")
    return (
        previous.kind in weekday
        and following.kind in weekday
        and bool(
            WEEKDAY_ABBREVIATION.fullmatch(previous.text) or previous.text == "CN"
        )
        and bool(
            WEEKDAY_ABBREVIATION.fullmatch(following.text) or following.text == "CN"
        )
    )


def _numeric_range(
    reading: Reading, index: int, previous: Token, following: Token, spaced: bool
) -> int:
    plain = (
        previous.kind == "num"
        and following.kind == "num"
        and previous.match is not None
        and following.match is not None
        and previous.match["num"].isdigit()
        and following.match["num"].isdigit()
    )
    if plain:
        assert previous.match is not None and following.match is not None
        first, last = int(previous.match["num"]), int(following.match["num"])
        score = (
            max(first, last) < 100
            and not (previous.match["unit"] or following.match["unit"])
            and reading.score_context(index - 1)
            and not reading.quantity_follows(index + 1)
        )
        if score or (first >= last and not spaced):
            # "tỷ số 2-1" is a score, read without a word between.
            return index + 1
    reading.emit("đến")
    return index + 1

