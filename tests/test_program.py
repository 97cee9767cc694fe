"""Programs: chime, items and pauses joined into one file, every part equally loud."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from broadcast.audio import LoudnessTarget, OutputFormat
from broadcast.planner import plan
from broadcast.prerender import RenderStore, prepare_chime, prepare_program, prepare_script
from broadcast.render import (
    Pauses,
    ProgramSidecar,
    RenderSettings,
    load_rendered,
    render_program,
)
from broadcast.schedule_file import load_schedule
from broadcast.tts import EspeakEngine
from broadcast.vietnamese import default_lexicon
from tests.audio_tools import decode, integrated_lufs, loudness_range_lu, true_peak_dbtp
from tests.conftest import REPO

RATE = 48000


def part_loudness(samples: np.ndarray, parts: list[dict[str, object]]) -> dict[str, float]:
    """Integrated loudness of each sounding part, measured on the finished program."""
    found = {}
    for index, part in enumerate(parts):
        if part.get("kind") == "silence":
            continue
        start = int(float(part["start_s"]) * RATE)  # type: ignore[arg-type]
        end = start + int(float(part["duration_s"]) * RATE)  # type: ignore[arg-type]
        found[f"{index}:{part['kind']}"] = integrated_lufs(samples[start:end])
    return found


def check_program(path: Path, target: float = -16.0, ceiling: float = -1.5) -> dict[str, float]:
    samples = decode(path)
    assert integrated_lufs(samples) == pytest.approx(target, abs=1.0)
    assert true_peak_dbtp(samples) <= ceiling
    assert np.abs(samples).max() < 1.0, "no sample clips after MP3 encoding"
    assert loudness_range_lu(path) <= 7.0
    sidecar = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    loudness = part_loudness(samples, sidecar["items"])
    assert max(loudness.values()) - min(loudness.values()) <= 1.5, loudness
    return loudness


SCRIPT = """---
title: {title}
approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường
---

{body}
"""


@pytest.fixture(scope="module")
def settings() -> RenderSettings:
    return RenderSettings(engines=(EspeakEngine(),), lexicon=default_lexicon())


def test_program_with_chimes_is_level_from_part_to_part(
    settings: RenderSettings, tmp_path: Path
) -> None:
    store = RenderStore(tmp_path / "renders")
    target = LoudnessTarget()
    bodies = [
        "Kính thưa bà con! Từ ngày 1/6 đến ngày 5/6/2026, phường tổ chức tổng vệ sinh môi trường.",
        "Đề nghị các hộ gia đình tham gia đầy đủ. Mọi thắc mắc xin gọi số 0263.3822.123.",
    ]
    items = []
    for number, body in enumerate(bodies):
        script = tmp_path / f"s{number}.md"
        script.write_text(SCRIPT.format(title=f"Tin {number}", body=body), encoding="utf-8")
        items.append(prepare_script(script, settings, store))
    opening = prepare_chime(None, target, store)
    closing = prepare_chime(REPO / "audio" / "chime-close.flac", target, store)

    out = tmp_path / "program.mp3"
    result = render_program(
        [opening, items[0], 2.0, items[1], closing], out, target, Pauses(), OutputFormat(),
        program="thu",
    )
    assert isinstance(result.metadata, ProgramSidecar)
    parts = result.metadata.items
    assert [p.kind for p in parts] == ["chime", "bulletin", "silence", "bulletin", "chime"]
    assert parts[0].start_s == Pauses().lead_in_s
    assert parts[1].start_s == pytest.approx(
        Pauses().lead_in_s + opening.figures.duration_s + Pauses().between_items_s, abs=0.01
    )
    loudness = check_program(out)
    assert len(loudness) == 4
    duration = len(decode(out)) / RATE
    assert duration == pytest.approx(
        parts[-1].start_s + parts[-1].duration_s + Pauses().lead_out_s, abs=0.15
    )
    assert load_rendered(out) == result, "the sidecar reads back as it was written"
    sidecar = json.loads(out.with_name("program.mp3.json").read_text(encoding="utf-8"))
    assert list(sidecar) == ["kind", "program", "items", "figures", "target", "format",
                             "rendered_at", "broadcast_version", "sha256"]
    assert sidecar["items"][2] == {"kind": "silence", "start_s": parts[2].start_s,
                                   "duration_s": 2.0}
    item_sidecar = json.loads(
        items[0].path.with_name(items[0].path.name + ".json").read_text(encoding="utf-8"))
    assert item_sidecar.pop("sha256") == hashlib.sha256(items[0].path.read_bytes()).hexdigest()
    assert sidecar["items"][1] == {**item_sidecar, "start_s": parts[1].start_s,
                                   "duration_s": items[0].figures.duration_s}


@pytest.mark.parametrize("program_id", ["sang", "chieu"])
def test_sample_ward_programs_land_on_target(
    settings: RenderSettings, tmp_path: Path, program_id: str
) -> None:
    schedule = load_schedule(REPO / "schedule.yaml")
    monday = dt.datetime(2026, 6, 1, tzinfo=schedule.ward.tz)
    broadcast = next(
        b for b in plan(schedule, monday, monday + dt.timedelta(days=1))
        if b.program_id == program_id
    )
    program = prepare_program(schedule, broadcast, settings, RenderStore(tmp_path / "renders"))
    check_program(program.path)
    assert program.figures.duration_s < 15 * 60


def test_render_store_forgets_what_has_not_aired_for_a_month(
    settings: RenderSettings, tmp_path: Path
) -> None:
    store = RenderStore(tmp_path / "renders")
    script = tmp_path / "s.md"
    script.write_text(SCRIPT.format(title="Tin", body="Bà con chú ý lắng nghe."), encoding="utf-8")
    kept = prepare_script(script, settings, store)
    stale = store.items / "old-bulletin.flac"
    stale.write_bytes(b"x")
    stale.with_name(stale.name + ".json").write_text("{}", encoding="utf-8")
    month_ago = time.time() - 31 * 86400
    for path in (kept.path, stale):
        os.utime(path, (month_ago, month_ago))
    assert prepare_script(script, settings, store).path == kept.path, "reused, and marked used"
    assert store.prune(dt.timedelta(days=30)) == 1
    assert kept.path.exists() and not stale.exists()
    assert not stale.with_name(stale.name + ".json").exists()
