"""Signed approvals: what holds, and every way one is refused, with the words it is refused in.

Keys are made and scripts approved with the real commands (``broadcast keys new``,
``broadcast approve``, passphrases on their input as a script would give them); the checks read
the files they wrote.
"""

from __future__ import annotations

import base64
import datetime as dt
import getpass
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broadcast.approval import (
    DOMAIN,
    ApprovalRule,
    approval_path,
    key_id,
    load_trust_list,
    public_text,
    read_approval,
    read_public,
    sign,
    signed_bytes,
    verify,
    write_approval,
)
from broadcast.audio import LoudnessTarget
from broadcast.bulletin import BulletinError, load_bulletin, notice_script, parse_bulletin
from broadcast.control.client import ask
from broadcast.control.protocol import Say
from broadcast.errors import BroadcastError
from broadcast.onair import items_record
from broadcast.planner import plan
from broadcast.prerender import RenderStore, prepare_program
from broadcast.render import RenderSettings
from broadcast.schedule_file import load_schedule
from tests.audio_tools import tone
from tests.conftest import REPO, broadcast_cli
from tests.daemon_tools import TZ, Daemons, Ward, ahead, program, zone

PASSPHRASE = "mat-khau-cua-phuong"
TODAY = dt.date(2026, 12, 3)
SCRIPT = """---
title: Thông báo cắt điện
---

Kính thưa bà con! Sáng thứ Bảy, khu phố 2 tạm ngừng cấp điện từ 7 giờ đến 11 giờ.

Mọi thắc mắc xin gọi số 0263 3822 123.
"""


@pytest.fixture
def ward(tmp_path: Path) -> Path:
    folder = tmp_path / "ward"
    (folder / "scripts").mkdir(parents=True)
    folder.chmod(0o755)
    (folder / "scripts" / "cat-dien.md").write_text(SCRIPT, encoding="utf-8")
    (folder / "scripts" / "other.md").write_text(
        SCRIPT.replace("cắt điện", "tiêm chủng").replace("khu phố 2", "khu phố 5"),
        encoding="utf-8")
    return folder


@pytest.fixture
def approver(tmp_path: Path) -> dict[str, str]:
    """An approver's key made with 'broadcast keys new': its entry for approvers.yaml and the
    environment that finds it."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    made = broadcast_cli("keys", "new", "--name", "Trần Văn Minh", "--position",
                         "Phó Chủ tịch UBND phường", env=env,
                         input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert made.returncode == 0, made.stderr
    [entry] = yaml.safe_load(made.stdout)
    [key] = (tmp_path / "config" / "broadcast" / "keys").glob("*.pem")
    assert oct(key.stat().st_mode & 0o777) == "0o600", "the private key is the approver's alone"
    assert PASSPHRASE.encode() not in key.read_bytes()
    return {**entry, "config": env["XDG_CONFIG_HOME"]}


def trust(ward: Path, *entries: dict[str, object]) -> Path:
    path = ward / "approvers.yaml"
    path.write_text(yaml.safe_dump({"approvers": list(entries)}, allow_unicode=True),
                    encoding="utf-8")
    path.chmod(0o644)
    return path


def approve(ward: Path, approver: dict[str, str], *scripts: str, answer: str = "y",
            passphrase: str = PASSPHRASE, extra: tuple[str, ...] = ()) -> str:
    env = {**os.environ, "XDG_CONFIG_HOME": approver["config"]}
    result = broadcast_cli("approve", *(str(ward / "scripts" / s) for s in scripts), *extra,
                           env=env, input=f"{answer}\n{passphrase}\n")
    return result.stdout + result.stderr


def check(ward: Path, script: str = "cat-dien.md", today: dt.date = TODAY) -> str:
    """The approval's verdict: who approved, or why it does not hold."""
    bulletin = load_bulletin(ward / "scripts" / script)
    try:
        approval, fields = read_approval(bulletin.path)
        verified = verify(bulletin, approval, fields, load_trust_list(ward / "approvers.yaml"),
                          today)
    except BroadcastError as exc:
        return f"refused: {exc.message}"
    return f"approved by {verified.approved_by}"


def entry(approver: dict[str, str], **more: object) -> dict[str, object]:
    return {"name": approver["name"], "position": approver["position"],
            "key": approver["key"], **more}


