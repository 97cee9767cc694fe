"""Getting programs ready to air: render each item once, keep it, and join the program.

Finished items are kept in a render store keyed by what decides their sound (the script's content
hash and every render setting), so a program re-renders only what changed, and each file is
rendered by one caller at a time: another caller that needs it waits for that render. A script
that is not approved never gets this far: rendering refuses it.

A store that keeps last good scripts (the daemon's) also keeps a copy of each script that was
found good and approved; when a later edit is broken, unapproved or removed, that copy is
rendered instead, and the result carries a note saying so. An item an engine fell back on is
kept under the engines that really spoke it, so the preferred engine is tried again next time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

from broadcast.approval import ApprovalRule, approval_path, trust_list_problem
from broadcast.assets import BUILT_IN, BUILT_IN_CHIME, Sound, synthesize
from broadcast.audio import AudioError, LoudnessTarget, OutputFormat, probe
from broadcast.bulletin import ApprovalRecord, Bulletin, BulletinError, read_bulletin
from broadcast.errors import BroadcastError, Location
from broadcast.fileio import file_sha256, write_bytes_atomic
from broadcast.planner import Broadcast
from broadcast.render import (
    ProgressCallback,
    Relayed,
    RelaySidecar,
    RenderedAudio,
    RenderSettings,
    load_rendered,
    render_bulletin,
    render_program,
    render_recording,
    sidecar_path,
)
from broadcast.schedule import (
    AudioItem,
    ChimeItem,
    RelayItem,
    Schedule,
    ScriptItem,
    schedule_text,
)
from broadcast.tts import SpeechEngine, engine_chain, speech_engines
from broadcast.vietnamese import Lexicon, default_lexicon, load_lexicon
from broadcast.yamlsource import load_yaml

log = logging.getLogger("broadcast.render")

class RenderTampered(BulletinError):
    """A rendered file is not the one that was made: refused like an unapproved script."""


HEADER_RULE = ApprovalRule()
"""Approval by the script's approved_by line (commands working on a script alone)."""
ITEM_FORMAT = OutputFormat(codec="flac")
"""Items are kept lossless; only the finished program is encoded for air."""

PROGRAM_FORMAT = OutputFormat(codec="mp3")


