"""schedule.yaml: the sample loads; mistakes are reported with file, line, column and a fix."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from broadcast.schedule import (
    ChimeItem,
    RelayItem,
    RotationItem,
    ScheduleError,
    ScriptItem,
    SilenceItem,
    schedule_json_schema,
)
from broadcast.schedule_file import load_schedule, parse_schedule
from tests.audio_tools import tone

REPO = Path(__file__).resolve().parent.parent

MINIMAL = """\
ward:
  name: Phường Test
zones:
  - id: khu-pho-1
    name: Khu phố 1
    groups: [all]
programs:
  - id: sang
    name: Buổi sáng
    start: 06:30
    days: [mon, tue]
    items:
      - script: scripts/a.md
"""

WORDS_300 = " ".join(["loa"] * 300)
"""300 spoken words: 2 minutes at the default 150 words a minute."""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "a.md").write_text("---\ntitle: a\n---\nx\n", encoding="utf-8")
    for name in ("long-1", "long-2", "long-3"):
        (tmp_path / "scripts" / f"{name}.md").write_text(
            f"---\ntitle: {name}\n---\n{WORDS_300}\n", encoding="utf-8")
    return tmp_path


def errors_of(text: str, folder: Path) -> list[str]:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text, folder / "schedule.yaml")
    return [str(problem) for problem in caught.value.problems]


def short_errors(text: str, folder: Path) -> list[str]:
    """Errors as 'LINE:COL: message' (the file name is the same for all of them)."""
    prefix = f"{folder / 'schedule.yaml'}:"
    errors = errors_of(text, folder)
    assert all(e.startswith(prefix) for e in errors), errors
    return [e.removeprefix(prefix) for e in errors]


def program(body: str, *, id_: str = "sang", start: str = "06:30") -> str:
    """A program block with the given extra lines (indented 4 spaces) before its items."""
    return (f"  - id: {id_}\n    name: Chương trình {id_}\n    start: \"{start}\"\n"
            f"{body}")


def schedule_with(*programs: str, extra: str = "") -> str:
    head = MINIMAL.split("programs:\n")[0]
    return head + "programs:\n" + "".join(programs) + extra


def test_sample_schedule_loads() -> None:
    schedule = load_schedule(REPO / "schedule.yaml")
    assert schedule.ward.timezone == "Asia/Ho_Chi_Minh"
    assert 2 <= len(schedule.zones) <= 3
    starts = sorted(p.start for p in schedule.programs)
    assert starts[0] < dt.time(12) <= starts[-1], "a morning and an afternoon program"
    assert {p.id for p in schedule.programs} >= {"sang", "chieu"}
    for weekday in ("sang", "chieu"):
        assert schedule.program(weekday).days == ["mon", "tue", "wed", "thu", "fri"]
    paths = []
    for item in (i for p in schedule.programs for i in p.items):
        if isinstance(item, ScriptItem):
            paths.append(item.script)
        elif isinstance(item, RotationItem):
            paths.extend(e.path for e in item.rotation)
    assert paths and all(schedule.resolve(p).is_file() for p in paths)
    campaign = schedule.campaigns[0]
    assert (campaign.from_date, campaign.to_date) == (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    assert set(campaign.programs) == {"sang", "chieu"}


def test_sample_schedule_points_editors_at_the_schema() -> None:
    first = (REPO / "schedule.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=./schedule.schema.json"


def test_committed_schema_is_what_the_code_generates() -> None:
    committed = json.loads((REPO / "schedule.schema.json").read_text(encoding="utf-8"))
    assert committed == schedule_json_schema(), "run: broadcast schema > schedule.schema.json"


def test_unquoted_times_are_times_not_numbers(folder: Path) -> None:
    schedule = parse_schedule(MINIMAL.replace("06:30", "17:00"), folder / "schedule.yaml")
    assert schedule.programs[0].start == dt.time(17, 0)
    seconds = parse_schedule(MINIMAL.replace("06:30", '"17:00:05"'), folder / "schedule.yaml")
    assert seconds.programs[0].start == dt.time(17, 0, 5)


@pytest.mark.parametrize(("written", "days"), [
    ("[daily]", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    ("[mon, tue]", ["mon", "tue"]),
    ("weekdays", ["mon", "tue", "wed", "thu", "fri"]),
    ("[Monday, weekend]", ["mon", "sat", "sun"]),
    ("[t2, t4, cn]", ["mon", "wed", "sun"]),
])
def test_days_can_be_written_several_ways(folder: Path, written: str, days: list[str]) -> None:
    text = MINIMAL.replace("[mon, tue]", written)
    assert parse_schedule(text, folder / "schedule.yaml").programs[0].days == days


def test_existing_forms_stay_accepted(folder: Path) -> None:
    text = MINIMAL.replace("    groups: [all]", "    groups: [all]\n"
                           "    outputs: [{type: device, sink: zone1}]")
    schedule = parse_schedule(text, folder / "schedule.yaml")
    assert schedule.zones[0].outputs[0].sink == "zone1"


def test_every_item_kind_loads(folder: Path) -> None:
    tone(folder / "chime.wav")
    text = schedule_with(program(
        "    days: [mon]\n    items:\n      - chime:\n      - script: scripts/a.md\n"
        "      - silence: 2s\n      - relay: https://radio.example.vn/vov1.mp3\n"
        "        duration: 15 phút\n      - rotation: scripts/long-*.md\n        mode: shuffle\n"
        "      - chime: closing\n"),
        extra="chimes:\n  closing: chime.wav\nrelay_sources:\n  - name: vov1\n"
              "    url: https://radio.example.vn/vov1.mp3\n")
    items = parse_schedule(text, folder / "schedule.yaml").programs[0].items
    assert isinstance(items[0], ChimeItem) and items[0].chime is None
    assert isinstance(items[2], SilenceItem) and items[2].silence == 2.0
    assert isinstance(items[3], RelayItem) and items[3].duration == dt.timedelta(minutes=15)
    assert isinstance(items[4], RotationItem) and items[4].mode == "shuffle"
    assert isinstance(items[5], ChimeItem) and items[5].chime == "closing"


MISTAKES = [
    pytest.param(
        MINIMAL.replace("    start: 06:30", "    strat: 06:30"),
        ["8:5: 'start' is missing. Add a line 'start: ...' here.",
         "10:5: unknown setting 'strat'. Did you mean 'start'?"],
        id="unknown key suggests the right one"),
    pytest.param(
        MINIMAL.replace("    days: [mon, tue]", "    days: [mon, tue]\n    form: 2026-01-01"),
        ["12:5: unknown setting 'form'. Did you mean 'from'?"],
        id="aliases are suggested too"),
    pytest.param(
        MINIMAL.replace("      - script: scripts/a.md", "      - scirpt: scripts/a.md"),
        ["13:9: 'scirpt' is not a kind of item. Did you mean 'script'?"],
        id="unknown item kind"),
    pytest.param(
        MINIMAL.replace("      - script: scripts/a.md", "      - scripts/a.md"),
        ["13:9: say what 'scripts/a.md' is: write 'script: scripts/a.md'."],
        id="bare path item"),
    pytest.param(
        MINIMAL + "        weight: 2\n",
        ["14:9: unknown setting 'weight'. Allowed here: script."],
        id="setting that belongs elsewhere"),
    pytest.param(
        MINIMAL.replace("      - script: scripts/a.md",
                        "      - rotation: [scripts/a.md]\n        mdoe: shuffle"),
        ["14:9: unknown setting 'mdoe'. Did you mean 'mode'?"],
        id="unknown key in a rotation"),
    pytest.param(
        MINIMAL.replace("06:30", "25:61"),
        ["10:12: '25:61' is not a real time of day."],
        id="impossible time"),
    pytest.param(
        MINIMAL.replace("    days: [mon, tue]", "    days: [mon, tue]\n    from: 2026-02-30"),
        ["12:11: '2026-02-30' is not a real date."],
        id="impossible date"),
    pytest.param(
        MINIMAL.replace("    days: [mon, tue]",
                        "    days: [mon, tue]\n    from: 2026-05-10\n    to: 2026-05-01"),
        ["13:9: this ends (2026-05-01) before it starts (2026-05-10). Swap the dates or fix the "
         "wrong one."],
        id="date range ending before it starts"),
    pytest.param(
        MINIMAL.replace("    days: [mon, tue]",
                        "    days: [mon, tue]\n    skip_dates:\n"
                        "      - {from: 2026-02-20, to: 2026-02-16}"),
        ["13:32: this ends (2026-02-16) before it starts (2026-02-20). Swap the dates or fix "
         "the wrong one."],
        id="skip span ending before it starts"),
    pytest.param(
        MINIMAL.replace("    days: [mon, tue]",
                        "    days: [mon, tue]\n    skip_dates: [2026-05-04]\n"
                        "    extra_dates: [2026-05-04]"),
        ["13:18: 2026-05-04 is both skipped and extra. Keep it in one list only."],
        id="a date both skipped and extra"),
    pytest.param(
        MINIMAL.replace("[mon, tue]", "[]"),
        ["11:11: this program never airs: it has no days, or no day between its 'from' and "
         "'to'. Give it days or extra_dates."],
        id="program that never airs"),
    pytest.param(
        MINIMAL.replace("scripts/a.md", "scripts/b.md"),
        ["13:17: script file 'scripts/b.md' does not exist. Check the name; paths are relative "
         "to schedule.yaml."],
        id="missing script"),
    pytest.param(
        MINIMAL.replace("scripts/a.md", "scripts/long1.md"),
        ["13:17: script file 'scripts/long1.md' does not exist. Did you mean "
         "'scripts/long-1.md'? Check the name; paths are relative to schedule.yaml."],
        id="misspelt script name"),
    pytest.param(
        MINIMAL.replace("    days: [mon, tue]", "    days: [mon, tue]\n    zones: [khu-pho1]"),
        ["12:13: no zone or group is called 'khu-pho1'. Did you mean 'khu-pho-1'?"],
        id="unknown zone"),
    pytest.param(
        MINIMAL.replace("06:30", "22:15"),
        ["10:12: 22:15:00 is inside quiet hours (21:00-06:00). Pick another time; only "
         "emergency programs may air then."],
        id="inside quiet hours"),
    pytest.param(
        MINIMAL.replace("06:30", "20:59").replace("scripts/a.md", "scripts/long-1.md"),
        ["10:12: 'sang' starts at 20:59:00 and runs about 2 min, into quiet hours "
         "(21:00-06:00). Start it earlier or make it shorter."],
        id="running into quiet hours"),
    pytest.param(
        MINIMAL.replace("    days: [mon, tue]", "    days: [mon, tue]\n    max_length: 2m")
        + "      - script: scripts/long-1.md\n      - script: scripts/long-2.md\n",
        ["12:17: program 'sang' runs about 2 min 3 s over its 2 min limit (about 4 min 3 s). "
         "Take out an item or use shorter scripts."],
        id="length cap, by how much"),
    pytest.param(
        MINIMAL.replace("      - script: scripts/a.md",
                        "      - rotation: scripts/nothing-*.md"),
        ["13:19: 'scripts/nothing-*.md' matches no file, so this pool is empty. Check the "
         "pattern and the folder; paths are relative to schedule.yaml."],
        id="empty pool"),
    pytest.param(
        MINIMAL.replace("      - script: scripts/a.md",
                        "      - rotation: [scripts/a.md, scripts/long-1.md]\n        pick: 3"),
        ["14:15: this rotation picks 3 items but its pool has only 2. Pick fewer, "
         "or add items."],
        id="picking more than the pool has"),
    pytest.param(
        MINIMAL.replace("      - script: scripts/a.md",
                        "      - rotation: [scripts/a.md, scripts/long-1.md]\n"
                        "        mode: weighted\n        pick: 2"),
        ["15:15: a weighted rotation picks one item per broadcast. Use pick: 1, or two "
         "rotations."],
        id="weighted with several picks"),
    pytest.param(
        MINIMAL.replace("      - script: scripts/a.md", "      - rotation: [scripts/notes]"),
        ["13:20: cannot tell if 'scripts/notes' is a script or an audio file. Write "
         "'script: scripts/notes' or 'audio: scripts/notes'."],
        id="pool entry of unknown kind"),
    pytest.param(
        MINIMAL.replace("      - script: scripts/a.md",
                        "      - rotation:\n          - {script: scripts/a.md, to: 2026-05-31}"),
        ["14:11: this rotation has nothing to pick on 2026-06-01: every item in its pool has "
         "ended or not started yet. Add items, or change their dates."],
        id="pool that runs dry"),
    pytest.param(
        MINIMAL + "      - chime: opening\n",
        ["14:16: there is no chime called 'opening'. Add it under 'chimes:' with its sound "
         "file."],
        id="unknown chime"),
    pytest.param(
        MINIMAL + "      - relay: vov1\n        duration: 15m\n",
        ["14:16: 'vov1' is not in relay_sources, and only those may be relayed. Add it there "
         "with a name and its address."],
        id="relay not on the list"),
    pytest.param(
        MINIMAL + "      - relay: http://127.0.0.1:9/live.mp3\n        duration: 15m\n"
        "relay_sources:\n  - name: vov1\n    url: https://radio.example.vn/vov1.mp3\n"
        "  - name: vov1\n    url: https://radio.example.vn/vov2.m3u8\n",
        ["14:16: 'http://127.0.0.1:9/live.mp3' is not in relay_sources, and only those may be "
         "relayed. Sources: vov1, vov1. Add it there with a name and its address.",
         "19:11: relay source 'vov1' is named twice. Give each source its own name."],
        id="relay address not on the list, source named twice"),
    pytest.param(
        MINIMAL + "      - relay: Đài VOV\n        duration: 15m\n",
        ["14:16: 'Đài VOV' is neither a source's name from relay_sources (e.g. vov1) nor a "
         "stream address (e.g. https://example.vn/live.mp3)."],
        id="relay that is neither a name nor an address"),
    pytest.param(
        MINIMAL + "campaigns:\n  - id: atvsld\n    name: Tháng hành động\n    from: 2026-05-01\n"
        "    to: 2026-05-31\n    programs: [snag]\n    items:\n      - script: scripts/a.md\n",
        ["19:16: there is no program 'snag'. Did you mean 'sang'?"],
        id="campaign naming an unknown program"),
    pytest.param(
        MINIMAL.replace("  - id: khu-pho-1\n", "  - id: Khu Pho 1\n"),
        ["4:9: 'Khu Pho 1' cannot be an id: use lowercase letters, digits and '-', e.g. "
         "khu-pho-1."],
        id="bad id"),
    pytest.param(
        MINIMAL.replace("  - id: khu-pho-1\n", '  - id: "khu-pho-1\\n"\n'),
        ["4:9: 'khu-pho-1\\n' cannot be an id: use lowercase letters, digits and '-', e.g. "
         "khu-pho-1."],
        id="id ending with a line break"),
    pytest.param(
        MINIMAL.replace("    start: 06:30", "    start: 6.30"),
        ["10:12: '6.30' is not a time. Write it as HH:MM or HH:MM:SS, e.g. \"06:30\"."],
        id="a time written with a dot, quoted as written"),
    pytest.param(
        MINIMAL.replace("    days: [mon, tue]", "    days: [mon, tue]\n    priority: urgent"),
        ["12:15: 'priority' must be one of 'normal', 'priority' or 'emergency'."],
        id="bad choice"),
    pytest.param(
        MINIMAL.replace("  name: Phường Test", "  name: Phường Test\n  timezone: Mars/Base"),
        ["3:13: 'Mars/Base' is not a known time zone. Use Asia/Ho_Chi_Minh."],
        id="unknown time zone"),
    pytest.param(
        MINIMAL.replace("    start: 06:30", "    start: 06:30\n    start: 07:00"),
        ["11:5: 'start' is written twice in the same block. Keep only one."],
        id="duplicate key"),
]


@pytest.mark.parametrize(("text", "expected"), MISTAKES)
def test_mistakes_are_reported_with_place_and_fix(
    folder: Path, text: str, expected: list[str]
) -> None:
    assert short_errors(text, folder) == expected


def test_programs_overlapping_in_a_zone_are_refused(folder: Path) -> None:
    first = program("    days: [mon, wed]\n    items:\n      - script: scripts/long-1.md\n")
    second = program("    days: [wed, fri]\n    zones: [khu-pho-1]\n    items:\n"
                     "      - script: scripts/a.md\n", id_="tin-nhanh", start="06:31")
    assert short_errors(schedule_with(first, second), folder) == [
        "16:12: 'sang' (06:30:00-06:32:00) and 'tin-nhanh' (06:31:00-06:31:00) both air in "
        "khu-pho-1 at the same priority, every wed. Move one to another time, shorten it, or "
        "give them different zones."
    ]
    higher = second.replace("    days:", "    priority: priority\n    days:")
    warned = parse_schedule(schedule_with(first, higher), folder / "schedule.yaml").warnings
    assert [str(warning).split("schedule.yaml:")[1] for warning in warned] == [
        "16:12: 'sang' (06:30:00-06:32:00, normal) and 'tin-nhanh' (06:31:00-06:31:00, "
        "priority) overlap in khu-pho-1, every wed: the one with the higher priority goes first "
        "(an emergency cuts in). Move one if that is not meant."]
    apart = second.replace("[wed, fri]", "[tue, fri]")
    assert parse_schedule(schedule_with(first, apart), folder / "schedule.yaml").warnings == ()


def test_a_program_over_an_hour_without_a_length_cap_is_warned_about(folder: Path) -> None:
    long = program("    days: [mon]\n    items:\n" + "      - script: scripts/long-1.md\n" * 31)
    [warning] = parse_schedule(schedule_with(long), folder / "schedule.yaml").warnings
    assert str(warning).endswith(
        "program 'sang' runs about 1 h 2 min and has no max_length, so a script that "
        "grows would go unnoticed. Add a max_length line, e.g. max_length: 90m.")
    capped = long.replace("    days:", "    max_length: 90m\n    days:")
    assert parse_schedule(schedule_with(capped), folder / "schedule.yaml").warnings == ()


def test_overlap_on_dated_days_names_the_first_day(folder: Path) -> None:
    first = program("    days: [mon]\n    items:\n      - script: scripts/long-1.md\n")
    second = program("    days: []\n    extra_dates: [2026-05-11, 2026-05-18]\n    items:\n"
                     "      - script: scripts/a.md\n", id_="dac-biet", start="06:31")
    errors = short_errors(schedule_with(first, second), folder)
    assert len(errors) == 1
    assert "both air in khu-pho-1 at the same priority, on 2026-05-11 and 1 more day." in (
        errors[0])


def test_campaign_items_count_towards_the_length_cap(folder: Path) -> None:
    text = MINIMAL.replace("    days: [mon, tue]", "    days: [mon, tue]\n    max_length: 3m")
    text = text.replace("scripts/a.md", "scripts/long-1.md")
    parse_schedule(text, folder / "schedule.yaml")
    campaign = ("campaigns:\n  - id: atvsld\n    name: Tháng hành động\n    from: 2026-05-01\n"
                "    to: 2026-05-31\n    programs: [sang]\n    items:\n"
                "      - rotation: [scripts/long-2.md, scripts/long-3.md]\n")
    assert short_errors(text + campaign, folder) == [
        "12:17: program 'sang' runs about 1 min 1 s over its 3 min limit (about 4 min 1 s on "
        "2026-05-04, with campaign 'atvsld'). Take out an item or use shorter scripts."
    ]


def test_all_problems_are_reported_at_once(folder: Path) -> None:
    broken = program("    days: [mon, funday]\n    items:\n      - script: scripts/a.md\n",
                     start="25:61")
    missing = program("    days: [sat]\n    zones: [khu-pho-9]\n    items:\n"
                      "      - script: scripts/missing.md\n", id_="chieu", start="17:00")
    campaign = ("campaigns:\n  - id: atvsld\n    name: Tháng hành động\n    from: 2026-05-31\n"
                "    to: 2026-05-01\n    programs: [sang, toi]\n    items:\n"
                "      - script: scripts/a.md\n")
    errors = short_errors(schedule_with(broken, missing, extra=campaign), folder)
    assert [e.split(": ")[0] for e in errors] == [
        "10:12", "11:11", "18:13", "20:17", "25:9", "26:22"]
    assert "'25:61' is not a real time of day" in errors[0]
    assert "'funday' is not a day" in errors[1]
    assert "no zone or group is called 'khu-pho-9'" in errors[2]
    assert "'scripts/missing.md' does not exist" in errors[3]
    assert "this ends (2026-05-01) before it starts (2026-05-31)" in errors[4]
    assert "there is no program 'toi'" in errors[5], "a broken program still counts as named"


def test_a_misspelt_section_does_not_hide_other_problems(folder: Path) -> None:
    text = MINIMAL.replace("scripts/a.md", "scripts/b.md") + "campaings: []\n"
    assert [e.split(": ")[0] for e in short_errors(text, folder)] == ["13:17", "14:1"]


def test_duplicate_ids_are_reported(folder: Path) -> None:
    again = program("    items:\n      - script: scripts/a.md\n", start="17:00")
    errors = short_errors(schedule_with(program("    items:\n      - script: scripts/a.md\n"),
                                        again), folder)
    assert errors == ["13:9: program id 'sang' is used twice. Give each program its own id."]


def test_emergency_programs_may_air_in_quiet_hours(folder: Path) -> None:
    late = MINIMAL.replace("06:30", "22:15").replace(
        "    days:", "    priority: emergency\n    days:")
    assert parse_schedule(late, folder / "schedule.yaml").programs[0].priority == "emergency"


def test_equal_quiet_hours_mean_none(folder: Path) -> None:
    text = MINIMAL.replace("  name: Phường Test",
                           '  name: Phường Test\n  quiet_hours: {start: "00:00", end: "00:00"}')
    assert parse_schedule(text.replace("06:30", "23:30"), folder / "schedule.yaml")


def test_yaml_syntax_error_points_at_the_line(folder: Path) -> None:
    errors = errors_of(MINIMAL.replace("    name: Khu phố 1", "    name: Khu phố 1\n  bad"), folder)
    assert len(errors) == 1
    assert errors[0].startswith(f"{folder / 'schedule.yaml'}:7:")
    assert "indentation" in errors[0]


def test_a_script_matched_by_a_pattern_and_named_keeps_its_own_weight(folder: Path) -> None:
    text = MINIMAL.replace(
        "      - script: scripts/a.md",
        "      - rotation:\n          - scripts/long-*.md\n"
        "          - {script: scripts/long-2.md, weight: 3}\n        mode: weighted")
    schedule = parse_schedule(text, folder / "schedule.yaml")
    rotation = schedule.programs[0].items[0]
    assert isinstance(rotation, RotationItem)
    assert [(m.key, m.weight) for m in schedule.pool(rotation)] == [
        ("script:scripts/long-1.md", 1), ("script:scripts/long-3.md", 1),
        ("script:scripts/long-2.md", 3)]


def test_source_cannot_be_set_from_the_file(folder: Path) -> None:
    errors = short_errors("source: /etc/passwd\n" + MINIMAL, folder)
    assert errors == ["1:1: unknown setting 'source'."]


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="schedule file not found"):
        load_schedule(tmp_path / "schedule.yaml")


def test_the_schedule_package_reads_no_script_or_audio() -> None:
    """The schedule's models and checks need neither the audio tools, the voices nor the
    Vietnamese reader: item lengths come in from outside."""
    code = ("import broadcast.schedule, sys; "
            "print(' '.join(name for name in sys.modules if name.startswith('broadcast')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    assert "broadcast.schedule" in loaded
    for stage in ("broadcast.audio", "broadcast.tts", "broadcast.vietnamese",
                  "broadcast.bulletin"):
        assert stage not in loaded


def test_no_path_leads_out_of_the_ward_folder(folder: Path, tmp_path_factory:
                                              pytest.TempPathFactory) -> None:
    """script:, audio:, chimes, idle sounds and fallbacks are refused when they lead out of
    the ward folder: absolute, with '..', or through a link; sounds may come from audio_roots."""
    outside = tmp_path_factory.mktemp("elsewhere")
    tone(outside / "jingle.flac")
    (folder / "scripts" / "link.md").symlink_to("/etc/passwd")
    text = MINIMAL.replace("      - script: scripts/a.md\n", (
        "      - script: /etc/shadow\n"
        f"      - script: {'../' * 12}etc/hostname\n"
        "      - script: scripts/link.md\n"
        f"      - audio: {outside}/jingle.flac\n"
        "    fallback: {audio: /etc/passwd}\n"))
    text += f"chimes:\n  default: {outside}/jingle.flac\n"
    errors = errors_of(text, folder)
    assert errors == [
        f"{folder}/schedule.yaml:13:17: script file '/etc/shadow' is outside the ward folder, "
        "so it may not be used. Copy it into the ward folder.",
        f"{folder}/schedule.yaml:14:17: script file '{'../' * 12}etc/hostname' (that is "
        "/etc/hostname) "
        "is outside the ward folder, so it may not be used. Copy it into the ward folder.",
        f"{folder}/schedule.yaml:15:17: script file 'scripts/link.md' (that is /etc/passwd) is "
        "outside the ward folder, so it may not be used. Copy it into the ward folder.",
        f"{folder}/schedule.yaml:16:16: audio file '{outside}/jingle.flac' is outside the ward "
        "folder, so it may not be used. Copy it into the ward folder or to a folder listed in "
        "audio_roots.",
        f"{folder}/schedule.yaml:17:23: audio file '/etc/passwd' is outside the ward folder, so it "
        "may not be used. Copy it into the ward folder or to a folder listed in audio_roots.",
        f"{folder}/schedule.yaml:19:12: chime file '{outside}/jingle.flac' is outside the ward "
        "folder, so it may not be used. Copy it into the ward folder or to a folder listed in "
        "audio_roots.",
    ]
    shared = text.replace("chimes:", f"audio_roots: [{outside}]\nchimes:")
    assert all(str(outside) not in error for error in errors_of(shared, folder)), \
        "a shared sound folder, once listed, may be used"


def test_a_sound_file_that_is_not_sound_is_an_error_at_its_line(folder: Path) -> None:
    (folder / "audio").mkdir()
    (folder / "audio" / "nhac-hieu.mp3").write_text("không phải âm thanh", encoding="utf-8")
    text = MINIMAL.replace("      - script: scripts/a.md\n",
                           "      - script: scripts/a.md\n      - audio: audio/nhac-hieu.mp3\n")
    assert errors_of(text, folder) == [
        f"{folder}/schedule.yaml:14:16: audio file 'audio/nhac-hieu.mp3' is not a sound file "
        "that can be played. Use an MP3, WAV, FLAC or OGG file."]


def test_every_zone_is_in_the_group_all_without_saying_so(folder: Path) -> None:
    text = MINIMAL.replace("    groups: [all]\n", "").replace(
        "programs:", "  - id: khu-pho-2\n    name: Khu phố 2\nprograms:")
    schedule = parse_schedule(text, folder / "schedule.yaml")
    assert schedule.zone_ids(schedule.programs[0]) == ("khu-pho-1", "khu-pho-2")


def test_a_playlist_named_like_a_sound_file_is_not_a_sound_file(folder: Path) -> None:
    """An HLS or concat playlist would air the files it names, outside any approval."""
    (folder / "audio").mkdir()
    tone(folder / "audio" / "that.flac")
    (folder / "audio" / "hls.mp3").write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1,\nthat.flac\n#EXT-X-ENDLIST\n",
        encoding="utf-8")
    (folder / "audio" / "concat.mp3").write_text("ffconcat version 1.0\nfile that.flac\n",
                                                 encoding="utf-8")
    text = MINIMAL.replace("      - script: scripts/a.md\n",
                           "      - audio: audio/hls.mp3\n      - audio: audio/concat.mp3\n")
    assert [error.split(": ", 1)[1] for error in errors_of(text, folder)] == [
        f"audio file 'audio/{name}.mp3' is not a sound file that can be played. Use an MP3, "
        "WAV, FLAC or OGG file." for name in ("hls", "concat")]