def test_an_approval_binds_the_words_shown_to_the_approver(ward: Path,
                                                           approver: dict[str, str]) -> None:
    trust(ward, entry(approver))
    shown = approve(ward, approver, "cat-dien.md")
    assert "Kính thưa bà con! Sáng thứ Bảy, khu phố 2 tạm ngừng cấp điện" in shown
    assert "từ bảy giờ đến mười một giờ" in shown, "the spoken form is shown before signing"
    assert "Approved: cat-dien.md (cat-dien.md.approval)" in shown
    assert check(ward) == "approved by Trần Văn Minh, Phó Chủ tịch UBND phường"
    saved = json.loads(approval_path(ward / "scripts" / "cat-dien.md").read_text("utf-8"))
    assert saved["text"].startswith("Kính thưa bà con!")
    assert saved["content_hash"] == load_bulletin(ward / "scripts" / "cat-dien.md").content_hash


def test_a_wrong_passphrase_or_a_no_writes_nothing(ward: Path, approver: dict[str, str]) -> None:
    said = approve(ward, approver, "cat-dien.md", passphrase="doan-sai")
    assert "Error: the passphrase is wrong" in said and "Nothing was signed." in said
    assert "Aborted" in approve(ward, approver, "cat-dien.md", answer="n")
    assert not approval_path(ward / "scripts" / "cat-dien.md").exists()


