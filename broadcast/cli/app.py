"""The ``broadcast`` command group and what its commands share."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from broadcast import __version__
from broadcast.errors import BroadcastError
from broadcast.tts import ENGINE_NAMES
from broadcast.vietnamese import Lexicon, default_lexicon, load_lexicon


class _Context:
    debug: bool = False


class _ChunkProgress:
    """A progress bar on a terminal while chunks are spoken; nothing when not on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@contextmanager
def progress_bar(label: str) -> Iterator[_ChunkProgress]:
    progress = _ChunkProgress(label)
    try:
        yield progress
    finally:
        progress.close()


def lexicon_for(path: Path | None) -> Lexicon:
    """The default lexicon, with ``path`` (or ./lexicon.yaml when present) taking precedence."""
    lexicon = default_lexicon()
    if path is not None:
        lexicon = lexicon.merged(load_lexicon(path))
    elif Path("lexicon.yaml").exists():
        lexicon = lexicon.merged(load_lexicon(Path("lexicon.yaml")))
    return lexicon


class _Group(click.Group):
    """Prints operator errors as one plain message; the traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except BroadcastError as exc:
            options = ctx.find_object(_Context)
            if options is not None and options.debug:
                raise
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="broadcast")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Ward loudspeaker broadcasts: approved Vietnamese bulletins, spoken and aired on time."""
    ctx.ensure_object(_Context).debug = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S %z",
        stream=sys.stderr,
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


engine_option = click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default="auto",
    show_default=True,
    help="Speech engine. auto: Google when reachable, else offline espeak-ng.",
)
