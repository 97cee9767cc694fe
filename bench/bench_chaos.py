"""Reliability under chaos: broadcasts lost by a baseline version and by this one, side by side.

The baseline is an earlier commit (by default the last one before the reliability work), taken
out of git into a temporary folder with this version's chaos suite and fakes copied in, so both
are judged by the same checker. Both run the chosen scenarios at the same time, with the same
seed, on the same machine; the as-run logs and output files of each are checked as in
``tests/chaos`` and the figures printed next to each other: planned broadcasts, how many did not
end aired (missing rows, refused, failed, cut and never finished), duplicates, part files left,
and the violations the checker found.

Run: .venv/bin/python bench/bench_chaos.py [--baseline COMMIT] [--seconds 600]
     [-k bad_moments|google|edits|icecast|without_kills] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASELINE = "bec3772"
"""The last commit before the owed set, crash resume, render deadlines and last good scripts."""


def run_suite(tree: Path, report: Path, seconds: int, seed: int,
              selection: str) -> subprocess.Popen[bytes]:
    env = os.environ | {"BROADCAST_CHAOS_SECONDS": str(seconds),
                        "BROADCAST_CHAOS_SEED": str(seed),
                        "BROADCAST_CHAOS_REPORT": str(report)}
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "chaos",
         "-n", "2", "-k", selection, "tests/chaos"],
        cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def figures(report: Path) -> dict[str, dict[str, object]]:
    found = {}
    for path in sorted(report.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["scenario"]] = {**data["figures"],
                                   "violations": len(data.get("violations", []))}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    parser.add_argument("-k", dest="selection",
                        default="bad_moments or google or edits or icecast")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-chaos-") as tmp:
        base = Path(tmp) / "baseline"
        base.mkdir()
        archive = subprocess.run(["git", "archive", args.baseline], cwd=REPO,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        for part in ("tests/chaos", "tests/fakes"):
            shutil.rmtree(base / part, ignore_errors=True)
            shutil.copytree(REPO / part, base / part)
        shutil.copy(REPO / "pyproject.toml", base / "pyproject.toml")  # the chaos marker
        reports = {name: Path(tmp) / f"report-{name}" for name in ("baseline", "this")}
        runs = {"baseline": run_suite(base, reports["baseline"], args.seconds, args.seed,
                                      args.selection),
                "this": run_suite(REPO, reports["this"], args.seconds, args.seed,
                                  args.selection)}
        for run in runs.values():
            run.wait()
        results = {name: figures(path) for name, path in reports.items()}
    print(f"chaos, {args.seconds} s per scenario, seed {args.seed}; baseline {args.baseline}")
    keys = ("planned", "aired", "missing", "refused", "failed", "cut", "completed",
            "duplicates", "parts", "violations")
    print(f"{'scenario':<14}{'version':<10}" + "".join(f"{k:>11}" for k in keys))
    for scenario in sorted(set(results["baseline"]) | set(results["this"])):
        for name in ("baseline", "this"):
            row = results[name].get(scenario)
            cells = "".join(f"{row.get(k, '-') if row else '-':>11}" for k in keys)
            print(f"{scenario:<14}{name:<10}{cells}")
        lost = {name: (int(r[scenario]["planned"]) - int(r[scenario]["aired"]))
                if scenario in r else None for name, r in results.items()}
        print(f"{'':<14}lost (planned - aired): baseline {lost['baseline']}, "
              f"this {lost['this']}")


if __name__ == "__main__":
    main()
