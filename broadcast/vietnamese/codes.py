"""Document codes ("31-CT/TW", "100/2019/NĐ-CP"), web addresses and e-mail addresses.

A document code is read as its number, the year after "năm", the document type unless
the clause has just named one, and the issuing bodies after "của" unless the text names
them itself, just before the code or right after it:
"Chỉ thị số 31-CT/TW" -> "Chỉ thị số ba mươi mốt của Trung ương",
"theo 215/KH-UBND" -> "theo kế hoạch số hai trăm mười lăm của Ủy ban nhân dân".
A part that names no body we know (a department, a term "K10") is left out.
An address is read as its site: "https://dichvucong.gov.vn/p/home" -> "dịch vụ công chấm gốp
chấm vê en".
"""

from __future__ import annotations

import re
from types import MappingProxyType

from .lexicon import Lexicon
from .numbers import read_digits, read_int
from .text import NUCLEI, is_pronounceable, is_vietnamese_syllable, spell, strip_marks

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
        "VBHN": "văn bản hợp nhất",
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
        "BNN": "Bộ Nông nghiệp và Phát triển nông thôn",
        "BNNMT": "Bộ Nông nghiệp và Môi trường",
        "BKH&ĐT": "Bộ Kế hoạch và Đầu tư",
        "BKHCN": "Bộ Khoa học và Công nghệ",
        "BNG": "Bộ Ngoại giao",
        "VPQH": "Văn phòng Quốc hội",
        "TANDTC": "Tòa án nhân dân tối cao",
        "VKSNDTC": "Viện kiểm sát nhân dân tối cao",
        "HĐTP": "Hội đồng Thẩm phán",
        "STP": "Sở Tư pháp",
        "STC": "Sở Tài chính",
        "SXD": "Sở Xây dựng",
        "SNV": "Sở Nội vụ",
        "SCT": "Sở Công Thương",
        "STNMT": "Sở Tài nguyên và Môi trường",
        "SNN": "Sở Nông nghiệp",
        "SGTVT": "Sở Giao thông vận tải",
        "SVHTT": "Sở Văn hóa và Thể thao",
        "UB": "Ủy ban",
        "UBBC": "Ủy ban bầu cử",
        "HĐBC": "Hội đồng bầu cử",
        "HĐBCQG": "Hội đồng bầu cử quốc gia",
        "CAP": "Công an phường",
        "CAX": "Công an xã",
    }
)

