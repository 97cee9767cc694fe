"""Tests for decode_text: the encodings ward computers produce, and junk."""

from __future__ import annotations

import codecs
import unicodedata

import pytest

from broadcast.vietnamese import TextDecodingError, decode_text

SAMPLE = "Thông báo: lịch cúp nước ngày 7/8 tại khu phố Hòa Bình \u2013 bà con chú ý khỏe mạnh.\n"
TONES = "\u0300\u0301\u0303\u0309\u0323"


def cp1258_bytes(text: str) -> bytes:
    """What Windows-1258 editors save: base letters plus combining tone marks."""
    pieces = []
    for char in text:
        decomposed = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONES))
        pieces.append(base + "".join(c for c in decomposed if c in TONES))
    return "".join(pieces).encode("cp1258")


@pytest.mark.parametrize(
    "data",
    [
        SAMPLE.encode("utf-8"),
        codecs.BOM_UTF8 + SAMPLE.encode("utf-8"),
        codecs.BOM_UTF16_LE + SAMPLE.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + SAMPLE.encode("utf-16-be"),
        codecs.BOM_UTF32_LE + SAMPLE.encode("utf-32-le"),
        cp1258_bytes(SAMPLE),
        unicodedata.normalize("NFD", SAMPLE).encode("utf-8"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "utf-32-le", "cp1258", "utf-8-nfd"],
)
def test_decodes_to_nfc_text(data: bytes) -> None:
    text = decode_text(data)
    assert text == SAMPLE
    assert unicodedata.is_normalized("NFC", text)


def test_cp1258_really_differs_from_utf8() -> None:
    data = cp1258_bytes(SAMPLE)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_windows_line_endings_are_kept() -> None:
    assert decode_text(b"a\r\nb") == "a\r\nb"


def test_empty_bytes_are_empty_text() -> None:
    assert decode_text(b"") == ""
    assert decode_text(codecs.BOM_UTF8) == ""


def test_bytearray_and_memoryview_are_accepted() -> None:
    assert decode_text(bytearray(b"abc")) == "abc"
    assert decode_text(memoryview(b"abc")) == "abc"


@pytest.mark.parametrize(
    "junk",
    [
        bytes(range(256)),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"PK\x03\x04\x14\x00\x06\x00",
        b"\x01\x02\x03\x04\x05\x06\x07\x08" * 20,
        b"ID3\x04\x00\x00\x00\x00\x00#TSSE",
        codecs.BOM_UTF16_LE + b"\x00\xd8",
    ],
    ids=["all-bytes", "png", "zip", "control-bytes", "mp3", "broken-utf16"],
)
def test_binary_junk_is_a_clear_error(junk: bytes) -> None:
    with pytest.raises(TextDecodingError) as caught:
        decode_text(junk)
    assert isinstance(caught.value, ValueError)
    assert "UTF-8" in str(caught.value)


def test_a_stray_control_character_is_tolerated() -> None:
    assert decode_text(b"Th\x07ng b\xc3\xa1o") == "Th\x07ng báo"


def test_not_bytes_is_a_decoding_error() -> None:
    with pytest.raises(TextDecodingError):
        decode_text("already text")  # type: ignore[arg-type]


VNI = "Kính thöa baø con! Phöôøng Taân Ñònh thoâng baùo: ñöôøng daây noùng cuûa phöôøng."
TCVN3 = ("KÝnh th\u00ada bµ con! Ph\u00adêng T©n §Þnh th«ng b\u00b8o: ®\u00adêng d©y nãng "
         "cña ph\u00adêng.")


@pytest.mark.parametrize(("typed", "name", "word"), [
    (VNI, "VNI", "thöa"), (TCVN3, "TCVN3", "bµ")])
def test_a_legacy_encoded_script_is_refused_with_how_to_convert_it(
        typed: str, name: str, word: str) -> None:
    """VNI and TCVN3 files read as Windows text decode without error, and would air as
    gibberish: they are refused, naming the encoding and how to convert."""
    with pytest.raises(TextDecodingError) as caught:
        decode_text(typed.encode("cp1252"))
    assert str(caught.value) == (
        f"The file looks like Vietnamese typed in the old {name} encoding (words such as "
        f"'{word}'), which would be read aloud as gibberish. Convert it to Unicode, e.g. with "
        f"Unikey's converter ({name} to Unicode), then save it as UTF-8.")


@pytest.mark.parametrize("text", [
    "Kính thưa bà con! Phường Tân Định thông báo: đường dây nóng của phường.",
    "Đoàn công tác của ông Müller (CHLB Đức) và bà Zoë thăm phường.",
    "Meeting notes in English, with a café and a naïve plan.",
])
def test_vietnamese_and_latin_text_with_a_few_foreign_letters_is_kept(text: str) -> None:
    assert decode_text(text.encode("utf-8")) == text


def test_signs_standing_alone_are_not_taken_for_a_legacy_encoding() -> None:
    text = ("Kính thưa bà con! «Ngày hội» của «phường» và «tổ dân phố», diện tích 20\u00d740m, "
            "© 2026, § 3, giá 50.000đ · 70.000đ.")
    assert decode_text(text.encode("utf-8")) == text
