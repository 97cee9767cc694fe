"""The daemon command."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from broadcast.daemon import Daemon, DaemonOptions
from broadcast.tts import ENGINE_NAMES


@click.command()
@click.option("--schedule", "schedule_path", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("schedule.yaml"), show_default=True, help="The ward's schedule.")
@click.option("--state-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where renders, the speech cache and the lock are kept (default: "
                   "$BROADCAST_STATE_DIR, else .broadcast beside the schedule).")
@click.option("--engine", type=click.Choice(ENGINE_NAMES),
              help="Override the schedule's speech engine.")
@click.option("--horizon-hours", type=click.FloatRange(min=2), default=48.0, show_default=True,
              help="Render ahead everything airing within this many hours.")
def run(schedule_path: Path, state_dir: Path | None, engine: str | None,
        horizon_hours: float) -> None:
    """Run the daemon: air each scheduled program on time."""
    options = DaemonOptions(
        schedule_path=schedule_path,
        state_dir=state_dir or Path(
            os.environ.get("BROADCAST_STATE_DIR", schedule_path.resolve().parent / ".broadcast")
        ),
        engine=engine,
        horizon=dt.timedelta(hours=horizon_hours),
    )
    Daemon(options).run()