_GROUP = r"[A-ZĐ][A-Za-zĐđ]*(?:&[A-ZĐ][A-Za-zĐđ]*)?\d*"
_GROUPS = rf"{_GROUP}(?:-{_GROUP})*"
_CODE = re.compile(
    r"(?:(?<![\w])(?P<so>[Ss]ố|SỐ)\s*:?\s*)?"
    r"(?<![\w.,/])(?P<num>\d{1,5})"
    r"(?:"
    rf"\s?-\s?(?P<party>{_GROUPS}(?:/{_GROUPS})+)"
    r"|"
    rf"(?:/(?P<year>\d{{4}}))?/(?P<state>{_GROUP}(?:[-.]{_GROUP})*)"
    r")(?![\w/])"
    r"(?:\s(?P<issued>(?:19|20)\d{2})(?![\w/.,]))?"
)
_EMAIL = r"(?<![A-Za-z0-9.+-])[A-Za-z0-9.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_URL = r"(?:https?://|www\.)[^\s()<>]*[^\s()<>.,;:!?']"
_DOMAIN = (
    r"(?<![\w.@])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:vn|com|net|org|gov|edu|info"
    r"|VN|COM|NET|ORG|GOV|EDU|INFO)(?![\w])"
    r"(?:/[^\s()<>]*[^\s()<>.,;:!?'])?"
)
PATTERN = re.compile(rf"(?P<address>{_EMAIL}|{_URL}|{_DOMAIN})|{_CODE.pattern}")

_TAIL = 80
_NUMBERED_BODY = re.compile(r"(?P<letters>[A-Za-zĐđ&]+?)(?P<digits>\d+)")
# The text names the issuer itself right after the code, perhaps after its date:
# "31-CT/TW của Ban Bí thư", "31-CT/TW, ngày 19/3/2024, của Ban Bí thư",
# "số 8254/BTC-CST ngày 21 tháng 7 năm 2025 của Bộ Tài chính".
_ISSUER_FOLLOWS = re.compile(
    r"\s*,?\s*(?:ngày\s+\d{1,2}(?:\s*[/.-]\s*\d{1,2}(?:\s*[/.-]\s*\d{2,4})?"
    r"|\s+tháng\s+\d{1,2}(?:\s+năm\s+\d{4})?)\s*,?\s*)?của(?!\w)",
    re.IGNORECASE,
)
# What an issuer is: a body, by the first words of its name.
_BODY_WORDS = re.compile(
    r"(?:Ủy ban|Hội đồng|Bộ|Sở|Ban|Phòng|Cục|Tổng cục|Chi cục|Văn phòng|Tòa án|Viện|"
    r"Trung tâm|Công an|Đảng ủy|Mặt trận|Chính phủ|Quốc hội|Thủ tướng|Chủ tịch|Liên đoàn|"
    r"Hội|Đoàn|Tỉnh ủy|Thành ủy|Huyện ủy|Quận ủy|Trung ương|Ngân hàng|Kho bạc|Bảo hiểm)"
    r"(?!\w)",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[,;.!?()]")


def _numbered(group: str) -> re.Match[str] | None:
    return _NUMBERED_BODY.fullmatch(group)


def _issuer_name(group: str, lexicon: Lexicon) -> str | None:
    """The body a part of a code names, or None when it names none we know.

    The national table first, then a lexicon entry that names a body ("UBND" in the
    ward's lexicon); a part we do not know (a department, "K10", "VX") is left out.
    """
    numbered = _numbered(group)
    if numbered is not None:
        name = _issuer_name(numbered["letters"], lexicon)
        if name is None:
            return None
        number = read_int(int(numbered["digits"]))
        if numbered["letters"].upper().endswith("QH"):
            return f"{name} khóa {number}"
        return f"{name} {number}"
    if group in ISSUERS:
        return ISSUERS[group]
    said = lexicon.lookup(group)
    return said if said and _BODY_WORDS.match(said) else None


def _join(names: list[str]) -> str:
    if len(names) <= 2:
        return " và ".join(names)
    return ", ".join(names[:-1]) + " và " + names[-1]


def _type_already_said(before: str) -> bool:
    """The clause before the code names a kind of document: "Công điện khẩn số 11/CĐ-UBND",
    "Nghị quyết số 84/2021/NĐ-CP" (a typo in the code does not add a second kind)."""
    written = _CLAUSE_BREAK.split(before)[-1]
    clause = " ".join(written.lower().split())
    return any(
        re.search(rf"(?<!\w){re.escape(word)}(?!\w)", clause)
        for word in DOCUMENT_TYPES.values()
    ) or any(  # "theo QĐ 1234/QĐ-UBND"
        re.search(rf"(?<![\w/-]){re.escape(kind)}(?![\w/-])", written) for kind in DOCUMENT_TYPES
    )


def _named_before(before: str, part: str, name: str) -> bool:
    """ "Sở Tư pháp (Tờ trình số 318/TTr-STP", "thông báo của UBND phường số 126/TB-UBND":
    the text has just named the issuer, by its name or its abbreviation."""
    if re.search(rf"(?<![\w/-]){re.escape(part)}(?!\w)", before):
        return True
    return name.lower() in " ".join(before.lower().split())


def read_code(match: re.Match[str], lexicon: Lexicon) -> str | None:
    """Spoken form of a document code found by :data:`PATTERN`, None if it is not one."""
    if match["state"] == "CN":
        return None
    before = match.string[max(0, match.start() - _TAIL) : match.start()]
    parts = re.split(r"[-/.]", match["party"] or match["state"])
    number = read_int(int(match["num"]))
    year = match["year"] or match["issued"]
    year_words = f" năm {read_int(int(year))}" if year else ""
    kinds = [part for part in parts if part in DOCUMENT_TYPES]
    type_word = DOCUMENT_TYPES[kinds[0]] if kinds else None
    issuers = [
        (part, name)
        for part in parts
        if part not in kinds and (name := _issuer_name(part, lexicon)) is not None
    ]
    if not kinds and not issuers and not match["so"]:
        return None
    if not kinds:
        # "456/UBND-VX": the issuer comes first and the rest names its department.
        issuers = issuers[:1]
    issuer_follows = _ISSUER_FOLLOWS.match(match.string, match.end()) is not None
    named = [name for part, name in issuers if not _named_before(before, part, name)]
    of = f" của {_join(named)}" if named and not issuer_follows else ""
    said = match["so"] or ""
    if type_word and not _type_already_said(before + said):
        if said[:1].isupper():
            type_word = type_word[:1].upper() + type_word[1:]
        return f"{type_word} số {number}{year_words}{of}"
    lead = f"{said.lower() if said.isupper() else said} " if said else ""
    return f"{lead}{number}{year_words}{of}"


_ADDRESS_PART = re.compile(r"[A-Za-z]+|\d+|.")
_ADDRESS_WORDS = MappingProxyType(
    {
        "com": "com",
        "vn": "vê en",
        "gov": "gốp",
        "net": "nét",
        "org": "o rờ gờ",
        "edu": "e đu",
        "info": "in phô",
        "tv": "ti vi",
        "news": "niu",
        "online": "on lai",
        "express": "ếch pờ rét",
        "mail": "meo",
        "gmail": "gờ meo",
    }
)
# Names of public sites written without accents, with the words they stand for.
_SITE_WORDS = MappingProxyType(
    {
        "dichvucong": "dịch vụ công",
        "bocongan": "bộ công an",
        "congan": "công an",
        "chinhphu": "chính phủ",
        "baochinhphu": "báo chính phủ",
        "quochoi": "quốc hội",
        "thanhnien": "thanh niên",
        "tuoitre": "tuổi trẻ",
        "nhandan": "nhân dân",
        "dantri": "dân trí",
        "laodong": "lao động",
        "baohiemxahoi": "bảo hiểm xã hội",
        "suckhoedoisong": "sức khỏe đời sống",
        "thuvienphapluat": "thư viện pháp luật",
        "vanban": "văn bản",
        "vietnamnet": "việt nam nét",
        "vietnamplus": "việt nam plus",
        "phapluat": "pháp luật",
        "tintuc": "tin tức",
        "hotro": "hỗ trợ",
        "vanphong": "văn phòng",
        "lienhe": "liên hệ",
        "hanoi": "hà nội",
        "hanoimoi": "hà nội mới",
        "danang": "đà nẵng",
        "hochiminhcity": "hồ chí minh xi ti",
        "nongnghiep": "nông nghiệp",
        "giaoduc": "giáo dục",
        "suckhoe": "sức khỏe",
        "baomoi": "báo mới",
        "tiengiang": "tiền giang",
        "camau": "cà mau",
        "cantho": "cần thơ",
        "haiphong": "hải phòng",
    }
)
_ADDRESS_SIGNS = MappingProxyType({".": "chấm", "@": "a còng", "-": "gạch ngang"})
_SCHEME = re.compile(r"^(?:https?://)?(?:www\.)?", re.IGNORECASE)
_PLAIN_NUCLEI = {strip_marks(nucleus) for nucleus in NUCLEI}
# A nucleus ending in a glide closes its syllable: "tuoi" (tươi), never "tuoit".
_OPEN_NUCLEI = {n for n in _PLAIN_NUCLEI if len(n) > 1 and n[-1] in "iyou"} - {"uy", "oo", "uo"}


def _alternatives(nuclei: set[str]) -> str:
    return "|".join(sorted(nuclei, key=len, reverse=True))


_CONSONANTS = re.compile(r"[b-df-hj-np-tv-xz]{1,4}")
_PLAIN_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    rf"(?:(?:{_alternatives(_OPEN_NUCLEI)})"
    rf"|(?:{_alternatives(_PLAIN_NUCLEI - _OPEN_NUCLEI)})(?:ch|ng|nh|[cmnpt])?)"
)


def _syllables(label: str) -> list[str] | None:
    """ "dichvucong" -> ["dich", "vu", "cong"]: a name written as unaccented syllables,
    site words ("tv") and short runs of consonants to spell ("ubndphuong" -> "u", "bnd",
    "phuong"). The fewest runs to spell first, then the fewest pieces, then the fewest
    pieces starting with a vowel ("dich vu cong", not "dich vuc ong"); None if it cannot
    be split. Known site words count as one piece: "quochoitv" -> "quốc hội ti vi"."""
    best: list[tuple[int, int, int, list[str]] | None] = [None] * (len(label) + 1)
    best[len(label)] = (0, 0, 0, [])
    for start in range(len(label) - 1, -1, -1):
        for end in range(start + 1, len(label) + 1):
            rest, piece = best[end], label[start:end]
            if rest is None:
                continue
            known = piece in _ADDRESS_WORDS or piece in _SITE_WORDS
            spelled = not known and _CONSONANTS.fullmatch(piece) is not None
            if not (known or spelled or _PLAIN_SYLLABLE.fullmatch(piece)):
                continue
            cost = (
                rest[0] + spelled,
                rest[1] + 1,
                rest[2] + (piece[0] in "aeiouy"),
                [piece, *rest[3]],
            )
            current = best[start]
            if current is None or cost[:3] < current[:3]:
                best[start] = cost
    found = best[0]
    return None if found is None else found[3]


def _address_piece(piece: str) -> str:
    known = _ADDRESS_WORDS.get(piece) or _SITE_WORDS.get(piece)
    if known:
        return known
    return spell(piece) if _CONSONANTS.fullmatch(piece) else piece


def _address_word(part: str, lexicon: Lexicon) -> str:
    lower = part.lower()
    known = _ADDRESS_WORDS.get(lower) or _SITE_WORDS.get(lower) or lexicon.lookup(part)
    if known:
        return known
    if part.isupper() or len(part) <= 3:
        return spell(part)
    syllables = _syllables(lower)
    if syllables is not None and len(syllables) > 1:
        return " ".join(_address_piece(piece) for piece in syllables)
    if is_vietnamese_syllable(part) or is_pronounceable(part):
        return lower
    return spell(part)


def read_address(address: str, lexicon: Lexicon) -> str:
    """Web or e-mail address, as its site: "https://dichvucong.gov.vn/p/home" ->
    "dịch vụ công chấm gốp chấm vê en"; "VOV.VN" -> "vê o vê chấm vê en".

    What follows the site (the path of a page) is not read: nobody can note it down from
    a loudspeaker, and the site is what a listener needs to find the page.
    """
    site = _SCHEME.sub("", address).split("/", 1)[0]
    words: list[str] = []
    for part in _ADDRESS_PART.findall(site):
        if part.isdigit():
            words.append(read_digits(part))
        elif part.isalpha():
            words.append(_address_word(part, lexicon))
        elif part in _ADDRESS_SIGNS:
            words.append(_ADDRESS_SIGNS[part])
    return " ".join(words)
