"""The ``broadcast`` command line. Thin: parse options, call the library, print."""

from broadcast.cli.app import main
from broadcast.cli.archive_commands import archive
from broadcast.cli.audio_commands import inspect, normalize, play_command, render
from broadcast.cli.cache_commands import cache
from broadcast.cli.daemon_commands import run, status
from broadcast.cli.schedule_commands import agenda, check, schema

for command in (render, play_command, normalize, inspect, cache, run, status, agenda, check,
                schema, archive):
    main.add_command(command)

__all__ = ["main"]
