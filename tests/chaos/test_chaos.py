"""Chaos runs: the real daemon abused at random for a while, then checked end to end.

Each run lasts ``BROADCAST_CHAOS_SECONDS`` (short by default; ``make chaos`` runs ten minutes
each), draws its random choices from a seed it prints (``BROADCAST_CHAOS_SEED`` replays one), and
ends with a one-line summary (also written as JSON into ``BROADCAST_CHAOS_REPORT``, when set).
See :mod:`tests.chaos.harness` for what is checked.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import json
import os
import random
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.chaos.harness import (
    CLEARANCE_S,
    MUST,
    ChaosSettings,
    ChaosWard,
    DaemonRunner,
    Deck,
    Expectation,
    ProgramPlan,
    ScheduleHistory,
    Verdict,
    check,
    elapsed,
    estimated_s,
    expect_all,
    hms,
    last_start,
    plan_programs,
    program_times,
    run_timeout,
    sleep_until,
    stamp,
    wait_for_row,
    wait_settled,
    words,
)
from tests.fakes.google_tts import FakeGoogleTTS
from tests.icecast import IcecastServer, Listener

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(run_timeout())]

FIRST_START_S = 15.0
"""The first broadcast starts this long after the run begins (the daemon renders first)."""
LAST_START_BEFORE_END_S = 5.0
"""The last broadcast starts this long before the run's length is up."""
SETTLE_S = 35.0
"""After the last start, how long the run waits for the last broadcasts to finish."""
ZONES = ("z1", "z2")
ZONE_CHOICES = (("z1",), ("z2",), ("z1", "z2"))


def require_valid(ward: ChaosWard) -> None:
    usable, problem = ward.valid()
    assert usable, f"the run wrote a schedule the daemon cannot use: {problem}"


def file_ward(root: Path, zones: tuple[str, ...], tts: str) -> ChaosWard:
    return ChaosWard(root / "ward", {zone: ChaosWard.file_output(zone) for zone in zones}, tts)


# --------------------------------------------------------------------------------------------
# 1. kill -9 at bad moments

KILL_KINDS = ("mid-airing", "cue window", "start-up", "random")


def run_kills(root: Path, settings: ChaosSettings, kills: int | None, name: str) -> Verdict:
    """Two zones, a program every 20-30 s, and ``kills`` kill -9s (default: one per 15 s)."""
    rng = random.Random(settings.seed)
    verdict = Verdict(name, settings)
    ward = file_ward(root, ZONES, "{engine: espeak}")
    began = time.time()
    starts = program_times(rng, began + FIRST_START_S,
                           began + settings.seconds - LAST_START_BEFORE_END_S, (20, 30))
    programs = plan_programs(rng, ward, starts, ZONE_CHOICES, (1, 3))
    require_valid(ward)
    count = round(settings.seconds / 15) if kills is None else kills
    runner = DaemonRunner(ward, root / "logs")
    expectations = expect_all(programs)
    try:
        runner.start()
        done = kill_again_and_again(rng, ward, runner, programs, count, verdict, began)
        verdict.extras["kills"] = done
        wait_settled(ward, expectations, last_start(programs) + SETTLE_S)
        runner.stop()
    finally:
        runner.cleanup()
    verdict.extras["daemon starts"] = len(runner.launches)
    return check(ward, runner, verdict, expectations)


