"""The chaos harness's own judgement, on made-up histories (no daemon involved)."""

from __future__ import annotations

import datetime as dt
import random

from tests.chaos.harness import (
    MAY,
    MUST,
    MUST_NOT,
    TZ,
    Deck,
    ProgramPlan,
    ScheduleHistory,
)

T0 = dt.datetime(2026, 5, 4, 6, 0, 0, tzinfo=TZ)


def program(program_id: str, seconds: float) -> ProgramPlan:
    return ProgramPlan(program_id, T0 + dt.timedelta(seconds=seconds), ("z1",))


def needs(history: ScheduleHistory) -> dict[tuple[str, float], str]:
    return {(e.program.id, e.program.start.timestamp() - T0.timestamp()): e.need
            for e in history.expectations()}


def test_a_move_well_ahead_of_both_starts_is_judged_by_the_new_schedule() -> None:
    first = [program("a", 100), program("b", 130)]
    history = ScheduleHistory(first, T0.timestamp())
    history.record(T0.timestamp() + 20, True, [program("a", 160), program("b", 130)], "moved a")
    assert needs(history) == {("a", 100): MUST_NOT, ("b", 130): MUST, ("a", 160): MUST}


def test_a_move_that_lands_around_the_old_start_may_go_either_way() -> None:
    history = ScheduleHistory([program("a", 100)], T0.timestamp())
    history.record(T0.timestamp() + 97, True, [program("a", 160)], "moved a")
    assert needs(history) == {("a", 100): MAY, ("a", 160): MUST}


def test_a_save_replaced_before_the_daemon_could_use_it_never_counts() -> None:
    history = ScheduleHistory([program("a", 100)], T0.timestamp())
    history.record(T0.timestamp() + 20, True, [program("a", 160)], "moved a")
    history.record(T0.timestamp() + 21, True, [program("a", 100)], "moved it back")
    assert needs(history) == {("a", 100): MUST}


def test_broken_saves_keep_the_last_good_schedule_in_force() -> None:
    history = ScheduleHistory([program("a", 100)], T0.timestamp())
    history.record(T0.timestamp() + 20, False, [program("a", 160)], "broken yaml")
    history.record(T0.timestamp() + 120, True, [program("a", 160)], "fixed")
    assert needs(history) == {("a", 100): MUST, ("a", 160): MUST}


def test_a_save_that_may_or_may_not_have_been_used_leaves_its_broadcasts_open() -> None:
    history = ScheduleHistory([program("a", 100)], T0.timestamp())
    history.record(T0.timestamp() + 20, True, [program("a", 160)], "moved a")
    history.record(T0.timestamp() + 23, False, [program("a", 160)], "broken yaml")
    assert needs(history) == {("a", 100): MAY, ("a", 160): MAY}


def test_the_deck_deals_every_kind_before_repeating_and_skips_what_cannot_be_done() -> None:
    deck = Deck(random.Random(7), {"a": 2, "b": 1, "c": 1})
    assert sorted(deck.draw() or "" for _ in range(4)) == ["a", "a", "b", "c"]
    kind = deck.draw({"a"})
    assert kind in ("b", "c")
    deck.put_back(kind)
    assert deck.draw() == kind
    assert deck.draw({"a", "b", "c"}) is None
