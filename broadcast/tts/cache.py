"""A content-addressed cache of synthesized chunks, and of paragraphs mastered from them.

A chunk's audio is kept under the hash of the engine's identity and the exact spoken text, so
re-rendering a bulletin after editing one sentence synthesizes only the chunks that changed. The
renderer keeps each mastered paragraph here too, under a key of its own making (see
``broadcast.paragraph_mastering``), so that edit re-masters only its paragraph; such an entry
starts with the SHA-256 of the rest, and a damaged one is dropped and made again.
Entries are written to a temporary file and renamed into place: two processes rendering at once
never see or leave a half-written entry. Eviction removes the least recently used entries past a
size bound and any entry older than an age bound.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from broadcast.errors import BroadcastError
from broadcast.tts.base import SpeechClip
from broadcast.tts.mp3 import inspect_mp3

_FORMATS = ("mp3", "wav")
_MASTERED = "mastered"
_DIGEST_BYTES = hashlib.sha256().digest_size


class CacheError(BroadcastError):
    """The cache folder cannot be written."""


def _looks_whole(data: bytes, fmt: str) -> bool:
    if fmt == "wav":
        return len(data) > 44 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    try:
        inspect_mp3(data)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class CacheStats:
    entries: int
    bytes: int
    oldest_s: float | None
    """Age in seconds of the least recently used entry."""


@dataclass(frozen=True)
class PruneResult:
    removed: int
    freed_bytes: int
    kept: CacheStats


@dataclass(frozen=True)
class ChunkCache:
    """Chunks kept under ``root``; see the module docstring."""

    root: Path

    @staticmethod
    def key(identity: str, text: str) -> str:
        return hashlib.sha256(f"{identity}\x00{text}".encode()).hexdigest()

    def _path(self, key: str, fmt: str) -> Path:
        return self.root / key[:2] / f"{key}.{fmt}"

    def get(self, identity: str, text: str) -> SpeechClip | None:
        key = self.key(identity, text)
        for fmt in _FORMATS:
            path = self._path(key, fmt)
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            except OSError:
                return None
            if not _looks_whole(data, fmt):
                # A damaged entry (a disk fault, a hand edit) is dropped and made again.
                path.unlink(missing_ok=True)
                return None
            with contextlib.suppress(OSError):
                os.utime(path)  # marks the entry as recently used for eviction
            return SpeechClip(data, fmt)
        return None

    def put(self, identity: str, text: str, clip: SpeechClip) -> None:
        self._write(self._path(self.key(identity, text), clip.format), clip.data)

    def get_mastered(self, key: str) -> bytes | None:
        """A mastered paragraph kept under ``key``, or None when absent or damaged."""
        path = self._path(key, _MASTERED)
        try:
            entry = path.read_bytes()
        except OSError:
            return None
        digest, data = entry[:_DIGEST_BYTES], entry[_DIGEST_BYTES:]
        if hashlib.sha256(data).digest() != digest:
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        return data

    def put_mastered(self, key: str, data: bytes) -> None:
        self._write(self._path(key, _MASTERED), hashlib.sha256(data).digest() + data)

    def _write(self, path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".part", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise CacheError(
                    f"no space left in the speech cache folder {self.root}. Free some disk "
                    "space, or run 'broadcast cache --prune' to make the cache smaller."
                ) from None
            raise CacheError(
                f"cannot write to the speech cache folder {self.root}: {exc.strerror}. "
                "Check that the folder exists and is writable."
            ) from None

    def _entries(self) -> list[tuple[float, int, Path]]:
        found: list[tuple[float, int, Path]] = []
        if not self.root.is_dir():
            return found
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.suffix.lstrip(".") not in (*_FORMATS, _MASTERED):
                    continue
                try:
                    info = path.stat()
                except FileNotFoundError:
                    continue
                found.append((info.st_mtime, info.st_size, path))
        return found

    def stats(self) -> CacheStats:
        entries = self._entries()
        now = time.time()
        oldest = min((mtime for mtime, _, _ in entries), default=None)
        return CacheStats(
            entries=len(entries),
            bytes=sum(size for _, size, _ in entries),
            oldest_s=None if oldest is None else max(0.0, now - oldest),
        )

    def prune(self, max_bytes: int | None = None, max_age_s: float | None = None) -> PruneResult:
        """Drop entries older than ``max_age_s``, then the least recently used past a size."""
        entries = sorted(self._entries())
        now = time.time()
        removed = freed = 0
        total = sum(size for _, size, _ in entries)
        for mtime, size, path in entries:
            too_old = max_age_s is not None and now - mtime > max_age_s
            too_big = max_bytes is not None and total > max_bytes
            if not (too_old or too_big):
                continue
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed += 1
            freed += size
            total -= size
        return PruneResult(removed, freed, self.stats())
