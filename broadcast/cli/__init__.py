"""The ``broadcast`` command line. Thin: parse options, call the library, print."""

from broadcast.cli.app import main
from broadcast.cli.approval_commands import approvals, approve, keys
from broadcast.cli.archive_commands import archive
from broadcast.cli.audio_commands import inspect, normalize, render
from broadcast.cli.cache_commands import cache
from broadcast.cli.control_commands import (
    cancel,
    emergency,
    play_command,
    queue,
    relay,
    say,
    skip,
    stop,
)
from broadcast.cli.daemon_commands import run, status
from broadcast.cli.report_commands import export_command, report
from broadcast.cli.schedule_commands import agenda, check, schema

for command in (render, play_command, say, emergency, stop, skip, queue, cancel, relay, keys,
                approve, approvals, normalize, inspect, cache, run, status, agenda, check, schema,
                archive, report, export_command):
    main.add_command(command)

__all__ = ["main"]
