"""Shared fixtures: the sample ward, a private PulseAudio server, the fake Google endpoint."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_tools import Daemons
from tests.fakes.google_tts import FakeGoogleTTS
from tests.icecast import IcecastServer, start_icecast
from tests.pulse import PulseServer, start_pulse

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
REFERENCE_DOCUMENT = REPO.parent / "shared" / "reference" / "000_7740bfb2d9ae9fc7.txt"
"""The city's occupational-safety plan the sample bulletins come from (kept beside the repo)."""


def broadcast_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 600,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``broadcast`` command as an operator would (``input``: what they type)."""
    return subprocess.run(
        [sys.executable, "-m", "broadcast", *args],
        capture_output=True, text=True, env=env, cwd=cwd or REPO, timeout=timeout,
        input=input, stdin=None if input is not None else subprocess.DEVNULL,
    )


@pytest.fixture(autouse=True)
def private_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test keeps renders and the speech cache in its own folder, never in the repo."""
    state = tmp_path / "state"
    monkeypatch.setenv("BROADCAST_STATE_DIR", str(state))
    return state


@pytest.fixture(scope="session")
def reference_text() -> str:
    """The reference plan's text; tests that read it are skipped where it is not beside us."""
    if not REFERENCE_DOCUMENT.is_file():
        pytest.skip(f"the reference document is not at {REFERENCE_DOCUMENT}")
    return REFERENCE_DOCUMENT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def sample_scripts() -> list[Path]:
    return sorted(p for p in SCRIPTS.glob("*.md") if p.name != "README.md")


@pytest.fixture
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    server = start_pulse(tmp_path_factory.mktemp("pulse"), sinks=("zone1", "zone2"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def icecast() -> Iterator[IcecastServer]:
    """A private Icecast server on loopback; ``stop()`` and ``start()`` restart it on its port."""
    server = start_icecast()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def fake_google() -> Iterator[FakeGoogleTTS]:
    with FakeGoogleTTS() as fake:
        yield fake


@pytest.fixture
def ward(tmp_path: Path) -> Path:
    """A copy of the sample ward (schedule, approvers, scripts and their approvals, lexicon)
    that a test may edit."""
    target = tmp_path / "ward"
    target.mkdir()
    shutil.copy(REPO / "schedule.yaml", target / "schedule.yaml")
    shutil.copy(REPO / "approvers.yaml", target / "approvers.yaml")
    (target / "approvers.yaml").chmod(0o644)
    shutil.copytree(SCRIPTS, target / "scripts")
    shutil.copytree(REPO / "audio", target / "audio")
    if (REPO / "lexicon.yaml").exists():
        shutil.copy(REPO / "lexicon.yaml", target / "lexicon.yaml")
        (target / "lexicon.yaml").chmod(0o644)
    return target


@pytest.fixture
def daemons() -> Iterator[Daemons]:
    running = Daemons()
    yield running
    for daemon in running.started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
