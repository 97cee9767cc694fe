"""The days a program airs, as plain data the planner can ask many times cheaply."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass


def next_day(day: dt.date) -> dt.date:
    """The day after ``day`` (the last day the calendar knows stays itself)."""
    return day + dt.timedelta(days=1) if day < dt.date.max else day


def _week_table(weekdays: frozenset[int]) -> tuple[tuple[int, ...], ...]:
    """``table[start][n]``: how many of ``n`` days in a row from weekday ``start`` are
    ``weekdays`` (0 = Monday)."""
    return tuple(
        tuple(sum((start + i) % 7 in weekdays for i in range(n)) for n in range(7))
        for start in range(7)
    )


@dataclass(frozen=True, slots=True)
class AiringDays:
    """The days a program airs: its weekdays between two dates, less skip dates, plus extra
    dates. Plain data, so the planner can ask it many times cheaply."""

    weekdays: frozenset[int]
    first: dt.date | None
    last: dt.date | None
    skips: frozenset[dt.date]
    extras: frozenset[dt.date]
    rule_skips: tuple[dt.date, ...]
    off_rule_extras: tuple[dt.date, ...]
    week_table: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, weekdays: frozenset[int], first: dt.date | None, last: dt.date | None,
           skips: frozenset[dt.date], extras: frozenset[dt.date]) -> AiringDays:
        table = _week_table(weekdays)
        plain = cls(weekdays, first, last, skips, extras, (), (), table)
        return cls(
            weekdays, first, last, skips, extras,
            tuple(sorted(day for day in skips if plain.by_rule(day))),
            tuple(sorted(day for day in extras if day not in skips and not plain.by_rule(day))),
            table,
        )

    def by_rule(self, day: dt.date) -> bool:
        """Whether ``day`` is one of its weekdays inside its date range."""
        return (
            day.weekday() in self.weekdays
            and (self.first is None or day >= self.first)
            and (self.last is None or day <= self.last)
        )

    def airs_on(self, day: dt.date) -> bool:
        if day in self.skips:
            return False
        return day in self.extras or self.by_rule(day)

    def count(self, first: dt.date, stop: dt.date) -> int:
        """How many days in [first, stop) it airs, counted without walking the days."""
        if stop <= first:
            return 0
        low = max(first, self.first) if self.first else first
        high = min(stop, next_day(self.last)) if self.last else stop
        count = 0
        if low < high:
            skipped = bisect.bisect_left(self.rule_skips, high) - bisect.bisect_left(
                self.rule_skips, low)
            weeks, rest = divmod((high - low).days, 7)
            count = weeks * len(self.weekdays) + self.week_table[low.weekday()][rest] - skipped
        extras = self.off_rule_extras
        return count + bisect.bisect_left(extras, stop) - bisect.bisect_left(extras, first)

    def first_airing(self, first: dt.date, stop: dt.date) -> dt.date | None:
        """The first day in [first, stop) it airs, if any."""
        if self.count(first, stop) == 0:
            return None
        extras = self.off_rule_extras
        place = bisect.bisect_left(extras, first)
        extra = extras[place] if place < len(extras) and extras[place] < stop else None
        day = max(first, self.first) if self.first else first
        limit = min(stop, next_day(self.last)) if self.last else stop
        while day < limit and (extra is None or day < extra):
            if self.by_rule(day) and day not in self.skips:
                return day
            day = next_day(day)
        return extra

    def never(self) -> bool:
        """Whether there is no day at all it airs."""
        ranged_out = (
            self.first is not None and self.last is not None
            and self.count(self.first, next_day(self.last)) == 0
        )
        return (not self.weekdays or ranged_out) and not (self.extras - self.skips)
