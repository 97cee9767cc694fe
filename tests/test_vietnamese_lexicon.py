"""Tests for Lexicon, default_lexicon and the operators' lexicon.yaml format."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from broadcast.vietnamese import (
    Lexicon,
    LexiconEntry,
    LexiconError,
    default_lexicon,
    load_lexicon,
    to_spoken,
)

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str, name: str = "lexicon.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_default_lexicon_is_generous() -> None:
    lexicon = default_lexicon()
    assert len(lexicon) >= 150
    for written in ("UBND", "HĐND", "MTTQ", "ATVSLĐ", "BHXH", "PCCC", "THCS", "KCN", "đ/c"):
        assert lexicon.lookup(written), written
    assert lexicon.lookup("Covid") == "cô vít"
    assert lexicon.lookup("ZALO") == "da lô"


def test_default_lexicon_is_shared_and_immutable() -> None:
    lexicon = default_lexicon()
    assert default_lexicon() is lexicon
    with pytest.raises(dataclasses.FrozenInstanceError):
        lexicon.entries = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        lexicon.entries[0].spoken = "x"  # type: ignore[misc]


def test_all_caps_entries_are_case_sensitive_by_default() -> None:
    lexicon = Lexicon.from_mapping({"UBND": "Ủy ban nhân dân", "Zalo": "da lô"})
    assert to_spoken("UBND phường", lexicon) == "Ủy ban nhân dân phường"
    assert to_spoken("Ubnd phường", lexicon) == "Ubnd phường"
    assert to_spoken("qua ZALO, zalo và Zalo", lexicon) == "qua Da lô, da lô và Da lô"


def test_whole_word_entries_do_not_match_inside_words() -> None:
    lexicon = Lexicon.from_mapping({"KP": "khu phố"})
    assert to_spoken("KP 3 và KPX", lexicon) == "khu phố ba và ca pê ích"


@pytest.mark.parametrize(
    ("ward", "text", "spoken"),
    [
        ("KT: kế toán", "phát triển KT-XH", "phát triển kinh tế, xã hội"),
        ("KP: khu phố", "12 KPVH", "mười hai khu phố văn hóa"),
        ("Kp: khu phố", "các KPVH", "các khu phố văn hóa"),
        ("BCH: ban chấp hành", "BCH Quân sự phường", "Ban Chỉ huy Quân sự phường"),
        ("TN: thanh niên", "Bộ phận TN&TKQ", "Bộ phận tiếp nhận và trả kết quả"),
        ("LĐ: lãnh đạo", "Sở LĐ-TBXH", "Sở Lao động, Thương binh và Xã hội"),
    ],
)
def test_a_short_ward_entry_never_fires_inside_a_longer_abbreviation(
    tmp_path: Path, ward: str, text: str, spoken: str
) -> None:
    lexicon = default_lexicon().merged(load_lexicon(write(tmp_path, f"entries:\n  {ward}\n")))
    assert to_spoken(text, lexicon) == spoken


def test_entries_matching_anywhere(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "entries:\n  Pắk:\n    say: pắc\n    whole_word: false\n",
    )
    lexicon = load_lexicon(path)
    assert to_spoken("huyện KrôngPắk", lexicon) == "huyện Krông Pắc"
    assert to_spoken("huyện Krông Pắk", Lexicon.from_mapping({"Pắk": "pắc"})) == "huyện Krông Pắc"


def test_project_file_overrides_default(tmp_path: Path) -> None:
    path = write(tmp_path, "entries:\n  TT: thị trấn\n  Zalo: za lô\n  Xuân Hương: Xuân Hương\n")
    lexicon = default_lexicon().merged(load_lexicon(path))
    assert to_spoken("TT Liên Nghĩa", default_lexicon()) == "trung tâm Liên Nghĩa"
    assert to_spoken("TT Liên Nghĩa", lexicon) == "thị trấn Liên Nghĩa"
    assert to_spoken("nhóm Zalo", lexicon) == "nhóm Za lô"
    assert to_spoken("UBND phường", lexicon) == "Ủy ban nhân dân phường"


def test_merged_returns_a_new_lexicon() -> None:
    base = Lexicon.from_mapping({"KP": "khu phố"})
    override = Lexicon.from_mapping({"KP": "khối phố", "TDP": "tổ dân phố"})
    merged = base.merged(override)
    assert merged.lookup("KP") == "khối phố"
    assert merged.lookup("TDP") == "tổ dân phố"
    assert base.lookup("KP") == "khu phố"
    assert base.lookup("TDP") is None


def test_override_ignores_case_when_replacing() -> None:
    base = Lexicon.from_mapping({"Zalo": "da lô"})
    merged = base.merged(Lexicon((LexiconEntry("ZALO", "za lô", case_sensitive=True),)))
    assert len(merged) == 1
    assert to_spoken("ZALO và Zalo", merged) == "za lô và Zalo"


def test_old_and_new_tone_placement_match_the_same_entry() -> None:
    lexicon = Lexicon.from_mapping({"Hoà Khánh": "Hòa Khánh bắc"})
    assert to_spoken("phường Hòa Khánh", lexicon) == "phường Hòa Khánh bắc"
    assert to_spoken("phường Hoà Khánh", lexicon) == "phường Hòa Khánh bắc"


def test_multi_word_and_punctuated_entries() -> None:
    lexicon = Lexicon.from_mapping({"Lưu: VT": "lưu văn thư", "P.Xuân Hương": "phường Xuân Hương"})
    assert to_spoken("Lưu: VT", lexicon) == "Lưu văn thư"
    assert to_spoken("tại P.Xuân Hương", lexicon) == "tại Phường Xuân Hương"


def test_long_form_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "entries:\n"
        "  lô:\n"
        "    say: lô đất\n"
        "    case_sensitive: yes\n"
        "  BQL: {say: ban quản lý, case_sensitive: false}\n",
    )
    lexicon = load_lexicon(path)
    assert to_spoken("lô A và Lô B", lexicon) == "lô đất A và Lô bê"
    assert to_spoken("bql chợ", lexicon) == "ban quản lý chợ"


def test_top_level_mapping_without_entries_section(tmp_path: Path) -> None:
    path = write(tmp_path, "# từ của phường\nXH: Xuân Hương\n")
    assert load_lexicon(path).lookup("XH") == "Xuân Hương"


def test_empty_file_is_an_empty_lexicon(tmp_path: Path) -> None:
    assert len(load_lexicon(write(tmp_path, ""))) == 0
    assert len(load_lexicon(write(tmp_path, "entries:\n", "b.yaml"))) == 0


def test_numbers_and_leading_zeros_as_written_forms(tmp_path: Path) -> None:
    path = write(tmp_path, "entries:\n  0263: mã vùng Lâm Đồng\n  2: hai\n")
    lexicon = load_lexicon(path)
    assert lexicon.lookup("0263") == "mã vùng Lâm Đồng"


def test_file_in_windows_code_page_and_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_bytes("\ufeffentries:\n  XH: Xuân Hương\n".encode())
    assert load_lexicon(path).lookup("XH") == "Xuân Hương"


@pytest.mark.parametrize(
    ("text", "line", "column", "hint"),
    [
        ("entries:\n  UBND: Ủy ban\n\tTDP: tổ\n", 3, 1, "spaces, not tabs"),
        ("entries:\n  Lưu: VT: văn thư\n", 2, 10, "quotes"),
        ("entries:\n  UBND:\n", 2, 8, "no spoken form"),
        ("entries:\n  KP: khu phố\n  KP: khối phố\n", 3, 3, "listed twice (also on line 2)"),
        ("entries:\n  KP:\n    say: khu phố\n    loud: yes\n", 4, 5, "unknown option 'loud'"),
        ("entries:\n  KP:\n    whole_word: true\n", 3, 5, "needs a 'say:'"),
        ("entries:\n  KP: {say: khu phố, whole_word: maybe}\n", 2, 34, "true or false"),
        ("entries:\n  TDP: tổ 5\n", 2, 8, "numbers in words"),
        ("- UBND\n- HĐND\n", 1, 1, "WRITTEN: spoken"),
        ("entries:\n  - UBND\n", 2, 3, "indented"),
        ("entries:\n  UBND: Ủy ban\nwords:\n  KP: khu phố\n", 3, 1, "unknown section 'words'"),
        ("entries:\n  [UBND]: Ủy ban\n", 2, 3, "plain text"),
    ],
)
def test_errors_name_file_line_and_column(
    tmp_path: Path, text: str, line: int, column: int, hint: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(LexiconError) as caught:
        load_lexicon(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}:{column}: "), message
    assert hint in message


def test_missing_file_is_a_lexicon_error(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="file not found"):
        load_lexicon(tmp_path / "missing.yaml")


def test_binary_file_is_a_lexicon_error(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_bytes(b"\x00\x01\x02PK\x03\x04")
    with pytest.raises(LexiconError, match=r"lexicon\.yaml"):
        load_lexicon(path)


def test_a_huge_lexicon_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yaml"
    entry = "  - written: UBND\n    spoken: ủy ban nhân dân\n"
    path.write_text("entries:\n" + entry * 20_000, encoding="utf-8")
    with pytest.raises(LexiconError, match=r"the lexicon is larger than 256 kB, far more than a "
                                           r"ward's own words"):
        load_lexicon(path)


def test_sample_project_lexicon_loads_and_overrides() -> None:
    lexicon = default_lexicon().merged(load_lexicon(REPO / "lexicon.yaml"))
    assert len(lexicon) > len(default_lexicon())


def test_entry_without_written_form_is_refused() -> None:
    with pytest.raises(ValueError):
        LexiconEntry("  ", "gì đó")
