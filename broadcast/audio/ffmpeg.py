"""Running ffmpeg, and the error every audio step raises."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from broadcast.errors import BroadcastError


class AudioError(BroadcastError):
    """ffmpeg is missing, failed, or the audio is not usable."""


def require_ffmpeg() -> None:
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            raise AudioError(f"{tool} is not installed. Run 'make run' once, or install ffmpeg.")


def run_ffmpeg(args: Sequence[str], what: str) -> str:
    require_ffmpeg()
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-v", "info", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-3:])
        raise AudioError(f"ffmpeg could not {what}: {tail}")
    return result.stderr
