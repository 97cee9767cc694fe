"""The daemon commands: run it, and ask it how things stand."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import click

from broadcast.asrun import AsRunLog, Row
from broadcast.daemon import Daemon, DaemonOptions, lock_holder
from broadcast.planner import plan
from broadcast.schedule import ENGINE_CHOICES
from broadcast.schedule_file import load_schedule
from broadcast.status import read_status

schedule_option = click.option(
    "--schedule", "schedule_path", type=click.Path(path_type=Path, dir_okay=False),
    default=Path("schedule.yaml"), show_default=True, help="The ward's schedule.")
state_dir_option = click.option(
    "--state-dir", type=click.Path(path_type=Path, file_okay=False),
    help="Where renders, the speech cache, the as-run log and the lock are kept (default: "
         "$BROADCAST_STATE_DIR, else .broadcast beside the schedule).")


def ward_state_dir(schedule_path: Path, state_dir: Path | None) -> Path:
    """The ward's state folder: --state-dir, $BROADCAST_STATE_DIR, or .broadcast beside the
    schedule."""
    return state_dir or Path(
        os.environ.get("BROADCAST_STATE_DIR", schedule_path.resolve().parent / ".broadcast")
    )


@click.command()
@schedule_option
@state_dir_option
@click.option("--engine", type=click.Choice(ENGINE_CHOICES),
              help="Override the schedule's speech engine.")
@click.option("--horizon-hours", type=click.FloatRange(min=2), default=48.0, show_default=True,
              help="Render ahead everything airing within this many hours.")
def run(schedule_path: Path, state_dir: Path | None, engine: str | None,
        horizon_hours: float) -> None:
    """Run the daemon: air each scheduled program on time, until stopped."""
    options = DaemonOptions(
        schedule_path=schedule_path,
        state_dir=ward_state_dir(schedule_path, state_dir),
        engine=engine,
        horizon=dt.timedelta(hours=horizon_hours),
    )
    Daemon(options).run()


@click.command()
@schedule_option
@state_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(schedule_path: Path, state_dir: Path | None, as_json: bool) -> None:
    """Show what is airing, the next broadcasts, each zone's outputs, the last problems and
    rendering ahead."""
    folder = ward_state_dir(schedule_path, state_dir)
    pid = lock_holder(folder)
    board = read_status(folder / "status.json") or {}
    report: dict[str, Any] = {
        "running": pid is not None,
        "pid": pid,
        "airing": board.get("airing", {}) if pid is not None else {},
        "requests": board.get("requests", []) if pid is not None else [],
        "upcoming": board.get("upcoming", []) if pid is not None else _upcoming(schedule_path),
        "schedule_problem": board.get("schedule_problem") if pid is not None else None,
        "prerender": board.get("prerender"),
        "errors": board.get("errors", []),
        "problems": [_problem(row) for row in _problems(folder)],
        "outputs": _outputs(folder),
    }
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for line in _lines(report, board):
        click.echo(line)


def _upcoming(schedule_path: Path) -> list[dict[str, Any]]:
    schedule = load_schedule(schedule_path)
    now = dt.datetime.now(schedule.ward.tz)
    return [{"start": b.start.isoformat(), "program": b.program_name, "id": b.program_id,
             "zones": list(b.zone_ids), "priority": b.priority}
            for b in plan(schedule, now, now + dt.timedelta(days=8))[:5]]


def _problems(folder: Path) -> list[Row]:
    path = folder / "as-run.sqlite"
    if not path.exists():
        return []
    log = AsRunLog(path)
    try:
        return log.problems(5)
    finally:
        log.close()


def _outputs(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Each zone's outputs as its latest airings left them: ok, or failing since the first of
    the failures in a row, with the last error; and a hook that failed last time."""
    path = folder / "as-run.sqlite"
    if not path.exists():
        return {}
    log = AsRunLog(path)
    try:
        rows = log.recent_airings()
    finally:
        log.close()
    zones: dict[str, list[Row]] = {}
    for row in rows:
        zones.setdefault(row.zone, []).append(row)
    report: dict[str, list[dict[str, Any]]] = {}
    for zone, newest_first in sorted(zones.items()):
        latest = newest_first[0]
        states = []
        for output in latest.outputs:
            name = str(output["output"])
            since = latest
            for row in newest_first:
                state = next((o for o in row.outputs if o["output"] == name), None)
                if state is None or state["ok"] or output["ok"]:
                    break
                since = row
            states.append({"output": name, "ok": bool(output["ok"]),
                           "error": output.get("error"),
                           "since": (since.started or since.scheduled).isoformat()})
        hooks = [problem for problem in latest.problems if "hook" in problem]
        report[zone] = states + [{"output": "hook", "ok": False, "error": problem,
                                  "since": (latest.started or latest.scheduled).isoformat()}
                                 for problem in hooks]
    return report