def kill_again_and_again(rng: random.Random, ward: ChaosWard, runner: DaemonRunner,
                         programs: list[ProgramPlan], count: int, verdict: Verdict,
                         began: float) -> int:
    """Kill -9 the daemon ``count`` times, each at a moment of one of the ``KILL_KINDS``, and
    start it again 0.3-5 s later; return how many kills there were."""
    stop_at = last_start(programs) + 3.0
    spacing = (stop_at - began) / max(count, 1)
    done = 0
    deck = Deck(rng, dict.fromkeys(KILL_KINDS, 1))
    while done < count and time.time() < stop_at:
        kind = deck.draw()
        if kind != "start-up":  # spread over the run: each kill waits for its turn
            sleep_until(began + done * spacing)
        gap = max(1.0, (stop_at - time.time()) / (count - done))
        launch = runner.current
        assert launch is not None
        what = kind
        if kind == "start-up":
            sleep_until(launch.launched + rng.uniform(0.2, 2.0))
            what = f"start-up, {time.time() - launch.launched:.1f} s after launch"
        elif kind == "mid-airing":
            since = launch.launched
            row = wait_for_row(ward, time.time() + max(2 * gap, 35.0), lambda r, since=since: (
                r["outcome"] == "airing" and (stamp(r["started"]) or 0.0) >= since))
            if row is None:
                what = "mid-airing, but nothing aired: at random"
            else:
                aired_from = stamp(row["started"]) or time.time()
                length = float(str(row["duration_s"] or 5.0))
                sleep_until(aired_from + rng.uniform(0.3, max(0.4, min(3.0, length - 0.5))))
                what = (f"mid-airing {row['program_id']} in {row['zone']}, "
                        f"{time.time() - aired_from:.1f} s in")
        elif kind == "cue window":
            coming = [p for p in programs if p.start.timestamp() > time.time() + 1.0]
            if coming:
                program = min(coming, key=lambda p: p.start)
                sleep_until(program.start.timestamp() - rng.uniform(0.5, 4.0))
                what = (f"cue window, {program.start.timestamp() - time.time():.1f} s before "
                        f"{program.describe()}")
            else:
                what = "cue window, but nothing is coming: at random"
        else:
            time.sleep(rng.uniform(0.5, gap))
        runner.kill()
        done += 1
        pause = rng.uniform(0.3, 5.0)
        verdict.events.append(f"{elapsed(began)} {hms(time.time())} kill #{done}: {what}; "
                              f"start again in {pause:.1f} s")
        time.sleep(pause)
        runner.start()
    return done


def test_kill_9_at_bad_moments_loses_nothing_and_airs_nothing_twice(tmp_path: Path) -> None:
    verdict = run_kills(tmp_path, ChaosSettings.from_env(), kills=None, name="kills")
    verdict.publish()
    verdict.assert_clean()


def test_the_same_ward_without_kills_passes_every_check(tmp_path: Path) -> None:
    """The control run: the kills scenario with no kills; a failure here is in the harness or
    in the daemon's calm-weather behaviour, not in crash recovery."""
    verdict = run_kills(tmp_path, ChaosSettings.from_env(), kills=0, name="calm")
    verdict.publish()
    verdict.assert_clean()


# --------------------------------------------------------------------------------------------
# 2. Google out of reach, then silent, then back; scripts edited meanwhile


def outage_phases(rng: random.Random, began: float, until: float,
                  seconds: float) -> list[tuple[float, str]]:
    """When Google changes: refusing connections, black-holed, answering again, in turn."""
    shortest, longest = min(30.0, seconds / 5), min(120.0, seconds / 3.5)
    changes: list[tuple[float, str]] = []
    moment = began + rng.uniform(shortest, longest)
    modes = ("refusing connections", "black-holed", "answering")
    while moment < until:
        changes.append((moment, modes[len(changes) % 3]))
        moment += rng.uniform(shortest, longest)
    return changes


