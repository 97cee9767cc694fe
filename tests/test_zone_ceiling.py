"""A zone's own gain never pushes its sound past the schedule's true-peak ceiling.

A loud mastered bulletin airs through a real output (a WAV folder) with the zone 4 dB louder; what
the output received is measured with the tests' own true-peak meter, not ffmpeg's.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from broadcast.audio import LoudnessTarget
from broadcast.bulletin import parse_bulletin
from broadcast.outputs.file import WavFolder
from broadcast.outputs.player import Airing
from broadcast.render import RenderSettings, render_bulletin
from broadcast.tts import EspeakEngine
from tests.audio_tools import decode, integrated_lufs, true_peak_dbtp

CEILING_DBTP = -3.0
ZONE_GAIN_DB = 4.0
TOLERANCE_DB = 0.2

NOTICE = """---
title: Thông báo cắt điện
approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường
---

Kính thưa bà con! Sáng thứ bảy, khu phố 2 tạm ngừng cấp điện từ 7 giờ 30 đến 11 giờ.
"""


@pytest.fixture
def loud_bulletin(tmp_path: Path) -> Path:
    """A bulletin mastered to -16 LUFS under a -3 dBTP ceiling: its peaks sit at the ceiling."""
    out = tmp_path / "notice.mp3"
    settings = RenderSettings(engines=(EspeakEngine(),),
                              target=LoudnessTarget(-16.0, CEILING_DBTP))
    render_bulletin(parse_bulletin(NOTICE, tmp_path / "cat-dien.md"), out, settings)
    return out


def received(folder: Path) -> np.ndarray:
    """The samples the WAV folder output was given, as floats."""
    [written] = folder.glob("*.wav")
    with wave.open(str(written)) as reader:
        pcm = reader.readframes(reader.getnframes())
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


def test_a_louder_zone_stays_under_the_true_peak_ceiling(
    loud_bulletin: Path, tmp_path: Path
) -> None:
    mastered = decode(loud_bulletin)
    assert true_peak_dbtp(mastered) + ZONE_GAIN_DB > CEILING_DBTP + TOLERANCE_DB, (
        "the zone's gain alone would take this bulletin past the ceiling"
    )
    folder = tmp_path / "zone"
    airing = Airing(loud_bulletin, [WavFolder(folder)], label="khu-pho-2",
                    gain_db=ZONE_GAIN_DB, target=LoudnessTarget(true_peak_dbtp=CEILING_DBTP))
    result = airing.wait()
    assert result.completed, result.problems()

    zone = received(folder)
    assert len(zone) == pytest.approx(len(mastered), abs=0.05 * 48000), "the whole bulletin aired"
    assert true_peak_dbtp(zone) <= CEILING_DBTP + TOLERANCE_DB
    assert integrated_lufs(zone) >= integrated_lufs(mastered) + 0.5, "the zone is louder"
