"""Noticing edits to the schedule, its scripts and its lexicon, once the editor has finished.

The watcher looks at file sizes and modification times about once a second (cheap, and it works
on every filesystem). A change is reported only when the files have stayed the same for a moment,
so an editor that saves in two steps (truncate, then write; or write a temporary file, then
rename) is seen once, finished, and not as a broken file in between.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from broadcast.schedule import (
    AUDIO_SUFFIXES,
    SCRIPT_SUFFIXES,
    AudioItem,
    ChimeItem,
    IcecastOutput,
    RelayItem,
    RotationItem,
    Schedule,
    ScriptItem,
    SilenceItem,
)

ScheduledItem = ScriptItem | AudioItem | RotationItem | RelayItem | ChimeItem | SilenceItem

SETTLE_S = 2.0
"""How long files must stay unchanged before a change counts: an editor or a copy that writes in
two steps, with a pause between, is not taken for a broken edit."""
WATCHED_SUFFIXES = frozenset({".yaml", ".yml", *SCRIPT_SUFFIXES, *AUDIO_SUFFIXES})
"""Only files like these count (plus any file the schedule names): a log file written beside
the schedule is not an edit."""

Stamp = dict[Path, tuple[int, int]]


def _aired_items(schedule: Schedule) -> list[ScheduledItem]:
    """Every item the schedule may air: programs', fallbacks, campaigns', relays'."""
    items = [item for program in schedule.programs for item in program.items]
    items += [program.fallback for program in schedule.programs if program.fallback]
    items += [item for campaign in schedule.campaigns for item in campaign.items]
    items += [item.fallback for item in items
              if isinstance(item, RelayItem) and item.fallback is not None]
    items += [source.fallback for source in schedule.relay_sources if source.fallback]
    return items


def approved_files(schedule: Schedule) -> tuple[set[Path], set[Path]]:
    """The scripts and the recorded audio the schedule may air (rotations' patterns matched,
    every chime's sound file too, for manual requests open with one, and the idle sounds
    receivers hear between broadcasts): what an approver signs."""
    scripts: set[Path] = set()
    recorded = {schedule.resolve(sound) for sound in schedule.chimes.values()}
    recorded.update(schedule.resolve(output.idle) for zone in schedule.zones
                    for output in zone.outputs
                    if isinstance(output, IcecastOutput) and output.idle is not None)
    for item in _aired_items(schedule):
        if isinstance(item, ScriptItem):
            scripts.add(schedule.resolve(item.script))
        elif isinstance(item, AudioItem):
            recorded.add(schedule.resolve(item.audio))
        elif isinstance(item, RotationItem):
            for entry in item.rotation:
                for path in schedule.matches(entry):
                    script = path.suffix.lower() in SCRIPT_SUFFIXES
                    (scripts if script else recorded).add(schedule.resolve(path))
    return scripts, recorded


def watched_files(schedule: Schedule) -> set[Path]:
    """The schedule and every file it names."""
    files: set[Path] = {schedule.source}
    if schedule.tts.lexicon is not None:
        files.add(schedule.resolve(schedule.tts.lexicon))
    files.update(schedule.resolve(path) for path in schedule.chimes.values())
    for item in _aired_items(schedule):
        if isinstance(item, ScriptItem):
            files.add(schedule.resolve(item.script))
        elif isinstance(item, AudioItem):
            files.add(schedule.resolve(item.audio))
        elif isinstance(item, RotationItem):
            files.update(schedule.resolve(entry.path) for entry in item.rotation)
        elif isinstance(item, ChimeItem):
            chime = schedule.chime_file(item.chime)
            if chime is not None:
                files.add(chime)
    for zone in schedule.zones:
        for output in zone.outputs:
            if isinstance(output, IcecastOutput):
                for path in (output.password_file, output.idle):
                    if path is not None:
                        files.add(schedule.resolve(path))
    return files


def take_stamp(named: set[Path]) -> Stamp:
    """Size and modification time of the named files and of every script, audio or YAML file
    beside them (a new file can match a rotation's pattern)."""
    stamp: Stamp = {}
    for folder in {path.parent for path in named}:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for path in entries:
            if path not in named and (path.suffix.lower() not in WATCHED_SUFFIXES
                                      or path.name.startswith(".")):
                continue  # logs, editors' swap files, half-written temporary files
            try:
                status = path.stat()
            except OSError:
                continue
            if not path.is_dir():
                stamp[path] = (status.st_mtime_ns, status.st_size)
    return stamp


@dataclass
class Watcher:
    """Says when the watched files have changed and then settled."""

    files: set[Path]

    def __post_init__(self) -> None:
        self._seen = take_stamp(self.files)
        self._pending: Stamp | None = None
        self._since = 0.0

    def watch(self, files: set[Path]) -> None:
        """Watch these files from now on (after a reload); what is there now is not news."""
        self.files = files
        self._seen = take_stamp(files)
        self._pending = None

    def poll(self) -> list[Path] | None:
        """The files that changed, once they have settled; None while nothing (new) settled."""
        now = take_stamp(self.files)
        if now == self._seen:
            self._pending = None
            return None
        if now != self._pending:
            self._pending = now
            self._since = time.monotonic()
            return None
        if time.monotonic() - self._since < SETTLE_S:
            return None
        changed = sorted(
            path for path in now.keys() | self._seen.keys()
            if now.get(path) != self._seen.get(path)
        )
        self._seen = now
        self._pending = None
        return changed