def run_google(root: Path, settings: ChaosSettings) -> Verdict:
    rng = random.Random(settings.seed)
    verdict = Verdict("google-outage", settings)
    with FakeGoogleTTS() as google:
        env = dict(os.environ)  # the fake's proxy and certificate authority, while it runs
        ward = file_ward(root, ("z1",), "{engine: gtts, fallback: [espeak]}")
        began = time.time()
        starts = program_times(rng, began + FIRST_START_S,
                               began + settings.seconds - LAST_START_BEFORE_END_S, (20, 30))
        programs = plan_programs(rng, ward, starts, [("z1",)], (1, 3), ("restart",))
        require_valid(ward)
        runner = DaemonRunner(ward, root / "logs", env)
        switch: dict[str, Callable[[], None]] = {
            "refusing connections": google.refuse_connections,
            "black-holed": google.black_hole,
            "answering": google.serve_normally,
        }
        end = last_start(programs)
        changes = outage_phases(rng, began, end, settings.seconds)
        edits = 0
        try:
            runner.start()
            next_edit = began + rng.uniform(5.0, 12.0)
            while time.time() < end:
                change_at = changes[0][0] if changes else end
                sleep_until(min(change_at, next_edit, end))
                now = time.time()
                if changes and now >= changes[0][0]:
                    _, mode = changes.pop(0)
                    switch[mode]()
                    verdict.events.append(f"{elapsed(began)} {hms(now)} Google {mode}")
                if now >= next_edit:
                    coming = [p for p in programs if now + 10 <= p.start.timestamp() <= now + 100]
                    if coming:
                        program = rng.choice(coming)
                        room = min((p.start.timestamp() for p in programs
                                    if p.start > program.start), default=float("inf"))
                        count = rng.randint(1, 3)
                        body = words(rng, count, unlike=ward.bodies[program.script])
                        while count > 1 and (program.start.timestamp() + estimated_s(body)
                                             + CLEARANCE_S > room):
                            count -= 1
                            body = words(rng, count, unlike=ward.bodies[program.script])
                        ward.write_script(program.script, body)
                        edits += 1
                        verdict.events.append(
                            f"{elapsed(began)} {hms(now)} new words for {program.describe()} "
                            f"({program.start.timestamp() - now:.0f} s ahead)")
                    next_edit = now + rng.uniform(8.0, 20.0)
            google.serve_normally()
            expectations = expect_all(programs)
            wait_settled(ward, expectations, end + SETTLE_S)
            runner.stop()
        finally:
            runner.cleanup()
    verdict.extras["edits"] = edits
    verdict.extras["outage changes"] = sum("Google" in event for event in verdict.events)
    check(ward, runner, verdict, expectations, strict_on_time=True)
    engines(ward, verdict, programs)
    return verdict


def engines(ward: ChaosWard, verdict: Verdict, programs: list[ProgramPlan]) -> None:
    """Every aired row names Google or espeak-ng as its engine; also counts the rows that aired
    words older than the last edit saved at least 10 s before their start."""
    google = espeak = older = 0
    starts = {program.id: program.start.timestamp() for program in programs}
    for row in ward.rows():
        if row["outcome"] not in ("aired", "late"):
            continue
        named = [part.strip() for part in str(row["engine"] or "").split(",") if part.strip()]
        if not named or any(not part.startswith(("gtts:", "espeak-ng:")) for part in named):
            verdict.violations.append(
                f"{row['program_id']} in {row['zone']}: engine {row['engine']!r} is neither "
                "Google's voice nor espeak-ng")
        google += any(part.startswith("gtts:") for part in named)
        espeak += any(part.startswith("espeak-ng:") for part in named)
        start = starts.get(str(row["program_id"]))
        for item in json.loads(str(row["items"])):
            name = Path(str(item.get("script", ""))).name
            versions = [v for v in ward.versions.get(name, [])
                        if start is not None and v.saved <= start - 10]
            if versions and item.get("content_hash") != versions[-1].content_hash:
                older += 1
    verdict.extras["rows by Google"] = google
    verdict.extras["rows by espeak-ng"] = espeak
    verdict.extras["older words aired"] = older


def test_google_refusing_and_black_holed_never_costs_a_broadcast(tmp_path: Path) -> None:
    verdict = run_google(tmp_path, ChaosSettings.from_env())
    verdict.publish()
    verdict.assert_clean()


# --------------------------------------------------------------------------------------------
# 3. Broken and valid edits of the schedule and the scripts

EDIT_KINDS = {"broken yaml": 2, "unknown key": 2, "script broken at its cue": 3,
              "new words": 2, "moved a minute later": 2}
SCRIPT_BREAKS = ("garbage", "empty", "half", "removed")


