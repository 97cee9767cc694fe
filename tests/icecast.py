"""A private Icecast server on a free loopback port, and a listener that records a mount.

The server runs as a child of the test run with a generated config in its own temp folder and is
stopped by its PID. ``stop()`` then ``start()`` brings it back on the same port, so tests can cut
a stream and watch the source reconnect. As root, Icecast refuses to run unless it changes to an
unprivileged user, so the config then drops to nobody:nogroup and the log folder is theirs.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from xml.sax.saxutils import escape

from tests.pulse import stop_by_pid

SOURCE_PASSWORD = "t3st-source-secret"
_RUN_AS = ("nobody", "nogroup")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(port: int, root: Path, password: str, sources: int) -> str:
    security = ""
    if os.geteuid() == 0:
        user, group = _RUN_AS
        security = (
            "<security><chroot>0</chroot>"
            f"<changeowner><user>{user}</user><group>{group}</group></changeowner></security>"
        )
    secret = escape(password)
    return f"""<icecast>
  <location>tests</location>
  <admin>tests@localhost</admin>
  <hostname>127.0.0.1</hostname>
  <limits>
    <clients>{sources * 2 + 50}</clients>
    <sources>{sources}</sources>
    <queue-size>524288</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout>
    <burst-on-connect>0</burst-on-connect>
    <burst-size>0</burst-size>
  </limits>
  <authentication>
    <source-password>{secret}</source-password>
    <relay-password>{secret}</relay-password>
    <admin-user>admin</admin-user>
    <admin-password>{secret}</admin-password>
  </authentication>
  <listen-socket>
    <port>{port}</port>
    <bind-address>127.0.0.1</bind-address>
  </listen-socket>
  <fileserve>1</fileserve>
  <paths>
    <basedir>{root}</basedir>
    <logdir>{root / "log"}</logdir>
    <webroot>{root / "web"}</webroot>
    <adminroot>{root / "admin"}</adminroot>
  </paths>
  <logging>
    <accesslog>access.log</accesslog>
    <errorlog>error.log</errorlog>
    <loglevel>2</loglevel>
  </logging>
  {security}
</icecast>
"""


class IcecastServer:
    """One private icecast2 process; ``host``, ``port`` and ``password`` are what sources use."""

    def __init__(self, sources: int = 20, password: str = SOURCE_PASSWORD) -> None:
        if shutil.which("icecast2") is None:
            raise RuntimeError(
                "icecast2 is not installed; run 'tools/setup-system.sh --tests' to install it"
            )
        self.host = "127.0.0.1"
        self.port = free_port()
        self.password = password
        # Its own folder under the system temp dir: after dropping to nobody, Icecast must still
        # reach its log folder, which a private pytest folder would not let it do.
        self.root = Path(tempfile.mkdtemp(prefix="broadcast-icecast-"))
        self.root.chmod(0o755)
        for folder in ("log", "web", "admin"):
            (self.root / folder).mkdir()
            if os.geteuid() == 0:
                shutil.chown(self.root / folder, *_RUN_AS)
        self.sources = sources
        self.config = self.root / "icecast.xml"
        self.config.write_text(_config(self.port, self.root, password, sources), encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None
        self.answered = False

    def url(self, mount: str) -> str:
        """The address a source uses, with the password: ``icecast://source:...@host:port/m``."""
        return f"icecast://source:{self.password}@{self.host}:{self.port}/{mount}"

    def answers(self) -> bool:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=2)
        try:
            connection.request("GET", "/no-such-page")
            connection.getresponse().read()
        except OSError:
            return False
        finally:
            connection.close()
        return True

    def start(self, attempts: int = 3) -> None:
        """Start the server (again, on the same port) and return once it answers HTTP. The
        first start tries another free port if Icecast exits at once (its port was taken)."""
        log = (self.root / "icecast.out").open("ab")
        self.process = subprocess.Popen(
            ["icecast2", "-c", str(self.config)], stdout=log, stderr=log,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if not self.answered and attempts > 1:
                    # The free port was taken between choosing it and Icecast binding it (by
                    # another test's process): choose another, once more.
                    self.port = free_port()
                    self.config.write_text(_config(self.port, self.root, self.password,
                                                   self.sources), encoding="utf-8")
                    self.start(attempts - 1)
                    return
                raise RuntimeError(f"icecast2 did not start: {self.log_tail()}")
            if self.answers():
                self.answered = True
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"icecast2 did not answer within 20 s: {self.log_tail()}")

    def log_tail(self) -> str:
        parts = [self.root / "icecast.out", self.root / "log" / "error.log"]
        return " | ".join(
            path.read_text(errors="replace")[-800:] for path in parts if path.exists()
        )

    def mounts(self) -> list[str]:
        """The mounts a source is connected to now, as the server lists them."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
        try:
            connection.request("GET", "/admin/listmounts", headers={
                "Authorization": _basic("admin", self.password)})
            body = connection.getresponse().read().decode(errors="replace")
        finally:
            connection.close()
        return re.findall(r'<source mount="([^"]+)"', body)

    def stop(self) -> None:
        """Stop the server by its PID (the folder stays for a later ``start()``)."""
        if self.process is not None:
            stop_by_pid(self.process)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def start_icecast(sources: int = 20, password: str = SOURCE_PASSWORD) -> IcecastServer:
    server = IcecastServer(sources, password)
    try:
        server.start()
    except BaseException:
        server.remove()
        raise
    return server


class Listener:
    """An HTTP client pulling one mount into memory, as an IP loudspeaker receiver would."""

    def __init__(self, server: IcecastServer, mount: str) -> None:
        self.data = bytearray()
        self.ended = threading.Event()
        self._stop = threading.Event()
        self._connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
        self._connection.request("GET", f"/{mount}")
        response = self._connection.getresponse()
        if response.status != 200:
            self._connection.close()
            raise RuntimeError(f"mount /{mount} answered {response.status} {response.reason}")
        self.content_type = response.getheader("Content-Type", "")
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._pull, args=(response,), daemon=True)
        self._thread.start()

    @classmethod
    def once_up(cls, server: IcecastServer, mount: str, timeout: float = 20) -> Listener | None:
        """A listener on ``mount`` as soon as the mount is up (None if it never comes up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return cls(server, mount)
            except (RuntimeError, OSError):
                time.sleep(0.3)
        return None

    def _pull(self, response: http.client.HTTPResponse) -> None:
        with contextlib.suppress(OSError, http.client.HTTPException):
            while not self._stop.is_set():
                chunk = response.read1(8192)
                if not chunk:
                    break
                self.data += chunk
        self.ended.set()

    def stop(self) -> bytes:
        """Disconnect; returns every byte received."""
        self._stop.set()
        with contextlib.suppress(OSError):
            sock = self._connection.sock
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=10)
        self._connection.close()
        return bytes(self.data)
