"""Bulletins mastered paragraph by paragraph: kept, reused after an edit, joined on target."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from broadcast.audio import LoudnessTarget, OutputFormat
from broadcast.bulletin import parse_bulletin
from broadcast.render import (
    BulletinSidecar,
    RenderedAudio,
    RenderSettings,
    load_rendered,
    render_bulletin,
)
from broadcast.tts import ChunkCache, EspeakEngine, GttsEngine
from broadcast.vietnamese import default_lexicon
from tests.audio_tools import best_alignment, decode, envelope, integrated_lufs, true_peak_dbtp
from tests.fakes.google_tts import FakeGoogleTTS
from tests.test_tts import BULLETIN, QUICK


def render(
    fake: FakeGoogleTTS, folder: Path, out: Path, text: str = BULLETIN, keep: bool = True
) -> RenderedAudio[BulletinSidecar]:
    settings = RenderSettings(
        engines=(GttsEngine(retry=QUICK),),
        cache=ChunkCache(folder / "cache") if keep else None,
    )
    return render_bulletin(parse_bulletin(text, folder / "tiem-chung.md"), out, settings)


def decode_errors(path: Path) -> str:
    """What ffmpeg complains about while decoding the whole file (nothing, for clean audio)."""
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr


def test_edit_resynthesizes_and_remasters_only_its_paragraph(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    first = render(fake_google, tmp_path, tmp_path / "first.mp3")
    assert first.metadata.paragraphs == 3
    assert first.metadata.paragraphs_mastered == 3
    asked = len(fake_google.requests)

    edited = BULLETIN.replace("sáng thứ bảy", "sáng chủ nhật")
    second = render(fake_google, tmp_path, tmp_path / "second.mp3", edited)
    new_texts = fake_google.texts[asked:]
    assert len(new_texts) == 1 and "chủ nhật" in new_texts[0]
    assert second.metadata.paragraphs_mastered == 1, "only the edited paragraph"
    assert second.metadata.engine == "gtts:vi:tld=com:slow=false"

    before, after = decode(tmp_path / "first.mp3"), decode(tmp_path / "second.mp3")
    assert integrated_lufs(after) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(after) <= -1.5
    # The untouched first paragraph sounds exactly as it did.
    opening = int(2.5 * 48000)
    assert np.array_equal(before[:opening], after[:opening])
    assert decode_errors(tmp_path / "second.mp3") == ""

    again = render(fake_google, tmp_path, tmp_path / "third.mp3", edited)
    assert again.metadata.paragraphs_mastered == 0
    assert (tmp_path / "third.mp3").read_bytes() == (tmp_path / "second.mp3").read_bytes()


def test_a_heading_is_mastered_with_the_paragraph_after_it(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    headed = BULLETIN.replace("Kính thưa", "Thông báo.\n\nKính thưa")
    first = render(fake_google, tmp_path, tmp_path / "first.mp3", headed)
    assert first.metadata.paragraphs == 4
    assert first.metadata.paragraphs_mastered == 4

    edited = headed.replace("dưới năm tuổi", "dưới sáu tuổi")
    second = render(fake_google, tmp_path, tmp_path / "second.mp3", edited)
    assert second.metadata.paragraphs_mastered == 2, "the heading goes with its paragraph"
    samples = decode(tmp_path / "second.mp3")
    assert integrated_lufs(samples) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(samples) <= -1.5


def test_figures_in_the_sidecar_agree_with_an_independent_meter(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    out = tmp_path / "bulletin.mp3"
    result = render(fake_google, tmp_path, out)
    sidecar = json.loads(out.with_name("bulletin.mp3.json").read_text(encoding="utf-8"))
    assert sidecar["figures"] == asdict(result.figures)
    assert load_rendered(out) == result, "the sidecar reads back as it was written"
    assert list(sidecar) == [
        "kind", "script", "title", "content_hash", "approved_by", "approved_on", "engine",
        "chunks", "cache_hits", "retries", "paragraphs", "paragraphs_mastered", "warnings",
        "figures", "target", "format", "rendered_at", "broadcast_version", "sha256",
    ]
    samples = decode(out)
    figures = sidecar["figures"]
    assert figures["duration_s"] == pytest.approx(len(samples) / 48000, abs=0.03)
    assert figures["integrated_lufs"] == pytest.approx(integrated_lufs(samples), abs=0.3)
    assert figures["true_peak_dbtp"] == pytest.approx(true_peak_dbtp(samples), abs=0.3)
    assert figures["true_peak_dbtp"] <= -1.5
    assert decode_errors(out) == ""


@pytest.mark.parametrize("suffix", ["flac", "wav"])
def test_lossless_output_is_joined_sample_exact(
    fake_google: FakeGoogleTTS, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"bulletin.{suffix}"
    result = render(fake_google, tmp_path, out)
    samples = decode(out)
    assert result.figures.duration_s == pytest.approx(len(samples) / 48000, abs=0.001)
    assert integrated_lufs(samples) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(samples) <= -1.5
    # The same paragraphs serve either lossless format (WAV holds them at 16 bits).
    other = tmp_path / f"again.{'wav' if suffix == 'flac' else 'flac'}"
    assert render(fake_google, tmp_path, other).metadata.paragraphs_mastered == 0
    assert np.max(np.abs(decode(other) - samples)) <= 1 / 32768


def test_damaged_kept_paragraph_is_mastered_again(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    render(fake_google, tmp_path, tmp_path / "first.mp3")
    kept = sorted((tmp_path / "cache").rglob("*.mastered"))
    assert len(kept) == 3
    damaged = bytearray(kept[0].read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    kept[0].write_bytes(bytes(damaged))

    again = render(fake_google, tmp_path, tmp_path / "again.mp3")
    assert again.metadata.paragraphs_mastered == 1
    samples = decode(tmp_path / "again.mp3")
    assert integrated_lufs(samples) == pytest.approx(-16.0, abs=0.5)
    assert np.array_equal(samples, decode(tmp_path / "first.mp3"))


def test_without_a_cache_every_paragraph_is_mastered_each_time(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    for name in ("a.mp3", "b.mp3"):
        result = render(fake_google, tmp_path, tmp_path / name, keep=False)
        assert result.metadata.paragraphs_mastered == 3
    assert not (tmp_path / "cache").exists()
    assert integrated_lufs(decode(tmp_path / "b.mp3")) == pytest.approx(-16.0, abs=0.5)


def test_a_stricter_target_masters_the_paragraphs_again(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    render(fake_google, tmp_path, tmp_path / "loud.mp3")
    settings = RenderSettings(
        engines=(GttsEngine(retry=QUICK),),
        cache=ChunkCache(tmp_path / "cache"),
        target=LoudnessTarget(-20.0, -3.0),
    )
    out = tmp_path / "quiet.mp3"
    bulletin = parse_bulletin(BULLETIN, tmp_path / "tiem-chung.md")
    result = render_bulletin(bulletin, out, settings, OutputFormat(bitrate_kbps=64))
    assert result.metadata.paragraphs_mastered == 3
    samples = decode(out)
    assert integrated_lufs(samples) == pytest.approx(-20.0, abs=0.5)
    assert true_peak_dbtp(samples) <= -3.0


HOTLINE = ("Mọi thắc mắc xin liên hệ đường dây nóng của Ủy ban nhân dân phường, số điện thoại "
           "0263 3822 123, trong giờ hành chính các ngày làm việc.")
NEWS = ("Sáng thứ Bảy tuần này, phường tổ chức tổng vệ sinh môi trường tại các tổ dân phố. "
        "Đề nghị mỗi hộ gia đình cử ít nhất một người tham gia, mang theo chổi và bao đựng rác.")


def test_a_paragraph_said_twice_airs_twice(tmp_path: Path) -> None:
    """A hotline repeated at the end is common: every paragraph airs, in order, and the
    repeat shares the speech and mastering already made."""
    settings = RenderSettings(engines=(EspeakEngine(),), lexicon=default_lexicon(),
                              cache=ChunkCache(tmp_path / "cache"))

    def spoken(*paragraphs: str) -> tuple[RenderedAudio[BulletinSidecar], np.ndarray]:
        text = ("---\ntitle: Thông báo\napproved_by: Trần Văn Minh, Phó Chủ tịch\n---\n\n"
                + "\n\n".join(paragraphs) + "\n")
        out = tmp_path / f"{len(paragraphs)}-{hash(paragraphs) & 0xFFFF}.wav"
        result = render_bulletin(parse_bulletin(text, tmp_path / "x.md"), out, settings,
                                 OutputFormat.for_path(out))
        return result, decode(out)

    _, hotline = spoken(HOTLINE)
    _, once = spoken(HOTLINE, NEWS)
    repeated, twice = spoken(HOTLINE, NEWS, HOTLINE)
    assert repeated.metadata.paragraphs == 3
    assert repeated.metadata.paragraphs_mastered == 0, "both pieces were kept from before"
    pause = settings.pauses.between_paragraphs_s
    expected = (len(once) + len(hotline)) / 48000 + pause
    assert len(twice) / 48000 == pytest.approx(expected, abs=0.6), "three paragraphs aired"
    ending = envelope(twice)[-len(envelope(hotline)):]
    _, score = best_alignment(envelope(hotline)[20:-20], ending)
    assert score > 0.9, "the hotline is heard again at the end"