def _problem(row: Row) -> dict[str, Any]:
    return {"scheduled": row.scheduled.isoformat(), "program": row.program_id, "zone": row.zone,
            "outcome": row.outcome, "reason": row.reason, "problems": row.problems}


def _clock(text: str) -> str:
    return f"{dt.datetime.fromisoformat(text):%Y-%m-%d %H:%M:%S}"


def _lines(report: dict[str, Any], board: dict[str, Any]) -> list[str]:
    if report["running"]:
        since = f" since {_clock(board['since'])}" if board.get("since") else ""
        lines = [f"Daemon: running (PID {report['pid']}){since}."]
    else:
        lines = ["Daemon: not running. Start it with 'broadcast run' (or the systemd service)."]
    if report["schedule_problem"]:
        lines += ["Schedule: the last edit cannot be used; the last good schedule is airing.",
                  *(f"  {line}" for line in str(report["schedule_problem"]).splitlines())]
    lines.append("Now airing:")
    airing = report["airing"]
    if not airing:
        lines.append("  nothing")
    for zone, now in sorted(airing.items()):
        waiting = f", {now['waiting']} waiting" if now.get("waiting") else ""
        asked = f", asked by {now['requested_by']}" if now.get("requested_by") else ""
        lines.append(f"  {zone}: {now['program']} since {_clock(now['since'])} "
                     f"({now['length_s']} s long{asked}{waiting})")
    if report["requests"]:
        lines.append("Requests for later:")
    for request in report["requests"]:
        times = ", ".join(f"{dt.datetime.fromisoformat(t):%H:%M:%S}" for t in request["starts"])
        lines.append(f"  #{request['id']} {request['what']} by {request['requested_by']} "
                     f"at {times} -> {', '.join(request['zones'])}")
    lines.append("Next:")
    if not report["upcoming"]:
        lines.append("  nothing in the next 8 days")
    for item in report["upcoming"]:
        lines.append(f"  {_clock(item['start'])}  {item['id']}  {item['program']}  "
                     f"-> {', '.join(item['zones'])}")
    ahead = report["prerender"]
    if ahead:
        doing = " (rendering now)" if ahead.get("running") else ""
        lines.append(f"Rendered ahead: {ahead['ready']} of {ahead['total']} broadcasts ready"
                     f"{doing}.")
        lines += [f"  not ready: {f['broadcast']}: {f['error']}" for f in ahead["failed"]]
    lines.append("Outputs (as their last broadcast left them):")
    if not report["outputs"]:
        lines.append("  nothing has aired yet")
    for zone, outputs in report["outputs"].items():
        for output in outputs:
            state = ("ok" if output["ok"] else
                     f"FAILING since {_clock(output['since'])}: {output['error']}")
            lines.append(f"  {zone}: {output['output']}: {state}")
    lines.append("Last problems (as-run log):")
    if not report["problems"]:
        lines.append("  none")
    for row in report["problems"]:
        why = row["reason"] or "; ".join(row["problems"])
        lines.append(f"  {_clock(row['scheduled'])}  {row['program']}  {row['zone']}  "
                     f"{row['outcome']}: {why}")
    if report["errors"]:
        lines.append("Recent errors:")
        lines += [f"  {line}" for line in report["errors"]]
    return lines

