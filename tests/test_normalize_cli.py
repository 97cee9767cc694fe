"""`broadcast normalize` as a shell tool: one line out per line in, and quiet when its reader
stops reading."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, broadcast_cli


def test_one_line_out_per_line_in() -> None:
    two = broadcast_cli("normalize", "-", input="một\nhai\n")
    assert two.returncode == 0, two.stderr
    assert two.stdout == "một\nhai\n"
    three = broadcast_cli("normalize", "-", input="Một\n\nHai")
    assert three.stdout.splitlines() == ["Một", "", "Hai"]
    assert three.stdout.count("\n") == 3
    nothing = broadcast_cli("normalize", "-", input="")
    assert (nothing.returncode, nothing.stdout) == (0, "")
    # A line with nothing to say is still a line.
    silent = broadcast_cli("normalize", "-", input="☺")
    assert (silent.returncode, silent.stdout) == (0, "\n")


def test_a_reader_that_stops_early_gets_no_error_message(tmp_path: Path) -> None:
    long = tmp_path / "dai.txt"
    # Far more than a pipe holds, so the command is still writing when the reader goes.
    line = "Gọi 0263.3822.555 lúc 7g30 ngày 5/12."
    long.write_text(f"{line}\n" * 5000, encoding="utf-8")
    for explained, shown in (((), "Gọi không hai sáu ba"), (("--explain",), line)):
        process = subprocess.Popen(
            [sys.executable, "-m", "broadcast", "normalize", *explained, str(long)],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()  # as `head -1` does
        status = process.wait(timeout=120)
        errors = process.stderr.read()
        process.stderr.close()
        assert first.decode().startswith(shown)
        assert errors == b""
        assert status in (0, 128 + signal.SIGPIPE, -signal.SIGPIPE)
