"""Reading a ward's schedule.yaml for airing or checking: the checks of :mod:`broadcast.schedule`,
with program lengths estimated from the scripts and audio files it names."""

from __future__ import annotations

from pathlib import Path

from broadcast.estimate import Estimator
from broadcast.schedule import Schedule, schedule_text, validate_schedule


def parse_schedule(text: str, path: Path) -> Schedule:
    """Validate schedule text that came from ``path``; raise
    :class:`~broadcast.schedule.ScheduleError` listing every problem, in file order."""
    return validate_schedule(text, path, Estimator)


def load_schedule(path: Path) -> Schedule:
    """Read and validate a schedule file."""
    return read_schedule(path)[0]


def read_schedule(path: Path) -> tuple[Schedule, str]:
    """Read and validate a schedule file; also return the exact text that was validated."""
    text = schedule_text(path)
    return parse_schedule(text, path.resolve()), text
