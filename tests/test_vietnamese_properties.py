"""Properties that hold for every input: no digits or symbols, NFC/NFD, lines, safety."""

from __future__ import annotations

import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor

import pytest

from broadcast.vietnamese import to_spoken
from tests.test_vietnamese_normalize import ALL_CASES

FORBIDDEN = re.compile(
    r"[\d*#_|~/\\@&%$+=<>()\[\]{}\"'`^\u2018-\u201f\u2022\u2192\u200b-\u200f\ufeff-]"
)
SOURCES = [source for _, source, _ in ALL_CASES]


def assert_clean(spoken: str) -> None:
    assert FORBIDDEN.search(spoken) is None, FORBIDDEN.search(spoken)
    for char in spoken:
        assert char == "\n" or char == " " or char.isalpha() or char in ".,;:?!", repr(char)
    assert "  " not in spoken
    assert unicodedata.is_normalized("NFC", spoken)


@pytest.mark.parametrize("source", SOURCES, ids=[case_id for case_id, _, _ in ALL_CASES])
def test_no_digits_or_symbols_and_nfd_reads_the_same(source: str) -> None:
    spoken = to_spoken(source)
    assert_clean(spoken)
    assert to_spoken(unicodedata.normalize("NFD", source)) == spoken


def test_reference_document_is_clean_and_keeps_its_lines(reference_text: str) -> None:
    spoken = to_spoken(reference_text)
    assert_clean(spoken)
    assert len(spoken.splitlines()) == len(reference_text.splitlines())
    assert spoken.count("\n") == reference_text.count("\n")
    assert to_spoken(unicodedata.normalize("NFD", reference_text)) == spoken


@pytest.mark.parametrize(
    "phrase",
    [
        "Chỉ thị số ba mươi mốt",
        "ngày mười chín tháng ba năm hai nghìn không trăm hai mươi bốn",
        "Kế hoạch số một trăm mười tám của Tỉnh ủy, ngày hai mươi tháng năm năm hai nghìn "
        "không trăm hai mươi bốn",
        "một, mục đích, yêu cầu",
        "hai, nội dung tuyên truyền",
        "ba, hình thức tuyên truyền",
        "bốn, tổ chức thực hiện",
        "chăm sóc sức khỏe người lao động",
        "phát triển kinh tế, xã hội",
        "Phây búc, Da lô, Diu túp, với tin bài ngắn gọn, vi đê ô, cờ líp",
        "Ủy ban nhân dân thành phố tăng cường",
        "Mặt trận và các đoàn thể chính trị, xã hội Thành phố, thực hiện",
        "Trung tâm Văn hóa, Thông tin và Thể thao Thành phố",
        "Lưu: văn thư, Ban Tuyên giáo Thành ủy.",
        "thay mặt ban thường vụ",
        "phó bí thư",
    ],
)
def test_reference_document_phrases(phrase: str, reference_text: str) -> None:
    assert phrase in to_spoken(reference_text)


@pytest.mark.parametrize(
    "text",
    [
        "KẾ HOẠCH\n\n1. Nội dung\n",
        "a\r\nb\r\n",
        "dòng một\n\n\ndòng bốn",
        "\n\n",
        "Ngày 7/8\n😀\nGọi 114\n",
        "tổ 3\u2028tổ 4",
    ],
)
def test_one_output_line_per_input_line(text: str) -> None:
    spoken = to_spoken(text)
    assert len(spoken.splitlines()) == len(text.splitlines())


def test_empty_and_blank_input() -> None:
    assert to_spoken("") == ""
    assert to_spoken("   ") == ""
    assert to_spoken("\n") == "\n"


@pytest.mark.parametrize(
    "junk",
    [
        "\x00\x01\x02\x03\x04 chữ",
        "".join(chr(code) for code in range(0, 0x3000, 7)),
        "\ud800 lẻ",
        "\x1b[31mđỏ\x1b[0m",
        "(((((((((( ))))))))))",
        "1" * 5000,
        "1." * 3000,
        "-/" * 3000,
        "0" * 40 + "/" + "9" * 40,
    ],
    ids=["controls", "unicode-sweep", "lone-surrogate", "terminal-colours", "brackets",
         "long-number", "dotted-chain", "dash-slash", "huge-fraction"],
)
def test_junk_never_raises_and_never_leaks_symbols(junk: str) -> None:
    assert_clean(to_spoken(junk))


def test_five_megabyte_single_line_completes(reference_text: str) -> None:
    line = " ".join(reference_text.split())
    text = (line + " ") * (5_000_000 // len(line) + 1)
    spoken = to_spoken(text)
    assert "\n" not in spoken
    assert spoken.startswith("kế hoạch")


def test_thread_safe(reference_text: str) -> None:
    texts = [source for source in SOURCES[:200]] + [reference_text] * 5
    expected = [to_spoken(text) for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(to_spoken, texts * 3))
    assert results == expected * 3
