"""Script files: header parsing, approval, content hash, encodings."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from broadcast.bulletin import BulletinError, load_bulletin, parse_bulletin, require_approved
from tests.conftest import broadcast_cli

GOOD = """---
title: Thông báo lịch cắt nước
category: thông báo
author: Lê Thị Mai
approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường
approved_on: 2026-06-02
tags: [nuoc, thong-bao]
---

Kính thưa bà con nhân dân!

Từ 7h30 đến 11h00 ngày 5/6/2026, khu phố 2 tạm ngừng cấp nước.
Xin bà con chủ động trữ nước.
"""


def test_parses_header_and_paragraphs(tmp_path: Path) -> None:
    bulletin = parse_bulletin(GOOD, tmp_path / "cat-nuoc.md")
    assert bulletin.title == "Thông báo lịch cắt nước"
    assert bulletin.category == "thông báo"
    assert bulletin.approved_by == "Trần Văn Minh, Phó Chủ tịch UBND phường"
    assert bulletin.approved_on is not None and bulletin.approved_on.isoformat() == "2026-06-02"
    assert bulletin.tags == ("nuoc", "thong-bao")
    assert bulletin.paragraphs == (
        "Kính thưa bà con nhân dân!",
        "Từ 7h30 đến 11h00 ngày 5/6/2026, khu phố 2 tạm ngừng cấp nước.\n"
        "Xin bà con chủ động trữ nước.",
    )
    assert bulletin.content_hash.startswith("sha256:")


def test_unapproved_script_is_refused_with_what_to_do(tmp_path: Path) -> None:
    text = GOOD.replace("approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường\n", "")
    bulletin = parse_bulletin(text, tmp_path / "x.md")
    with pytest.raises(BulletinError) as caught:
        require_approved(bulletin)
    assert "not approved" in str(caught.value)
    assert "approved_by" in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "x.md"))


@pytest.mark.parametrize("value", ["no", "false", "0", "[]"])
def test_approval_that_is_not_a_name_is_refused(tmp_path: Path, value: str) -> None:
    text = GOOD.replace("approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường",
                        f"approved_by: {value}")
    with pytest.raises(BulletinError, match="approved_by must be the approver's name"):
        parse_bulletin(text, tmp_path / "x.md")


def test_blank_approval_counts_as_unapproved(tmp_path: Path) -> None:
    text = GOOD.replace("approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường", "approved_by: ")
    with pytest.raises(BulletinError, match="not approved"):
        require_approved(parse_bulletin(text, tmp_path / "x.md"))


def test_hash_ignores_line_endings_and_unicode_form_but_not_words(tmp_path: Path) -> None:
    base = parse_bulletin(GOOD, tmp_path / "a.md").content_hash
    crlf = parse_bulletin(GOOD.replace("\n", "\r\n"), tmp_path / "a.md").content_hash
    nfd = parse_bulletin(unicodedata.normalize("NFD", GOOD), tmp_path / "a.md").content_hash
    trailing = parse_bulletin(GOOD.replace("nước.\n", "nước.   \n"), tmp_path / "a.md")
    edited = parse_bulletin(GOOD.replace("11h00", "11h30"), tmp_path / "a.md").content_hash
    assert base == crlf == nfd == trailing.content_hash
    assert edited != base


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("title: x\n---\nbody\n", 1, 1, "must start with a '---'"),
        ("---\ntitle: x\nbody\n", 1, 1, "not closed"),
        ("---\ntitle: [unclosed\n---\nbody\n", 2, 17, "name: value"),
        ("---\ncategory: bản tin\napproved_by: A\n---\nbody\n", 2, 1, "no 'title'"),
        ("---\ntitle: x\ncategory: tin vặt\n---\nbody\n", 3, 1, "category 'tin vặt'"),
        ("---\ntitle: x\napproved_on: hôm qua\n---\nbody\n", 3, 1, "YYYY-MM-DD"),
        ("---\ntitle: !!timestamp x\n---\nbody\n", 2, 8,
         "'x' cannot be read as !!timestamp. Remove the tag and write the plain value."),
        ("---\ntitle: x\napproved_on: 2099-01-01\n---\nbody\n", 3, 1,
         "approved_on 2099-01-01 is in the future. Write the day the script was approved"),
        ("---\ntitle: x\n---\n\n\n", 4, 1, "no text"),
    ],
)
def test_header_errors_name_line_and_column(
    tmp_path: Path, text: str, line: int, column: int, words: str
) -> None:
    path = tmp_path / "bad.md"
    with pytest.raises(BulletinError) as caught:
        parse_bulletin(text, path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}:{column}: ")
    assert words in message


def test_every_header_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    text = ("---\nauthor: Lê Thị Mai\ncategory: tin vặt\napproved_by: Trần Văn Minh\n"
            "approved_on: hôm qua\n---\nbody\n")
    with pytest.raises(BulletinError) as caught:
        parse_bulletin(text, path)
    problems = [str(problem) for problem in caught.value.problems]
    assert len(problems) == 3
    assert problems[0].startswith(f"{path}:2:1: ") and "no 'title'" in problems[0]
    assert problems[1].startswith(f"{path}:3:1: ") and "category 'tin vặt'" in problems[1]
    assert problems[2].startswith(f"{path}:5:1: ") and "YYYY-MM-DD" in problems[2]
    assert str(caught.value) == "\n".join(["script has 3 problems:",
                                           *(f"  {problem}" for problem in problems)])


def test_header_problems_point_at_their_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    with pytest.raises(BulletinError) as caught:
        parse_bulletin("---\ntitle: x\n  tags: [a, 1]\n---\nbody\n", path)
    assert str(caught.value).startswith(f"{path}:3:7: ")
    assert "name: value" in str(caught.value)
    nested = "---\ntitle: x\ntags: [a, [b]]\nauthor: {name: A}\n---\n\n"
    with pytest.raises(BulletinError) as caught:
        parse_bulletin(nested, path)
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:3:1: tags must be a list of words, for example: tags: [atvsld, suc-khoe].",
        f"{path}:4:1: 'author' must be plain text.",
        f"{path}:6:1: the script has no text after the header. Write the bulletin below the "
        "second '---'.",
    ]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BulletinError, match="script file not found"):
        load_bulletin(tmp_path / "nope.md")


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def windows_1258(text: str) -> bytes:
    """Encode as Windows-1258 does: vowel letters precomposed, tone marks combining."""
    out = []
    for char in text:
        try:
            char.encode("cp1258")
            out.append(char)
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
            out.append(base + "".join(c for c in parts if c in _TONE_MARKS))
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1258"])
def test_reads_files_saved_by_common_editors(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"{encoding}.md"
    path.write_bytes(windows_1258(GOOD) if encoding == "cp1258" else GOOD.encode(encoding))
    bulletin = load_bulletin(path)
    assert bulletin.title == "Thông báo lịch cắt nước"
    assert bulletin.content_hash == parse_bulletin(GOOD, path).content_hash


def test_binary_junk_is_refused_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "junk.md"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(BulletinError):
        load_bulletin(path)


def test_sample_scripts_are_approved_and_sized_for_air(sample_scripts: list[Path]) -> None:
    assert len(sample_scripts) >= 6
    for path in sample_scripts:
        bulletin = load_bulletin(path)
        require_approved(bulletin)
        words = len(bulletin.body.split())
        assert 120 <= words <= 650, f"{path.name}: {words} words is not 1-4 minutes of speech"


def test_the_approval_date_may_be_written_as_offices_write_it(tmp_path: Path) -> None:
    text = "---\ntitle: x\napproved_by: Trần Văn Minh\napproved_on: 02/06/2026\n---\nbody\n"
    bulletin = parse_bulletin(text, tmp_path / "a.md")
    assert bulletin.approved_on is not None and bulletin.approved_on.isoformat() == "2026-06-02"


def test_normalize_previews_a_script_as_it_will_air_without_its_header(tmp_path: Path) -> None:
    script = tmp_path / "thong-bao.md"
    script.write_text("---\ntitle: Cắt điện ngày 6/6\napproved_by: Trần Văn Minh\n---\n\n"
                      "Sáng 6/6, khu phố 2 cắt điện.\n\nXin cảm ơn bà con.\n", encoding="utf-8")
    previewed = broadcast_cli("normalize", str(script))
    assert previewed.returncode == 0, previewed.stderr
    assert previewed.stdout.splitlines() == [
        "Sáng ngày sáu tháng sáu, khu phố hai cắt điện.", "", "Xin cảm ơn bà con."]
