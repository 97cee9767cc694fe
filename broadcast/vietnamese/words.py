"""Word lists the reader of bulletin text consults: unit names, abbreviations, context words."""

from __future__ import annotations

from types import MappingProxyType

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
        "MB": "mê ga bai",
        "GB": "gi ga bai",
        "KB": "ki lô bai",
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


# --- places and titles ---------------------------------------------------------------

PLACE_ABBREVIATIONS = MappingProxyType(
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
ACTING = MappingProxyType({"P": "phó", "Q": "quyền"})
OFFICES = MappingProxyType({"P": "phòng"})
OFFICE_WORDS = frozenset({"chủ", "giám", "trưởng", "bí", "chánh", "hiệu", "tổng", "viện"})
# Roads numbered after a dot: "ĐT.725" đường tỉnh bảy trăm hai mươi lăm.
ROADS = MappingProxyType(
    {"QL": "quốc lộ", "ĐT": "đường tỉnh", "ĐH": "đường huyện", "TL": "tỉnh lộ"}
)
# Words before a name: "Ông Nguyễn V. Hùng".
HONORIFICS = frozenset({"ông", "bà", "anh", "chị", "em", "cháu", "cô", "chú", "bác", "bé"})
# Abbreviations whose dot is no pause before what they name: "BS. Nguyễn Văn Minh",
# "PGS.TS. Trần Bình", "ĐT. 0912 345 678".
DOTTED_TITLES = frozenset(
    {"GS", "PGS", "TS", "ThS", "BS", "KS", "NSND", "NSƯT", "TT", "ĐT", "SĐT"}
)

# --- context words ---------------------------------------------------------------------

DAY_WORDS = frozenset({"ngày", "mùng", "mồng"})
NO_DAY_WORD = frozenset({"ngày", "mùng", "mồng", "hôm"})
DATE_PREV = frozenset(
    {
        "ngày", "mùng", "mồng", "hôm", "sáng", "chiều", "tối", "trưa", "đêm", "từ", "đến",
        "tới", "trước", "sau", "vào", "nay", "lúc", "hạn",
    }
)
# A day and month joined by a dash ("20-10") right after these words is a date.
# Words before a day and month written with a dot: "Sáng 14.4", "lễ 30.4", "hôm nay 15.10".
DOT_DATE_PREV = frozenset(
    {"ngày", "mùng", "mồng", "sáng", "trưa", "chiều", "tối", "đêm", "khuya", "sớm", "lễ", "nay"}
)
DASH_DATE_PREV = frozenset(
    {"sáng", "trưa", "chiều", "tối", "đêm", "hôm", "ngày", "mùng", "mồng", "sớm", "khuya"}
)
TIME_OF_DAY = frozenset({"sáng", "trưa", "chiều", "tối", "đêm", "khuya", "nay", "tới", "này"})
# Words before an amount that changes or spreads: "dao động 6.8-7.2", "tăng thêm 1.2-1.8".
SPREAD_WORDS = frozenset({"động", "thêm", "tăng", "giảm", "khoảng", "từ", "đạt", "chừng"})
# Words before an amount: "có 113 chiến sĩ", "gồm 112 hộ" (not a number to call).
AMOUNT_PREV = frozenset(
    {"có", "gồm", "với", "được", "khoảng", "hơn", "gần", "tổng", "trên", "dưới", "thêm", "còn"}
)
# A number at the start of a line before these is a count or a date, not a heading number.
HEADING_NUMBER_NOT_BEFORE = frozenset({"tháng", "năm", "ngày", "giờ", "phút", "tuổi"})
# Words before a day and month in brackets ("Sáng nay (6-11)"): a time of day or a weekday.
BRACKETED_DATE_PREV = frozenset(
    {"nay", "qua", "mai", "sáng", "trưa", "chiều", "tối", "đêm", "hai", "ba", "tư", "năm",
     "sáu", "bảy", "nhật", "cn"}
)
# Words before an hour written "21g" (giờ, not gam): "đến 21g", "lúc 22g", "từ 5g".
HOUR_PREV = frozenset({"lúc", "từ", "đến", "tới", "trước", "sau", "vào"})
# Words that put an anniversary in the clause: "Quốc khánh 2-9", "Ngày Quốc tế Lao động 1-5".
EVENT_WORDS = frozenset({"lễ", "dịp", "khánh", "niệm", "mừng", "tết"})
SCORE_WORDS = frozenset({"thắng", "thua", "hòa", "trận", "hiệp", "cuộc", "bóng", "đấu"})
STREET_WORDS = frozenset({"đường", "phố"})
ADDRESS_NUMBER_WORDS = frozenset({"số", "nhà", "hẻm", "ngõ", "ngách", "kiệt"})
ADDRESS_WORDS = frozenset(
    {
        "đường", "phố", "ngõ", "hẻm", "ngách", "kiệt", "tổ", "khu", "lô", "ấp", "thôn",
        "xóm", "nhà", "căn", "phòng", "tầng", "quốc", "tỉnh", "phường", "xã", "hộ", "người",
    }
)
SHARE_NEXT = frozenset(
    {"số", "tổng", "diện", "dân", "trong", "lượng", "khối", "quãng", "thời", "kinh", "phần"}
)
RATIO_PREV = frozenset({"đạt", "được", "gồm", "còn", "có", "lệ", "tỷ", "tỉ", "hơn", "gần"})
# Nouns counted by a ratio: "5/7 khu phố", "15/17 tiêu chí".
COUNTED = frozenset(
    {
        "hộ", "người", "khu", "tổ", "xã", "phường", "tiêu", "chỉ", "trường", "đơn", "thôn",
        "ấp", "lớp", "điểm", "cơ", "doanh", "gia", "hồ", "huyện", "tỉnh", "trẻ", "cán",
        "thành", "đội", "câu", "bài", "môn", "nội", "nhiệm", "xe", "nhà", "căn", "ca",
    }
)
YEAR_NUMBER_PREV = frozenset({"số", "quý", "kỳ", "đợt", "khóa", "luật"})
DOC_WORDS = frozenset(
    {
        "quyết", "định", "thông", "báo", "hoạch", "văn", "thị", "nghị", "tư",
        "luật", "bản", "trình", "dẫn", "lệnh",
    }
)
NOT_A_LINE = DOC_WORDS | {"tổng"}
MULTIPLIERS = frozenset({"tỷ", "tỉ", "triệu", "nghìn", "ngàn", "trăm", "vạn"})
ROMAN_PREV = frozenset(
    {
        "phần", "chương", "mục", "khóa", "quý", "tập", "hội", "kỷ", "thứ", "lần", "cấp",
        "loại", "hạng", "đợt", "đoạn", "lục", "kỳ", "vòng", "điều", "học", "bậc", "nhóm",
    }
)
HOTLINE_TRIGGERS = frozenset(
    {
        "gọi", "hotline", "đài", "nóng", "dây", "thoại", "sđt", "đt", "báo", "hệ", "tel",
        "bấm", "gửi", "nhắn",
    }
)
HOTLINE_FILLERS = frozenset({"số", "ngay", "đến", "tới", "là", "khẩn", "cấp", "miễn", "phí"})
LIST_JOINERS = frozenset({",", "hoặc", "và", "/"})
# "CN tuần này", "T2 hàng tuần", "T7, CN": words after a weekday abbreviation.
WEEKDAY_NEXT = frozenset({"ngày", "cn", "tuần", "hàng", "hằng"})
WEEKDAY_NAMES = frozenset({"hai", "ba", "tư", "năm", "sáu", "bảy", "nhật"})
WEEKDAY_PREV = frozenset({"thứ", "sáng", "chiều", "tối", "trưa", "đêm", "vào", "các", "ngày"})
PER_WORDS = frozenset(
    {
        "người", "ngày", "tháng", "năm", "giờ", "tuần", "lượt", "hộ", "lần", "ca", "buổi",
        "khẩu", "suất", "con", "chiếc", "cái", "lít", "mét", "tấn", "km", "kg", "ha", "m2",
        "m3", "phút", "giây", "xe", "hecta", "sào", "công", "thùng", "bao", "gói",
    }
)
# A quantity follows a range: "5-7 ngày", "2-3 lần", "10-12 tuổi".
QUANTITY_WORDS = (
    PER_WORDS
    | COUNTED
    | MULTIPLIERS
    | {"tuổi", "độ", "đồng", "tiếng", "điểm", "phần", "trận", "bàn", "đợt", "vòng"}
)
# Nouns numbered by a range: "tổ 1-3", "lớp 10-1", "chương 2-4".
NUMBERED_NOUNS = ADDRESS_WORDS | ADDRESS_NUMBER_WORDS | ROMAN_PREV | COUNTED | {"bước"}
IDENTIFIER_WORDS = frozenset({"khoản", "mã", "stk", "cccd", "cmnd", "seri", "serial"})
# "số hiệu", "ký hiệu" introduce a code; "hiệu lực", "hiệu quả" do not.
IDENTIFIER_PAIRS = frozenset({("số", "hiệu"), ("ký", "hiệu")})
# The words of a number written out: "07 (bảy)", "(mười lăm)".
NUMBER_WORDS = frozenset(
    {
        "không", "một", "hai", "ba", "bốn", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười",
        "mươi", "mốt", "lăm", "nhăm", "linh", "lẻ", "trăm", "nghìn", "ngàn", "triệu", "tỷ", "tỉ",
    }
)
# What an abbreviation glued to its number may name ("KP3" khu phố ba, "BĐ2" báo động hai):
# places and numbered levels.
GLUED_NUMBERED = ADDRESS_WORDS | {"thị", "quận", "huyện", "lớp", "khóa", "báo", "cấp", "mức"}