class Editor:
    """Edits the ward while the daemon runs, and keeps the history the checks judge by."""

    def __init__(self, rng: random.Random, ward: ChaosWard, programs: list[ProgramPlan],
                 verdict: Verdict, began: float, latest_start: float) -> None:
        self.rng = rng
        self.ward = ward
        self.programs = list(programs)
        self.history = ScheduleHistory(programs, began)
        self.verdict = verdict
        self.began = began
        self.latest_start = latest_start
        self.broken_scripts: set[str] = set()
        self.fix_pending = False
        self.pending: list[tuple[float, int, str, Callable[[], None]]] = []
        self._order = itertools.count()
        self.count = 0
        self.made: dict[str, int] = {}

    def note(self, words_: str) -> None:
        self.verdict.events.append(f"{elapsed(self.began)} {hms(time.time())} {words_}")

    def later(self, moment: float, what: str, action: Callable[[], None]) -> None:
        heapq.heappush(self.pending, (moment, next(self._order), what, action))

    def wait_until(self, moment: float) -> None:
        """Sleep until ``moment``, doing what falls due meanwhile."""
        while True:
            due = self.pending[0][0] if self.pending else None
            if due is None or due > moment:
                sleep_until(moment)
                return
            sleep_until(due)
            _, _, _, action = heapq.heappop(self.pending)
            action()

    def finish(self) -> None:
        while self.pending:
            self.wait_until(self.pending[0][0])

    def record(self, saved: float, what: str) -> None:
        usable, problem = self.ward.valid()
        self.history.record(saved, usable, self.programs, what)
        self.note(f"{what}" + ("" if usable else f" → not usable: {problem}"))

    def save_schedule(self, text: str, what: str) -> None:
        self.record(self.ward.save_schedule(text), what)

    def good_text(self) -> str:
        return self.ward.schedule_text(self.programs)

    def fix_schedule(self) -> None:
        self.fix_pending = False
        self.save_schedule(self.good_text(), "schedule fixed")

    def length(self, program: ProgramPlan, body: str | None = None) -> float:
        return estimated_s(body if body is not None else self.ward.bodies[program.script])

    def fits(self, program: ProgramPlan, start: float, length: float) -> bool:
        for other in self.programs:
            if other.id == program.id or not set(other.zones) & set(program.zones):
                continue
            begins = other.start.timestamp()
            if (start < begins + self.length(other) + CLEARANCE_S
                    and begins < start + length + CLEARANCE_S):
                return False
        return True

    def coming(self, soonest: float, latest: float = float("inf")) -> list[ProgramPlan]:
        now = time.time()
        return [p for p in self.programs if now + soonest <= p.start.timestamp() <= now + latest
                and p.script not in self.broken_scripts]

    def edit(self, kind: str, gap: float) -> bool:
        """Make one edit of ``kind``; False when none can be made now."""
        if kind in ("broken yaml", "unknown key"):
            text = self.good_text()
            if kind == "broken yaml":
                broken = self.rng.choice((
                    text.replace("    items:\n", "    items: [\n", 1),
                    re.sub(r'(    start: "[0-9:]+)"\n', r"\1\n", text, count=1),
                    text.replace("programs:\n", "programs:\n\t- oops\n", 1),
                ))
            else:
                program = self.rng.choice(self.programs)
                line = f"  - id: {program.id}\n"
                broken = self.rng.choice((
                    text.replace(line, f"{line}    colour: red\n", 1),
                    text.replace(f"{line}    name:", f"{line}    nmae:", 1),
                ))
            self.save_schedule(broken, f"schedule: {kind}")
            if not self.fix_pending:
                self.fix_pending = True
                self.later(time.time() + self.rng.uniform(2.0, 8.0), "fix", self.fix_schedule)
            return True
        if kind == "script broken at its cue":
            coming = self.coming(6.0, 6.0 + 4 * gap + 10.0)
            if not coming:
                return False
            program = self.rng.choice(coming)
            start = program.start.timestamp()
            how = self.rng.choice(SCRIPT_BREAKS)
            self.broken_scripts.add(program.script)  # no other edit touches it until restored

            def spoil(program: ProgramPlan = program, how: str = how) -> None:
                saved = time.time()
                self.ward.break_script(program.script, how, self.rng)
                self.record(saved, f"script {program.script} {how}, "
                                   f"{start - saved:.1f} s before {program.describe()}")

            def restore(program: ProgramPlan = program) -> None:
                self.broken_scripts.discard(program.script)
                body = words(self.rng, 1, unlike=self.ward.bodies[program.script])
                saved = time.time()
                self.ward.write_script(program.script, body)
                self.record(saved, f"script {program.script} written again, approved")

            self.later(start - self.rng.uniform(1.0, 4.0), "spoil", spoil)
            self.later(start + self.rng.uniform(1.0, 5.0), "restore", restore)
            return True
        if kind == "new words":
            coming = self.coming(8.0)
            self.rng.shuffle(coming)
            for program in coming:
                for sentences in (2, 1):
                    body = words(self.rng, sentences, unlike=self.ward.bodies[program.script])
                    if self.fits(program, program.start.timestamp(), self.length(program, body)):
                        saved = time.time()
                        self.ward.write_script(program.script, body)
                        self.record(saved, f"new approved words ({sentences} sentences) for "
                                           f"{program.describe()}")
                        return True
            return False
        coming = self.coming(15.0)
        self.rng.shuffle(coming)
        for program in coming:
            moved_to = program.start + dt.timedelta(seconds=60)
            if moved_to.timestamp() > self.latest_start:
                continue
            if not self.fits(program, moved_to.timestamp(), self.length(program)):
                continue
            moved = ProgramPlan(program.id, moved_to, program.zones, program.on_interrupt,
                                program.grace_s)
            self.programs[self.programs.index(program)] = moved
            self.save_schedule(self.good_text(), f"moved {program.describe()} to "
                                                 f"{moved_to:%H:%M:%S}")
            return True
        return False


