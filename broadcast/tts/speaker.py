"""Speaking a whole bulletin: chunking, the chunk cache, parallel requests and the fallback chain.

The engines are tried in order for the whole bulletin, so one bulletin is never a mix of voices:
when an engine fails, the next one speaks it all and the result says why it fell back.
Chunks are requested in reading order, and each paragraph is handed on as soon as all of its
chunks are in, so later work (mastering) can start while the rest is still being fetched.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from broadcast.tts.base import EngineError, SpeechClip, SpeechEngine
from broadcast.tts.cache import CacheError, ChunkCache
from broadcast.vietnamese import chunk_spoken

log = logging.getLogger("broadcast.tts")


@dataclass(frozen=True)
class SpeechProgress:
    """How far a bulletin's speech has come, for a progress display."""

    done: int
    total: int
    engine: str
    cache_hits: int


ProgressCallback = Callable[[SpeechProgress], None]


@dataclass(frozen=True)
class SpokenParagraph:
    """One paragraph whose chunks are all spoken: its place among the paragraphs and its clips."""

    engine: str
    """Identity of the engine that spoke it."""
    index: int
    count: int
    """How many paragraphs there are."""
    clips: list[SpeechClip]


ParagraphCallback = Callable[[SpokenParagraph], None]


@dataclass(frozen=True)
class Speech:
    """A bulletin spoken: per paragraph, the clips of its chunks in order."""

    paragraphs: list[list[SpeechClip]]
    engine: str
    """Identity of the engine that produced the audio."""
    chunks: int
    cache_hits: int
    retries: int
    warnings: list[str] = field(default_factory=list)


def chunk_paragraphs(paragraphs: Sequence[str], max_chars: int) -> list[list[str]]:
    """Each spoken paragraph cut into pieces the engine takes (empty paragraphs dropped)."""
    chunked = [chunk_spoken(" ".join(p.split()), max_chars) for p in paragraphs]
    return [chunks for chunks in chunked if chunks]


def _speak_with(
    engine: SpeechEngine,
    paragraphs: Sequence[str],
    cache: ChunkCache | None,
    progress: ProgressCallback | None,
    on_paragraph: ParagraphCallback | None,
) -> Speech:
    chunked = chunk_paragraphs(paragraphs, engine.max_chunk_chars)
    flat = [chunk for chunks in chunked for chunk in chunks]
    clips: dict[str, SpeechClip] = {}
    if cache is not None:
        for text in flat:
            kept = cache.get(engine.identity, text)
            if kept is not None:
                clips[text] = kept
    uses = Counter(flat)
    missing = [text for text in uses if text not in clips]
    hits = done = len(flat) - sum(uses[text] for text in missing)

    def report() -> None:
        if progress is not None:
            progress(SpeechProgress(done, len(flat), engine.name, hits))

    waiting = [set(chunks) - clips.keys() for chunks in chunked]
    holders: dict[str, list[int]] = {}
    for index, missing_here in enumerate(waiting):
        for text in missing_here:
            holders.setdefault(text, []).append(index)

    def hand_on(index: int) -> None:
        if on_paragraph is not None:
            on_paragraph(
                SpokenParagraph(
                    engine.identity, index, len(chunked), [clips[t] for t in chunked[index]]
                )
            )

    report()
    for index, missing_here in enumerate(waiting):
        if not missing_here:
            hand_on(index)
    retries = 0
    if missing:
        pool = ThreadPoolExecutor(max_workers=max(1, engine.concurrency))
        cancel = threading.Event()
        futures: dict[Future[SpeechClip], str] = {
            pool.submit(engine.synthesize, text, cancel): text for text in missing
        }
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    clip = future.result()
                    text = futures[future]
                    clips[text] = clip
                    retries += clip.retries
                    if cache is not None:
                        cache.put(engine.identity, text, clip)
                    done += uses[text]
                    report()
                    for index in holders.get(text, []):
                        waiting[index].discard(text)
                        if not waiting[index]:
                            hand_on(index)
        finally:
            # On failure, requests still retrying stop at their next wait and nothing waits for
            # them: the next engine takes over at once.
            if pending:
                cancel.set()
            pool.shutdown(wait=not pending, cancel_futures=True)
    return Speech(
        paragraphs=[[clips[text] for text in chunks] for chunks in chunked],
        engine=engine.identity,
        chunks=len(flat),
        cache_hits=hits,
        retries=retries,
    )


def speak(
    paragraphs: Sequence[str],
    engines: Sequence[SpeechEngine],
    cache: ChunkCache | None = None,
    progress: ProgressCallback | None = None,
    on_paragraph: ParagraphCallback | None = None,
) -> Speech:
    """Speak spoken-form paragraphs with the first engine in ``engines`` that succeeds.

    ``on_paragraph`` is called (on the calling thread) with each paragraph as soon as all its
    chunks are spoken; after a fallback, the next engine's paragraphs follow.
    """
    if not engines:
        raise EngineError("no speech engine is set. Add one under 'tts' in schedule.yaml.")
    failures: list[str] = []
    for index, engine in enumerate(engines):
        try:
            speech = _speak_with(engine, paragraphs, cache, progress, on_paragraph)
        except CacheError:
            raise
        except EngineError as exc:
            failures.append(f"{engine.name}: {exc.message}")
            if index + 1 < len(engines):
                note = f"{engine.name} failed ({exc.message}); using {engines[index + 1].name}"
                log.warning(note)
            continue
        if failures:
            return Speech(
                speech.paragraphs, speech.engine, speech.chunks, speech.cache_hits,
                speech.retries, [f"fell back to {engine.name}: " + "; ".join(failures)],
            )
        return speech
    if len(failures) == 1:
        raise EngineError(failures[0].split(": ", 1)[1])
    raise EngineError("no engine could speak this bulletin. " + " | ".join(failures))
