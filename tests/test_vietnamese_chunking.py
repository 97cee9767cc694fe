"""Tests for chunk_spoken: length limit, whole words, order, cut points, balance."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
import yaml

from broadcast.vietnamese import chunk_spoken, to_spoken

DATA = Path(__file__).parent / "data" / "vietnamese"
CASES = yaml.safe_load((DATA / "chunking.yaml").read_text(encoding="utf-8"))


def check_rules(text: str, chunks: list[str], max_chars: int) -> None:
    assert all(0 < len(chunk) <= max_chars for chunk in chunks)
    assert all(chunk == chunk.strip() for chunk in chunks)
    assert " ".join(chunks).split() == text.split()
    words = set(text.split())
    for chunk in chunks:
        assert set(chunk.split()) <= words


@pytest.mark.parametrize(
    "case", CASES, ids=[f"chunking:{i}" for i in range(1, len(CASES) + 1)]
)
def test_chunking_table(case: dict) -> None:
    chunks = chunk_spoken(case["text"], case["max_chars"])
    check_rules(case["text"], chunks, case["max_chars"])
    if "chunks" in case:
        assert chunks == case["chunks"]


def test_never_splits_a_word() -> None:
    text = "an toàn vệ sinh lao động " * 20
    for max_chars in (10, 17, 33, 60, 100):
        chunks = chunk_spoken(text, max_chars)
        check_rules(text, chunks, max_chars)


def test_no_tiny_trailing_piece_when_balance_is_possible() -> None:
    text = (
        "Ủy ban nhân dân phường đề nghị người dân chủ động dọn dẹp vệ sinh "
        "khơi thông cống rãnh quanh nhà để phòng chống dịch sốt xuất huyết"
    )
    assert 100 < len(text) < 140
    chunks = chunk_spoken(text, 100)
    assert len(chunks) == 2
    assert min(len(chunk) for chunk in chunks) >= 25


def test_cuts_at_punctuation_when_available() -> None:
    text = (
        "Từ bảy giờ đến mười một giờ ngày mai, điện lực tạm ngừng cấp điện "
        "tại khu phố ba và khu phố bốn để bảo trì đường dây."
    )
    chunks = chunk_spoken(text, 90)
    assert chunks[0].endswith(",")


def test_sentence_end_wins_over_comma() -> None:
    text = "Bà con chú ý, nước sẽ bị cắt từ tám giờ. Đề nghị các hộ dự trữ nước sinh hoạt."
    chunks = chunk_spoken(text, 45)
    assert chunks == ["Bà con chú ý, nước sẽ bị cắt từ tám giờ.", text.split(". ")[1]]


def test_prefers_cutting_before_function_words() -> None:
    text = "người dân đến trạm y tế phường để được tư vấn miễn phí về dinh dưỡng"
    chunks = chunk_spoken(text, 40)
    check_rules(text, chunks, 40)
    assert chunks[1].split()[0] in {"để", "về", "cho", "và", "của", "với", "tại"}


def test_does_not_split_common_compounds() -> None:
    text = "người dân cần đến trạm y tế để khám sàng lọc bệnh"
    for max_chars in range(30, 50):
        chunks = chunk_spoken(text, max_chars)
        for left, right in pairwise(chunks):
            assert (left.split()[-1], right.split()[0]) != ("sàng", "lọc")


def test_number_words_stay_together() -> None:
    text = "tổng số hộ tham gia là một nghìn hai trăm bốn mươi lăm hộ trên toàn phường"
    chunks = chunk_spoken(text, 50)
    check_rules(text, chunks, 50)
    assert any("một nghìn hai trăm bốn mươi lăm" in chunk for chunk in chunks)


def test_lines_are_never_joined() -> None:
    chunks = chunk_spoken("kế hoạch\n\nmột, mục đích, yêu cầu\n", 100)
    assert chunks == ["kế hoạch", "một, mục đích, yêu cầu"]


def test_overlong_word_is_cut_to_fit() -> None:
    word = "a" * 250
    chunks = chunk_spoken(f"xin chào {word} hết", 100)
    assert all(len(chunk) <= 100 for chunk in chunks)
    assert "".join(chunks).replace(" ", "") == f"xinchào{word}hết"


def test_empty_text_gives_no_chunks() -> None:
    assert chunk_spoken("") == []
    assert chunk_spoken(" \n \n") == []


def test_rejects_a_useless_limit() -> None:
    with pytest.raises(ValueError):
        chunk_spoken("xin chào", 0)


def test_whole_reference_document(reference_text: str) -> None:
    spoken = to_spoken(reference_text)
    for max_chars in (60, 100, 200):
        chunks = chunk_spoken(spoken, max_chars)
        check_rules(spoken, chunks, max_chars)
        punctuated = sum(1 for chunk in chunks if chunk[-1] in ".,;:?!")
        assert punctuated >= 0.6 * len(chunks)
        lines = [line for line in spoken.splitlines() if line.strip()]
        assert len(chunks) >= len(lines)
