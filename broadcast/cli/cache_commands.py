"""The speech cache command: show how big the cache is, and prune it."""

from __future__ import annotations

import re

import click

from broadcast.cli.app import state_dir
from broadcast.errors import BroadcastError
from broadcast.tts import ChunkCache
from broadcast.tts.cache import CacheStats

_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
_AGE_UNITS = {"d": 86400, "h": 3600}


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*", text.lower())
    if match is None:
        raise BroadcastError(f"'{text}' is not a size. Write it like 500M or 2G.")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])


def parse_age(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dh])\s*", text.lower())
    if match is None:
        raise BroadcastError(f"'{text}' is not an age. Write it like 90d or 12h.")
    return float(match.group(1)) * _AGE_UNITS[match.group(2)]


def _describe(stats: CacheStats) -> str:
    oldest = stats.oldest_s
    age = "" if oldest is None else f", least recently used {oldest / 86400:.1f} days ago"
    return f"{stats.entries} chunks, {stats.bytes / (1 << 20):.1f} MB{age}"


@click.command()
@click.option("--prune", is_flag=True, help="Remove entries past the size and age limits.")
@click.option("--max-size", default="500M", show_default=True,
              help="With --prune: keep at most this much (least recently used go first).")
@click.option("--max-age", default="90d", show_default=True,
              help="With --prune: remove entries not used for this long (e.g. 90d, 12h).")
def cache(prune: bool, max_size: str, max_age: str) -> None:
    """Show the speech cache, or prune it with --prune."""
    store = ChunkCache(state_dir() / "tts-cache")
    stats = store.stats()
    click.echo(f"Speech cache {store.root}: {_describe(stats)}")
    if not prune:
        return
    result = store.prune(max_bytes=parse_size(max_size), max_age_s=parse_age(max_age))
    click.echo(
        f"Removed {result.removed} chunks ({result.freed_bytes / (1 << 20):.1f} MB). "
        f"Now: {_describe(result.kept)}"
    )
