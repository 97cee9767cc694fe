"""Reading words and abbreviations: places written with a dot, lexicon entries, letters,
capitals, Roman numerals, weekday abbreviations and codes of letters and digits."""

from __future__ import annotations

import re

from .codes import DOCUMENT_TYPES
from .lexicon import Lexicon, default_lexicon
from .numbers import read_digits, read_int, read_integer_text, read_ordinal
from .reading import Reading
from .text import (
    LETTER_NAMES,
    VOWEL_LETTERS,
    has_vowel,
    is_pronounceable,
    is_vietnamese_syllable,
    roman_value,
    spell,
)
from .tokens import LOWER_LETTERS, UPPER_LETTERS, Token
from .words import (
    ACTING,
    GLUED_NUMBERED,
    HONORIFICS,
    OFFICE_WORDS,
    OFFICES,
    PLACE_ABBREVIATIONS,
    ROADS,
    ROMAN_PREV,
    UNIT_NAMES,
    WEEKDAY_NEXT,
    WEEKDAY_PREV,
)

# Pass 2: places and roads abbreviated with a dot.
PLACE = re.compile(
    r"(?<![\w.])(?:(?P<road>QL|ĐT|ĐH|TL)\. ?(?P<road_number>\d{1,3})(?!\d|[.,]\d)"
    r"|(?P<abbr>TDP|KP|TX|TT|[PFQXH])\. ?"
    r"(?=(?P<next>\d|[^\W\d_]+)(?:\s+(?P<after>[^\W\d_]+))?))"
)
_WORD_BEFORE = re.compile(r"(?<![^\W\d_])([^\W\d_]+)\s+$")
_HONORIFIC_CHARS = 8
# A capitalised word just before: "Nguyễn V. A" is a name with an initial.
_NAME_CHARS = 40
_NAME_BEFORE = re.compile(rf"(?<![^\W_])[{UPPER_LETTERS}][{LOWER_LETTERS}]+\s+$")
# After a lower-case abbreviation ending in "." ("v.v."), the sentence goes on unless the
# line ends or a capital letter follows.
_SENTENCE_GOES_ON = re.compile(r"\s*[^\W\d_A-ZĐ]|\s*[,;:)\d]")
WEEKDAY_ABBREVIATION = re.compile(r"[Tt][2-7]")
_QUARTER = re.compile(r"Q[1-4]")
_ROAD_NUMBER = re.compile(rf"(?P<road>{'|'.join(ROADS)})(?P<number>\d{{1,3}})")
_ROMAN_WITH_LETTER = re.compile(r"(?P<roman>[IVX]{1,4})(?P<letter>[A-D])")
_UNIT_ALTERNATIVES = "|".join(re.escape(unit) for unit in sorted(UNIT_NAMES, key=len, reverse=True))
_TIMES_NUMBER = re.compile(rf"[xX](?P<number>\d+)(?P<unit>{_UNIT_ALTERNATIVES})?")
# "TT09/2024", "NĐ81": a kind of document written straight before its number.
_DOCUMENT_NUMBER = re.compile(r"(?P<kind>TTLT|TT|NĐ|QĐ|NQ|CT)(?P<number>\d{1,4})")
# Inside a code of letters and digits, digit runs this long are read one by one.
_CODE_DIGIT_RUN = 4


def _ends_sentence(match: re.Match[str]) -> bool:
    """ "v.v." at the end of a sentence also closes it."""
    written = match.group()
    return (
        written.endswith(".")
        and written.islower()
        and _SENTENCE_GOES_ON.match(match.string, match.end()) is None
    )


def read_lexicon_match(lexicon: Lexicon, match: re.Match[str]) -> str | None:
    """What the lexicon says for an entry; "v.v." at the end of a sentence keeps its dot.

    Capitals right after "ông", "bà", "anh" ... are a person's initials ("ông NVH"), not one
    of the built-in abbreviations: they are left to be spelled (a ward's own entry still
    applies)."""
    written = match.group()
    before = _WORD_BEFORE.search(match.string, max(0, match.start() - _HONORIFIC_CHARS),
                                 match.start())
    if (
        before is not None
        and before[1].lower() in HONORIFICS
        and written.isalpha()
        and written.isupper()
        and lexicon.entry_for(written) is default_lexicon().entry_for(written)
    ):
        return None
    said = lexicon.spoken_for_match(written)
    if said is not None and _ends_sentence(match):
        said += "."
    return said


