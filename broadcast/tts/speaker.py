"""Speaking a whole bulletin: chunking, the chunk cache, parallel requests and the fallback chain.

The engines are tried in order for the whole bulletin, so one bulletin is never a mix of voices:
when an engine fails, the next one speaks it all and the result says why it fell back.
Chunks are requested in reading order, and each paragraph is handed on as soon as all of its
chunks are in, so later work (mastering) can start while the rest is still being fetched.

Two things keep an outage from costing a broadcast. An :class:`EngineBreaker` remembers an
engine that just failed, so for a few minutes the next renders go straight to the next engine.
A render with a ``deadline`` gives every engine but the last until the deadline less the time
the last one needs (:func:`fallback_reserve_s`); then the last one speaks it.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
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

_CHECK_S = 0.5
"""How often a render waiting on its engine looks whether it was called off."""
COOL_DOWN_S = 300.0
"""After an engine fails, renders skip it for this long; then the next render tries it again."""


class EngineBreaker:
    """Which engines failed a moment ago (thread-safe); see the module doc."""

    def __init__(self, cool_down_s: float = COOL_DOWN_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cool_down_s = cool_down_s
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until: dict[str, float] = {}

    def failed(self, engine: SpeechEngine) -> None:
        with self._lock:
            self._open_until[engine.identity] = self._clock() + self.cool_down_s

    def succeeded(self, engine: SpeechEngine) -> None:
        with self._lock:
            self._open_until.pop(engine.identity, None)

    def is_open(self, engine: SpeechEngine) -> bool:
        """Whether ``engine`` failed less than the cool-down ago."""
        with self._lock:
            return self._clock() < self._open_until.get(engine.identity, 0.0)

    def usable(self, engines: Sequence[SpeechEngine]) -> tuple[SpeechEngine, ...]:
        """``engines`` less those that failed a moment ago; the last one is always kept."""
        return tuple(e for e in engines[:-1] if not self.is_open(e)) + tuple(engines[-1:])


def fallback_reserve_s(chars: int) -> float:
    """How long before a deadline the last engine must start to finish a text of ``chars``
    characters in time: espeak-ng speaks and masters about 1,000 characters a second here;
    this allows for a machine three times slower, plus a margin."""
    return 5.0 + 3.0 * chars / 1000


class DeadlineMissed(EngineError):
    """An engine had not finished when the last engine had to take over."""


class RenderCancelled(EngineError):
    """The render was called off (the daemon is stopping): no engine is tried after it."""


class _RequestPool:
    """Worker threads for one engine's requests. They are daemon threads: a request stuck on
    the network never holds up the end of the process."""

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._jobs: queue.SimpleQueue[tuple[Future[SpeechClip], Callable[[], SpeechClip]] | None]
        self._jobs = queue.SimpleQueue()
        for _ in range(workers):
            threading.Thread(target=self._work, name="speech request", daemon=True).start()

    def submit(self, work: Callable[[], SpeechClip]) -> Future[SpeechClip]:
        future: Future[SpeechClip] = Future()
        self._jobs.put((future, work))
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, work = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work())
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)

    def shutdown(self, pending: set[Future[SpeechClip]]) -> None:
        """Drop the requests not started; the workers end after the ones under way."""
        for future in pending:
            future.cancel()
        for _ in range(self._workers):
            self._jobs.put(None)


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
    give_up_at: float | None = None,
    called_off: threading.Event | None = None,
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
        pool = _RequestPool(max(1, engine.concurrency))
        cancel = threading.Event()
        futures: dict[Future[SpeechClip], str] = {
            pool.submit(functools.partial(engine.synthesize, text, cancel)): text
            for text in missing
        }
        pending = set(futures)
        try:
            while pending:
                left = _CHECK_S if give_up_at is None else \
                    min(_CHECK_S, max(0.0, give_up_at - time.time()))
                finished, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
                if called_off is not None and called_off.is_set():
                    raise RenderCancelled("the render was called off")
                if not finished and (give_up_at is None or time.time() < give_up_at):
                    continue
                if not finished:
                    raise DeadlineMissed(
                        f"{len(pending)} of {len(flat)} pieces were still missing when the next "
                        "engine had to take over to be ready in time"
                    )
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
            pool.shutdown(pending)
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
    *,
    breaker: EngineBreaker | None = None,
    deadline: float | None = None,
    called_off: threading.Event | None = None,
) -> Speech:
    """Speak spoken-form paragraphs with the first engine in ``engines`` that succeeds.

    ``on_paragraph`` is called (on the calling thread) with each paragraph as soon as all its
    chunks are spoken; after a fallback, the next engine's paragraphs follow. ``breaker`` is
    told which engines failed and which spoke; ``deadline`` (seconds since the epoch) is when
    the speech must be ready (see the module doc); once ``called_off`` is set, the speech
    is given up (:class:`RenderCancelled`).
    """
    if not engines:
        raise EngineError("no speech engine is set. Add one under 'tts' in schedule.yaml.")
    failures: list[str] = []
    give_up_at = None
    if deadline is not None:
        give_up_at = deadline - fallback_reserve_s(sum(len(p) for p in paragraphs))
    for index, engine in enumerate(engines):
        last = index + 1 == len(engines)
        try:
            speech = _speak_with(engine, paragraphs, cache, progress, on_paragraph,
                                 None if last else give_up_at, called_off)
        except (CacheError, RenderCancelled):
            raise
        except EngineError as exc:
            if breaker is not None and not isinstance(exc, DeadlineMissed):
                breaker.failed(engine)
            failures.append(f"{engine.name}: {exc.message}")
            if index + 1 < len(engines):
                note = f"{engine.name} failed ({exc.message}); using {engines[index + 1].name}"
                log.warning(note)
            continue
        if breaker is not None:
            breaker.succeeded(engine)
        if failures:
            return Speech(
                speech.paragraphs, speech.engine, speech.chunks, speech.cache_hits,
                speech.retries, [f"fell back to {engine.name}: " + "; ".join(failures)],
            )
        return speech
    if len(failures) == 1:
        raise EngineError(failures[0].split(": ", 1)[1])
    raise EngineError("no engine could speak this bulletin. " + " | ".join(failures))
