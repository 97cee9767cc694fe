"""The ``broadcast`` command group and what its commands share."""

from __future__ import annotations

import functools
import logging
import os
import select
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from pydantic import BaseModel, ValidationError

from broadcast import __version__
from broadcast.audio import LoudnessTarget
from broadcast.errors import BroadcastError
from broadcast.render import RenderSettings
from broadcast.schedule import (
    AUTO,
    ENGINE_CHOICES,
    EspeakSettings,
    GttsSettings,
    TtsSettings,
    value_problem,
)
from broadcast.tts import ChunkCache, SpeechProgress, engine_chain, speech_engines
from broadcast.vietnamese import Lexicon, default_lexicon, load_lexicon

SettingsModel = TypeVar("SettingsModel", bound=BaseModel)


class _Context:
    debug: bool = False


class _SpeechProgressBar:
    """A progress bar on a terminal while chunks are spoken; nothing when not on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.shown = 0
        self.shape: tuple[str, int] = ("", 0)

    def __call__(self, progress: SpeechProgress) -> None:
        if not sys.stderr.isatty():
            return
        if self.bar is not None and (progress.engine, progress.total) != self.shape:
            # The engine fell back: its pieces are cut differently, so start a fresh bar.
            self.close()
            self.bar = None
            self.shown = 0
        self.shape = (progress.engine, progress.total)
        if self.bar is None:
            self.bar = click.progressbar(
                length=progress.total,
                label=f"{self.label} ({progress.engine}, {progress.cache_hits} cached)",
                file=sys.stderr,
                show_pos=True,
            )
            self.bar.__enter__()
        self.bar.update(progress.done - self.shown)
        self.shown = progress.done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@contextmanager
def progress_bar(label: str) -> Iterator[_SpeechProgressBar]:
    progress = _SpeechProgressBar(label)
    try:
        yield progress
    finally:
        progress.close()


def state_dir() -> Path:
    """Where renders and the speech cache are kept: $BROADCAST_STATE_DIR or ./.broadcast."""
    return Path(os.environ.get("BROADCAST_STATE_DIR", ".broadcast"))


def lexicon_for(path: Path | None) -> Lexicon:
    """The default lexicon, with ``path`` (or ./lexicon.yaml when present) taking precedence."""
    lexicon = default_lexicon()
    if path is not None:
        lexicon = lexicon.merged(load_lexicon(path))
    elif Path("lexicon.yaml").exists():
        lexicon = lexicon.merged(load_lexicon(Path("lexicon.yaml")))
    return lexicon


def _plain(exc: BroadcastError | OSError) -> str:
    if isinstance(exc, BroadcastError):
        return str(exc)
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}. Check the path and the permissions."


def _stdout_closed() -> bool:
    """True when whoever read our output has gone (``broadcast normalize FILE | head -1``)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False


def _stop_quietly() -> NoReturn:
    """End as a shell tool ends when its reader stops reading: no message, the status of
    SIGPIPE. Python writes what is left of stdout when it exits, so stdout goes to devnull."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(128 + signal.SIGPIPE)


class _Group(click.Group):
    """Prints operator errors as one plain message; the traceback only with --debug. Stops
    quietly when the reader of its output goes away."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (BroadcastError, OSError) as exc:
            if isinstance(exc, BrokenPipeError) and _stdout_closed():
                _stop_quietly()
            options = ctx.find_object(_Context)
            if options is not None and options.debug:
                raise
            click.echo(f"Error: {_plain(exc)}", err=True)
            sys.exit(getattr(exc, "exit_code", 1))


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



def settings_from_options(
    model: type[SettingsModel], values: dict[str, Any], options: dict[tuple[str, ...], str]
) -> SettingsModel:
    """``model`` made from command-line ``values``, checked as the same block of schedule.yaml
    is; ``options`` names the option behind each setting for the error message."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            option = options.get(tuple(str(part) for part in error["loc"]), "an option")
            problem = value_problem(error, option)
            problems.append(problem if problem.startswith(option) else f"{option}: {problem}")
        raise BroadcastError(" ".join(problems)) from None


_GTTS = GttsSettings()
_ESPEAK = EspeakSettings()
_SPEECH_OPTIONS = {
    ("engine",): "--engine",
    ("gtts", "tld"): "--tld",
    ("gtts", "slow"): "--slow",
    ("gtts", "concurrency"): "--concurrency",
    ("gtts", "retries"): "--retries",
    ("espeak", "voice"): "--voice",
}


@dataclass(frozen=True)
class SpeechChoice:
    """The speech options of a command line, turned into render settings on demand."""

    tts: TtsSettings
    use_cache: bool
    lexicon: Path | None

    def settings(self, target: LoudnessTarget) -> RenderSettings:
        engines, note = engine_chain([self.tts.engine], speech_engines(self.tts))
        if note:
            click.echo(f"Note: {note}", err=True)
        return RenderSettings(
            engines=engines,
            lexicon=lexicon_for(self.lexicon),
            target=target,
            cache=ChunkCache(state_dir() / "tts-cache") if self.use_cache else None,
        )


def speech_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the speech engine options to a command; it receives them as ``speech``.

    Defaults and limits are those of schedule.yaml's ``tts`` block.
    """

    @click.option("--engine", type=click.Choice(ENGINE_CHOICES), default=AUTO, show_default=True,
                  help="Speech engine. auto: Google when reachable, else offline espeak-ng.")
    @click.option("--tld", default=_GTTS.tld, show_default=True,
                  help="Google host suffix for gtts, e.g. com.vn.")
    @click.option("--slow", is_flag=True, default=_GTTS.slow, help="Slower reading (gtts).")
    @click.option("--voice", default=_ESPEAK.voice, show_default=True,
                  help="espeak-ng voice: vi, vi-vn-x-central or vi-vn-x-south.")
    @click.option("--concurrency", type=int, default=_GTTS.concurrency, show_default=True,
                  help="Requests to Google at once, 1 to 16 (gtts).")
    @click.option("--retries", type=int, default=_GTTS.retries, show_default=True,
                  help="Tries again after a rate limit, server error or timeout, 0 to 20 (gtts).")
    @click.option("--cache/--no-cache", "use_cache", default=True, show_default=True,
                  help="Reuse speech already made for the same words (kept in the state folder).")
    @click.option("--lexicon", type=click.Path(path_type=Path, dir_okay=False, exists=True),
                  help="Extra lexicon file (default: ./lexicon.yaml if present).")
    @functools.wraps(command)
    def wrapper(
        engine: str, tld: str, slow: bool, voice: str, concurrency: int, retries: int,
        use_cache: bool, lexicon: Path | None, **kwargs: Any,
    ) -> None:
        values = {
            "engine": engine,
            "gtts": {"tld": tld, "slow": slow, "concurrency": concurrency, "retries": retries},
            "espeak": {"voice": voice},
        }
        tts = settings_from_options(TtsSettings, values, _SPEECH_OPTIONS)
        command(speech=SpeechChoice(tts, use_cache, lexicon), **kwargs)

    return wrapper