def read_place(lexicon: Lexicon, match: re.Match[str]) -> str | None:
    """ "P.2", "Q. Bình Thạnh", "TX. Buôn Hồ": a place abbreviated before its number or name.

    Not a place: an initial in a name ("Nguyễn V. A"), a heading marker at the start of a
    line ("X. Khen thưởng"), "TT." before an institution ("TT. Y tế" is a trung tâm).
    "P." and "Q." before an office are phó and quyền ("Q. Chủ tịch").  A longer lexicon
    entry at the same place ("P.Xuân Hương") wins.
    """
    for pattern in lexicon.patterns():
        entry = pattern.match(match.string, match.start())
        if entry is not None and entry.end() > match.end():
            return None
    if match["road"]:
        return f"{ROADS[match['road']]} {read_int(int(match['road_number']))}"
    abbreviation, following, after = match["abbr"], match["next"], match["after"]
    if following.lower() in OFFICE_WORDS:
        return ACTING.get(abbreviation)
    at_start = match.start() == 0
    if len(abbreviation) == 1 and len(following) == 1 and following.isupper():
        return None  # "bé P.T.H", "ông Q.V.A": initials of a name, not a ward or a district
    glued_number = following.isdigit() and match.group().endswith(".")
    if (abbreviation == "X" and at_start) or (
        len(abbreviation) == 1
        and not glued_number
        and _NAME_BEFORE.search(match.string, max(0, match.start() - _NAME_CHARS), match.start())
    ):
        return None
    if not following.isdigit():
        if not following[0].isupper() or (len(following) > 1 and following.isupper()):
            return None
        # A place name is capitalised throughout: "TT. Liên Nghĩa", not "TT. Y tế", a list
        # item "H. Tổ chức thực hiện" or an office "P. Hành chính" (phòng).
        if after is not None and after.islower():
            return OFFICES.get(abbreviation) if not at_start else None
    return PLACE_ABBREVIATIONS[abbreviation]


def read_plain(reading: Reading, index: int, token: Token) -> int:
    """A run of ordinary lower-case words is read as written."""
    reading.emit(token.text)
    return index + 1


def read_already_spoken(reading: Reading, index: int, token: Token) -> int:
    """What passes 1-2 said for a code, a place or a lexicon entry; a final "." ends a sentence."""
    text = token.text
    reading.emit(*((text[:-1], ".") if text.endswith(".") else (text,)))
    return index + 1


def read_word(reading: Reading, index: int, token: Token) -> int:
    """A letter, a word in capitals ("UBND", "IV"), consonants only ("kg"), or a word as written."""
    text = token.text
    if len(text) == 1:
        if text in "IVX" and reading.word_before(index) in ROMAN_PREV:
            reading.emit(_roman(reading, index, roman_value(text) or 0))
        else:
            reading.emit(_letter(reading, index, text))
    elif text.isupper():
        reading.emit(_capitals(reading, index, text, reading.word_before(index)))
    elif not has_vowel(text):
        reading.emit(UNIT_NAMES.get(text) or spell(text))
    else:
        reading.emit(text)
    return index + 1


def _letter(reading: Reading, index: int, text: str) -> str:
    lower = text.lower()
    if text == lower and text in VOWEL_LETTERS:
        return text
    previous, following = reading.token(index - 1), reading.token(index + 1)
    if previous is not None and previous.kind == "num" and not reading.spaced_before(index):
        return LETTER_NAMES.get(lower, lower)
    if (
        lower == "x"
        and previous is not None
        and following is not None
        and previous.kind in ("num", "word", "plain")
        and following.kind in ("num", "word", "plain")
        and reading.spaced_before(index)
        and reading.spaced_before(index + 1)
    ):
        return "nhân"  # "3 x 4", "ngang x dọc"
    if has_vowel(lower):
        return lower if _in_capitals(reading, index) else text
    return LETTER_NAMES.get(lower, lower)


def _in_capitals(reading: Reading, index: int) -> bool:
    """True inside an all-caps heading ("TRẠM Y TẾ")."""
    for neighbour in (reading.token(index - 1), reading.token(index + 1)):
        if (
            neighbour is not None
            and neighbour.kind in ("word", "plain")
            and len(neighbour.text) > 1
        ):
            return neighbour.text.isupper()
    return False


def _capitals(reading: Reading, index: int, text: str, before: str) -> str:
    if text == "CN" and _weekday_context(reading, index):
        return "chủ nhật"
    value = roman_value(text)
    if value and before in ROMAN_PREV:
        return _roman(reading, index, value)
    lettered = _ROMAN_WITH_LETTER.fullmatch(text)
    if lettered is not None and before in ROMAN_PREV and roman_value(lettered["roman"]):
        # "nhóm IIA": the group number, then its letter.
        number = _roman(reading, index, roman_value(lettered["roman"]) or 0)
        return f"{number} {LETTER_NAMES[lettered['letter'].lower()]}"
    if (
        reading.text_at(index - 1) == "("
        and reading.text_at(index + 1) == ")"
        and not is_pronounceable(text)
    ):
        return spell(text)  # "(CAO)", "(VAT)": a tag or an abbreviation, never a word
    if is_vietnamese_syllable(text):
        return text.lower()
    if value:
        return read_int(value)
    if is_pronounceable(text):
        return text.lower()
    return spell(text)


