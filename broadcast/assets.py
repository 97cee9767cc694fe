"""The project's own audio assets: chimes and a jingle, synthesized so the licence is ours.

Each sound is a few bell-like notes (a fundamental with two decaying overtones) made by ffmpeg's
expression source, then mastered to the broadcast loudness target like any other item, so a chime
is never louder than the speech around it. ``python -m broadcast.assets audio/`` writes them.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from broadcast.audio import AudioFigures, LoudnessTarget, OutputFormat, master, run_ffmpeg

SYNTH_RATE = 48000


@dataclass(frozen=True)
class Note:
    frequency_hz: float
    start_s: float
    length_s: float = 1.6
    ring: float = 1.0
    """How fast the note dies away: 1 for a bell, near 0 for a held tone (an alert)."""


@dataclass(frozen=True)
class Sound:
    name: str
    notes: tuple[Note, ...]

    @property
    def length_s(self) -> float:
        return max(note.start_s + note.length_s for note in self.notes) + 0.2


# Pitches (Hz) of C5, D5, E5, G5, A5, C6: a pentatonic set that sounds calm on horn speakers.
C5, D5, E5, G5, A5, C6 = 523.25, 587.33, 659.25, 783.99, 880.0, 1046.5

# A hi-lo two-tone, held rather than rung: nothing like the calm chimes, so that listeners know
# at once that an emergency message follows.
ALERT_TONE = Sound(
    "alert",
    tuple(Note(A5 if step % 2 == 0 else E5, 0.45 * step, 0.43, ring=0.05) for step in range(8)),
)
"""The tone before an emergency message ('chime: alert' in schedule.yaml, unless the ward names
its own)."""

SOUNDS = (
    Sound("chime-open", (Note(C5, 0.0), Note(E5, 0.45), Note(G5, 0.9), Note(C6, 1.35, 2.0))),
    Sound("chime-close", (Note(C6, 0.0), Note(G5, 0.45), Note(E5, 0.9), Note(C5, 1.35, 2.0))),
    Sound(
        "jingle",
        (
            Note(G5, 0.0, 0.9), Note(A5, 0.3, 0.9), Note(C6, 0.6, 1.2), Note(A5, 1.2, 0.9),
            Note(G5, 1.5, 0.9), Note(E5, 1.8, 1.2), Note(D5, 2.4, 0.9), Note(E5, 2.7, 0.9),
            Note(G5, 3.0, 1.2), Note(C5, 3.6, 2.4),
        ),
    ),
    ALERT_TONE,
)


BUILT_IN_CHIME = SOUNDS[0]
"""The chime used where the schedule names no chime file."""

BUILT_IN = {"default": BUILT_IN_CHIME, "alert": ALERT_TONE}
"""The built-in chimes by name."""


def _note_expression(note: Note) -> str:
    """A bell-like tone starting at ``note.start_s``: partials 1x, 2x, 3x with faster decays."""
    t = f"(t-{note.start_s:.3f})"
    window = f"between(t,{note.start_s:.3f},{note.start_s + note.length_s:.3f})"
    attack = f"min(1,{t}/0.006)"
    partials = "+".join(
        f"{weight}*sin(2*PI*{note.frequency_hz * multiple:.2f}*{t})"
        f"*exp(-{decay * note.ring:g}*{t})"
        for multiple, weight, decay in ((1, 1.0, 2.2), (2, 0.35, 3.5), (3, 0.12, 5.0))
    )
    fade = f"min(1,({note.start_s + note.length_s:.3f}-t)/0.1)"
    return f"{window}*{attack}*{fade}*({partials})"


def synthesize(sound: Sound, out: Path) -> None:
    """Write the raw (unmastered) sound to ``out`` as WAV."""
    expression = "0.25*(" + "+".join(_note_expression(note) for note in sound.notes) + ")"
    expression = expression.replace(",", "\\,")  # commas would split the filter graph
    run_ffmpeg(
        ["-y", "-f", "lavfi",
         "-i", f"aevalsrc={expression}:s={SYNTH_RATE}:d={sound.length_s:.2f}",
         "-c:a", "pcm_s16le", str(out)],
        f"synthesize {sound.name}",
    )


def make_assets(
    folder: Path, target: LoudnessTarget | None = None
) -> dict[Path, AudioFigures]:
    """Write every sound to ``folder`` as ``NAME.flac``, mastered to ``target``."""
    target = target or LoudnessTarget()
    made = {}
    with tempfile.TemporaryDirectory(prefix="broadcast-assets-") as tmp:
        for sound in SOUNDS:
            raw = Path(tmp) / f"{sound.name}.wav"
            synthesize(sound, raw)
            out = folder / f"{sound.name}.flac"
            made[out] = master(raw, out, target, OutputFormat(codec="flac"))
    return made


if __name__ == "__main__":
    destination = Path(sys.argv[1] if len(sys.argv) > 1 else "audio")
    for path, figures in make_assets(destination).items():
        print(f"{path}: {figures.duration_s:.1f} s, {figures.integrated_lufs} LUFS")
