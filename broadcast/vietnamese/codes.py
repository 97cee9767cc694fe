"""Document codes ("31-CT/TW", "100/2019/NĐ-CP"), web addresses and e-mail addresses.

A document code is read as its number, the year after "năm", the document type unless
the text has just named it, and the issuing body after "của":
"Chỉ thị số 31-CT/TW" -> "Chỉ thị số ba mươi mốt của Trung ương",
"theo 215/KH-UBND" -> "theo kế hoạch số hai trăm mười lăm của Ủy ban nhân dân".
"""

from __future__ import annotations

import re
from types import MappingProxyType

from .lexicon import Lexicon
from .numbers import read_digits, read_int
from .text import is_vietnamese_syllable, spell

DOCUMENT_TYPES = MappingProxyType(
    {
        "CT": "chỉ thị",
        "NQ": "nghị quyết",
        "KH": "kế hoạch",
        "QĐ": "quyết định",
        "NĐ": "nghị định",
        "TT": "thông tư",
        "TTLT": "thông tư liên tịch",
        "TB": "thông báo",
        "HD": "hướng dẫn",
        "BC": "báo cáo",
        "CV": "công văn",
        "TTr": "tờ trình",
        "KL": "kết luận",
        "QC": "quy chế",
        "QĐi": "quy định",
        "QyĐ": "quy định",
        "CTr": "chương trình",
        "ĐA": "đề án",
        "DA": "dự án",
        "GM": "giấy mời",
        "GP": "giấy phép",
        "BB": "biên bản",
        "HĐ": "hợp đồng",
        "CĐ": "công điện",
        "PL": "pháp lệnh",
        "L": "luật",
        "KHPH": "kế hoạch phối hợp",
    }
)

ISSUERS = MappingProxyType(
    {
        "TW": "Trung ương",
        "TƯ": "Trung ương",
        "TU": "Tỉnh ủy",
        "ThU": "Thành ủy",
        "THU": "Thành ủy",
        "HU": "Huyện ủy",
        "QU": "Quận ủy",
        "ĐU": "Đảng ủy",
        "ĐUP": "Đảng ủy phường",
        "ĐUX": "Đảng ủy xã",
        "ĐUK": "Đảng ủy khối",
        "BBT": "Ban Bí thư",
        "BCĐ": "Ban Chỉ đạo",
        "BTGTW": "Ban Tuyên giáo Trung ương",
        "BTGTU": "Ban Tuyên giáo Tỉnh ủy",
        "BTGThU": "Ban Tuyên giáo Thành ủy",
        "BTG": "Ban Tuyên giáo",
        "BDV": "Ban Dân vận",
        "BDVTW": "Ban Dân vận Trung ương",
        "BTCTW": "Ban Tổ chức Trung ương",
        "UBKT": "Ủy ban Kiểm tra",
        "UBKTTW": "Ủy ban Kiểm tra Trung ương",
        "VPTW": "Văn phòng Trung ương",
        "UBND": "Ủy ban nhân dân",
        "HĐND": "Hội đồng nhân dân",
        "MTTQ": "Mặt trận Tổ quốc",
        "CP": "Chính phủ",
        "TTg": "Thủ tướng Chính phủ",
        "VPCP": "Văn phòng Chính phủ",
        "QH": "Quốc hội",
        "UBTVQH": "Ủy ban Thường vụ Quốc hội",
        "CTN": "Chủ tịch nước",
        "BYT": "Bộ Y tế",
        "BTC": "Bộ Tài chính",
        "BLĐTBXH": "Bộ Lao động, Thương binh và Xã hội",
        "BGDĐT": "Bộ Giáo dục và Đào tạo",
        "BCA": "Bộ Công an",
        "BQP": "Bộ Quốc phòng",
        "BNV": "Bộ Nội vụ",
        "BTNMT": "Bộ Tài nguyên và Môi trường",
        "BXD": "Bộ Xây dựng",
        "BGTVT": "Bộ Giao thông vận tải",
        "BCT": "Bộ Công Thương",
        "BTTTT": "Bộ Thông tin và Truyền thông",
        "BVHTTDL": "Bộ Văn hóa, Thể thao và Du lịch",
        "BNNPTNT": "Bộ Nông nghiệp và Phát triển nông thôn",
        "BTP": "Bộ Tư pháp",
        "BKHĐT": "Bộ Kế hoạch và Đầu tư",
        "NHNN": "Ngân hàng Nhà nước",
        "BHXH": "Bảo hiểm xã hội",
        "SYT": "Sở Y tế",
        "SLĐTBXH": "Sở Lao động, Thương binh và Xã hội",
        "SGDĐT": "Sở Giáo dục và Đào tạo",
        "CAT": "Công an tỉnh",
        "BCH": "Ban Chấp hành",
        "BCHQS": "Ban Chỉ huy quân sự",
    }
)

