"""A private PulseAudio server with null sinks, for tests that check what was really played.

The server runs as a child of the test run with its own socket, home and runtime folders, so it
touches no other sound server; it is stopped by its PID. A sink's monitor is recorded with parec.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def stop_by_pid(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Stop a process this run started: SIGTERM to its PID, then SIGKILL after ``timeout`` s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def pulse_env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PULSE_SERVER": f"unix:{root / 'native'}",
        "PULSE_RUNTIME_PATH": str(root / "runtime"),
        "HOME": str(root / "home"),
        "XDG_RUNTIME_DIR": str(root / "runtime"),
    }


@dataclass
class PulseServer:
    root: Path
    process: subprocess.Popen[bytes]
    sinks: tuple[str, ...]

    @property
    def socket(self) -> Path:
        return self.root / "native"

    @property
    def env(self) -> dict[str, str]:
        """Environment that points clients (pactl, pacat, parec, broadcast) at this server."""
        return pulse_env(self.root)

    def recorders(self) -> int:
        """How many recording streams the server has now."""
        listing = subprocess.run(
            ["pactl", "list", "short", "source-outputs"], env=self.env, capture_output=True,
            text=True, check=True,
        ).stdout
        return len([line for line in listing.splitlines() if line.strip()])

    def record(self, sink: str, out: Path) -> Recording:
        """Record ``sink``'s monitor to ``out``; returns once the recorder is connected."""
        before = self.recorders()
        process = subprocess.Popen(
            ["parec", f"--device={sink}.monitor", "--format=s16le", "--rate=48000",
             "--channels=1", "--raw", "--latency-msec=20"],
            stdout=out.open("wb"), stderr=subprocess.PIPE, env=self.env,
        )
        deadline = time.monotonic() + 10
        while True:
            asked = time.time()
            if self.recorders() > before:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"parec could not record {sink}")
            time.sleep(0.02)
        return Recording(process, out, began=asked)

    def stop(self) -> None:
        stop_by_pid(self.process)


@dataclass
class Recording:
    process: subprocess.Popen[bytes]
    path: Path
    began: float
    """Wall-clock time the recorder connected (so its first sample), to within one check of the
    server's streams: tens of milliseconds."""

    def stop(self) -> Path:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.path


def start_pulse(root: Path, sinks: tuple[str, ...] = ("zone1",)) -> PulseServer:
    if shutil.which("pulseaudio") is None:
        raise RuntimeError("pulseaudio is not installed; run 'make test' to install it")
    for folder in ("runtime", "home"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "runtime", 0o700)
    args = [
        "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit=yes",
        "--use-pid-file=no", "--disable-shm=yes", "--log-target=stderr", "--log-level=error",
        "-L", f"module-native-protocol-unix socket={root / 'native'} auth-anonymous=1",
    ]
    for sink in sinks:
        args += ["-L", f"module-null-sink sink_name={sink} rate=48000 channels=1 norewinds=1"]
    log = (root / "pulseaudio.log").open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=log, env=pulse_env(root))
    server = PulseServer(root, process, sinks)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                "pulseaudio did not start: " + (root / "pulseaudio.log").read_text()[-500:]
            )
        probe = subprocess.run(["pactl", "info"], env=server.env, capture_output=True)
        if probe.returncode == 0:
            return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError("pulseaudio did not answer within 20 s")
