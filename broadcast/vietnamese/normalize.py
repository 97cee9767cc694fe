"""Bulletin text to speech-ready Vietnamese words.

Each line is processed on its own, in three passes:

1. document codes and web/e-mail addresses (they contain digits, slashes and letters
   that the later passes would otherwise take apart);
2. places written with a dot ("P.2", "TX. Buôn Hồ", "ĐT.725"), then lexicon entries
   (abbreviations, loan words);
3. everything else, token by token, with the words around each token as context:
   dates, times, phone numbers, numbers with units, Roman numerals, capitals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType

from . import codes
from .lexicon import Lexicon, default_lexicon
from .numbers import (
    read_decimal,
    read_digits,
    read_int,
    read_integer_text,
    read_month,
    read_ordinal,
)
from .text import (
    LETTER_NAMES,
    VOWEL_LETTERS,
    clean_line,
    has_vowel,
    is_pronounceable,
    is_vietnamese_syllable,
    roman_value,
    spell,
)

UNIT_NAMES = MappingProxyType(
    {
        "%": "phần trăm",
        "km/h": "ki lô mét trên giờ",
        "m/s": "mét trên giây",
        "km2": "ki lô mét vuông",
        "m2": "mét vuông",
        "m3": "mét khối",
        "cm2": "xăng ti mét vuông",
        "km": "ki lô mét",
        "Km": "ki lô mét",
        "KM": "ki lô mét",
        "cm": "xăng ti mét",
        "mm": "mi li mét",
        "mmHg": "mi li mét thủy ngân",
        "m": "mét",
        "kg": "ki lô gam",
        "Kg": "ki lô gam",
        "KG": "ki lô gam",
        "mg": "mi li gam",
        "g": "gam",
        "ha": "héc ta",
        "ml": "mi li lít",
        "l": "lít",
        "kWh": "ki lô oát giờ",
        "kW": "ki lô oát",
        "MW": "mê ga oát",
        "W": "oát",
        "kV": "ki lô vôn",
        "V": "vôn",
        "°C": "độ xê",
        "oC": "độ xê",
        "°": "độ",
        "đ": "đồng",
        "VNĐ": "đồng",
        "VND": "đồng",
        "vnđ": "đồng",
        "vnd": "đồng",
        "USD": "đô la Mỹ",
        "$": "đô la",
        "tr": "triệu",
        "k": "nghìn",
        "'": "phút",
        "h": "giờ",
    }
)

_LOWER = "a-zđ" + "".join(sorted(ch for ch in VOWEL_LETTERS if ch.islower()))
_LOWER_VOWELS = "".join(sorted(ch for ch in VOWEL_LETTERS if ch.islower()))
# A run of ordinary lower-case words needs no work: it is read as written.
_PLAIN_WORD = rf"(?=[{_LOWER}]*[{_LOWER_VOWELS}])[{_LOWER}]{{2,}}(?![^\W_])"
_UNITS = "|".join(re.escape(unit) for unit in sorted(UNIT_NAMES, key=len, reverse=True))
_SEP = r"[ .-]?"
# A local number after the area code: "3822 123", "3822123", "3.822.123".
_LOCAL_NUMBER = rf"\d{{3,4}}{_SEP}\d{{3,4}}|\d[ .]\d{{3}}[ .]\d{{3}}"
_TOKEN = re.compile(
    r"(?<![\w.,/-])(?P<plate>(?P<province>\d{2})-?(?P<series>[A-ZĐ]{1,2}\d?)"
    r"(?:\s?-\s?(?P<serial>\d{3}\.\d{2}|\d{4,5})|\s(?P<spaced>\d{3}\.\d{2})))(?![\w.]\d|\w)"
    r"|(?P<phone>"
    rf"\+84{_SEP}\d{{2,3}}{_SEP}\d{{3}}{_SEP}\d{{3,4}}"
    rf"|\(0\d{{2,3}}\)\s?(?:{_LOCAL_NUMBER})"
    rf"|0\d{{2,3}}{_SEP}(?:{_LOCAL_NUMBER})"
    r"|1[89]00(?:[ .]?\d{2}){2,3}"
    r")(?!\d)"
    r"|(?P<drange>(?P<dr1>\d{1,2})\s?-\s?(?P<dr2>\d{1,2})/(?P<drm>\d{1,2})"
    r"(?:/(?P<dry>\d{4}))?)(?![\d/])"
    r"|(?P<date>(?P<dd>\d{1,2})(?P<sep>[/.-])(?P<dm>\d{1,2})(?P=sep)(?P<dy>\d{4})"
    r"|(?P<iy>\d{4})(?P<isep>[/-])(?P<im>\d{1,2})(?P=isep)(?P<id>\d{1,2}))(?![\d/.-]\d)"
    r"|(?P<time>(?P<th>\d{1,2})(?:\s?[hH]\s?|g)(?P<tm>\d{2})(?:'|ph?(?![^\W\d_]))?(?!\d)"
    r"|(?P<ch>\d{1,2}):(?P<cm>\d{2})(?::(?P<cs>\d{2}))?(?![\d:])"
    r"|(?P<bh>\d{1,2})\s?[hH](?![^\W\d_]))"
    r"|(?P<slash>(?P<sa>\d{1,4})/(?P<sb>\d{1,4})(?P<sc>(?:/\d{1,4})+)?)(?![\d/])"
    r"|(?P<num>\d{1,3}(?:\.\d{3})+(?:,\d+)?(?!\d)"
    r"|\d{1,3}(?:,\d{3}){2,}(?!\d)"
    r"|\d+(?:\.\d{1,2}(?!\d))+"
    r"|\d+(?:,\d+)?)"
    rf"(?:\s?(?P<unit>{_UNITS})(?![^\W\d_]))?"
    rf"|(?<![^\W_])(?P<plain>{_PLAIN_WORD}(?:\s+{_PLAIN_WORD})*)"
    r"|(?P<mixed>[^\W\d_]+\d[^\W_]*)"
    r"|(?P<word>[^\W\d_]+)"
    r"|(?P<punct>\.{3}|[^\w\s])"
)

_UPPER = "A-ZĐ" + "".join(sorted(ch for ch in VOWEL_LETTERS if ch.isupper()))
_PLACE_ABBREVIATIONS = MappingProxyType(
    {
        "P": "phường",
        "F": "phường",
        "Q": "quận",
        "X": "xã",
        "H": "huyện",
        "TX": "thị xã",
        "TT": "thị trấn",
        "KP": "khu phố",
        "TDP": "tổ dân phố",
    }
)
_ACTING = MappingProxyType({"P": "phó", "Q": "quyền"})
_OFFICES = MappingProxyType({"P": "phòng"})
_OFFICE_WORDS = frozenset({"chủ", "giám", "trưởng", "bí", "chánh", "hiệu", "tổng", "viện"})
# Roads numbered after a dot: "ĐT.725" đường tỉnh bảy trăm hai mươi lăm.
_ROADS = MappingProxyType(
    {"QL": "quốc lộ", "ĐT": "đường tỉnh", "ĐH": "đường huyện", "TL": "tỉnh lộ"}
)
_PLACE = re.compile(
    r"(?<![\w.])(?:(?P<road>QL|ĐT|ĐH|TL)\. ?(?P<road_number>\d{1,3})(?!\d|[.,]\d)"
    r"|(?P<abbr>TDP|KP|TX|TT|[PFQXH])\. ?"
    r"(?=(?P<next>\d|[^\W\d_]+)(?:\s+(?P<after>[^\W\d_]+))?))"
)
# A capitalised word just before: "Nguyễn V. A" is a name with an initial.
_NAME_CHARS = 40
_NAME_BEFORE = re.compile(rf"(?<![^\W_])[{_UPPER}][{_LOWER}]+\s+$")
# Words before a name: "Ông Nguyễn V. Hùng".
_HONORIFICS = frozenset({"ông", "bà", "anh", "chị", "em", "cháu", "cô", "chú", "bác", "bé"})
# Abbreviations whose dot is no pause before what they name: "BS. Nguyễn Văn Minh",
# "PGS.TS. Trần Bình", "ĐT. 0912 345 678".
_DOTTED_TITLES = frozenset(
    {"GS", "PGS", "TS", "ThS", "BS", "KS", "NSND", "NSƯT", "TT", "ĐT", "SĐT"}
)

_PUNCT_RANK = {",": 0, ":": 1, ";": 2, ".": 3, "!": 4, "?": 5}
_NUMERIC = frozenset({"num", "time", "date", "slash", "drange"})
_WORDLIKE = frozenset({"word", "plain", "done", "mixed"})
_DAY_WORDS = frozenset({"ngày", "mùng", "mồng"})
_NO_DAY_WORD = frozenset({"ngày", "mùng", "mồng", "hôm"})
_DATE_PREV = frozenset(
    {
        "ngày", "mùng", "mồng", "hôm", "sáng", "chiều", "tối", "trưa", "đêm", "từ", "đến",
        "tới", "trước", "sau", "vào", "nay", "lúc", "hạn",
    }
)
# A day and month joined by a dash ("20-10") right after these words is a date.
_DASH_DATE_PREV = frozenset({"sáng", "trưa", "chiều", "tối", "đêm", "hôm", "ngày", "mùng", "mồng"})
# Words that put an anniversary in the clause: "Quốc khánh 2-9", "Ngày Quốc tế Lao động 1-5".
_EVENT_WORDS = frozenset({"lễ", "dịp", "khánh", "niệm", "mừng", "tết"})
_NAMED_DAY = re.compile(r"(?<![^\W_])Ngày\s+[^\W\d_]")
_SCORE_WORDS = frozenset({"thắng", "thua", "hòa", "trận", "hiệp", "cuộc", "bóng", "đấu"})
_STREET_WORDS = frozenset({"đường", "phố"})
# Activities said to run "24/7" (round the clock): trực, hoạt động, phục vụ, hỗ trợ ...
_ROUND_THE_CLOCK_PREV = frozenset(
    {"trực", "động", "vụ", "trợ", "việc", "cửa", "nhận", "tục", "đài"}
)
_ADDRESS_NUMBER_WORDS = frozenset({"số", "nhà", "hẻm", "ngõ", "ngách", "kiệt"})
_ADDRESS_WORDS = frozenset(
    {
        "đường", "phố", "ngõ", "hẻm", "ngách", "kiệt", "tổ", "khu", "lô", "ấp", "thôn",
        "xóm", "nhà", "căn", "phòng", "tầng", "quốc", "tỉnh", "phường", "xã", "hộ", "người",
    }
)
_SHARE_NEXT = frozenset(
    {"số", "tổng", "diện", "dân", "trong", "lượng", "khối", "quãng", "thời", "kinh", "phần"}
)
_RATIO_PREV = frozenset({"đạt", "được", "gồm", "còn", "có", "lệ", "tỷ", "tỉ", "hơn", "gần"})
# Nouns counted by a ratio: "5/7 khu phố", "15/17 tiêu chí".
_COUNTED = frozenset(
    {
        "hộ", "người", "khu", "tổ", "xã", "phường", "tiêu", "chỉ", "trường", "đơn", "thôn",
        "ấp", "lớp", "điểm", "cơ", "doanh", "gia", "hồ", "huyện", "tỉnh", "trẻ", "cán",
        "thành", "đội", "câu", "bài", "môn", "nội", "nhiệm", "xe", "nhà", "căn", "ca",
    }
)
_YEAR_NUMBER_PREV = frozenset({"số", "quý", "kỳ", "đợt", "khóa", "luật"})
_DOC_WORDS = frozenset(
    {
        "quyết", "định", "thông", "báo", "hoạch", "văn", "thị", "nghị", "tư",
        "luật", "bản", "trình", "dẫn", "lệnh",
    }
)
_NOT_A_LINE = _DOC_WORDS | {"tổng"}
_MULTIPLIERS = frozenset({"tỷ", "tỉ", "triệu", "nghìn", "ngàn", "trăm", "vạn"})
_ROMAN_PREV = frozenset(
    {
        "phần", "chương", "mục", "khóa", "quý", "tập", "hội", "kỷ", "thứ", "lần", "cấp",
        "loại", "hạng", "đợt", "đoạn", "lục", "kỳ", "vòng", "điều", "học", "bậc",
    }
)
_HOTLINE_TRIGGERS = frozenset(
    {"gọi", "hotline", "đài", "nóng", "dây", "thoại", "sđt", "đt", "báo", "hệ", "tel"}
)
# Services named before their emergency number: cấp cứu, cứu hỏa, cảnh sát, PCCC.
_EMERGENCY_SERVICES = frozenset({"cứu", "hỏa", "sát", "pccc", "cnch"})
_HOTLINE_FILLERS = frozenset({"số", "ngay", "đến", "tới", "là", "khẩn", "cấp", "miễn", "phí"})
_LIST_JOINERS = frozenset({",", "hoặc", "và", "/"})
# "CN tuần này", "T2 hàng tuần", "T7, CN": words after a weekday abbreviation.
_WEEKDAY_NEXT = frozenset({"ngày", "cn", "tuần", "hàng", "hằng"})
_WEEKDAY_NAMES = frozenset({"hai", "ba", "tư", "năm", "sáu", "bảy", "nhật"})
_WEEKDAY_PREV = frozenset({"thứ", "sáng", "chiều", "tối", "trưa", "đêm", "vào", "các", "ngày"})
_PER_WORDS = frozenset(
    {
        "người", "ngày", "tháng", "năm", "giờ", "tuần", "lượt", "hộ", "lần", "ca", "buổi",
        "khẩu", "suất", "con", "chiếc", "cái", "lít", "mét", "tấn", "km", "kg", "ha", "m2",
        "m3", "phút", "giây", "xe", "hecta", "sào", "công", "thùng", "bao", "gói",
    }
)
# A quantity follows a range: "5-7 ngày", "2-3 lần", "10-12 tuổi".
_QUANTITY_WORDS = (
    _PER_WORDS
    | _COUNTED
    | _MULTIPLIERS
    | {"tuổi", "độ", "đồng", "tiếng", "điểm", "phần", "trận", "bàn", "đợt", "vòng"}
)
# Nouns numbered by a range: "tổ 1-3", "lớp 10-1", "chương 2-4".
_NUMBERED_NOUNS = _ADDRESS_WORDS | _ADDRESS_NUMBER_WORDS | _ROMAN_PREV | _COUNTED | {"bước"}
_LINE_MARKER = re.compile(r"\d{1,2}(?:\.\d{1,2})*")
_WORDS_BEFORE = re.compile(r"[^\W_]+")
_CLAUSE_BREAK = re.compile(r"[,;.!?()]")
_WEEKDAY_ABBREVIATION = re.compile(r"[Tt][2-7]")
_QUARTER = re.compile(r"Q[1-4]")
_CONTEXT_CHARS = 60
# "ngày 10 và 11/9", "ngày 7, 8, 9/9": the list already started with "ngày".
_DAY_LIST = re.compile(
    r"(?:ngày|mùng|mồng)\s+\d{1,2}(?:\s*(?:,|và|hoặc)\s*\d{1,2})*\s*(?:,|và|hoặc)\s*$",
    re.IGNORECASE,
)
_LONGEST_NUMBER = 15
# Quantities this long are written with thousand separators; bare runs are identifiers.
_LONGEST_QUANTITY = 9
# Inside a code of letters and digits, digit runs this long are read one by one.
_CODE_DIGIT_RUN = 4
_IDENTIFIER_WORDS = frozenset({"khoản", "mã", "stk", "cccd", "cmnd", "hiệu", "seri", "serial"})
_RECENT_ITEMS = 12
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _valid_day_month(day: int, month: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= _MONTH_DAYS[month - 1]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int
    match: re.Match[str] | None = None

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def first_word(self) -> str:
        """First word of the token, lower-cased ("" for punctuation)."""
        words = self.lower.split(maxsplit=1)
        return words[0] if words and self.kind in _WORDLIKE else ""

    @property
    def last_word(self) -> str:
        """Last word of the token, lower-cased ("" for punctuation)."""
        words = self.lower.rsplit(maxsplit=1)
        return words[-1] if words and self.kind in _WORDLIKE else ""


# After a lower-case abbreviation ending in "." ("v.v."), the sentence goes on unless the
# line ends or a capital letter follows.
_SENTENCE_GOES_ON = re.compile(r"\s*[^\W\d_A-ZĐ]|\s*[,;:)\d]")


def _ends_sentence(match: re.Match[str]) -> bool:
    """ "v.v." at the end of a sentence also closes it."""
    written = match.group()
    return (
        written.endswith(".")
        and written.islower()
        and _SENTENCE_GOES_ON.match(match.string, match.end()) is None
    )


def _segments(line: str, lexicon: Lexicon) -> list[tuple[int, int, str | None]]:
    """Spans of the line: (start, end, spoken) for passes 1-2, spoken None for raw text."""
    spans: list[tuple[int, int, str | None]] = []
    position = 0
    for match in codes.PATTERN.finditer(line):
        spoken = (
            codes.read_address(match["address"], lexicon)
            if match["address"]
            else codes.read_code(match, lexicon)
        )
        if spoken is None:
            continue
        spans.append((position, match.start(), None))
        spans.append((match.start(), match.end(), spoken))
        position = match.end()
    spans.append((position, len(line), None))
    spans = _refine(line, spans, _PLACE, partial(_read_place, lexicon))
    for pattern in lexicon.patterns():
        spans = _refine(line, spans, pattern, partial(_read_lexicon_match, lexicon))
    return [span for span in spans if span[0] < span[1]]


def _refine(
    line: str,
    spans: list[tuple[int, int, str | None]],
    pattern: re.Pattern[str],
    speak: Callable[[re.Match[str]], str | None],
) -> list[tuple[int, int, str | None]]:
    """Split the raw spans further where ``pattern`` matches and ``speak`` reads it."""
    refined: list[tuple[int, int, str | None]] = []
    for start, end, spoken in spans:
        if spoken is not None:
            refined.append((start, end, spoken))
            continue
        position = start
        for match in pattern.finditer(line, start, end):
            said = speak(match)
            if said is None:
                continue
            refined.append((position, match.start(), None))
            refined.append((match.start(), match.end(), said))
            position = match.end()
        refined.append((position, end, None))
    return refined


def _read_lexicon_match(lexicon: Lexicon, match: re.Match[str]) -> str | None:
    said = lexicon.spoken_for_match(match.group())
    if said is not None and _ends_sentence(match):
        said += "."
    return said


def _read_place(lexicon: Lexicon, match: re.Match[str]) -> str | None:
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
        return f"{_ROADS[match['road']]} {read_int(int(match['road_number']))}"
    abbreviation, following, after = match["abbr"], match["next"], match["after"]
    if following.lower() in _OFFICE_WORDS:
        return _ACTING.get(abbreviation)
    at_start = match.start() == 0
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
            return _OFFICES.get(abbreviation) if not at_start else None
    return _PLACE_ABBREVIATIONS[abbreviation]


def _tokens(line: str, lexicon: Lexicon) -> list[_Token]:
    tokens: list[_Token] = []
    for start, end, spoken in _segments(line, lexicon):
        if spoken is not None:
            tokens.append(_Token("done", spoken, start, end))
            continue
        for match in _TOKEN.finditer(line, start, end):
            kind = match.lastgroup or "punct"
            if kind == "unit":
                kind = "num"
            tokens.append(_Token(kind, match.group(), match.start(), match.end(), match))
    return tokens


@dataclass
class _Reader:
    """Reads one line's tokens; holds only per-call state."""

    line: str
    tokens: list[_Token]
    lexicon: Lexicon
    out: list[str] = field(default_factory=list)
    hotlines: set[int] = field(default_factory=set)
    dates: set[int] = field(default_factory=set)

    # --- context helpers ------------------------------------------------------------

    def words_before(self, index: int, count: int = 3) -> list[str]:
        """Up to ``count`` words of the source text before token ``index``, nearest first."""
        start = self.tokens[index].start
        tail = self.line[max(0, start - _CONTEXT_CHARS) : start].lower()
        words = _WORDS_BEFORE.findall(tail)
        return words[::-1][:count]

    def word_before(self, index: int) -> str:
        words = self.words_before(index, 1)
        return words[0] if words else ""

    def token(self, index: int) -> _Token | None:
        return self.tokens[index] if 0 <= index < len(self.tokens) else None

    def text_at(self, index: int) -> str:
        following = self.token(index)
        return "" if following is None else following.text

    def next_word(self, index: int) -> str | None:
        following = self.token(index + 1)
        if following is None or following.kind not in _WORDLIKE:
            return None
        return following.first_word

    def spaced_before(self, index: int) -> bool:
        start = self.tokens[index].start
        return start == 0 or self.line[start - 1].isspace()

    def emit(self, *items: str) -> None:
        self.out.extend(item for item in items if item)

    # --- driver ---------------------------------------------------------------------

    def read(self) -> str:
        index = self.line_marker()
        while index < len(self.tokens):
            index = self.dispatch(index)
        return _assemble(self.out)

    def dispatch(self, index: int) -> int:
        token = self.tokens[index]
        kind = token.kind
        if kind == "plain":
            self.emit(token.text)
        elif kind == "done":
            text = token.text
            self.emit(*((text[:-1], ".") if text.endswith(".") else (text,)))
        elif kind == "phone":
            self.phone(token)
        elif kind == "plate":
            self.plate(token)
        elif kind == "drange":
            self.date_range(index, token)
        elif kind == "date":
            self.full_date(index, token)
        elif kind == "time":
            self.time(index, token)
        elif kind == "slash":
            self.slash(index, token)
        elif kind == "num":
            return self.number(index, token)
        elif kind == "mixed":
            self.mixed(index, token)
        elif kind == "word":
            return self.word(index, token)
        else:
            return self.punct(index, token)
        return index + 1

    def line_marker(self) -> int:
        """ "1." / "IV." / "a)" at the start of a line: read the marker, then a pause."""
        if len(self.tokens) < 2:
            return 0
        first, second = self.tokens[0], self.tokens[1]
        if (
            first.kind == "num"
            and first.match is not None
            and "." in first.match["num"]
            and not first.match["unit"]
            and second.kind == "word"
            and second.text[:1].isupper()
        ):
            marker = self.marker_words(first, ".")
            if marker is not None:
                self.emit(marker, ",")
                return 1
        if second.kind != "punct" or second.text not in ".)":
            return 0
        third = self.token(2)
        if third is not None and not self.spaced_before(2):
            return 0
        marker = self.marker_words(first, second.text)
        if marker is None:
            return 0
        self.emit(marker, ",")
        return 2

    def marker_words(self, first: _Token, closing: str) -> str | None:
        if first.kind == "word":
            value = roman_value(first.text)
            if value:
                return read_int(value)
            if len(first.text) == 1 and (first.text.isupper() or closing == ")"):
                return LETTER_NAMES.get(first.lower)
            return None
        if first.kind == "num" and first.match is not None and not first.match["unit"]:
            body = first.match["num"]
            if _LINE_MARKER.fullmatch(body):
                return " chấm ".join(read_int(int(part)) for part in body.split("."))
        return None

    # --- numbers ------------------------------------------------------------------------

    def number(self, index: int, token: _Token) -> int:
        assert token.match is not None
        body, unit = token.match["num"], token.match["unit"]
        day_month = None if unit else self.dash_date(index, body)
        if day_month is not None:
            self.dates.add(index)
            self.emit(self.date_words(index, *day_month, None))
            return index + 3
        spoken = self.number_words(index, body, unit)
        self.emit(spoken)
        if unit == "g" and self.word_before(index) == "lúc" and body.isdigit() and int(body) <= 24:
            self.emit("giờ")  # "lúc 18g"
        elif unit:
            self.emit(UNIT_NAMES[unit])
        return index + 1

    def number_words(self, index: int, body: str, unit: str | None) -> str:
        if "." in body and re.fullmatch(r"\d+(?:\.\d{1,2})+", body):
            return self.dotted(index, body, unit)
        if re.fullmatch(r"\d{1,3}(?:,\d{3}){2,}", body):
            return read_integer_text(body.replace(",", ""))
        if "," in body:
            integer, fraction = body.split(",", 1)
            return read_decimal(integer, fraction)
        if "." in body:
            return read_integer_text(body)
        if unit:
            return read_integer_text(body)
        return self.plain_number(index, body)

    def dotted(self, index: int, body: str, unit: str | None) -> str:
        parts = body.split(".")
        if len(parts) == 2 and (unit or self.next_word(index) in _MULTIPLIERS):
            return read_decimal(parts[0], parts[1])
        if (
            len(parts) == 2
            and len(parts[0]) <= 2
            and self.word_before(index) in _DAY_WORDS
            and _valid_day_month(int(parts[0]), int(parts[1]))
        ):
            return f"{read_int(int(parts[0]))} tháng {read_month(int(parts[1]))}"
        # "12.05" keeps the zero of its second part: mười hai chấm không năm.
        return " chấm ".join(
            read_digits(part) if position and part.startswith("0") else read_integer_text(part)
            for position, part in enumerate(parts)
        )

    def dash_date(self, index: int, day_text: str) -> tuple[int, int] | None:
        """ "Chiều 20-10", "(20-10)", "Quốc khánh 2-9": a day and a month joined by a dash."""
        dash, following = self.token(index + 1), self.token(index + 2)
        if (
            dash is None
            or dash.text != "-"
            or following is None
            or following.match is None
            or following.kind != "num"
            or following.match["unit"]
            or self.spaced_before(index + 1)
            or self.spaced_before(index + 2)
        ):
            return None
        month_text = following.match["num"]
        if not (day_text.isdigit() and month_text.isdigit() and len(day_text + month_text) <= 4):
            return None
        day, month = int(day_text), int(month_text)
        if not _valid_day_month(day, month):
            return None
        before = self.word_before(index)
        if before in _DAY_WORDS:
            return day, month
        if self.quantity_follows(index + 2) or before in _RATIO_PREV:
            return None
        if before in _DASH_DATE_PREV:
            return day, month
        if self.text_at(index - 1) == "(" and self.text_at(index + 3) == ")":
            return day, month
        if before in _NUMBERED_NOUNS:
            return None
        if index - 2 in self.dates and self.text_at(index - 1).lower() in _LIST_JOINERS:
            return day, month
        clause = self.clause_before(index)
        words = {word.lower() for word in _WORDS_BEFORE.findall(clause)}
        if words & _EVENT_WORDS or _NAMED_DAY.search(clause):
            return day, month
        # "20-10" cannot be a range; it is a date unless it is a score ("thắng 3-1").
        if day >= month and not self.score_context(index):
            return day, month
        return None

    def score_context(self, index: int) -> bool:
        """ "tỷ số 2-1", "thắng 3-0", "hòa 1:1": numbers of a match result."""
        clause = self.clause_before(index).lower()
        words = _WORDS_BEFORE.findall(clause)
        return bool(_SCORE_WORDS.intersection(words)) or "tỷ số" in clause or "tỉ số" in clause

    def quantity_follows(self, index: int) -> bool:
        """ "5-7 ngày", "2-3 năm" count something; "20-10 năm nay" does not."""
        following = self.token(index + 1)
        if following is None or following.kind not in _WORDLIKE:
            return False
        words = following.lower.split()
        if words[0] != "năm":
            return words[0] in _QUANTITY_WORDS
        if len(words) > 1:
            return words[1] != "nay"
        year = self.token(index + 2)
        return year is None or year.kind != "num" or len(year.text) != 4

    def clause_before(self, index: int) -> str:
        """The source text of the clause that token ``index`` is in, up to the token."""
        start = self.tokens[index].start
        return _CLAUSE_BREAK.split(self.line[max(0, start - _CONTEXT_CHARS) : start])[-1]

    def plain_number(self, index: int, digits: str) -> str:
        if len(digits) > _LONGEST_NUMBER:
            return read_digits(digits)
        value = int(digits)
        before = self.word_before(index)
        if before == "thứ":
            return read_ordinal(value)
        if before == "tháng" and 1 <= value <= 12 and len(digits) <= 2:
            return read_month(value)
        if before == "giờ" and digits == "00":
            return ""
        if self.is_hotline(index, digits):
            self.hotlines.add(index)
            return read_digits(digits)
        if self.is_identifier(index, digits):
            return read_digits(digits)
        spoken = read_integer_text(digits)
        previous = self.token(index - 2)
        if (
            before == "giờ"
            and len(digits) == 2
            and value <= 59
            and previous is not None
            and previous.kind == "num"
            and self.next_word(index) not in ("phút", "giây")
        ):
            return f"{spoken} phút"
        return spoken

    def is_identifier(self, index: int, digits: str) -> bool:
        """Account numbers, ID numbers and codes are read digit by digit."""
        following = self.next_word(index)
        counted = following in _MULTIPLIERS or following in _COUNTED or following == "đồng"
        if len(digits) >= _LONGEST_QUANTITY and not counted:
            return True
        return len(digits) >= 4 and self.after_identifier_word(index)

    def after_identifier_word(self, index: int) -> bool:
        """ "mã hồ sơ …", "số tài khoản …", "CCCD …": what follows is read as a code."""
        recent = _WORDS_BEFORE.findall(self.clause_before(index).lower())[-3:]
        return any(word in _IDENTIFIER_WORDS for word in recent)

    def is_hotline(self, index: int, digits: str) -> bool:
        if not 3 <= len(digits) <= 5:
            return False
        emergency = 111 <= int(digits) <= 115 and len(digits) == 3
        joiner = self.token(index - 1)
        if (
            index - 2 in self.hotlines
            and joiner is not None
            and joiner.lower in _LIST_JOINERS
        ):
            return True
        before, after = self.token(index - 1), self.token(index + 1)
        if (
            emergency
            and before is not None
            and before.text == "("
            and after is not None
            and after.text == ")"
        ):
            return True
        words = self.words_before(index, 5)
        if emergency:
            return self.emergency_context(index, words)
        for word in words:
            if word not in _HOTLINE_FILLERS:
                return word in _HOTLINE_TRIGGERS and word != "báo"
        return False

    def emergency_context(self, index: int, words: list[str]) -> bool:
        """111-115 are hotlines after "gọi", "số" (not a document's), "đường dây nóng",
        or the name of the service ("Cấp cứu 115", "Công an: 113")."""
        following = self.next_word(index)
        if following in _ADDRESS_WORDS or following in _COUNTED:
            return False
        for position, word in enumerate(words):
            farther = words[position + 1 : position + 2]
            next_to = all(nearer in _HOTLINE_FILLERS for nearer in words[:position])
            if word in _EMERGENCY_SERVICES or (word == "an" and farther == ["công"]):
                return next_to
            if word == "số":
                # "số 115" is a line; "Thông báo số 113", "Tổng số: 112", "Số hộ: 113" are not.
                return next_to and (not farther or farther[0] not in _NOT_A_LINE)
            if word == "báo":
                # "báo ngay 113" is a call; "thông báo 113" is a document.
                return farther != ["thông"]
            if word in _HOTLINE_TRIGGERS:
                return True
        return False

    def phone(self, token: _Token) -> None:
        groups: list[str] = []
        short = ""
        for group in re.findall(r"\+?\d+", token.text):
            # "3.822.123" is one seven-digit number written with a thousands dot.
            if len(group) < 3:
                short += group
                continue
            groups.append(short + group)
            short = ""
        spoken: list[str] = []
        for group in groups:
            if group.startswith("+"):
                spoken.append("cộng " + read_digits(group))
                continue
            spoken.extend(read_digits(part) for part in _split_digit_run(group))
        for position, words in enumerate(spoken):
            if position:
                self.emit(",")
            self.emit(words)

    def plate(self, token: _Token) -> None:
        """Vehicle plate "49A-123.45": bốn chín a, một hai ba, bốn năm."""
        match = token.match
        assert match is not None
        series = " ".join(
            read_digits(char) if char.isdigit() else spell(char) for char in match["series"]
        )
        self.emit(f"{read_digits(match['province'])} {series}")
        for group in (match["serial"] or match["spaced"]).split("."):
            self.emit(",", read_digits(group))

    # --- dates and times ----------------------------------------------------------------

    def date_words(self, index: int, day: int, month: int, year: int | None) -> str:
        words = [] if self.day_already_named(index) else ["ngày"]
        words += [read_int(day), "tháng", read_month(month)]
        if year is not None:
            words += ["năm", read_int(year)]
        return " ".join(words)

    def day_already_named(self, index: int) -> bool:
        """ "ngày 7/8", "mùng 2/9", "ngày 10 và 11/9", "ngày 7, 8, 9/9" need no extra "ngày"."""
        previous = self.token(index - 1)
        opened = previous is not None and previous.text == "("
        if self.word_before(index) in _NO_DAY_WORD and not opened:
            return True
        start = self.tokens[index].start
        tail = self.line[max(0, start - _CONTEXT_CHARS) : start]
        return _DAY_LIST.search(tail) is not None

    def full_date(self, index: int, token: _Token) -> None:
        assert token.match is not None
        names = ("dd", "dm", "dy") if token.match["dd"] else ("id", "im", "iy")
        day, month, year = (int(token.match[name]) for name in names)
        if _valid_day_month(day, month):
            self.emit(self.date_words(index, day, month, year))
        else:
            self.emit(*(read_integer_text(part) for part in re.findall(r"\d+", token.text)))

    def date_range(self, index: int, token: _Token) -> None:
        assert token.match is not None
        first, last, month = (int(token.match[name]) for name in ("dr1", "dr2", "drm"))
        year = int(token.match["dry"]) if token.match["dry"] else None
        if _valid_day_month(first, month) and _valid_day_month(last, month) and first < last:
            lead = "" if self.day_already_named(index) else "ngày "
            tail = f" năm {read_int(year)}" if year is not None else ""
            self.emit(
                f"{lead}{read_int(first)} đến ngày {read_int(last)} tháng {read_month(month)}"
                f"{tail}"
            )
            return
        numbers = [read_int(int(part)) for part in re.findall(r"\d+", token.text)]
        self.emit(numbers[0], "đến", " trên ".join(numbers[1:]))

    def time(self, index: int, token: _Token) -> None:
        match = token.match
        assert match is not None
        if match["bh"]:
            self.emit(read_int(int(match["bh"])), "giờ")
            return
        if match["th"]:
            hour, minute, second = int(match["th"]), int(match["tm"]), 0
        else:
            hour, minute = int(match["ch"]), int(match["cm"])
            second = int(match["cs"]) if match["cs"] else 0
            if self.word_before(index) in ("lệ", "tỷ", "tỉ") or hour > 24 or minute > 59:
                self.emit(read_int(hour), "trên", read_int(minute))
                return
        words = [read_int(hour), "giờ"]
        if minute:
            words += [read_int(minute), "phút"]
        if second:
            words += [read_int(second), "giây"]
        self.emit(*words)

    def slash(self, index: int, token: _Token) -> None:
        assert token.match is not None
        first_text, second_text = token.match["sa"], token.match["sb"]
        if token.match["sc"]:
            # "hẻm 45/7/12": a house number in several levels.
            parts = token.match["slash"].split("/")
            self.emit(" trên ".join(read_integer_text(part) for part in parts))
            return
        first, second = int(first_text), int(second_text)
        before = self.word_before(index)
        if len(second_text) == 4 and 1900 <= second <= 2100:
            self.month_year(index, first_text, second)
            return
        short = len(first_text) <= 2 and len(second_text) <= 2
        is_date = short and _valid_day_month(first, second)
        if (first, second) == (24, 7) and before in _ROUND_THE_CLOCK_PREV:
            # "trực 24/7": every hour of every day.
            self.emit(read_int(first), "trên", read_int(second))
            return
        if before in _STREET_WORDS and is_date:
            self.emit(read_int(first), "tháng", read_month(second))
        elif before in _ADDRESS_NUMBER_WORDS:
            self.emit(read_integer_text(first_text), "trên", read_integer_text(second_text))
        elif is_date and before in _DATE_PREV:
            self.emit(self.date_words(index, first, second, None))
        elif self.next_word(index) in _SHARE_NEXT or before == "chiếm":
            self.emit(read_int(first), "phần", "tư" if second == 4 else read_int(second))
        elif is_date and before not in _RATIO_PREV and self.next_word(index) not in _COUNTED:
            self.emit(self.date_words(index, first, second, None))
        else:
            self.emit(read_integer_text(first_text), "trên", read_integer_text(second_text))

    def month_year(self, index: int, first_text: str, year: int) -> None:
        first = int(first_text)
        words = self.words_before(index, 2)
        before = words[0] if words else ""
        doc = before in _YEAR_NUMBER_PREV or before in _DOC_WORDS
        if 1 <= first <= 12 and not doc:
            lead = "" if before == "tháng" else "tháng "
            self.emit(f"{lead}{read_month(first)} năm {read_int(year)}")
        else:
            self.emit(read_int(first), "năm", read_int(year))

    # --- words ----------------------------------------------------------------------

    def weekday_context(self, index: int) -> bool:
        for word in self.words_before(index, 3):
            if word in _WEEKDAY_PREV or _WEEKDAY_ABBREVIATION.fullmatch(word):
                return True
        position = index + 1
        while (following := self.token(position)) is not None:
            if following.kind in ("date", "slash") or following.first_word in _WEEKDAY_NEXT:
                return True
            if _WEEKDAY_ABBREVIATION.fullmatch(following.text):
                return True
            if following.text not in ",-/(" and following.first_word not in ("và", "đến", "hoặc"):
                return False
            position += 1
        return False

    def roman(self, index: int, value: int) -> str:
        return read_ordinal(value) if self.word_before(index) == "thứ" else read_int(value)

    def word(self, index: int, token: _Token) -> int:
        text = token.text
        if len(text) == 1:
            if text in "IVX" and self.word_before(index) in _ROMAN_PREV:
                self.emit(self.roman(index, roman_value(text) or 0))
            else:
                self.emit(self.letter(index, text))
        elif text.isupper():
            self.emit(self.capitals(index, text, self.word_before(index)))
        elif not has_vowel(text):
            self.emit(UNIT_NAMES.get(text) or spell(text))
        else:
            self.emit(text)
        return index + 1

    def letter(self, index: int, text: str) -> str:
        lower = text.lower()
        if text == lower and text in VOWEL_LETTERS:
            return text
        previous, following = self.token(index - 1), self.token(index + 1)
        if previous is not None and previous.kind == "num" and not self.spaced_before(index):
            return LETTER_NAMES.get(lower, lower)
        if (
            lower == "x"
            and previous is not None
            and following is not None
            and previous.kind == "num"
            and following.kind == "num"
        ):
            return "nhân"
        if has_vowel(lower):
            return lower if self.in_capitals(index) else text
        return LETTER_NAMES.get(lower, lower)

    def in_capitals(self, index: int) -> bool:
        """True inside an all-caps heading ("TRẠM Y TẾ")."""
        for neighbour in (self.token(index - 1), self.token(index + 1)):
            if (
                neighbour is not None
                and neighbour.kind in ("word", "plain")
                and len(neighbour.text) > 1
            ):
                return neighbour.text.isupper()
        return False

    def capitals(self, index: int, text: str, before: str) -> str:
        if text == "CN" and self.weekday_context(index):
            return "chủ nhật"
        value = roman_value(text)
        if value and before in _ROMAN_PREV:
            return self.roman(index, value)
        if is_vietnamese_syllable(text):
            return text.lower()
        if value:
            return read_int(value)
        if is_pronounceable(text):
            return text.lower()
        return spell(text)

    def mixed(self, index: int, token: _Token) -> None:
        text = token.text
        previous = self.token(index - 1)
        if (
            text[0] in "xX"
            and text[1:].isdigit()
            and previous is not None
            and previous.kind == "num"
        ):
            self.emit("nhân", read_integer_text(text[1:]))
            return
        if _QUARTER.fullmatch(text) and self.year_follows(index):
            self.emit("quý", read_int(int(text[1])))  # "Q3/2025"
            return
        if _WEEKDAY_ABBREVIATION.fullmatch(text) and self.weekday_context(index):
            self.emit("thứ", read_ordinal(int(text[1])))
            return
        if text in UNIT_NAMES:
            self.emit(UNIT_NAMES[text])
            return
        code = self.after_identifier_word(index)
        for part in re.findall(r"\d+|[^\W\d_]+", text):
            if part.isdigit():
                # Long runs in a code are read digit by digit: "HS2025123", "AB123456".
                long_run = code or len(part) >= _CODE_DIGIT_RUN
                self.emit(read_digits(part) if long_run else read_integer_text(part))
            else:
                self.emit(spell(part) if code else self.letters_in_code(part))

    def year_follows(self, index: int) -> bool:
        """ "Q3/2025", "Q4 năm 2025": a year comes next."""
        if self.next_word(index) == "năm":
            return True
        following = self.token(index + 2)
        return (
            self.text_at(index + 1) == "/"
            and following is not None
            and following.kind == "num"
            and len(following.text) == 4
        )

    def letters_in_code(self, part: str) -> str:
        known = self.lexicon.lookup(part)
        if known:
            return known
        if len(part) == 1:
            lower = part.lower()
            return lower if has_vowel(lower) else LETTER_NAMES.get(lower, lower)
        if part.islower() and is_vietnamese_syllable(part):
            return part
        return spell(part)

    # --- punctuation ----------------------------------------------------------------

    def punct(self, index: int, token: _Token) -> int:
        text = token.text
        previous, following = self.token(index - 1), self.token(index + 1)
        if text == "." and not self.spaced_before(index) and previous is not None:
            if self.initial_dot(index):
                return index + 1
            if self.title_dot(index):
                return index + 1
        if text in _PUNCT_RANK:
            if (
                text == ":"
                and previous is not None
                and following is not None
                and previous.kind == "num"
                and following.kind == "num"
                and not self.spaced_before(index + 1)
            ):
                if not self.score_context(index - 1):
                    self.emit("trên")
            else:
                self.emit(text)
        elif text == "...":
            self.emit("." if following is None else ",")
        elif text == "(" and self.repeats_expansion(index):
            return index + 3
        elif text in "()":
            self.emit(",")
        elif text == "-":
            return self.hyphen(index)
        elif text == "/":
            return self.per(index)
        elif text in "&+":
            numbers = previous is not None and previous.kind == "num"
            numbers = numbers and following is not None and following.kind == "num"
            self.emit("cộng" if text == "+" and numbers else "và")
        elif text == "=":
            self.emit("bằng")
        elif text in "<>":
            return self.comparison(index, text)
        elif text == "~":
            if following is not None and following.kind in _NUMERIC:
                self.emit("khoảng")
        elif text == "@":
            self.emit("a còng")
        elif text == "%":
            self.emit("phần trăm")
        elif text == "°":
            self.emit("độ")
        elif text == "$" and following is not None and following.kind == "num":
            self.number(index + 1, following)
            self.emit("đô la")
            return index + 2
        return index + 1

    def initial_dot(self, index: int) -> bool:
        """ "Nguyễn V. A", "bà D. cho biết", "N.T.H": the dot after an initial is no pause."""
        letter, following = self.token(index - 1), self.token(index + 1)
        name = self.token(index - 2)
        if letter is None or following is None or not _is_initial(letter):
            return False
        if not self.spaced_before(index + 1) and following.kind == "word":
            return True  # "N.V.A", "N.V.Hùng"
        if name is None or not (_is_name_word(name) or name.last_word in _HONORIFICS):
            return False
        if following.kind == "word" and following.text[:1].isupper():
            # "Ông Nguyễn V. Hùng", but "Ông Nguyễn Văn A. Sau đó" ends a sentence.
            family = self.token(index - 3)
            return len(following.text) == 1 or (
                family is not None
                and (not _is_name_word(family) or family.last_word in _HONORIFICS)
            )
        return following.kind != "punct" or following.text in "(,;:"

    def title_dot(self, index: int) -> bool:
        """ "BS. Nguyễn Văn Minh", "PGS.TS. Trần Bình", "ĐT. 0912 345 678": no pause.

        Between two titles it is a short one, a comma.
        """
        title, following = self.token(index - 1), self.token(index + 1)
        if title is None or following is None or not self.is_title(title):
            return False
        if self.is_title(following):
            self.emit(",")
            return True
        if following.kind == "phone":
            return True
        return following.kind in ("word", "done") and following.text[:1].isupper()

    def is_title(self, token: _Token) -> bool:
        return token.kind == "done" and self.line[token.start : token.end] in _DOTTED_TITLES

    def repeats_expansion(self, index: int) -> bool:
        """ "người lao động (NLĐ)": the abbreviation only repeats what was just said."""
        inside, closing = self.token(index + 1), self.token(index + 2)
        if inside is None or closing is None or inside.kind != "done" or closing.text != ")":
            return False
        said = _WORDS_BEFORE.findall(" ".join(self.out[-_RECENT_ITEMS:]).lower())
        expansion = _WORDS_BEFORE.findall(inside.text.lower())
        return bool(expansion) and said[-len(expansion) :] == expansion

    def comparison(self, index: int, text: str) -> int:
        following = self.token(index + 1)
        or_equal = following is not None and following.text == "="
        if text == ">":
            self.emit("từ" if or_equal else "trên")
        else:
            self.emit("không quá" if or_equal else "dưới")
        return index + 2 if or_equal else index + 1

    def per(self, index: int) -> int:
        following = self.token(index + 1)
        previous = self.token(index - 1)
        if following is None or previous is None:
            return index + 1
        if following.kind == "num" and following.match is not None:
            body = following.match["num"]
            if len(body) == 4 and body.isdigit() and 1900 <= int(body) <= 2100:
                self.emit("năm")
                return index + 1
        if previous.last_word in ("ngày", "tháng") and following.first_word in ("tháng", "năm"):
            # "ngày/tháng/năm sinh" is read as the words alone.
            return index + 1
        unit, _, rest = following.text.partition(" ")
        if unit in UNIT_NAMES and following.kind in ("word", "mixed", "plain"):
            self.emit("trên", UNIT_NAMES[unit], rest)
            return index + 2
        if (
            following.first_word in _PER_WORDS
            or following.kind == "num"
            or (following.kind in _WORDLIKE and self.is_measure(previous))
        ):
            self.emit("trên")
        return index + 1

    def is_measure(self, token: _Token) -> bool:
        """An amount or a unit: what comes before "/" in "1.200.000đ/học kỳ", "đồng/suất"."""
        if token.kind == "num" and token.match is not None:
            return bool(token.match["unit"])
        last = token.last_word
        return last == "đồng" or last in _PER_WORDS or last in UNIT_NAMES

    def hyphen(self, index: int) -> int:
        previous, following = self.token(index - 1), self.token(index + 1)
        spaced = self.spaced_before(index) or (
            following is not None and self.spaced_before(index + 1)
        )
        if previous is not None and following is not None:
            if previous.kind in _NUMERIC and following.kind in _NUMERIC:
                return self.numeric_range(index, previous, following, spaced)
            if self.same_unit_range(index) or (spaced and self.measured_range(index)):
                self.emit("đến")
                return index + 1
        if (
            following is not None
            and following.kind == "num"
            and not self.spaced_before(index + 1)
            and (previous is None or previous.kind not in _NUMERIC)
            and (self.spaced_before(index) or (previous is not None and previous.text == "("))
        ):
            self.emit("âm")
            return index + 1
        if spaced:
            self.emit(",")
        return index + 1

    def measured_range(self, index: int) -> bool:
        """ "800.000 đồng - 1.000.000 đồng", "7 giờ 30 - 11 giờ": amounts with their words."""
        unit, number = self.token(index - 1), self.token(index - 2)
        following = self.token(index + 1)
        return (
            unit is not None
            and number is not None
            and following is not None
            and unit.kind in ("word", "plain")
            and len(unit.text.split()) == 1
            and number.kind in _NUMERIC
            and following.kind in _NUMERIC
        )

    def same_unit_range(self, index: int) -> bool:
        """ "tháng 3 - tháng 5", "thứ 2 - thứ 6", "T2 - CN": ranges of named units."""
        previous, following = self.token(index - 1), self.token(index + 1)
        assert previous is not None and following is not None
        if previous.kind == "num" and following.kind in ("word", "plain"):
            return self.word_before(index - 1) == following.first_word
        before = self.words_before(index, 2)
        if (
            len(before) == 2
            and before[0] in _WEEKDAY_NAMES
            and before[1] in ("thứ", "chủ")
            and following.first_word in ("thứ", "chủ")
        ):
            return True  # "Thứ Hai - Thứ Sáu"
        weekday = ("mixed", "word")
        return (
            previous.kind in weekday
            and following.kind in weekday
            and bool(
                _WEEKDAY_ABBREVIATION.fullmatch(previous.text) or previous.text == "CN"
            )
            and bool(
                _WEEKDAY_ABBREVIATION.fullmatch(following.text) or following.text == "CN"
            )
        )

    def numeric_range(self, index: int, previous: _Token, following: _Token, spaced: bool) -> int:
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
                and self.score_context(index - 1)
                and not self.quantity_follows(index + 1)
            )
            if score or (first >= last and not spaced):
                # "tỷ số 2-1" is a score, read without a word between.
                return index + 1
        self.emit("đến")
        return index + 1