def test_every_way_an_approval_fails_is_refused_in_one_plain_line(
        ward: Path, approver: dict[str, str]) -> None:
    script = ward / "scripts" / "cat-dien.md"
    trust(ward, entry(approver))
    approve(ward, approver, "cat-dien.md", "other.md")
    good = approval_path(script).read_text(encoding="utf-8")

    def refused(words: str, today: dt.date = TODAY) -> None:
        verdict = check(ward, today=today)
        assert verdict.startswith("refused: ") and words in verdict, verdict
        assert "\n" not in verdict
        approval_path(script).write_text(good, encoding="utf-8")
        script.write_text(SCRIPT, encoding="utf-8")
        trust(ward, entry(approver))

    script.write_text(SCRIPT.replace("11 giờ", "12 giờ"), encoding="utf-8")
    refused("cat-dien.md was changed after it was approved: '11' became '12'. Ask for a new "
            "approval.")
    approval_path(script).write_text(
        approval_path(ward / "scripts" / "other.md").read_text("utf-8"), encoding="utf-8")
    refused("cat-dien.md was changed after it was approved: 'tiêm chủng' became 'cắt điện'")
    approval_path(script).write_text(good.replace("khu phố 2", "khu phố 3"), encoding="utf-8")
    refused("the approval of cat-dien.md does not match its signature: it was altered")
    approval_path(script).write_text(good[: len(good) // 2], encoding="utf-8")
    refused("cat-dien.md.approval is damaged and cannot be read.")
    approval_path(script).unlink()
    refused("cat-dien.md has no signed approval (cat-dien.md.approval). Ask an approver to run "
            "'broadcast approve cat-dien.md'.")
    stranger = Ed25519PrivateKey.generate()
    trust(ward, {"name": "Người lạ", "key": public_text(stranger.public_key())})
    refused("cat-dien.md is signed with a key that is not in approvers.yaml")
    trust(ward, entry(approver, revoked={"date": "2027-01-01", "reason": "compromised"}))
    refused("revoked on 2027-01-01 as compromised: none of its approvals count")
    trust(ward, entry(approver, revoked={"date": "2026-01-01", "reason": "left_office"}))
    refused("after they left office on 2026-01-01")
    trust(ward, entry(approver, valid_from="2099-01-01"))
    refused("before Trần Văn Minh's term began (2099-01-01)")
    trust(ward, entry(approver, valid_until="2000-01-01"))
    refused("after Trần Văn Minh's term ended (2000-01-01)")

    approve(ward, approver, "cat-dien.md", extra=("--valid-until", "2026-12-31"))
    good = approval_path(script).read_text(encoding="utf-8")
    assert check(ward, today=dt.date(2026, 12, 31)).startswith("approved by")
    refused("the approval of cat-dien.md ended on 2026-12-31", today=dt.date(2027, 1, 1))


def test_leaving_office_voids_only_what_was_signed_afterwards(
        ward: Path, approver: dict[str, str]) -> None:
    approve(ward, approver, "cat-dien.md")
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    trust(ward, entry(approver, revoked={"date": tomorrow.isoformat(), "reason": "left_office"}))
    assert check(ward).startswith("approved by Trần Văn Minh")


def test_a_signature_is_for_approvals_of_this_version_only(ward: Path) -> None:
    """Domain separation: the same fields signed without the prefix (as another use of the key
    might sign them) do not verify."""
    private = Ed25519PrivateKey.generate()
    bulletin = load_bulletin(ward / "scripts" / "cat-dien.md")
    fields = sign(bulletin, private, name="A", position="", signed_at=dt.datetime(
        2026, 12, 1, tzinfo=dt.UTC))
    bare = signed_bytes(fields).removeprefix(DOMAIN)
    fields["signature"] = base64.b64encode(private.sign(bare)).decode()
    write_approval(bulletin.path, fields)
    trust(ward, {"name": "A", "key": public_text(private.public_key())})
    assert "does not match its signature" in check(ward)


def test_a_trust_list_others_may_change_is_not_trusted(ward: Path,
                                                       approver: dict[str, str]) -> None:
    path = trust(ward, entry(approver))
    path.chmod(0o666)
    with pytest.raises(BroadcastError) as refused:
        load_trust_list(path)
    assert "may be changed by other users" in str(refused.value)
    assert f"chmod go-w {path}" in str(refused.value)
    path.chmod(0o644)
    ward.chmod(0o777)
    with pytest.raises(BroadcastError, match=f"chmod go-w {ward}"):
        load_trust_list(path)


def test_a_mistake_in_the_trust_list_is_shown_at_its_line(ward: Path) -> None:
    path = ward / "approvers.yaml"
    path.write_text("approvers:\n  - name: A\n    key: ed25519:not-a-key\n"
                    "  - name: B\n    kye: ed25519:x\n", encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(BroadcastError) as refused:
        load_trust_list(path)
    assert f"{path}:5:5: " in str(refused.value) and "kye" in str(refused.value)
    path.write_text("approvers:\n  - name: A\n    key: ed25519:not-a-key\n", encoding="utf-8")
    with pytest.raises(BroadcastError) as refused:
        load_trust_list(path)
    assert f"{path}:3:10: this key is damaged" in str(refused.value)


def test_a_script_with_a_broken_header_is_not_signed(ward: Path,
                                                     approver: dict[str, str]) -> None:
    (ward / "scripts" / "broken.md").write_text("no header\n", encoding="utf-8")
    said = approve(ward, approver, "broken.md")
    assert "must start with a '---' line" in said
    assert not approval_path(ward / "scripts" / "broken.md").exists()
    with pytest.raises(BulletinError):
        read_approval(ward / "scripts" / "broken.md")


def test_approvals_lists_each_script_the_schedule_airs_with_its_state(
        ward: Path, approver: dict[str, str]) -> None:
    (ward / "schedule.yaml").write_text(
        "ward:\n  name: Phường Thử\napproval: signed\nzones:\n  - id: khu-pho-1\n"
        "    name: Cụm loa 1\n"
        "    groups: [all]\n"
        "programs:\n  - id: sang\n    name: Sáng\n    start: \"06:30\"\n    items:\n"
        "      - script: scripts/cat-dien.md\n      - script: scripts/other.md\n",
        encoding="utf-8")
    trust(ward, entry(approver))
    soon = dt.date.today() + dt.timedelta(days=5)
    approve(ward, approver, "cat-dien.md", "other.md", extra=("--valid-until", soon.isoformat()))
    other = ward / "scripts" / "other.md"
    other.write_text(other.read_text(encoding="utf-8").replace("khu phố 5", "khu phố 6"),
                     encoding="utf-8")
    checked = broadcast_cli("check", "--schedule", str(ward / "schedule.yaml"), "--days", "9")
    assert (f"Warning: cat-dien.md: its approval ends on {soon}, before it airs on "
            f"{soon + dt.timedelta(days=1)} (sang). Ask for a new approval in time."
            ) in checked.stderr
    listed = broadcast_cli("approvals", "--schedule", str(ward / "schedule.yaml"))
    assert listed.returncode == 1, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == (f"scripts/cat-dien.md: approved by Trần Văn Minh, Phó Chủ tịch UBND "
                        f"phường on {dt.date.today()}, until {soon} (ends in 5 days)")
    assert lines[1] == ("scripts/other.md: NOT APPROVED: other.md was changed after it was "
                        "approved: '5' became '6'. Ask for a new approval.")
    assert lines[2] == "1 of 2 scripts approved."


SIGNED_SCHEDULE = """\
ward:
  name: Phường Thử
  quiet_hours: {{start: "00:00", end: "00:00"}}
approval: signed
tts:
  engine: espeak
zones:
  - id: khu-pho-1
    name: Cụm loa 1
    groups: [all]
    outputs: [{{type: file, folder: out}}]
  - id: khu-pho-2
    name: Cụm loa 2
    outputs: [{{type: file, folder: out-2}}]
programs:
  - id: ky
    name: Bản tin đã ký
    start: "{signed:%H:%M:%S}"
    zones: [khu-pho-1]
    items:
      - script: scripts/cat-dien.md
  - id: chua-ky
    name: Bản tin chưa ký
    start: "{unsigned:%H:%M:%S}"
    zones: [khu-pho-1]
    fallback: {{chime: }}
    items:
      - script: scripts/header-only.md
  - id: bi-trao
    name: Bản tin bị tráo tệp
    start: "{swapped:%H:%M:%S}"
    zones: [khu-pho-2]
    fallback: {{chime: }}
    items:
      - script: scripts/cat-dien.md
      - silence: 1
"""


def swap_when_rendered(programs: Path, program_id: str, timeout: float = 60) -> None:
    """Wait for the program's rendered file, then put other sound in its place (as someone
    who could write the state folder might)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in programs.glob(f"{program_id}-*.mp3")
                 if p.with_name(p.name + ".json").exists()]
        if found:
            tone(found[0], seconds=3, fmt="mp3")
            return
        time.sleep(0.2)
    raise AssertionError(f"{program_id} was not rendered ahead")


def test_check_and_the_daemon_air_only_what_an_approver_on_the_list_signed(
        ward: Path, approver: dict[str, str], tmp_path: Path, daemons: Daemons) -> None:
    header_only = ward / "scripts" / "header-only.md"
    header_only.write_text(SCRIPT.replace("title:", "approved_by: Ai đó tự ghi\ntitle:"),
                           encoding="utf-8")
    trust(ward, entry(approver))
    approve(ward, approver, "cat-dien.md")
    signed = ahead(12)
    (ward / "schedule.yaml").write_text(
        SIGNED_SCHEDULE.format(signed=signed, unsigned=signed + dt.timedelta(seconds=18),
                               swapped=signed + dt.timedelta(seconds=10)),
        encoding="utf-8")
    checked = broadcast_cli("check", "--schedule", str(ward / "schedule.yaml"), "--days", "1")
    assert checked.returncode == 1
    assert "header-only.md has no signed approval (header-only.md.approval)" in checked.stdout
    assert "cat-dien.md" not in checked.stdout, "the signed script passes"
    assert "approval: header" not in checked.stderr

    folder = Ward(ward)
    process = daemons.start(folder, tmp_path / "daemon.log")
    swap_when_rendered(folder.state / "renders" / "programs", "bi-trao")
    assert oct(folder.state.stat().st_mode & 0o777) == "0o700", "the state folder is private"
    rows = {str(row["program_id"]): row for row in folder.wait_rows(3, timeout=90)}
    assert process.terminate() == 0
    assert {name: row["outcome"] for name, row in rows.items()} == {
        "ky": "aired", "chua-ky": "refused", "bi-trao": "refused"}
    [item] = json.loads(str(rows["ky"]["items"]))
    approval, _ = read_approval(ward / "scripts" / "cat-dien.md")
    assert (item["approved_by"], item["key_id"], item["signature_id"]) == (
        "Trần Văn Minh, Phó Chủ tịch UBND phường", approval.key_id, approval.signature_id)
    assert "has no signed approval" in str(rows["chua-ky"]["reason"])
    assert "The fallback (chime) aired instead." in str(rows["chua-ky"]["reason"])
    assert "was changed on disk after it was made" in str(rows["bi-trao"]["reason"])
    assert "The fallback (chime) aired instead." in str(rows["bi-trao"]["reason"])
    assert json.loads(str(rows["bi-trao"]["items"])) == [{"kind": "chime"}], \
        "the tone never aired"


def test_a_signed_script_edited_after_approval_airs_its_last_signed_version(
        ward: Path, approver: dict[str, str], tmp_path: Path) -> None:
    trust(ward, entry(approver))
    approve(ward, approver, "cat-dien.md")
    script = ward / "scripts" / "cat-dien.md"
    rule = ApprovalRule.of("signed", ward)
    store = RenderStore(tmp_path / "renders", keep_last_good=True)
    bulletin, notes = store.approved_bulletin(script, rule)
    assert (bulletin.approved_by, notes) == ("Trần Văn Minh, Phó Chủ tịch UBND phường", [])

    script.write_text(SCRIPT.replace("11 giờ", "12 giờ"), encoding="utf-8")
    kept, notes = store.approved_bulletin(script, rule)
    assert "11 giờ" in kept.body, "the words that were signed"
    [note] = notes
    assert "was changed after it was approved: '11' became '12'" in note
    assert "its last good version" in note
    with pytest.raises(BulletinError, match="was changed after it was approved"):
        RenderStore(tmp_path / "other", keep_last_good=True).approved_bulletin(script, rule)


def test_the_sample_ward_airs_only_signed_words_and_every_script_is_signed() -> None:
    """So that 'make run' airs the sample: every script it uses carries the demo approver's
    signature, and the schedule asks for signatures."""
    sample = REPO / "schedule.yaml"
    assert "\napproval: signed\n" in sample.read_text(encoding="utf-8")
    listed = broadcast_cli("approvals", "--schedule", str(sample))
    assert listed.returncode == 0, listed.stdout + listed.stderr
    scripts = [p for p in (REPO / "scripts").glob("*.md") if p.name != "README.md"]
    count = len(scripts) + 2  # and the two chimes
    assert listed.stdout.splitlines()[-1] == \
        f"{count} of {count} scripts and recordings approved."
    assert all("approved by Người duyệt mẫu (chỉ để thử)" in line
               for line in listed.stdout.splitlines()[:-1])


NOTICE = "Kính thưa bà con! Chiều nay phường phun thuốc diệt muỗi tại khu phố 1, bà con đóng cửa."


def test_typed_notices_air_in_a_signed_ward_only_when_an_approver_signed_them(
        ward: Path, approver: dict[str, str], tmp_path: Path, daemons: Daemons) -> None:
    folder = Ward(ward)
    trust(ward, entry(approver))
    folder.write(program("sang", ahead(4 * 3600), "short"), extra="approval: signed\n")
    daemon = daemons.start(folder, tmp_path / "daemon.log")
    daemon.wait_for("control socket", timeout=60)

    def run(*args: str, config: str, typed: str = "") -> subprocess.CompletedProcess[str]:
        return broadcast_cli(*args, "--schedule", str(folder.schedule), "--state-dir",
                             str(folder.state), env={**os.environ, "XDG_CONFIG_HOME": config},
                             input=typed, timeout=120)

    no_keys = str(tmp_path / "no-keys")
    for unsigned in (run("say", NOTICE, config=no_keys),
                     run("emergency", "--text", NOTICE, config=no_keys)):
        assert unsigned.returncode == 1
        assert "this ward airs only signed words. Sign the notice with your approver key" \
            in unsigned.stderr
    signed = run("say", NOTICE, config=approver["config"], typed=f"{PASSPHRASE}\n")
    assert signed.returncode == 0, signed.stderr
    assert "phun thuốc diệt muỗi tại khu phố một" in signed.stderr, "the spoken form is shown"
    chime, said = folder.wait_rows(2, timeout=60)
    # On a loaded machine the notice may start a little late; that it airs is the point.
    assert {chime["outcome"], said["outcome"]} <= {"aired", "late"}
    [item] = [i for i in json.loads(str(said["items"])) if i["kind"] == "bulletin"]
    assert (item["approved_by"], item["key_id"]) == (
        "Trần Văn Minh, Phó Chủ tịch UBND phường", key_id(read_public(approver["key"])))

    # A signature over other words does not carry over to these.
    bulletin = parse_bulletin(notice_script(NOTICE), Path("notice.md"))
    theirs = Ed25519PrivateKey.generate()
    fields = sign(bulletin, theirs, name="Ai đó", position="", signed_at=dt.datetime.now(TZ))
    with pytest.raises(BroadcastError, match=r"signed with a key that is not in approvers\.yaml"):
        ask(folder.state, Say(command="say", text=NOTICE, approval=fields))
    [signed_notice] = (folder.state / "notices").glob("*.md.approval")
    mine = json.loads(signed_notice.read_text(encoding="utf-8"))
    with pytest.raises(BroadcastError, match="was changed after it was approved: '1,' became '2,'"):
        ask(folder.state, Say(command="say", text=NOTICE.replace("khu phố 1", "khu phố 2"),
                              approval=mine))

    folder.write(program("sang", ahead(4 * 3600), "short"),
                 extra="approval: signed\ncontrol: {unsigned_emergency: true}\n")
    daemon.wait_for("files changed", timeout=30)
    urgent = run("emergency", "--text", NOTICE, config=no_keys)
    assert urgent.returncode == 0, urgent.stderr
    rows = folder.wait_rows(4, timeout=60)
    assert daemon.terminate() == 0
    assert [r["program_id"] for r in rows] == ["say-chime", "say", "emergency-alert",
                                               "emergency"]
    [item] = [i for i in json.loads(str(rows[3]["items"])) if i["kind"] == "bulletin"]
    assert (item["approved_by"], item["key_id"]) == (f"{getpass.getuser()} (UNSIGNED emergency)",
                                                     None)
    assert "an UNSIGNED emergency message from" in daemon.text()


def test_a_recording_airs_in_a_signed_ward_only_as_the_bytes_an_approver_signed(
        ward: Path, approver: dict[str, str], tmp_path: Path) -> None:
    recording = ward / "audio" / "loi-keu-goi.flac"
    recording.parent.mkdir()

    def record(hz: int) -> None:
        tone(recording, hz, seconds=2)

    record(440)
    (ward / "schedule.yaml").write_text(
        "ward:\n  name: Phường Thử\napproval: signed\ntts:\n  engine: espeak\nzones:\n"
        "  - id: khu-pho-1\n    name: Cụm loa 1\n    groups: [all]\n"
        "programs:\n  - id: sang\n    name: Sáng\n    start: \"06:30\"\n    items:\n"
        "      - audio: audio/loi-keu-goi.flac\n", encoding="utf-8")
    trust(ward, entry(approver))

    def checked() -> str:
        result = broadcast_cli("check", "--schedule", str(ward / "schedule.yaml"), "--days", "2")
        return result.stdout

    assert "loi-keu-goi.flac has no signed approval (loi-keu-goi.flac.approval)" in checked()
    shown = approve(ward, approver, "../audio/loi-keu-goi.flac")
    assert "loi-keu-goi.flac: a recording" in shown and "listen to it in full" in shown
    assert "Approved: loi-keu-goi.flac (loi-keu-goi.flac.approval)" in shown
    assert checked().startswith("OK:")
    listed = broadcast_cli("approvals", "--schedule", str(ward / "schedule.yaml")).stdout
    assert listed.splitlines()[0].startswith(
        "audio/loi-keu-goi.flac: approved by Trần Văn Minh, Phó Chủ tịch UBND phường on")

    schedule = load_schedule(ward / "schedule.yaml")
    [broadcast] = plan(schedule, dt.datetime.combine(dt.date.today(), dt.time(6), TZ),
                       dt.datetime.combine(dt.date.today(), dt.time(7), TZ))
    settings = RenderSettings(engines=(), lexicon=None, target=LoudnessTarget())
    store = RenderStore(tmp_path / "renders")
    [item] = items_record(prepare_program(schedule, broadcast, settings, store))
    approval, _ = read_approval(recording)
    assert item == {"kind": "audio", "audio": str(recording),
                    "approved_by": "Trần Văn Minh, Phó Chủ tịch UBND phường",
                    "approved_on": approval.signed_at.date().isoformat(),
                    "key_id": approval.key_id, "signature_id": approval.signature_id,
                    "start_s": 0.5, "duration_s": 2.0}

    record(880)
    assert ("the recording loi-keu-goi.flac was changed after it was approved (its SHA-256 "
            "differs). Ask for a new approval.") in checked()
    with pytest.raises(BulletinError, match="changed after it was approved"):
        prepare_program(schedule, broadcast, settings, store)
    approve(ward, approver, "cat-dien.md")
    approval_path(recording).write_bytes(
        approval_path(ward / "scripts" / "cat-dien.md").read_bytes())
    assert ("the approval beside loi-keu-goi.flac is for script 'Thông báo cắt điện', not "
            "this file.") in checked()


def refusal_cases(ward: Path) -> dict[str, str]:
    """Scripts signed (or not) in every way that must be refused, and the words of each
    refusal. Five approvers are on the trust list; only the first may approve today."""
    today = dt.date.today()
    keys = [Ed25519PrivateKey.generate() for _ in range(6)]
    names = ["Trần Văn Minh", "Lê Thị Hoa", "Phạm Văn Bình", "Ngô Thị Lan", "Đỗ Văn Nam"]
    terms: list[dict[str, object]] = [
        {}, {"revoked": {"date": today.isoformat(), "reason": "compromised"}},
        {"revoked": {"date": "2026-01-01", "reason": "left_office"}},
        {"valid_from": "2099-01-01"}, {"valid_until": "2000-01-01"}]
    trust(ward, *({"name": name, "position": "Phó Chủ tịch", "key": public_text(key
                                                                              .public_key()),
                   **term} for name, key, term in zip(names, keys, terms, strict=False)))
    now = dt.datetime.now(TZ)

    def script(name: str, key: int | None = 0, *, valid_until: dt.date | None = None) -> Path:
        path = ward / "scripts" / f"{name}.md"
        path.write_text(SCRIPT.replace("khu phố 2", f"khu phố {name}"), encoding="utf-8")
        if key is not None:
            write_approval(path, sign(load_bulletin(path), keys[key], name=f"key {key}",
                                      position="", signed_at=now, valid_until=valid_until))
        return path

    script("sua-chu").write_text(SCRIPT.replace("khu phố 2", "khu phố sửa"), encoding="utf-8")
    approval_path(script("chep", None)).write_bytes(approval_path(script("goc")).read_bytes())
    tampered = approval_path(script("sua-chu-ky"))
    tampered.write_text(tampered.read_text("utf-8").replace("7 giờ", "8 giờ"), "utf-8")
    garbled = approval_path(script("hong"))
    garbled.write_bytes(garbled.read_bytes()[:200])
    script("khong-ky", None)
    script("khoa-la", 5)
    script("lo-khoa", 1)
    script("da-nghi", 2)
    script("chua-nhiem-ky", 3)
    script("het-nhiem-ky", 4)
    script("het-han", valid_until=today - dt.timedelta(days=1))
    return {
        "sua-chu": "sua-chu.md was changed after it was approved: 'sua-chu' became 'sửa'.",
        "chep": "chep.md was changed after it was approved: 'goc' became 'chep'.",
        "sua-chu-ky": "the approval of sua-chu-ky.md does not match its signature: it was "
                      "altered after signing.",
        "hong": "hong.md.approval is damaged and cannot be read.",
        "khong-ky": "khong-ky.md has no signed approval (khong-ky.md.approval).",
        "khoa-la": "khoa-la.md is signed with a key that is not in approvers.yaml",
        "lo-khoa": f"lo-khoa.md is signed with Lê Thị Hoa's key, revoked on {today} as "
                   "compromised: none of its approvals count.",
        "da-nghi": f"da-nghi.md was signed by Phạm Văn Bình on {today}, after they left office "
                   "on 2026-01-01.",
        "chua-nhiem-ky": f"chua-nhiem-ky.md was signed on {today}, before Ngô Thị Lan's term "
                         "began (2099-01-01).",
        "het-nhiem-ky": f"het-nhiem-ky.md was signed on {today}, after Đỗ Văn Nam's term "
                        "ended (2000-01-01).",
        "het-han": f"the approval of het-han.md ended on {today - dt.timedelta(days=1)}.",
    }


def test_each_refusal_is_given_by_check_and_render_and_the_daemon_airs_the_fallback(
        ward: Path, tmp_path: Path, daemons: Daemons) -> None:
    cases = refusal_cases(ward)
    start = ahead(18)
    folder = Ward(ward)
    folder.write(
        "".join(program(name, start, name, extra="    fallback: {chime: }\n").replace(
            "zones: [all]", f"zones: [{name}]") for name in cases),
        "".join(zone(name, f"{{type: file, folder: out-{name}}}") for name in cases),
        extra="approval: signed\n")
    daemon = daemons.start(folder, tmp_path / "daemon.log")

    checked = broadcast_cli("check", "--schedule", str(folder.schedule), "--days", "1")
    assert checked.returncode == 1
    assert f"{len(cases)} problems." in checked.stdout
    for name, words in cases.items():
        assert words in checked.stdout, (name, checked.stdout)
        out = tmp_path / f"{name}.mp3"
        rendered = broadcast_cli("render", str(ward / "scripts" / f"{name}.md"), "-o",
                                 str(out), "--engine", "espeak")
        assert rendered.returncode == 1 and words in rendered.stderr, (name, rendered.stderr)
        assert not out.exists(), "nothing unapproved is rendered"

    rows = {row["program_id"]: row for row in folder.wait_rows(len(cases), timeout=120)}
    assert daemon.terminate() == 0
    for name, words in cases.items():
        row = rows[name]
        assert row["outcome"] == "refused", row
        assert words in str(row["reason"]), (name, row["reason"])
        assert str(row["reason"]).endswith("The fallback (chime) aired instead.")
        assert json.loads(str(row["items"])) == [{"kind": "chime"}]
        assert len(list((ward / f"out-{name}").glob("*.wav"))) == 1, "the fallback aired"

    (ward / "approvers.yaml").chmod(0o664)
    checked = broadcast_cli("check", "--schedule", str(folder.schedule), "--days", "1")
    assert ("approvals cannot be trusted: " + str(ward / "approvers.yaml") + " may be changed "
            "by other users, so anyone could add an approver. Fix it with: chmod go-w") \
        in checked.stdout


def test_in_a_signed_ward_the_lexicon_is_trusted_like_the_approvers(
        ward: Path, approver: dict[str, str]) -> None:
    """A lexicon entry changes what approved words sound like ('phường' read as 'evacuate
    now'), so an operator who may edit scripts must not be able to edit it."""
    trust(ward, entry(approver))
    approve(ward, approver, "cat-dien.md")
    (ward / "lexicon.yaml").write_text(
        "entries:\n  khu phố: khu vực sơ tán\n", encoding="utf-8")
    (ward / "schedule.yaml").write_text(
        "ward:\n  name: Phường Thử\napproval: signed\ntts:\n  lexicon: lexicon.yaml\nzones:\n"
        "  - id: khu-pho-1\n    name: Cụm loa 1\nprograms:\n  - id: sang\n    name: Sáng\n"
        "    start: \"06:30\"\n    items:\n      - script: scripts/cat-dien.md\n",
        encoding="utf-8")
    (ward / "lexicon.yaml").chmod(0o664)
    checked = broadcast_cli("check", "--schedule", str(ward / "schedule.yaml"))
    assert checked.returncode == 1
    assert (f"lexicon.yaml: the lexicon changes how approved words are read, so it cannot be "
            f"used: {ward / 'lexicon.yaml'} may be changed by other users") in checked.stderr
    (ward / "lexicon.yaml").chmod(0o644)
    shown = approve(ward, approver, "cat-dien.md")
    assert "khu vực sơ tán hai tạm ngừng cấp điện" in shown, "the approver hears the ward's words"


def test_in_a_signed_ward_a_chime_file_is_signed_like_any_recording(
        ward: Path, approver: dict[str, str]) -> None:
    """A chime file could hold any words: where approvals are signed, it is approved too (the
    built-in chimes need nothing)."""
    (ward / "audio").mkdir()
    tone(ward / "audio" / "mo-dau.flac", 660, seconds=2)
    (ward / "schedule.yaml").write_text(
        "ward:\n  name: Phường Thử\napproval: signed\nchimes:\n  default: audio/mo-dau.flac\n"
        "zones:\n  - id: khu-pho-1\n    name: Cụm loa 1\nprograms:\n  - id: sang\n"
        "    name: Sáng\n    start: \"06:30\"\n    items:\n      - chime:\n      - chime: alert\n",
        encoding="utf-8")
    trust(ward, entry(approver))
    checked = broadcast_cli("check", "--schedule", str(ward / "schedule.yaml")).stdout
    assert "mo-dau.flac has no signed approval (mo-dau.flac.approval)" in checked
    approve(ward, approver, "../audio/mo-dau.flac")
    checked = broadcast_cli("check", "--schedule", str(ward / "schedule.yaml")).stdout
    assert checked.startswith("OK:") and "1 recording" in checked


def test_in_a_signed_ward_an_idle_sound_is_signed_too(ward: Path,
                                                       approver: dict[str, str]) -> None:
    """Receivers hear an Icecast zone's idle sound between broadcasts."""
    (ward / "audio").mkdir()
    tone(ward / "audio" / "cho.flac", 330, seconds=2)
    (ward / "schedule.yaml").write_text(
        "ward:\n  name: Phường Thử\napproval: signed\nzones:\n  - id: khu-pho-1\n"
        "    name: Cụm loa 1\n    outputs:\n      - {type: icecast, mount: 127.0.0.1:9/a, "
        "password_env: KHONG_CO, idle: audio/cho.flac}\nprograms:\n  - id: sang\n"
        "    name: Sáng\n    start: \"06:30\"\n    items:\n      - chime:\n", encoding="utf-8")
    trust(ward, entry(approver))
    checked = broadcast_cli("check", "--schedule", str(ward / "schedule.yaml")).stdout
    assert "cho.flac has no signed approval (cho.flac.approval)" in checked
    assert "a chime or an idle sound: it airs with manual requests or between broadcasts" \
        in checked
    approve(ward, approver, "../audio/cho.flac")
    assert broadcast_cli("check", "--schedule", str(ward / "schedule.yaml")
                         ).stdout.startswith("OK:")
