"""Commands that work on one script or audio file: render, normalize, inspect; and playing
one directly, without the daemon."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import click

from broadcast.audio import LoudnessTarget, OutputFormat, measure, probe
from broadcast.bulletin import load_bulletin, parse_bulletin
from broadcast.cli.app import (
    SpeechChoice,
    lexicon_for,
    progress_bar,
    settings_from_options,
    speech_options,
)
from broadcast.daemon.lock import single_instance
from broadcast.errors import BroadcastError
from broadcast.fileio import read_at_most
from broadcast.outputs import Output, parse_output_spec
from broadcast.outputs.device import SoundCard
from broadcast.outputs.icecast import MAX_PASSWORD_BYTES, IcecastMount
from broadcast.outputs.player import Airing
from broadcast.prerender import ward_rule
from broadcast.render import render_bulletin
from broadcast.schedule import LoudnessSettings
from broadcast.vietnamese import (
    LineExplanation,
    TextDecodingError,
    chunk_spoken,
    decode_text,
    explain,
    to_spoken,
)

SCRIPT_SUFFIXES = (".md", ".txt")
RECEIVERS_JOIN_S = 2.0
"""Silence sent on a new Icecast stream before playing, so waiting receivers join in time."""
_LOUDNESS = LoudnessSettings()


@click.command()
@click.argument("script", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(path_type=Path, dir_okay=False),
              required=True, help="Audio file to write (.mp3, .wav or .flac).")
@speech_options
@click.option("--target-lufs", type=float, default=_LOUDNESS.target_lufs, show_default=True,
              help="Integrated loudness target, -31 to -10 LUFS.")
@click.option("--true-peak", type=float, default=_LOUDNESS.true_peak_dbtp, show_default=True,
              help="Highest true peak allowed, -9 to 0 dBTP.")
@click.option("--bitrate", type=click.Choice(["48", "64", "96", "128", "160", "192"]),
              default="96", show_default=True, help="MP3 bitrate in kbit/s.")
@click.option("--sample-rate", type=click.Choice(["22050", "24000", "44100", "48000"]),
              default="48000", show_default=True, help="Sample rate of the file.")
def render(
    script: Path, out: Path, speech: SpeechChoice, target_lufs: float, true_peak: float,
    bitrate: str, sample_rate: str,
) -> None:
    """Render one approved script to a loudness-normalized audio file.

    A script in a ward folder must be approved as that ward's schedule.yaml says (signed,
    for most wards); nothing unapproved is sent to a speech engine."""
    bulletin = ward_rule(script).approve(load_bulletin(script))
    loudness = settings_from_options(
        LoudnessSettings, {"target_lufs": target_lufs, "true_peak_dbtp": true_peak},
        {("target_lufs",): "--target-lufs", ("true_peak_dbtp",): "--true-peak"},
    )
    settings = speech.settings(LoudnessTarget.from_settings(loudness))
    fmt = OutputFormat.for_path(out, sample_rate=int(sample_rate), bitrate_kbps=int(bitrate))
    with progress_bar("Speaking") as progress:
        result = render_bulletin(bulletin, out, settings, fmt, progress)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    figures = result.figures
    meta = result.metadata
    click.echo(
        f"Wrote {out}: {figures.duration_s:.1f} s, {figures.integrated_lufs:.1f} LUFS, "
        f"true peak {figures.true_peak_dbtp:.1f} dBTP, engine {meta.engine}, "
        f"{meta.chunks} chunks ({meta.cache_hits} from cache), {meta.retries} retries"
    )


def source_password(env: str | None, file: Path | None) -> str | None:
    """An Icecast source password from an environment variable or a file (not readable by
    other users), or None when neither is given."""
    if env is not None and file is not None:
        raise click.UsageError("give the password with --password-env or --password-file, "
                               "not both.")
    if env is not None:
        value = os.environ.get(env)
        if not value:
            raise BroadcastError(f"the environment variable {env} is not set. Set it to the "
                                 "Icecast source password.")
        return value
    if file is None:
        return None
    if file.stat().st_mode & 0o077:
        raise BroadcastError(f"{file} may be read by other users. Protect it first: chmod 600 "
                             f"{file}")
    data = read_at_most(file, MAX_PASSWORD_BYTES)
    if data is None or not data.strip():
        raise BroadcastError(f"{file} does not hold a password (one line).")
    return data.decode("utf-8", errors="replace").strip()


def play_directly(source: Path, state: Path, speech: SpeechChoice, specs: tuple[str, ...],
                  sink: str | None, password: str | None = None) -> None:
    """Play a script or an audio file on this machine's outputs, without the daemon, holding
    the ward's lock so that a daemon starting meanwhile does not talk over it. ``password`` is
    the Icecast source password when the addresses leave it out."""
    outputs = [IcecastMount.from_url(spec, password=password) if spec.startswith("icecast:")
               else parse_output_spec(spec) for spec in specs]
    if sink or not outputs:
        outputs.append(SoundCard(sink))
    with single_instance(state, holder="broadcast play"):
        if source.suffix.lower() not in SCRIPT_SUFFIXES:
            ward_rule(source).approve_recording(source)
            probe(source)
            _play_and_report(source, outputs)
            return
        bulletin = ward_rule(source).approve(load_bulletin(source))
        settings = speech.settings(LoudnessTarget())
        with tempfile.TemporaryDirectory(prefix="broadcast-play-") as tmp:
            audio = Path(tmp) / "bulletin.wav"
            with progress_bar("Speaking") as progress:
                result = render_bulletin(bulletin, audio, settings, progress=progress)
            for warning in result.warnings:
                click.echo(f"Warning: {warning}", err=True)
            _play_and_report(audio, outputs, label=source.stem)


def _play_and_report(audio: Path, outputs: list[Output], label: str | None = None) -> None:
    names = ", ".join(output.describe() for output in outputs)
    mounts = [output for output in outputs if isinstance(output, IcecastMount)]
    if mounts:
        for mount in mounts:
            mount.start()
        for mount in mounts:
            mount.wait_connected(timeout=15)
        click.echo(f"Connected; waiting {RECEIVERS_JOIN_S:.0f} s for receivers to join.")
        time.sleep(RECEIVERS_JOIN_S)
    airing = Airing(audio, outputs, label=label or audio.stem)
    click.echo(f"Playing {audio.name} on {names} (Ctrl+C stops)")
    airing.start()
    try:
        result = airing.wait()
    except KeyboardInterrupt:
        airing.cut()
        airing.wait()
        raise
    if mounts:
        time.sleep(RECEIVERS_JOIN_S)  # the encoder's last frames reach the receivers
    for output in outputs:
        output.close()
    for problem in result.problems():
        click.echo(f"Warning: {problem}", err=True)
    if not result.completed:
        raise BroadcastError("nothing was played: every output failed. Check the warnings above.")
    click.echo(f"Done: played {result.ended - result.started:.1f} s on "
               f"{', '.join(result.carried_by)}.")


@click.command()
@click.argument("source", default="-", type=click.Path(path_type=Path, dir_okay=False,
                                                        allow_dash=True, exists=True))
@click.option("--chunks", is_flag=True, help="Show the pieces sent to the TTS engine instead.")
@click.option("--explain", "explained", is_flag=True,
              help="Show each line, what is said for it, and how its numbers, dates, codes and "
                   "abbreviations are read; '!' marks words spelled letter by letter or read as "
                   "written.")
@click.option("--max-chars", type=click.IntRange(20, 1000), default=100, show_default=True,
              help="Longest piece with --chunks.")
@click.option("--lexicon", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Extra lexicon file (default: ./lexicon.yaml if present).")
def normalize(source: Path, chunks: bool, explained: bool, max_chars: int,
              lexicon: Path | None) -> None:
    """Preview how text will be read aloud (one line out per line in); for a script, its words
    as they will air, without the header. With --explain, also how each part is read."""
    if chunks and explained:
        raise click.UsageError("use --chunks or --explain, not both.")
    data = sys.stdin.buffer.read() if str(source) == "-" else source.read_bytes()
    try:
        text = decode_text(data)
    except TextDecodingError as exc:
        raise BroadcastError(f"{source}: {exc}") from None
    words = lexicon_for(lexicon)
    if text.lstrip("\ufeff").startswith("---"):
        # A script: what airs is its body, paragraph by paragraph, never its header.
        bulletin = parse_bulletin(text, source)
        text = "\n\n".join(bulletin.paragraphs)
    if explained:
        lexicon_file = lexicon.as_posix() if lexicon is not None else "lexicon.yaml"
        for line in _explanation_lines(explain(text, words), lexicon_file):
            click.echo(line)
        return
    spoken = to_spoken(text, words)
    if chunks:
        for piece in chunk_spoken(" ".join(spoken.split()), max_chars):
            click.echo(piece)
        return
    if not text:
        return
    # One line out per line in: a final newline ends the last line, it starts no other.
    for line in spoken.removesuffix("\n").split("\n"):
        click.echo(line)


_KIND_WIDTH = 14


def _explanation_lines(explained: list[LineExplanation], lexicon_file: str) -> Iterator[str]:
    """What ``normalize --explain`` prints: each input line, the words said for it, then one
    line per part read in a special way, flagged parts marked with "!"."""
    flagged = False
    for line in explained:
        yield _visible(line.text)
        if not line.text.strip():
            continue
        yield f"  → {line.spoken}" if line.spoken else "  → (nothing is said)"
        for span in line.spans:
            flagged = flagged or span.flagged
            mark = "!" if span.flagged else " "
            detail = f" ({span.detail})" if span.detail else ""
            yield (f"  {mark} {span.kind:<{_KIND_WIDTH}} {span.source} → "
                   f"{span.spoken or '(not said)'}{detail}")
    if flagged:
        yield ""
        yield ("! marks words spelled letter by letter or read as written. If one of them has a "
               f"spoken form, add it to {lexicon_file} (WRITTEN: how it is read).")


def _visible(text: str) -> str:
    """``text`` with control and invisible formatting characters shown as escapes, so a line
    shown to an approver cannot hide or reorder what it holds."""
    return "".join(
        f"\\u{ord(char):04x}" if unicodedata.category(char) in ("Cc", "Cf") else char
        for char in text
    )


@click.command()
@click.argument("audio", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def inspect(audio: Path, as_json: bool) -> None:
    """Show an audio file's duration, loudness and format."""
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