def _roman(reading: Reading, index: int, value: int) -> str:
    return read_ordinal(value) if reading.word_before(index) == "thứ" else read_int(value)


def _weekday_context(reading: Reading, index: int) -> bool:
    for word in reading.words_before(index, 3):
        if word in WEEKDAY_PREV or WEEKDAY_ABBREVIATION.fullmatch(word):
            return True
    position = index + 1
    while (following := reading.token(position)) is not None:
        if following.kind in ("date", "slash") or following.first_word in WEEKDAY_NEXT:
            return True
        if WEEKDAY_ABBREVIATION.fullmatch(following.text):
            return True
        if following.text not in ",-/(" and following.first_word not in ("và", "đến", "hoặc"):
            return False
        position += 1
    return False


def read_mixed(reading: Reading, index: int, token: Token) -> int:
    """Letters and digits together: "x3", "Q3", "T7", "m2", codes such as "HS2025123"."""
    text = token.text
    previous = reading.token(index - 1)
    times = _TIMES_NUMBER.fullmatch(text)
    if times is not None and previous is not None and previous.kind == "num":
        # "3x4", "3x4cm": a dimension.
        reading.emit("nhân", read_integer_text(times["number"]))
        if times["unit"]:
            reading.emit(UNIT_NAMES[times["unit"]])
        return index + 1
    road = _ROAD_NUMBER.fullmatch(text)
    if road is not None:
        reading.emit(ROADS[road["road"]], read_int(int(road["number"])))  # "ĐT743"
        return index + 1
    document = _DOCUMENT_NUMBER.fullmatch(text)
    if document is not None:
        return _document_number(reading, index, document)
    if _QUARTER.fullmatch(text) and _year_follows(reading, index):
        reading.emit("quý", read_int(int(text[1])))  # "Q3/2025"
        return index + 1
    if WEEKDAY_ABBREVIATION.fullmatch(text) and _weekday_context(reading, index):
        reading.emit("thứ", read_ordinal(int(text[1])))
        return index + 1
    if text in UNIT_NAMES:
        reading.emit(UNIT_NAMES[text])
        return index + 1
    parts = re.findall(r"\d+|[^\W\d_]+", text)
    code = reading.after_identifier_word(index)
    # Letters on both sides of the digits ("DN150PVC") make a product code: its letters are
    # spelled, never expanded as abbreviations. "QL1A" is a road.
    product = len(parts) > 2 and not parts[0].isdigit() and not parts[-1].isdigit()
    product = product and parts[0] not in ROADS
    for part in parts:
        if part.isdigit():
            # Long runs in a code are read digit by digit: "HS2025123", "AB123456".
            # ... and so are numbers with a leading zero: "C06".
            long_run = code or len(part) >= _CODE_DIGIT_RUN or part.startswith("0")
            reading.emit(read_digits(part) if long_run else read_integer_text(part))
        else:
            reading.emit(spell(part) if code or product else _letters_in_code(reading, part))
    return index + 1


def _document_number(reading: Reading, index: int, document: re.Match[str]) -> int:
    """ "theo TT09/2024" -> "theo thông tư số chín năm hai nghìn không trăm hai mươi bốn"."""
    reading.emit(DOCUMENT_TYPES[document["kind"]], "số", read_int(int(document["number"])))
    year = _slash_year(reading, index)
    if year is None:
        return index + 1
    reading.emit("năm", read_int(int(year.text)))
    return index + 3


def _slash_year(reading: Reading, index: int) -> Token | None:
    """The year after token ``index`` and a slash ("TT09/2024", "Q3/2025"), or None."""
    following = reading.token(index + 2)
    if (
        reading.text_at(index + 1) == "/"
        and following is not None
        and following.kind == "num"
        and len(following.text) == 4
        and following.text.isdigit()
    ):
        return following
    return None


def _year_follows(reading: Reading, index: int) -> bool:
    """ "Q3/2025", "Q4 năm 2025": a year comes next."""
    return reading.next_word(index) == "năm" or _slash_year(reading, index) is not None


def _letters_in_code(reading: Reading, part: str) -> str:
    """Letters glued to a number: a loan word's sound ("RON95") and an abbreviation of
    something numbered ("KP3" khu phố ba, "TDP5") are said; any other abbreviation is
    spelled ("DN300" is a pipe size, not a business)."""
    known = reading.lexicon.lookup(part)
    if known and (len(known.split()) == 1 or known.split()[0].lower() in GLUED_NUMBERED):
        return known
    if len(part) == 1:
        lower = part.lower()
        return lower if has_vowel(lower) else LETTER_NAMES.get(lower, lower)
    if part.islower() and is_vietnamese_syllable(part):
        return part
    return spell(part)