def _is_initial(token: _Token) -> bool:
    """ "V", "Th": a capital letter, or a capital consonant pair, standing for a name."""
    text = token.text
    return (
        token.kind == "word"
        and len(text) <= 2
        and text[0].isupper()
        and (len(text) == 1 or (text[1].islower() and not has_vowel(text)))
    )


def _is_name_word(token: _Token) -> bool:
    """A capitalised word of a name: "Nguyễn", "Văn" (not "UBND", not "và")."""
    return token.kind == "word" and token.text[:1].isupper() and not token.text.isupper()


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


_OUTPUT_JUNK = re.compile(r"[^\w\s.,;:?!]|[\d_]")


def _assemble(items: list[str]) -> str:
    pieces: list[str] = []
    for item in items:
        if item in _PUNCT_RANK:
            if not pieces:
                continue
            if pieces[-1] in _PUNCT_RANK:
                if _PUNCT_RANK[item] > _PUNCT_RANK[pieces[-1]]:
                    pieces[-1] = item
                continue
            pieces.append(item)
        else:
            pieces.append(item)
    parts: list[str] = []
    for piece in pieces:
        if piece in _PUNCT_RANK:
            parts.append(piece)
            continue
        if parts:
            parts.append(" ")
        parts.append(piece if piece.replace(" ", "").isalpha() else _letters_only(piece))
    text = _OUTPUT_JUNK.sub(" ", "".join(parts))
    return " ".join(text.split()).rstrip(",")


def _letters_only(piece: str) -> str:
    """Last safety net: anything but letters and sentence punctuation becomes a space."""
    return "".join(char if char.isalpha() or char in _PUNCT_RANK else " " for char in piece)


def _read_line(line: str, lexicon: Lexicon) -> str:
    cleaned = clean_line(line)
    if not cleaned:
        return ""
    reader = _Reader(cleaned, _tokens(cleaned, lexicon), lexicon)
    return reader.read()


def to_spoken(text: str, lexicon: Lexicon | None = None) -> str:
    """Bulletin text to the words an announcer says, one output line per input line."""
    if not text:
        return ""
    lexicon = default_lexicon() if lexicon is None else lexicon
    lines = text.splitlines()
    spoken = "\n".join(_read_line(line, lexicon) for line in lines)
    if text.splitlines(keepends=True)[-1] != lines[-1]:
        spoken += "\n"
    return spoken