_GROUP = r"[A-ZĐ][A-Za-zĐđ]*\d*"
_CODE = re.compile(
    r"(?:(?<![\w])(?P<so>[Ss]ố|SỐ)\s*:?\s*)?"
    r"(?<![\w.,/])(?P<num>\d{1,5})"
    r"(?:"
    rf"\s?-\s?(?P<party>{_GROUP}(?:/{_GROUP})+)"
    r"|"
    rf"(?:/(?P<year>\d{{4}}))?/(?P<state>{_GROUP}(?:-{_GROUP})*)"
    r")(?![\w/])"
)
_EMAIL = r"(?<![A-Za-z0-9.+-])[A-Za-z0-9.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_URL = r"(?:https?://|www\.)[^\s()<>]*[^\s()<>.,;:!?']"
_DOMAIN = (
    r"(?<![\w.@])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:vn|com|net|org|gov|edu|info)(?![\w])"
    r"(?:/[^\s()<>]*[^\s()<>.,;:!?'])?"
)
PATTERN = re.compile(rf"(?P<address>{_EMAIL}|{_URL}|{_DOMAIN})|{_CODE.pattern}")

_NUMBERED_BODY = re.compile(r"(?P<letters>[A-Za-zĐđ]+?)(?P<digits>\d+)")
_TAIL = 32
# The text names the issuer itself right after the code: "31-CT/TW của Ban Bí thư" or
# "31-CT/TW, ngày 19/3/2024 của Ban Bí thư".
_ISSUER_FOLLOWS = re.compile(r"\s*(?:,?\s*ngày\s+[\d/.-]+\s*)?của(?!\w)", re.IGNORECASE)


def _numbered(group: str) -> re.Match[str] | None:
    return _NUMBERED_BODY.fullmatch(group)


def _is_body(group: str, lexicon: Lexicon) -> bool:
    numbered = _numbered(group)
    if numbered is not None:
        return _is_body(numbered["letters"], lexicon)
    return group in ISSUERS or lexicon.lookup(group) is not None


def _body_name(group: str, lexicon: Lexicon) -> str:
    numbered = _numbered(group)
    if numbered is not None:
        name = _body_name(numbered["letters"], lexicon)
        number = read_int(int(numbered["digits"]))
        if numbered["letters"].upper().endswith("QH"):
            return f"{name} khóa {number}"
        return f"{name} {number}"
    return ISSUERS.get(group) or lexicon.lookup(group) or spell(group)


def _join(names: list[str]) -> str:
    if len(names) <= 2:
        return " và ".join(names)
    return ", ".join(names[:-1]) + " và " + names[-1]


def _type_already_said(before: str, type_word: str) -> bool:
    tail = " ".join(before[-_TAIL:].lower().split())
    return tail.endswith(type_word)


def read_code(match: re.Match[str], lexicon: Lexicon) -> str | None:
    """Spoken form of a document code found by :data:`PATTERN`, None if it is not one."""
    if match["state"] == "CN":
        return None
    before = match.string[max(0, match.start() - _TAIL) : match.start()]
    groups = (match["party"] or "").split("/") if match["party"] else match["state"].split("-")
    number = read_int(int(match["num"]))
    year = f" năm {read_int(int(match['year']))}" if match["year"] else ""
    type_word = DOCUMENT_TYPES.get(groups[0])
    issuers = groups[1:] if type_word else groups
    if type_word is None and not _is_body(groups[0], lexicon):
        type_word = spell(groups[0])
        issuers = groups[1:]
    if not type_word and issuers:
        # "456/UBND-VX": the issuer comes first and the rest names its department.
        issuers = issuers[:1]
    names = [_body_name(group, lexicon) for group in issuers]
    issuer_follows = _ISSUER_FOLLOWS.match(match.string, match.end()) is not None
    of = f" của {_join(names)}" if names and not issuer_follows else ""
    said = match["so"] or ""
    if type_word and not _type_already_said(before, type_word):
        if said[:1].isupper():
            type_word = type_word[:1].upper() + type_word[1:]
        return f"{type_word} số {number}{year}{of}"
    lead = f"{said.lower() if said.isupper() else said} " if said else ""
    return f"{lead}{number}{year}{of}"


_ADDRESS_PART = re.compile(r"[A-Za-z]+|\d+|.")
_ADDRESS_WORDS = MappingProxyType(
    {
        "www": "vê kép vê kép vê kép",
        "com": "com",
        "vn": "vê en",
        "gov": "gốp",
        "net": "nét",
        "org": "o rờ gờ",
        "edu": "e đu",
        "info": "in phô",
    }
)
_ADDRESS_SIGNS = MappingProxyType(
    {".": "chấm", "@": "a còng", "/": "gạch chéo", "-": "gạch ngang", ":": "hai chấm"}
)


def read_address(address: str, lexicon: Lexicon) -> str:
    """Web or e-mail address: "ubnd@danang.gov.vn" -> "ubnd a còng danang chấm gốp chấm vê en"."""
    address = re.sub(r"^https?://", "", address)
    words: list[str] = []
    for part in _ADDRESS_PART.findall(address.rstrip("/")):
        if part.isdigit():
            words.append(read_digits(part))
        elif part.isalpha():
            lower = part.lower()
            known = _ADDRESS_WORDS.get(lower) or lexicon.lookup(part)
            if known:
                words.append(known)
            elif (len(part) >= 3 and any(ch in "aeiouy" for ch in lower)) or (
                is_vietnamese_syllable(part)
            ):
                words.append(lower)
            else:
                words.append(spell(part))
        elif part in _ADDRESS_SIGNS:
            words.append(_ADDRESS_SIGNS[part])
    return " ".join(words)
