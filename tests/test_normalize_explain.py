"""`broadcast normalize --explain` and the words `broadcast check` says will be spelled, as an
approver and an operator see them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from broadcast.vietnamese import explain, to_spoken
from tests.conftest import SCRIPTS, broadcast_cli
from tests.test_schedule_commands import DAILY
from tests.test_vietnamese_normalize import ALL_CASES

LINE = ("Gọi 0263.3822.555 trước 7g30 ngày 5/12, Sở GTVT và bà QXZW, xem dichvucong.gov.vn, "
        "hoặc trang bocongan")
_SPAN = re.compile(r"  (?P<mark>[! ]) (?P<kind>\S+(?: \S+)?) +(?P<source>\S+) → "
                   r"(?P<spoken>[^()]*?)(?: \((?P<detail>[^()]*)\))?")


@dataclass(frozen=True)
class Shown:
    """One part of a line as --explain shows it."""

    flagged: bool
    kind: str
    spoken: str
    detail: str | None


def shown_parts(output: str) -> dict[str, Shown]:
    parts: dict[str, Shown] = {}
    for line in output.splitlines():
        match = _SPAN.fullmatch(line)
        if match is not None:
            parts[match["source"]] = Shown(match["mark"] == "!", match["kind"], match["spoken"],
                                           match["detail"])
    return parts


def test_explain_shows_each_line_what_is_said_and_how_its_parts_are_read() -> None:
    result = broadcast_cli("normalize", "--explain", "-", input=LINE + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == LINE
    assert lines[1] == "  → " + to_spoken(LINE).split("\n")[0]
    parts = shown_parts(result.stdout)
    assert parts["0263.3822.555"] == Shown(
        False, "phone", "không hai sáu ba, ba tám hai hai, năm năm năm", None)
    assert parts["7g30"] == Shown(False, "time", "bảy giờ ba mươi phút", None)
    assert parts["5/12"] == Shown(False, "date", "năm tháng mười hai", None)
    assert parts["QXZW"].flagged and parts["QXZW"].kind == "spelled"
    assert (parts["GTVT"].kind, parts["GTVT"].detail) == ("abbreviation", "built-in list")
    assert not parts["GTVT"].flagged
    assert parts["dichvucong.gov.vn"].kind == "web address"
    assert parts["bocongan"] == Shown(True, "as written", "bocongan",
                                      "not a Vietnamese word: read as it is")
    # Ordinary words and punctuation are not listed.
    assert set(parts) == {"0263.3822.555", "7g30", "5/12", "GTVT", "QXZW", "dichvucong.gov.vn",
                          "bocongan"}
    assert "! marks words spelled letter by letter or read as written" in lines[-1]


def test_explain_says_which_abbreviations_come_from_the_wards_lexicon(tmp_path: Path) -> None:
    (tmp_path / "tu-dien.yaml").write_text("entries:\n  KPVH: khu phố văn hóa\n",
                                           encoding="utf-8")
    (tmp_path / "lexicon.yaml").write_text("QXZW: quy ích\n", encoding="utf-8")
    text = "Họp tại KPVH, mời ông QXZW và UBND.\n"
    given = broadcast_cli("normalize", "--explain", "--lexicon", str(tmp_path / "tu-dien.yaml"),
                          "-", input=text)
    assert given.returncode == 0, given.stderr
    parts = shown_parts(given.stdout)
    assert parts["KPVH"] == Shown(False, "abbreviation", "khu phố văn hóa", "ward lexicon")
    assert parts["UBND"].detail == "built-in list"
    assert parts["QXZW"].flagged
    # Without --lexicon, the lexicon.yaml of the current folder is the ward's, as when reading.
    found = broadcast_cli("normalize", "--explain", "-", input="Mời ông QXZW và UBND.\n",
                          cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    parts = shown_parts(found.stdout)
    assert parts["QXZW"] == Shown(False, "abbreviation", "quy ích", "ward lexicon")
    assert parts["UBND"].detail == "built-in list"
    assert "! marks" not in found.stdout


def test_explain_shows_only_the_body_of_a_script(tmp_path: Path) -> None:
    script = tmp_path / "thong-bao.md"
    script.write_text("---\ntitle: Cắt điện ngày 6/6\napproved_by: Trần Văn Minh\n---\n\n"
                      "Sáng 6/6, khu phố 2 cắt điện.\n\nXin cảm ơn bà con.\n", encoding="utf-8")
    result = broadcast_cli("normalize", "--explain", str(script))
    assert result.returncode == 0, result.stderr
    assert "title" not in result.stdout and "Trần Văn Minh" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Sáng 6/6, khu phố 2 cắt điện.",
                         "  → Sáng ngày sáu tháng sáu, khu phố hai cắt điện."]
    assert shown_parts(result.stdout)["6/6"].kind == "date"
    assert lines[-2:] == ["Xin cảm ơn bà con.", "  → Xin cảm ơn bà con."]


def test_explain_and_chunks_are_not_asked_for_together() -> None:
    result = broadcast_cli("normalize", "--explain", "--chunks", "-", input="Xin chào.\n")
    assert result.returncode == 2
    assert "use --chunks or --explain, not both." in result.stderr


def test_the_explanation_comes_from_the_same_reading_as_the_spoken_text() -> None:
    texts = [path.read_text(encoding="utf-8") for path in sorted(SCRIPTS.glob("*.md"))]
    for text in texts + [source for _, source, _ in ALL_CASES]:
        explained = explain(text)
        assert [line.text for line in explained] == text.splitlines()
        spoken = "\n".join(line.spoken for line in explained)
        assert spoken == to_spoken(text).removesuffix("\n"), text


def test_check_names_the_words_a_script_will_spell_and_still_passes(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / "tin.md"
    script.write_text("---\ntitle: Tin\napproved_by: Trần Văn Minh, Phó Chủ tịch UBND phường\n"
                      "---\n\nKính thưa bà con! Đoàn QXZW và UBND phường làm vệ sinh.\n"
                      "Hội QXZW và nhóm BQKX cùng tham gia.\n", encoding="utf-8")
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(DAILY, encoding="utf-8")
    result = broadcast_cli("check", "--schedule", str(schedule), "--days", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: ")
    notes = [line for line in result.stderr.splitlines() if line.startswith("Note:")]
    assert notes == [f"Note: {script}: will be spelled letter by letter: QXZW, BQKX. Add them "
                     "to lexicon.yaml if they have a spoken form."]
