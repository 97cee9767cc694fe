"""A live HLS stream on loopback, as a radio station's HLS origin serves one.

ffmpeg writes the segments in real time (a short playlist whose old segments are deleted), and a
small HTTP server in a thread of the test run serves the folder on a free port of 127.0.0.1.
ffmpeg is a child of the test run, stopped by its PID. ``stop_serving()`` takes the playlist off
the air and ``serve()`` puts it back on the same port, so tests can cut the stream.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
import time
from pathlib import Path

from tests.pulse import stop_by_pid


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder without writing a line per request to the test output."""

    extensions_map = {  # noqa: RUF012 - the base class declares it a plain dict
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".m3u8": "application/vnd.apple.mpegurl",
        ".ts": "video/mp2t",
    }

    def log_message(self, format: str, *args: object) -> None:
        pass


class HlsStation:
    """ffmpeg making a live playlist of ``source`` (an ffmpeg lavfi graph) in ``folder``, served
    over HTTP on 127.0.0.1; ``url`` is the playlist's address."""

    def __init__(self, folder: Path, source: str, segment_s: int = 2, list_size: int = 5) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.playlist = folder / "live.m3u8"
        self.writer = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-re", "-f", "lavfi",
             "-i", source, "-c:a", "aac", "-b:a", "96k", "-f", "hls",
             "-hls_time", str(segment_s), "-hls_list_size", str(list_size),
             "-hls_flags", "delete_segments", str(self.playlist)],
            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self.port = 0
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.serve()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/live.m3u8"

    def segments(self) -> int:
        """How many segments the playlist lists now."""
        try:
            text = self.playlist.read_text()
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if line.startswith("#EXTINF"))

    def wait_segments(self, count: int, timeout_s: float = 20) -> None:
        deadline = time.monotonic() + timeout_s
        while self.segments() < count:
            if self.writer.poll() is not None:
                detail = self.writer.stderr.read().decode() if self.writer.stderr else ""
                raise RuntimeError(f"the HLS writer stopped: {detail}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the playlist has not {count} segments after {timeout_s} s")
            time.sleep(0.1)

    def serve(self) -> None:
        """Serve the folder (again, on the same port once it has one)."""
        handler = functools.partial(_QuietHandler, directory=str(self.folder))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def stop_serving(self) -> None:
        """Close the port: the playlist and its segments can no longer be fetched."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self) -> None:
        self.stop_serving()
        stop_by_pid(self.writer)
        if self.writer.stderr is not None:
            self.writer.stderr.close()