def run_edits(root: Path, settings: ChaosSettings) -> Verdict:
    rng = random.Random(settings.seed)
    verdict = Verdict("edits", settings)
    ward = file_ward(root, ZONES, "{engine: espeak}")
    began = time.time()
    window_end = began + settings.seconds - LAST_START_BEFORE_END_S
    starts = program_times(rng, began + FIRST_START_S, window_end, (20, 30))
    programs = plan_programs(rng, ward, starts, ZONE_CHOICES, (1, 1))
    require_valid(ward)
    editor = Editor(rng, ward, programs, verdict, began, window_end + 10.0)
    total = max(4, round(settings.seconds / 4))  # 150 in ten minutes
    gap = (window_end - began) / total
    runner = DaemonRunner(ward, root / "logs")
    deck = Deck(rng, EDIT_KINDS)
    try:
        runner.start()
        # The first start needs a usable schedule (later starts fall back on the last good one).
        assert runner.wait_ready(60), "the daemon did not start: " + runner.launches[0].text()
        next_edit = time.time() + rng.uniform(1.0, 3.0)
        while editor.count < total and time.time() < window_end:
            editor.wait_until(next_edit)
            passed: set[str] = set()
            while (kind := deck.draw(passed)) is not None:
                if editor.edit(kind, gap):
                    editor.count += 1
                    editor.made[kind] = editor.made.get(kind, 0) + 1
                    break
                deck.put_back(kind)  # not possible now: another kind goes first
                passed.add(kind)
            next_edit = time.time() + rng.uniform(0.5 * gap, 1.5 * gap)
        editor.finish()
        expectations = editor.history.expectations()
        latest = max(e.program.start.timestamp() for e in expectations)
        wait_settled(ward, expectations, latest + SETTLE_S)
        runner.stop()
    finally:
        runner.cleanup()
    verdict.extras["edits"] = editor.count
    verdict.extras["saves"] = len(editor.history.states) - 1
    verdict.extras["by kind"] = ", ".join(f"{k} {n}" for k, n in sorted(editor.made.items()))
    verdict.extras["uncertain"] = sum(e.need != MUST for e in expectations)
    check(ward, runner, verdict, expectations)
    approved_words_only(ward, verdict, expectations)
    return verdict