class RenderStore:
    """Where finished items and programs are kept (a folder inside the state folder); see the
    module doc for ``keep_last_good``."""

    def __init__(self, root: Path, *, keep_last_good: bool = False) -> None:
        self.root = root
        self.keep_last_good = keep_last_good
        self._lock = threading.Lock()
        self._in_flight: dict[Path, Future[RenderedAudio[Any]]] = {}
        self._digests: dict[Path, str] = {}

    def once(self, out: Path, make: Callable[[], RenderedAudio[Any]]) -> RenderedAudio[Any]:
        """``out`` as kept, or made by ``make``; while one caller makes it, others wait."""
        with self._lock:
            flight = self._in_flight.get(out)
            mine = flight is None
            if flight is None:
                flight = self._in_flight[out] = Future()
        if not mine:
            return flight.result()
        try:
            result = load_rendered(out)
            if result is None:
                result = make()
                with self._lock:
                    self._digests.pop(result.path, None)  # made anew: its new digest counts
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        else:
            flight.set_result(result)
            return result
        finally:
            with self._lock:
                del self._in_flight[out]

    def intact(self, audio: RenderedAudio) -> RenderedAudio:
        """``audio`` if its file is still the one rendered: its SHA-256 is the one its sidecar
        recorded, and the one this store first saw for it. A file changed on disk (swapped,
        damaged) raises :class:`RenderTampered` and is deleted, to be rendered again."""
        try:
            now = file_sha256(audio.path)
        except OSError as exc:
            raise AudioError(f"the audio {audio.path.name} cannot be read: "
                             f"{exc.strerror or exc}.") from None
        expected = audio.sha256 or now
        with self._lock:
            first = self._digests.setdefault(audio.path, expected)
        if now == expected == first:
            return audio
        with self._lock:
            self._digests.pop(audio.path, None)
        audio.path.unlink(missing_ok=True)
        sidecar_path(audio.path).unlink(missing_ok=True)
        raise RenderTampered(f"the rendered audio {audio.path.name} was changed on disk after "
                             "it was made (its SHA-256 differs), so it was not aired and will "
                             "be rendered again. Check who can write the state folder.")

    @property
    def scripts(self) -> Path:
        return self.root / "last-good-scripts"

    def approved_bulletin(self, path: Path, rule: ApprovalRule = HEADER_RULE,
                          ) -> tuple[Bulletin, list[str]]:
        """The script at ``path`` if it is good and approved as ``rule`` says; else, when
        kept, its last good version (with its approval) and a note that says so (see the
        module doc)."""
        kept = self.scripts / f"{path.stem}-{_key(str(path))}{path.suffix}"
        try:
            bulletin, data = read_bulletin(path)
            bulletin = rule.approve(bulletin)
        except BulletinError as exc:
            if not self.keep_last_good or not kept.is_file():
                raise
            bulletin, _ = read_bulletin(path, source=kept)
            bulletin = rule.approve(bulletin, approval_of=kept)
            saved = dt.datetime.fromtimestamp(kept.stat().st_mtime).astimezone()
            note = (f"{path.name} cannot be aired as it is now ({str(exc).splitlines()[0]}); "
                    f"its last good version, from {saved:%Y-%m-%d %H:%M}, airs until the "
                    "script is fixed.")
            log.error(note)
            return bulletin, [note]
        if self.keep_last_good and (not kept.is_file() or kept.read_bytes() != data):
            write_bytes_atomic(kept, data)
        if self.keep_last_good and rule.signed:
            signed = approval_path(path).read_bytes()
            if not approval_path(kept).is_file() or approval_path(kept).read_bytes() != signed:
                write_bytes_atomic(approval_path(kept), signed)
        return bulletin, []

    @property
    def items(self) -> Path:
        return self.root / "items"

    @property
    def programs(self) -> Path:
        return self.root / "programs"

    def prune(self, unused_for: dt.timedelta) -> int:
        """Delete renders not used for ``unused_for`` (and their sidecars); return how many.

        Using a render marks it, so what airs keeps its files; what no longer airs goes.
        """
        cutoff = time.time() - unused_for.total_seconds()
        removed = 0
        for folder in (self.items, self.programs):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.suffix == ".json":
                    continue
                with contextlib.suppress(FileNotFoundError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        sidecar_path(path).unlink(missing_ok=True)
                        removed += 1
        return removed


def schedule_lexicon(schedule: Schedule) -> Lexicon:
    """The default lexicon with the ward's own lexicon file (if any) taking precedence.

    The lexicon decides how approved words are read aloud, so where approvals are signed it is
    trusted like the list of approvers: only its owner (root or the daemon's user) may change
    it; otherwise nothing is rendered with it."""
    lexicon = default_lexicon()
    if schedule.tts.lexicon is None:
        return lexicon
    path = schedule.ward_file(schedule.tts.lexicon)
    if not path.exists():
        return lexicon
    problem = trust_list_problem(path) if schedule.approval == "signed" else None
    if problem is not None:
        raise BroadcastError(f"the lexicon changes how approved words are read, so it cannot "
                             f"be used: {problem}.", Location(path))
    return lexicon.merged(load_lexicon(path))


def schedule_engines(
    schedule: Schedule, engine: str | None = None
) -> tuple[tuple[SpeechEngine, ...], str | None]:
    """The engines to try, in order: the schedule's engine (or ``engine``), then its fallbacks.

    With the default fallback (espeak-ng), an internet outage never silences a broadcast.
    """
    tts = schedule.tts
    return engine_chain([engine or tts.engine, *tts.fallback], speech_engines(tts))


def _key(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:24]


def approval_rule(schedule: Schedule) -> ApprovalRule:
    """How the schedule's scripts must be approved."""
    return ApprovalRule.of(schedule.approval, schedule.base_dir)


WARD_SCHEDULE = "schedule.yaml"
WARD_LEVELS = 3
"""A ward's scripts are in its folder, in scripts/, or one folder further down."""


def ward_rule(script: Path) -> ApprovalRule:
    """How a script taken on its own (``broadcast render``, ``broadcast play``) must be
    approved: as the wards it may belong to say, the schedule.yaml files in its folder and up
    to two folders above. Signed when any of them asks for it or cannot be read (a
    schedule.yaml dropped beside the script cannot lift a ward's rule); by its header when it
    is in no ward."""
    found = [folder for folder in script.resolve().parents[:WARD_LEVELS]
             if (folder / WARD_SCHEDULE).is_file()]
    for folder in found:
        path = folder / WARD_SCHEDULE
        try:
            meta, _ = load_yaml(schedule_text(path), path)
        except BroadcastError:
            meta = None
        if not (isinstance(meta, dict) and meta.get("approval", "header") == "header"):
            return ApprovalRule.of("signed", folder)
    return ApprovalRule.of("header", found[0]) if found else HEADER_RULE


def prepare_script(
    path: Path,
    settings: RenderSettings,
    store: RenderStore,
    progress: ProgressCallback | None = None,
    rule: ApprovalRule = HEADER_RULE,
) -> RenderedAudio:
    """The finished audio of a script approved as ``rule`` says, rendered now only if not
    already kept."""
    bulletin, notes = store.approved_bulletin(path, rule)

    def out(usable: RenderSettings) -> Path:
        key = _key(bulletin.content_hash, usable.fingerprint(ITEM_FORMAT))
        return store.items / f"{path.stem}-{key}.flac"

    def make(usable: RenderSettings) -> RenderedAudio[Any]:
        rendered = render_bulletin(bulletin, out(usable), usable, ITEM_FORMAT, progress)
        spoke = rendered.metadata.engine
        if spoke == usable.engines[0].identity:
            return rendered
        return rendered.moved(out(usable.from_engine(spoke)))

    chars = len(bulletin.body)
    kept = load_rendered(out(replace(settings, deadline=None).usable_now(chars)))
    if kept is None:
        usable = settings.usable_now(chars)
        kept = store.once(out(usable), lambda: make(usable))
    return kept.noted(notes).approved({bulletin.content_hash: bulletin.approval})


def prepare_recording(
    path: Path, target: LoudnessTarget, store: RenderStore, kind: str = "audio",
    rule: ApprovalRule = HEADER_RULE,
) -> RenderedAudio:
    """A recorded audio item (or chime) brought to the loudness target, kept once per file
    content; it must be approved as ``rule`` says."""
    if not path.is_file():
        raise AudioError(f"audio file '{path}' does not exist.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AudioError(f"audio file '{path}' cannot be read: {exc.strerror}.") from None
    digest = hashlib.sha256(data).hexdigest()
    # The approval, the key and the render all go by these very bytes: a file swapped on disk
    # meanwhile changes none of them.
    approval = rule.approve_recording(path, content_hash=f"sha256:{digest}")
    out = store.items / f"{path.stem}-{_key(digest, repr(target), kind)}.flac"

    def make() -> RenderedAudio[Any]:
        with tempfile.TemporaryDirectory(prefix="broadcast-recording-") as tmp:
            copy = Path(tmp) / f"recording{path.suffix.lower()}"
            copy.write_bytes(data)
            probe(copy)  # a sound file, never a playlist that would air other files
            return render_recording(copy, out, target, ITEM_FORMAT, kind, recorded_as=path)

    audio = store.once(out, make)
    return audio if approval is None else audio.approved({str(path): approval})


def schedule_chime(schedule: Schedule, name: str | None, target: LoudnessTarget,
                   store: RenderStore) -> RenderedAudio:
    """The chime ``name`` (None: the default) as the schedule has it: its sound file, approved
    as the ward's rule says, or else the built-in sound of that name."""
    return prepare_chime(schedule.chime_file(name), target, store,
                         BUILT_IN.get(name or "default", BUILT_IN_CHIME), approval_rule(schedule))


def prepare_chime(path: Path | None, target: LoudnessTarget, store: RenderStore,
                  built_in: Sound = BUILT_IN_CHIME, rule: ApprovalRule = HEADER_RULE,
                  ) -> RenderedAudio:
    """A chime from its file (a recording like any other: signed where the ward's rule asks);
    with no file, the built-in sound ``built_in`` (synthesized once, then kept)."""
    if path is not None:
        return prepare_recording(path, target, store, kind="chime", rule=rule)
    out = store.items / f"{built_in.name}-{_key(repr(built_in), repr(target))}.flac"

    def make() -> RenderedAudio[Any]:
        with tempfile.TemporaryDirectory(prefix="broadcast-chime-") as tmp:
            raw = Path(tmp) / "chime.wav"
            synthesize(built_in, raw)
            return render_recording(raw, out, target, ITEM_FORMAT, kind="chime")

    return store.once(out, make)


def _identity(part: RenderedAudio | float | Relayed) -> str:
    """What decides a program part's sound, for the program's cache key."""
    if isinstance(part, float):
        return f"silence:{part}"
    if isinstance(part, Relayed):
        relay = part.relay
        fallback = Path(relay.fallback).name if relay.fallback else "-"
        return f"relay:{relay.source}:{relay.url}:{part.duration_s}:{relay.silence_s}:{fallback}"
    return part.path.name


def _relayed(schedule: Schedule, item: RelayItem, settings: RenderSettings,
             store: RenderStore) -> Relayed:
    """A relay of the schedule's sources, with its fallback made ready."""
    source = schedule.relay_source(item.relay)
    if source is None:
        raise BroadcastError(f"'{item.relay}' is not in relay_sources of {schedule.source.name}, "
                             "and only those may be relayed.")
    fallback: RenderedAudio | None = None
    instead = item.fallback or source.fallback
    if isinstance(instead, ScriptItem):
        fallback = prepare_script(schedule.ward_file(instead.script), settings, store,
                                  rule=approval_rule(schedule))
    elif isinstance(instead, AudioItem):
        fallback = prepare_recording(schedule.ward_file(instead.audio, sound=True),
                                     settings.target, store, rule=approval_rule(schedule))
    elif isinstance(instead, ChimeItem):
        fallback = schedule_chime(schedule, instead.chime, settings.target, store)
    relay = RelaySidecar(source.name, source.url, source.silence.total_seconds(),
                         None if fallback is None else str(fallback.path))
    return Relayed(relay, item.duration.total_seconds())


def prepare_program(
    schedule: Schedule,
    broadcast: Broadcast,
    settings: RenderSettings,
    store: RenderStore,
    progress: ProgressCallback | None = None,
) -> RenderedAudio:
    """The broadcast's finished audio: every item ready, joined with pauses, encoded for air."""
    parts: list[RenderedAudio | float | Relayed] = []
    notes: list[str] = []
    for item in broadcast.items:
        if isinstance(item, ScriptItem):
            parts.append(prepare_script(schedule.ward_file(item.script), settings, store, progress,
                                        approval_rule(schedule)))
        elif isinstance(item, AudioItem):
            parts.append(prepare_recording(schedule.ward_file(item.audio, sound=True),
                                           settings.target, store, rule=approval_rule(schedule)))
        elif isinstance(item, ChimeItem):
            parts.append(schedule_chime(schedule, item.chime, settings.target, store))
        elif isinstance(item, RelayItem):
            parts.append(_relayed(schedule, item, settings, store))
        else:
            parts.append(float(item.silence))
    identity = [_identity(part) for part in parts]
    out = store.programs / f"{broadcast.program_id}-{_key(*identity, repr(settings.pauses))}.mp3"
    approvals: dict[str, ApprovalRecord] = {}
    for part in parts:
        if isinstance(part, RenderedAudio):
            notes += [note for note in part.notes if note not in notes]
            approvals.update(part.approvals)
    program = store.once(out, lambda: render_program(
        parts, out, settings.target, settings.pauses, PROGRAM_FORMAT,
        program=broadcast.program_id,
    ))
    return program.noted(notes).approved(approvals)
