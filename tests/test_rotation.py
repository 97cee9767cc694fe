"""Rotation: deterministic, restart-safe, fair, and careful around pool changes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcast.planner import Broadcast, occurrences, plan
from broadcast.rotation import Picker, Pool, shuffled, smooth_weighted
from broadcast.schedule import Schedule, ScriptItem
from broadcast.schedule_file import load_schedule

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

WARD = """\
ward:
  name: Phường Test
zones:
  - id: khu-pho-1
    name: Khu phố 1
    groups: [all]
programs:
  - id: sang
    name: Sáng
    start: "06:30"
    days: {days}
    items:
      - script: scripts/mo-dau.md
  - id: chieu
    name: Chiều
    start: "17:00"
    days: {days}
    items:
      - script: scripts/mo-dau.md
{program_rotation}campaigns:
  - id: atvsld
    name: Tháng hành động
    from: 2026-05-01
    to: 2026-05-31
    programs: [sang, chieu]
    items:
      - rotation:
{pool}
        mode: {mode}
        pick: {pick}
"""


def ward(folder: Path, pool: str, *, mode: str = "shuffle", pick: int = 1,
         days: str = "weekdays", program_rotation: str = "") -> Schedule:
    scripts = folder / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    for name in ("mo-dau", *(f"bai-{n}" for n in range(1, 13))):
        (scripts / f"{name}.md").write_text(f"---\ntitle: {name}\n---\nx\n", encoding="utf-8")
    path = folder / "schedule.yaml"
    path.write_text(WARD.format(pool=pool, mode=mode, pick=pick, days=days,
                                program_rotation=program_rotation), encoding="utf-8")
    return load_schedule(path)


def pool_of(count: int, **fields: str) -> str:
    extra = "".join(f", {key}: {value}" for key, value in fields.items())
    return "\n".join(f"          - {{script: scripts/bai-{n}.md{extra}}}"
                     for n in range(1, count + 1))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def campaign_picks(broadcasts: list[Broadcast]) -> list[tuple[str, ...]]:
    return [
        tuple(i.script.stem for i, o in zip(b.items, b.origins, strict=True)
              if o.startswith("campaign") and isinstance(i, ScriptItem))
        for b in broadcasts
    ]


def may(schedule: Schedule) -> list[Broadcast]:
    return [b for b in plan(schedule, at("2026-05-01T00:00"), at("2026-06-01T00:00"))
            if any(o.startswith("campaign") for o in b.origins)]


@pytest.mark.parametrize("mode", ["round-robin", "shuffle", "weighted"])
def test_picks_do_not_depend_on_the_window_asked_for(tmp_path: Path, mode: str) -> None:
    schedule = ward(tmp_path, pool_of(5), mode=mode, days="daily", program_rotation=(
        "  - id: toi\n    name: Tối\n    start: \"19:00\"\n    days: [mon, wed, fri]\n"
        "    items:\n      - rotation: scripts/bai-*.md\n        mode: shuffle\n"))
    year = plan(schedule, at("2026-01-01T00:00"), at("2027-01-01T00:00"))
    one_by_one = []
    for number in range(365):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=number)
        for program in schedule.programs:
            broadcast = occurrences(program, schedule, day)
            if broadcast is not None:
                one_by_one.append(broadcast)
    one_by_one.sort(key=lambda b: (b.start, b.program_id))
    assert [(b.key, b.items) for b in year] == [(b.key, b.items) for b in one_by_one]
    june = plan(schedule, at("2026-05-20T12:00"), at("2026-06-03T00:00"))
    assert june == [b for b in year if at("2026-05-20T12:00") <= b.start < at("2026-06-03T00:00")]


def test_picks_do_not_depend_on_the_process(tmp_path: Path) -> None:
    first = campaign_picks(may(ward(tmp_path / "one", pool_of(5))))
    again = campaign_picks(may(ward(tmp_path / "two", pool_of(5))))
    assert first == again


@pytest.mark.parametrize(("mode", "size", "pick"), [
    ("round-robin", 5, 1), ("round-robin", 4, 3), ("shuffle", 5, 1), ("shuffle", 7, 2),
    ("shuffle", 3, 1), ("shuffle", 12, 2),
])
def test_each_item_airs_as_often_as_the_others_within_one(
    tmp_path: Path, mode: str, size: int, pick: int
) -> None:
    picks = campaign_picks(may(ward(tmp_path, pool_of(size), mode=mode, pick=pick)))
    assert len(picks) == 42, "21 weekdays in May 2026, two programs each"
    counts = Counter(stem for chosen in picks for stem in chosen)
    assert len(counts) == size
    assert max(counts.values()) - min(counts.values()) <= 1, counts
    assert all(len(set(chosen)) == pick for chosen in picks), "no item twice in a broadcast"
    if size >= 2 * pick:
        assert all(not set(a) & set(b) for a, b in itertools.pairwise(picks)), picks


def test_weighted_counts_follow_the_weights(tmp_path: Path) -> None:
    pool = ("          - {script: scripts/bai-1.md, weight: 3}\n"
            "          - {script: scripts/bai-2.md, weight: 2}\n"
            "          - scripts/bai-3.md")
    picks = campaign_picks(may(ward(tmp_path, pool, mode="weighted", days="daily")))
    counts = Counter(chosen[0] for chosen in picks)
    total = len(picks)
    for stem, weight in (("bai-1", 3), ("bai-2", 2), ("bai-3", 1)):
        assert abs(counts[stem] - total * weight / 6) <= 1, counts


@pytest.mark.parametrize("size", [3, 4, 6, 9])
def test_shuffle_has_no_repeat_within_a_cycle_or_back_to_back(tmp_path: Path, size: int) -> None:
    picks = [chosen[0] for chosen in campaign_picks(
        may(ward(tmp_path, pool_of(size), days="daily")))]
    for start in range(0, len(picks) - size + 1, size):
        assert len(set(picks[start:start + size])) == size, picks
    assert all(a != b for a, b in itertools.pairwise(picks)), picks


@pytest.mark.parametrize("change", [f"2026-05-{d:02d}" for d in range(4, 27, 3)])
@pytest.mark.parametrize("mode", ["round-robin", "shuffle"])
def test_a_dated_pool_change_starts_a_fair_new_cycle_without_a_repeat(
    tmp_path: Path, change: str, mode: str
) -> None:
    gone = dt.date.fromisoformat(change) - dt.timedelta(days=1)
    pool = (pool_of(3) + f"\n          - {{script: scripts/bai-4.md, to: {gone}}}"
            f"\n          - {{script: scripts/bai-5.md, from: {change}}}"
            f"\n          - {{script: scripts/bai-6.md, from: {change}}}")
    broadcasts = may(ward(tmp_path, pool, mode=mode))
    picks = [chosen[0] for chosen in campaign_picks(broadcasts)]
    after = next(i for i, b in enumerate(broadcasts) if b.start.date().isoformat() >= change)
    assert picks[after] != picks[after - 1], (change, picks)
    new_cycle = picks[after:after + 5]
    assert sorted(new_cycle) == ["bai-1", "bai-2", "bai-3", "bai-5", "bai-6"], new_cycle
    assert "bai-4" not in picks[after:]
    assert all(p not in ("bai-5", "bai-6") for p in picks[:after])


def test_an_undated_pool_edit_gives_a_new_order_that_is_still_fair(tmp_path: Path) -> None:
    before = campaign_picks(may(ward(tmp_path / "before", pool_of(4))))
    after = campaign_picks(may(ward(tmp_path / "after", pool_of(5))))
    assert before != after
    counts = Counter(chosen[0] for chosen in after)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_picker_round_robin_reads_the_pool_in_order() -> None:
    sequence = Picker(Pool(("a", "b", "c"), (1, 1, 1)), "round-robin", 1, "seed")
    assert [sequence.keys(n) for n in range(5)] == [("a",), ("b",), ("c",), ("a",), ("b",)]
    two = Picker(Pool(("a", "b", "c"), (1, 1, 1)), "round-robin", 2, "seed")
    assert [two.keys(n) for n in range(3)] == [("a", "b"), ("c", "a"), ("b", "c")]


def test_picker_continues_after_what_aired_last() -> None:
    pool = Pool(("a", "b", "c", "d"), (1, 1, 1, 1))
    assert Picker(pool, "round-robin", 1, "s", before=("a", "b")).keys(0) == ("c",)
    assert Picker(pool, "round-robin", 1, "s", before=("x", "d")).keys(0) == ("a",)
    for seed in range(50):
        first = Picker(pool, "shuffle", 1, str(seed), before=("c",)).keys(0)
        assert first != ("c",)
        weighted = Picker(Pool(("a", "b"), (3, 1)), "weighted", 1, str(seed), before=("a",))
        assert weighted.keys(0) == ("b",)


def test_small_shuffle_pools_keep_one_order() -> None:
    pair = Picker(Pool(("a", "b"), (1, 1)), "shuffle", 1, "seed")
    stream = [pair.keys(n)[0] for n in range(6)]
    assert stream in (["a", "b"] * 3, ["b", "a"] * 3)


def test_the_shuffle_is_pinned_so_restarts_on_new_versions_agree() -> None:
    assert shuffled(8, "pinned") == [2, 3, 1, 5, 4, 7, 6, 0]
    assert smooth_weighted((5, 1, 1)) == [0, 0, 1, 0, 2, 0, 0]