def approved_words_only(ward: ChaosWard, verdict: Verdict,
                        expectations: list[Expectation]) -> None:
    """Every aired script is a version the run saved, approved, before the broadcast's start."""
    starts = {e.program.when[0] + "@" + str(e.program.when[1]): e.program.start.timestamp()
              for e in expectations}
    for row in ward.rows():
        if row["outcome"] not in ("aired", "late", "interrupted"):
            continue
        start = starts.get(f"{row['program_id']}@{stamp(row['scheduled'])}")
        for item in json.loads(str(row["items"])):
            if "script" not in item:
                continue
            name = Path(str(item["script"])).name
            saved = [v for v in ward.versions.get(name, [])
                     if start is None or v.saved <= start + 1.0]
            if item.get("content_hash") not in {v.content_hash for v in saved}:
                verdict.violations.append(
                    f"{row['program_id']} at {hms(stamp(row['scheduled']))} in {row['zone']}: "
                    f"aired {name} with content hash {item.get('content_hash')}, which is none "
                    "of the approved versions saved before its start")


def test_broken_and_valid_edits_never_silence_the_ward(tmp_path: Path) -> None:
    verdict = run_edits(tmp_path, ChaosSettings.from_env())
    verdict.publish()
    verdict.assert_clean()


# --------------------------------------------------------------------------------------------
# 4. The Icecast server restarted during airings

RECONNECT_S = 10.0
"""A receiver hears the stream again within this long after the server is back."""
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}) \w+ (.*)$")


