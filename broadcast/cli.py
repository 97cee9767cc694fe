"""The ``broadcast`` command. Thin: parse options, call the library, print."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from broadcast import __version__
from broadcast.audio import LoudnessTarget, OutputFormat, measure
from broadcast.bulletin import load_bulletin
from broadcast.errors import BroadcastError
from broadcast.outputs.device import SoundDevice, find_sound_device, play
from broadcast.render import RenderSettings, render_bulletin
from broadcast.tts import ENGINE_NAMES, choose_engine
from broadcast.vietnamese import (
    Lexicon,
    TextDecodingError,
    chunk_spoken,
    decode_text,
    default_lexicon,
    load_lexicon,
    to_spoken,
)

SCRIPT_SUFFIXES = (".md", ".txt")


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
def _progress(label: str) -> Iterator[_ChunkProgress]:
    progress = _ChunkProgress(label)
    try:
        yield progress
    finally:
        progress.close()


def _lexicon(path: Path | None) -> Lexicon:
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


@main.command()
@click.argument("script", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(path_type=Path, dir_okay=False),
              required=True, help="Audio file to write (.mp3, .wav or .flac).")
@engine_option
@click.option("--tld", default="com", show_default=True,
              help="Google host suffix for gtts, e.g. com.vn.")
@click.option("--slow", is_flag=True, help="Slower reading (gtts).")
@click.option("--voice", default="vi", show_default=True,
              help="espeak-ng voice: vi, vi-vn-x-central or vi-vn-x-south.")
@click.option("--target-lufs", type=float, default=-16.0, show_default=True,
              help="Integrated loudness target.")
@click.option("--lexicon", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Extra lexicon file (default: ./lexicon.yaml if present).")
def render(
    script: Path, out: Path, engine: str, tld: str, slow: bool, voice: str,
    target_lufs: float, lexicon: Path | None,
) -> None:
    """Render one approved script to a loudness-normalized audio file."""
    bulletin = load_bulletin(script)
    speech_engine, note = choose_engine(engine, tld=tld, slow=slow, voice=voice)
    if note:
        click.echo(f"Note: {note}", err=True)
    settings = RenderSettings(
        engine=speech_engine,
        lexicon=_lexicon(lexicon),
        target=LoudnessTarget(integrated_lufs=target_lufs),
    )
    with _progress(f"Speaking ({speech_engine.name})") as progress:
        result = render_bulletin(bulletin, out, settings, OutputFormat.for_path(out), progress)
    figures = result.figures
    click.echo(
        f"Wrote {out}: {figures.duration_s:.1f} s, {figures.integrated_lufs:.1f} LUFS, "
        f"true peak {figures.true_peak_dbtp:.1f} dBTP, engine {speech_engine.identity}"
    )


@main.command(name="play")
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@engine_option
@click.option("--sink", help="PulseAudio sink or ALSA device (default: the system default).")
def play_command(source: Path, engine: str, sink: str | None) -> None:
    """Play a script (rendered first) or an audio file on the sound device."""
    device = find_sound_device(sink)
    if source.suffix.lower() in SCRIPT_SUFFIXES:
        bulletin = load_bulletin(source)
        speech_engine, note = choose_engine(engine)
        if note:
            click.echo(f"Note: {note}", err=True)
        settings = RenderSettings(engine=speech_engine, lexicon=_lexicon(None))
        with tempfile.TemporaryDirectory(prefix="broadcast-play-") as tmp:
            audio = Path(tmp) / "bulletin.wav"
            with _progress(f"Speaking ({speech_engine.name})") as progress:
                render_bulletin(bulletin, audio, settings, progress=progress)
            _play_and_report(audio, device)
    else:
        _play_and_report(source, device)


def _play_and_report(audio: Path, device: SoundDevice) -> None:
    click.echo(f"Playing {audio.name} on {device.describe()} (Ctrl+C stops)")
    result = play(audio, device)
    if not result.completed:
        raise BroadcastError(f"playback failed: {result.error}")
    seconds = (result.ended_at - result.started_at).total_seconds()
    click.echo(f"Done: played {seconds:.1f} s.")


@main.command()
@click.argument("source", default="-", type=click.Path(path_type=Path, dir_okay=False,
                                                        allow_dash=True))
@click.option("--chunks", is_flag=True, help="Show the pieces sent to the TTS engine instead.")
@click.option("--max-chars", type=int, default=100, show_default=True,
              help="Longest piece with --chunks.")
@click.option("--lexicon", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Extra lexicon file (default: ./lexicon.yaml if present).")
def normalize(source: Path, chunks: bool, max_chars: int, lexicon: Path | None) -> None:
    """Print how text will be read aloud: one output line per input line."""
    data = sys.stdin.buffer.read() if str(source) == "-" else source.read_bytes()
    try:
        text = decode_text(data)
    except TextDecodingError as exc:
        raise BroadcastError(f"{source}: {exc}") from None
    words = _lexicon(lexicon)
    spoken = to_spoken(text, words)
    if chunks:
        for piece in chunk_spoken(" ".join(spoken.split()), max_chars):
            click.echo(piece)
        return
    for line in spoken.split("\n"):
        click.echo(line)


@main.command()
@click.argument("audio", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def inspect(audio: Path, as_json: bool) -> None:
    """Show an audio file's duration, loudness, true peak and format."""
    figures = measure(audio)
    if as_json:
        click.echo(json.dumps({"file": str(audio), **asdict(figures)}))
        return
    click.echo(f"file            {audio}")
    click.echo(f"duration        {figures.duration_s:.2f} s")
    click.echo(f"loudness        {figures.integrated_lufs:.1f} LUFS (integrated)")
    click.echo(f"true peak       {figures.true_peak_dbtp:.1f} dBTP")
    click.echo(f"loudness range  {figures.loudness_range_lu:.1f} LU")
    click.echo(f"format          {figures.sample_rate} Hz, {figures.channels} channel(s)")


@main.command()
@click.option("--schedule", "schedule_path", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("schedule.yaml"), show_default=True, help="The ward's schedule.")
@click.option("--state-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where renders and the lock are kept (default: .broadcast beside the "
                   "schedule).")
@click.option("--engine", type=click.Choice(ENGINE_NAMES),
              help="Override the schedule's speech engine.")
@click.option("--horizon-hours", type=float, default=48.0, show_default=True,
              help="Render ahead everything airing within this many hours.")
def run(schedule_path: Path, state_dir: Path | None, engine: str | None,
        horizon_hours: float) -> None:
    """Run the daemon: air every scheduled program on time until stopped."""
    from broadcast.daemon import Daemon, DaemonOptions

    options = DaemonOptions(
        schedule_path=schedule_path,
        state_dir=state_dir or schedule_path.resolve().parent / ".broadcast",
        engine=engine,
        horizon=dt.timedelta(hours=horizon_hours),
    )
    Daemon(options).run()
