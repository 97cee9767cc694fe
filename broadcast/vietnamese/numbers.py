"""Reading numbers aloud the way a Vietnamese announcer does."""

from __future__ import annotations

DIGIT_WORDS: tuple[str, ...] = (
    "không",
    "một",
    "hai",
    "ba",
    "bốn",
    "năm",
    "sáu",
    "bảy",
    "tám",
    "chín",
)

_BILLION = 10**9
LONGEST_NUMBER = 15


def read_digits(digits: str) -> str:
    """Read a string of digits one by one: "114" -> "một một bốn"."""
    return " ".join(DIGIT_WORDS[int(ch)] for ch in digits if ch.isdigit())


def _tens_and_units(tens: int, units: int, *, after_hundreds: bool) -> list[str]:
    words: list[str] = []
    if tens == 0:
        if units:
            if after_hundreds:
                words.append("linh")
            words.append(DIGIT_WORDS[units])
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else DIGIT_WORDS[units])
    else:
        words += [DIGIT_WORDS[tens], "mươi"]
        if units == 1:
            words.append("mốt")
        elif units == 5:
            words.append("lăm")
        elif units:
            words.append(DIGIT_WORDS[units])
    return words


def _group(value: int, *, inner: bool) -> list[str]:
    """Read 0-999; ``inner`` groups follow a bigger group and always say their hundreds."""
    hundreds, rest = divmod(value, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or inner:
        words += [DIGIT_WORDS[hundreds], "trăm"]
    words += _tens_and_units(tens, units, after_hundreds=bool(hundreds or inner))
    return words


def read_int(value: int) -> str:
    """Cardinal number: 2024 -> "hai nghìn không trăm hai mươi bốn"."""
    if value < 0:
        return "âm " + read_int(-value)
    if value == 0:
        return DIGIT_WORDS[0]
    words: list[str] = []
    billions, rest = divmod(value, _BILLION)
    if billions:
        words += [read_int(billions), "tỷ"]
    started = bool(billions)
    for scale, name in ((10**6, "triệu"), (10**3, "nghìn"), (1, "")):
        group = (rest // scale) % 1000
        if group == 0:
            continue
        words += _group(group, inner=started)
        if name:
            words.append(name)
        started = True
    return " ".join(words)


def read_ordinal(value: int) -> str:
    """Ordinal after "thứ": 1 -> "nhất", 4 -> "tư", otherwise the cardinal."""
    if value == 1:
        return "nhất"
    if value == 4:
        return "tư"
    return read_int(value)


def read_month(value: int) -> str:
    """Month name after "tháng": 4 -> "tư", 1 -> "một", 12 -> "mười hai"."""
    return "tư" if value == 4 else read_int(value)


def read_fraction_digits(digits: str) -> str:
    """Digits after the decimal comma: "05" -> "không năm", "25" -> "hai mươi lăm"."""
    if len(digits) > 3:
        return read_digits(digits)
    stripped = digits.lstrip("0")
    zeros = len(digits) - len(stripped)
    words = [DIGIT_WORDS[0]] * zeros
    if stripped:
        words.append(read_int(int(stripped)))
    return " ".join(words)


def read_integer_text(digits: str) -> str:
    """An integer as written: short zero-led numbers as values, codes digit by digit."""
    plain = digits.replace(".", "").replace(",", "")
    if len(plain) > LONGEST_NUMBER or (len(plain) >= 3 and plain.startswith("0")):
        return read_digits(plain)
    return read_int(int(plain))


def read_decimal(integer: str, fraction: str) -> str:
    """ "1,2" -> "một phẩy hai"; the integer part may carry dot thousand separators."""
    return f"{read_integer_text(integer)} phẩy {read_fraction_digits(fraction)}"
