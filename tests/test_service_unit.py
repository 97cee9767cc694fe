"""The systemd unit: the daemon runs unprivileged, confined to its own folders, and a schedule
that cannot be aired at all does not make it restart in a loop."""

from __future__ import annotations

import configparser

from broadcast.daemon.reload import NoScheduleToAir
from tests.conftest import REPO


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(REPO / "deploy" / "broadcast.service", encoding="utf-8")
    return parser


def test_the_service_runs_as_its_own_user_with_least_privilege() -> None:
    service = unit()["Service"]
    assert service["User"] == "broadcast", "never root: hooks and files act as this user"
    assert service["UMask"] == "0027"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert service["CapabilityBoundingSet"] == ""
    writable = service["ReadWritePaths"].split()
    assert writable == ["@WARD@/.broadcast", "@WARD@/archive"], "only state and archive"


def test_no_restart_loop_when_nothing_can_be_aired() -> None:
    service = unit()["Service"]
    assert service["Restart"] == "always"
    assert service["RestartPreventExitStatus"] == str(NoScheduleToAir.exit_code)
