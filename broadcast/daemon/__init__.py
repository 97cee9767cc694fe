"""The daemon: airs every scheduled program on its zones at its time, by itself.

It wires the stages together: the schedule (schedule), the plan (planner), the audio (prerender),
the zones' outputs (outputs) and the as-run log (asrun, onair). APScheduler fires one job per
planned broadcast of the next hours, a few seconds before its start: the job gets the finished
audio, runs the zones' "before" hooks, prepares the outputs and hands the broadcast to each zone's
channel on the second. Hourly, the window rolls on and what comes into it is rendered ahead.

Edits to the schedule, its scripts and its lexicon are picked up while running: a valid edit
replaces only the broadcasts it changes; an invalid one is reported with file, line and column,
and the last good schedule keeps airing.

The parts: :mod:`~broadcast.daemon.service` (the daemon, wiring the others),
:mod:`~broadcast.daemon.lock` (one daemon per ward), :mod:`~broadcast.daemon.zones` (settings,
outputs and channels per zone), :mod:`~broadcast.daemon.window` (the jobs, and catching up after
a restart), :mod:`~broadcast.daemon.cues` (cueing, with fallbacks and hooks),
:mod:`~broadcast.daemon.ahead` (rendering ahead), :mod:`~broadcast.daemon.archiving`,
:mod:`~broadcast.daemon.reload` and :mod:`~broadcast.daemon.status`.
"""

from broadcast.daemon.lock import AlreadyRunning, lock_holder, single_instance
from broadcast.daemon.service import Daemon
from broadcast.daemon.state import DaemonOptions

__all__ = ["AlreadyRunning", "Daemon", "DaemonOptions", "lock_holder", "single_instance"]
