"""Speaking whole bulletins: chunk cache, parallel requests, retries, fallback, faults."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broadcast.bulletin import parse_bulletin
from broadcast.prerender import RenderStore, prepare_script
from broadcast.render import RenderSettings, render_bulletin
from broadcast.tts import (
    ChunkCache,
    EspeakEngine,
    GttsEngine,
    RetryPolicy,
    SpeechClip,
    SpeechProgress,
    speak,
)
from broadcast.tts.mp3 import inspect_mp3
from broadcast.tts.speaker import EngineBreaker, SpokenParagraph, fallback_reserve_s
from tests.audio_tools import decode, integrated_lufs
from tests.conftest import REPO, broadcast_cli
from tests.fakes.google_tts import FakeGoogleTTS

BULLETIN = """---
title: Thông báo tiêm chủng
approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường
---

Kính thưa bà con nhân dân! Trạm y tế phường tổ chức tiêm chủng mở rộng cho trẻ em dưới năm tuổi.

Thời gian từ bảy giờ ba mươi đến mười một giờ sáng thứ bảy. Địa điểm tại nhà văn hóa khu phố hai, \
số mười hai đường Trần Phú. Bà con nhớ mang theo sổ tiêm chủng và giấy tờ tùy thân của trẻ.

Đề nghị các gia đình đưa trẻ đến đúng giờ, mang theo sổ tiêm chủng. Xin cảm ơn bà con.
"""

QUICK = RetryPolicy(attempts=4, base_delay_s=0.01, max_delay_s=0.05)


def write_script(folder: Path, text: str = BULLETIN, name: str = "tiem-chung.md") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_second_render_uses_the_cache_and_an_edit_resynthesizes_only_its_sentence(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    script = write_script(tmp_path)
    args = ["--engine", "gtts"]
    first = broadcast_cli("render", str(script), "-o", str(tmp_path / "a.mp3"), *args)
    assert first.returncode == 0, first.stderr
    cold = len(fake_google.requests)
    assert cold >= 4

    again = broadcast_cli("render", str(script), "-o", str(tmp_path / "b.mp3"), *args)
    assert again.returncode == 0, again.stderr
    assert len(fake_google.requests) == cold, "nothing new was sent to Google"
    assert f"{cold} chunks ({cold} from cache)" in again.stdout

    write_script(tmp_path, BULLETIN.replace("thứ bảy", "chủ nhật"))
    edited = broadcast_cli("render", str(script), "-o", str(tmp_path / "c.mp3"), *args)
    assert edited.returncode == 0, edited.stderr
    new = fake_google.texts[cold:]
    assert len(new) == 1, new
    assert "chủ nhật" in new[0]
    assert integrated_lufs(decode(tmp_path / "c.mp3")) == pytest.approx(-16.0, abs=1.0)


def test_requests_run_in_parallel_up_to_the_limit(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    fake_google.latency = 0.4
    engine = GttsEngine(concurrency=3, retry=QUICK)
    paragraphs = [f"Đoạn thứ {word}, bà con chú ý lắng nghe." for word in
                  ("một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám")]
    seen: list[SpeechProgress] = []
    speech = speak(paragraphs, [engine], ChunkCache(tmp_path / "cache"), seen.append)
    assert fake_google.max_concurrent == 3
    assert speech.chunks == 8 and speech.cache_hits == 0
    assert [p.done for p in seen] == list(range(9))
    assert all(p.total == 8 and p.engine == "gtts" for p in seen)
    for paragraph, clips in zip(paragraphs, speech.paragraphs, strict=True):
        assert [c.data for c in clips] == [fake_google.audio_for(paragraph)]


def test_each_paragraph_is_handed_on_as_soon_as_its_speech_is_in(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    fake_google.latency = 0.1
    engine = GttsEngine(concurrency=1, retry=QUICK)
    cache = ChunkCache(tmp_path / "cache")
    paragraphs = ["Bà con chú ý.", "Trạm y tế tiêm chủng cho trẻ em.", "Xin cảm ơn bà con."]
    speak(paragraphs[:1], [engine], cache)
    handed: list[tuple[int, list[str]]] = []

    def hand_on(spoken: SpokenParagraph) -> None:
        assert [c.data for c in spoken.clips] == [fake_google.audio_for(paragraphs[spoken.index])]
        still_missing = [text for text in paragraphs if cache.get(engine.identity, text) is None]
        handed.append((spoken.index, still_missing))

    speech = speak(paragraphs, [engine], cache, on_paragraph=hand_on)
    assert speech.cache_hits == 1 and len(fake_google.requests) == 3
    # The cached paragraph goes on at once, each other one as soon as its own speech is in,
    # while the speech of the paragraphs after it is still being fetched.
    assert handed == [(0, paragraphs[1:]), (1, paragraphs[2:]), (2, [])]


def test_rate_limits_are_retried_and_counted(fake_google: FakeGoogleTTS, tmp_path: Path) -> None:
    fake_google.fail_next(429, count=3)
    engine = GttsEngine(concurrency=1, retry=QUICK)
    speech = speak(["Bà con chú ý.", "Xin cảm ơn."], [engine], ChunkCache(tmp_path / "c"))
    assert speech.retries == 3
    assert sum(1 for r in fake_google.requests if r.fault) == 3


def test_failing_google_falls_back_to_espeak_with_a_warning(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    fake_google.fail_next(503, count=1000)
    settings = RenderSettings(
        engines=(GttsEngine(retry=QUICK), EspeakEngine()),
        cache=ChunkCache(tmp_path / "cache"),
    )
    bulletin = parse_bulletin(BULLETIN, tmp_path / "tiem-chung.md")
    result = render_bulletin(bulletin, tmp_path / "out.mp3", settings)
    assert result.metadata.engine.startswith("espeak-ng:")
    assert result.warnings == [
        "fell back to espeak: gtts: Google TTS had a server error (503) 4 times over "
        + result.warnings[0].split("4 times over ")[1]
    ]
    sidecar = json.loads((tmp_path / "out.mp3.json").read_text(encoding="utf-8"))
    assert sidecar["warnings"] == result.warnings
    assert integrated_lufs(decode(tmp_path / "out.mp3")) == pytest.approx(-16.0, abs=1.0)


def test_after_google_fails_renders_skip_it_until_the_cool_down_is_over(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    fake_google.fail_next(503, count=1000)
    now = [0.0]
    breaker = EngineBreaker(cool_down_s=300.0, clock=lambda: now[0])
    settings = RenderSettings(engines=(GttsEngine(retry=QUICK), EspeakEngine()),
                              cache=ChunkCache(tmp_path / "cache"), breaker=breaker)
    store = RenderStore(tmp_path / "renders")
    script = write_script(tmp_path)
    first = prepare_script(script, settings, store)
    asked = len(fake_google.requests)
    assert first.metadata.engine.startswith("espeak-ng:") and asked > 0
    edited = write_script(tmp_path, BULLETIN.replace("tiêm chủng mở rộng", "tiêm vắc xin"),
                          name="tiem-chung.md")
    second = prepare_script(edited, settings, store)
    assert second.metadata.engine.startswith("espeak-ng:")
    assert len(fake_google.requests) == asked, "Google was not asked while its breaker was open"

    fake_google.reset()
    now[0] += 299.0
    assert prepare_script(edited, settings, store).path == second.path, "still cooling down"
    now[0] += 2.0
    again = prepare_script(edited, settings, store)
    assert again.metadata.engine.startswith("gtts:"), "after the cool-down Google speaks again"
    assert again.path != second.path, "the espeak-ng render did not take Google's place"


def test_a_render_due_soon_gives_a_hanging_google_only_until_espeak_must_start(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    fake_google.hang_next(count=1000, seconds=60)
    settings = RenderSettings(
        engines=(GttsEngine(timeout_s=50), EspeakEngine()), cache=ChunkCache(tmp_path / "cache"),
        deadline=time.time() + fallback_reserve_s(len(BULLETIN)) + 3.0,
    )
    result = prepare_script(write_script(tmp_path), settings, RenderStore(tmp_path / "renders"))
    assert result.metadata.engine.startswith("espeak-ng:")
    assert "were still missing when the next engine had to take over" in result.warnings[0]


def test_two_processes_rendering_at_once_share_the_cache_safely(
    fake_google: FakeGoogleTTS, tmp_path: Path
) -> None:
    fake_google.latency = 0.05
    scripts = [write_script(tmp_path, BULLETIN, f"s{i}.md") for i in range(2)]
    env = {**os.environ, "BROADCAST_STATE_DIR": str(tmp_path / "shared")}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "broadcast", "render", str(script), "-o",
             str(tmp_path / f"{script.stem}.mp3"), "--engine", "gtts"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for script in scripts
    ]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()
    cache = ChunkCache(tmp_path / "shared" / "tts-cache")
    files = [p for p in cache.root.rglob("*") if p.is_file()]
    assert files and not [p for p in files if p.name.endswith(".part")]
    for path in files:
        if path.suffix == ".mastered":
            assert cache.get_mastered(path.stem) is not None, f"{path.name} is damaged"
        else:
            inspect_mp3(path.read_bytes())
    assert decode(tmp_path / "s0.mp3").shape == decode(tmp_path / "s1.mp3").shape


def test_cache_prunes_by_age_then_size(tmp_path: Path) -> None:
    cache = ChunkCache(tmp_path / "cache")
    for index in range(5):
        cache.put("engine", f"câu {index}", SpeechClip(bytes(1000), "wav"))
    paths = sorted((tmp_path / "cache").rglob("*.wav"))
    old = time.time() - 40 * 86400
    os.utime(paths[0], (old, old))
    assert cache.stats().entries == 5 and cache.stats().bytes == 5000
    result = cache.prune(max_bytes=2500, max_age_s=30 * 86400)
    assert result.removed == 3 and result.freed_bytes == 3000
    assert result.kept.entries == 2
    assert not paths[0].exists()


def test_cache_command_shows_and_prunes(tmp_path: Path, private_state_dir: Path) -> None:
    cache = ChunkCache(private_state_dir / "tts-cache")
    for index in range(3):
        cache.put("engine", f"câu {index}", SpeechClip(bytes(400_000), "wav"))
    shown = broadcast_cli("cache")
    assert shown.returncode == 0, shown.stderr
    assert "3 chunks, 1.1 MB" in shown.stdout
    pruned = broadcast_cli("cache", "--prune", "--max-size", "500K")
    assert "Removed 2 chunks (0.8 MB). Now: 1 chunks, 0.4 MB" in pruned.stdout
    bad = broadcast_cli("cache", "--prune", "--max-size", "lots")
    assert bad.returncode == 1 and "'lots' is not a size" in bad.stderr


def test_missing_espeak_is_a_plain_error(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("ffmpeg", "ffprobe"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    script = write_script(tmp_path)
    env = {**os.environ, "PATH": str(bin_dir)}
    result = broadcast_cli("render", str(script), "-o", str(tmp_path / "x.mp3"),
                           "--engine", "espeak", env=env)
    assert result.returncode == 1
    assert "espeak-ng is not installed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.mp3").exists()


def test_full_cache_disk_is_a_plain_error(fake_google: FakeGoogleTTS, tmp_path: Path) -> None:
    full = tmp_path / "small"
    full.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(full)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        script = write_script(tmp_path)
        env = {**os.environ, "BROADCAST_STATE_DIR": str(full)}
        result = broadcast_cli("render", str(script), "-o", str(tmp_path / "x.mp3"),
                               "--engine", "gtts", env=env)
        assert result.returncode == 1
        assert "no space left in the speech cache folder" in result.stderr
        assert "broadcast cache --prune" in result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "x.mp3").exists()
    finally:
        subprocess.run(["umount", str(full)], check=True)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "no audio"),
        (b"<html>consent</html>", "no MP3 frame"),
        (b"\xff\xfb\x90", "frame header"),
    ],
)
def test_mp3_walker_rejects_broken_audio(data: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        inspect_mp3(data)


def test_mp3_walker_measures_real_audio(fake_google: FakeGoogleTTS, tmp_path: Path) -> None:
    audio = fake_google.audio_for("Kính thưa bà con")
    info = inspect_mp3(audio)
    assert info.sample_rate == 24000
    (tmp_path / "clip.mp3").write_bytes(audio)
    assert info.duration_s == pytest.approx(len(decode(tmp_path / "clip.mp3")) / 48000, abs=0.1)
    with pytest.raises(ValueError, match="cut short"):
        inspect_mp3(audio[: len(audio) // 2 + 7])