class Receiver:
    """An IP loudspeaker receiver on one mount: reconnects when told, and keeps a timeline of
    the bytes it received (across its connections)."""

    def __init__(self, server: IcecastServer, mount: str) -> None:
        self.server = server
        self.mount = mount
        self.listener: Listener | None = None
        self.earlier = 0
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def total(self) -> int:
        listener = self.listener
        return self.earlier + (len(listener.data) if listener is not None else 0)

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.samples.append((time.time(), self.total()))

    def connect(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.listener = Listener(self.server, self.mount)
                return True
            except (RuntimeError, OSError):
                time.sleep(0.2)
        return False

    def drop(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            self.earlier += len(listener.stop())

    def stop(self) -> None:
        self.drop()
        self._stop.set()
        self._thread.join(timeout=5)

    def bytes_between(self, first: float, last: float) -> int:
        before = [count for moment, count in self.samples if moment <= first]
        upto = [count for moment, count in self.samples if moment <= last]
        return (upto[-1] if upto else 0) - (before[-1] if before else 0)

    def first_bytes_after(self, moment: float) -> float | None:
        start = [count for at_, count in self.samples if at_ <= moment]
        base = start[-1] if start else 0
        return next((at_ for at_, count in self.samples if at_ > moment and count > base), None)


def log_times(text: str, words_: str) -> list[float]:
    """When the daemon logged lines containing ``words_`` (to the second)."""
    found = []
    for line in text.splitlines():
        matched = LOG_LINE.match(line)
        if matched and words_ in matched.group(2):
            found.append(dt.datetime.strptime(matched.group(1), "%Y-%m-%d %H:%M:%S %z")
                         .timestamp())
    return found


def run_icecast(root: Path, settings: ChaosSettings, icecast: IcecastServer) -> Verdict:
    rng = random.Random(settings.seed)
    verdict = Verdict("icecast", settings)
    mount = f"127.0.0.1:{icecast.port}/z1"
    outputs = (f"{{type: icecast, mount: '{mount}', password_env: WARD_ICECAST_PASSWORD}}, "
               f"{ChaosWard.file_output('z1')}")
    ward = ChaosWard(root / "ward", {"z1": outputs}, "{engine: espeak}")
    began = time.time()
    # The first broadcast leaves the daemon as long to start as in the other runs (a loaded
    # machine needs it to render and connect); four fit in a short run at 15-16 s apart.
    starts = program_times(rng, began + FIRST_START_S,
                           began + settings.seconds - LAST_START_BEFORE_END_S, (15, 16))
    programs = plan_programs(rng, ward, starts, [("z1",)], (1, 2), ("restart",))
    require_valid(ward)
    wanted = 2 if settings.seconds < 300 else 5
    candidates = list(range(0, len(programs) - 1, 2))
    step = max(1, len(candidates) // wanted)
    targets = candidates[::step][:wanted]
    env = {**os.environ, "WARD_ICECAST_PASSWORD": icecast.password}
    runner = DaemonRunner(ward, root / "logs", env)
    receiver = Receiver(icecast, "z1")
    restarts: list[tuple[int, float, float, float | None]] = []
    try:
        runner.start()
        if not receiver.connect(timeout=30):
            verdict.violations.append("the mount never came up for a receiver to join")
        for index in targets:
            program = programs[index]
            row = wait_for_row(ward, program.start.timestamp() + 20, lambda r, p=program: (
                r["program_id"] == p.id and r["outcome"] == "airing"))
            if row is None:
                verdict.violations.append(f"{program.describe()}: never on air, so Icecast "
                                          "could not be restarted during it")
                continue
            sleep_until((stamp(row["started"]) or time.time()) + rng.uniform(0.5, 2.0))
            down_at = time.time()
            icecast.stop()
            receiver.drop()
            time.sleep(rng.uniform(0.5, 2.5))
            icecast.start()
            up_at = time.time()
            receiver.connect(timeout=RECONNECT_S + 5)
            deadline = up_at + RECONNECT_S + 5
            while receiver.first_bytes_after(up_at) is None and time.time() < deadline:
                time.sleep(0.1)
            heard_at = receiver.first_bytes_after(up_at)
            restarts.append((index, down_at, up_at, heard_at))
            verdict.events.append(
                f"{elapsed(began)} {hms(down_at)} Icecast stopped during {program.describe()}, "
                f"back at {hms(up_at)}, receiver heard bytes again at {hms(heard_at)}")
        expectations = expect_all(programs)
        wait_settled(ward, expectations, last_start(programs) + SETTLE_S)
        runner.stop()
    finally:
        runner.cleanup()
        receiver.stop()
    verdict.extras["Icecast restarts"] = len(restarts)
    check(ward, runner, verdict, expectations)
    text = "\n".join(launch.text() for launch in runner.launches)
    downs = log_times(text, f"icecast {mount}: stream down")
    rows = ward.rows()
    for index, down_at, up_at, heard_at in restarts:
        program, following = programs[index], programs[index + 1]
        if not any(down_at - 1.5 <= moment <= up_at + RECONNECT_S for moment in downs):
            verdict.violations.append(
                f"Icecast stopped at {hms(down_at)} during {program.describe()}: the daemon "
                f"never logged the stream of {mount} going down")
        if heard_at is None or heard_at - up_at > RECONNECT_S:
            verdict.violations.append(
                f"Icecast back at {hms(up_at)}: the receiver heard nothing again within "
                f"{RECONNECT_S:.0f} s (first bytes at {hms(heard_at)})")
        aired = [r for r in rows if r["program_id"] == following.id]
        if not aired:
            continue  # the general checks already say it is missing
        row = aired[-1]
        began_at, ended_at = stamp(row["started"]), stamp(row["ended"])
        carried = {o["output"]: o["ok"] for o in json.loads(str(row["outputs"]))}
        if carried.get(f"icecast {mount}") is not True:
            verdict.violations.append(
                f"{following.describe()}, the program after the restart: the Icecast output "
                f"did not carry it (outputs {carried}, outcome {row['outcome']})")
        if began_at is not None and ended_at is not None:
            heard = receiver.bytes_between(began_at, ended_at)
            enough = 2000 * (ended_at - began_at)
            if heard < enough:
                verdict.violations.append(
                    f"{following.describe()}, the program after the restart: the receiver got "
                    f"{heard} bytes while it aired ({ended_at - began_at:.1f} s), expected at "
                    f"least {enough:.0f}")
    return verdict


def test_icecast_restarts_are_noticed_and_receivers_hear_the_next_program(
    tmp_path: Path, icecast: IcecastServer
) -> None:
    verdict = run_icecast(tmp_path, ChaosSettings.from_env(), icecast)
    verdict.publish()
    verdict.assert_clean()
