"""Rotation: which items of a pool a broadcast airs, worked out from numbers alone.

A rotation turns a pool (a list of items, each with a weight) into an endless stream of picks.
Broadcast number ``n`` of a stretch of calendar takes stream elements ``n * pick`` up to
``n * pick + pick``. Nothing is stored: the planner counts broadcasts from the calendar, and the
same count always gives the same picks, whether or not the daemon was running in between.

Modes:

- ``round-robin``: the pool in the order written, over and over.
- ``shuffle``: each cycle airs every item once, in a new order made from a hash (the same on
  every machine and every Python version). Cycles are joined so that nothing airs in two
  broadcasts in a row when the pool has at least ``6 * pick - 3`` items; smaller pools keep one
  shuffled order and repeat it.
- ``weighted``: smooth weighted round-robin. Over every ``sum(weights)`` picks each item airs
  exactly ``weight`` times, spread out as evenly as the weights allow.

A stretch can start with the picks of the broadcast just before it (``before``, e.g. when the pool
changed on a date the schedule names). The new stretch then starts a fresh cycle that does not
begin with any of those items, whenever the pool is big enough for that.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["round-robin", "shuffle", "weighted"]
MODES: tuple[Mode, ...] = ("round-robin", "shuffle", "weighted")


@dataclass(frozen=True)
class Pool:
    """What a rotation chooses from: stable keys (file order) and a whole-number weight each."""

    keys: tuple[str, ...]
    weights: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a pool needs at least one item")
        if len(self.keys) != len(self.weights) or len(set(self.keys)) != len(self.keys):
            raise ValueError("a pool needs one weight per item and no item twice")


def hash_int(*parts: object) -> int:
    """A 64-bit number from ``parts``: stable across runs, machines and Python versions."""
    text = "\x1f".join(str(part) for part in parts)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def shuffled(count: int, seed: str) -> list[int]:
    """A permutation of ``range(count)`` (Fisher-Yates driven by :func:`hash_int`)."""
    order = list(range(count))
    for top in range(count - 1, 0, -1):
        other = hash_int(seed, top) % (top + 1)
        order[top], order[other] = order[other], order[top]
    return order


def smooth_weighted(weights: tuple[int, ...]) -> list[int]:
    """One period of smooth weighted round-robin: item ``i`` appears ``weights[i]`` times."""
    total = sum(weights)
    current = [0] * len(weights)
    order: list[int] = []
    for _ in range(total):
        for index, weight in enumerate(weights):
            current[index] += weight
        best = max(range(len(weights)), key=current.__getitem__)
        current[best] -= total
        order.append(best)
    return order


def _start_offset(ring: list[int], avoid: frozenset[int], pick: int, preferred: int) -> int:
    """Where to start reading ``ring`` so the first ``pick`` elements avoid ``avoid``."""
    size = len(ring)
    for step in range(size):
        offset = (preferred + step) % size
        if not any(ring[(offset + i) % size] in avoid for i in range(pick)):
            return offset
    return preferred % size


@dataclass
class Picker:
    """The picks of one pool over one stretch of calendar (see the module notes)."""

    pool: Pool
    mode: Mode
    pick: int
    seed: str
    before: tuple[str, ...] = ()
    _before: list[int] = field(init=False, default_factory=list)
    _ring: list[int] = field(init=False, default_factory=list)
    _offset: int = field(init=False, default=0)
    _window: int = field(init=False, default=0)
    _cycles: dict[int, list[int]] = field(init=False, default_factory=dict)
    _raws: dict[int, list[int]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.pick < 1:
            raise ValueError("pick must be at least 1")
        size = len(self.pool.keys)
        position = {key: index for index, key in enumerate(self.pool.keys)}
        self._before = [position[key] for key in self.before if key in position]
        avoid = frozenset(self._before)
        if self.mode == "shuffle" and size >= 6 * self.pick - 3:
            self._window = 2 * self.pick
            return
        if self.mode == "weighted":
            self._ring = smooth_weighted(self.pool.weights)
            preferred = 0
        else:
            self._ring = (
                list(range(size)) if self.mode == "round-robin"
                else shuffled(size, f"{self.seed}|ring")
            )
            last = self._before[-1] if self._before else None
            preferred = self._ring.index(last) + 1 if last is not None else 0
        self._offset = _start_offset(self._ring, avoid, self.pick, preferred)

    def element(self, index: int) -> int:
        """Stream element ``index``, as a position in the pool."""
        if self._ring:
            return self._ring[(index + self._offset) % len(self._ring)]
        cycle, place = divmod(index, len(self.pool.keys))
        return self._cycle(cycle)[place]

    def picks(self, occurrence: int) -> tuple[int, ...]:
        """Pool positions aired by broadcast number ``occurrence`` of this stretch."""
        if self.pick == 1:
            return (self.element(occurrence),)
        first = occurrence * self.pick
        return tuple(self.element(first + i) for i in range(self.pick))

    def keys(self, occurrence: int) -> tuple[str, ...]:
        return tuple(self.pool.keys[i] for i in self.picks(occurrence))

    def _raw(self, cycle: int) -> list[int]:
        raw = self._raws.get(cycle)
        if raw is None:
            raw = self._raws[cycle] = shuffled(len(self.pool.keys), f"{self.seed}|{cycle}")
        return raw

    def _cycle(self, cycle: int) -> list[int]:
        """Cycle ``cycle``: a shuffle whose head avoids the tail of the cycle before.

        Only head and middle positions are swapped, never the last ``window - 1``, so the tail
        of the cycle before is that of its raw shuffle and each cycle is computed on its own.
        """
        kept = self._cycles.get(cycle)
        if kept is not None:
            return kept
        order = list(self._raw(cycle))
        size = len(order)
        reach = self._window - 1
        tail = self._before if cycle == 0 else self._raw(cycle - 1)[size - reach:]
        for place in range(reach):
            span = reach - place
            forbidden = set(tail[-span:])
            if order[place] not in forbidden:
                continue
            swap = next(q for q in range(reach, size - reach) if order[q] not in forbidden)
            order[place], order[swap] = order[swap], order[place]
        self._cycles[cycle] = order
        return order
