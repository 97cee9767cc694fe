"""What signed approvals add to loading a schedule: verifying each script's signature.

Run: .venv/bin/python bench/bench_approval.py [--scripts 500] [--rounds 5]

A ward folder is made in a temporary directory: ``scripts/`` holds N distinct Vietnamese
bulletins (~1.2 kB each, every one with an ``approved_by`` line), each signed with one Ed25519
key (``broadcast.approval.sign`` / ``write_approval``, a ``.approval`` file beside it), and
``approvers.yaml`` trusts that key. Measured: the time to approve all N scripts the way the daemon
does when it loads a schedule, ``RenderStore.approved_bulletin(path, rule)`` for each script on a
store that keeps last good scripts.

- signed: ``ApprovalRule.of("signed", ward)``: the approval file is read and its signature,
  trust-list entry and content hash checked.
- baseline, header: ``ApprovalRule.of("header", ward)`` on the same scripts: only the
  ``approved_by`` line counts.

Two loads are timed. "load" is every start and reload of a daemon whose store already keeps the
scripts' last good copies (the figure the target is about). "first load" is a store seeing the
scripts for the first time: it also writes each last good copy (and, signed, each approval's
copy), atomically, so it is mostly disk time.

Both modes run in the same process, alternating round by round (which goes first alternates
too), after one warm-up pass of each that is not counted; each figure is the median total over
the rounds. Target: signed adds at most 1.0 ms per script over header.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from broadcast.approval import (  # noqa: E402
    TRUST_LIST,
    ApprovalRule,
    public_text,
    sign,
    write_approval,
)
from broadcast.bulletin import load_bulletin  # noqa: E402
from broadcast.prerender import RenderStore  # noqa: E402

TARGET_MS = 1.0
"""At most this much added per script by verifying its signed approval."""
APPROVER = "Trần Văn Minh"
POSITION = "Phó Chủ tịch UBND phường"
TOPICS = ("an toàn lao động", "phòng chống dịch sốt xuất huyết", "tổng vệ sinh môi trường",
          "an toàn giao thông", "phòng cháy chữa cháy", "tiêm chủng mở rộng cho trẻ em")
SCRIPT = """---
title: Bản tin số {n}
approved_by: {approver}, {position}
---

Kính thưa bà con! Đây là bản tin số {n} về {topic}. Mọi thắc mắc xin gọi số 0263 3822 {phone}.

Thực hiện kế hoạch của Ủy ban nhân dân phường, từ ngày {day} tháng {month} năm 2026, các tổ dân \
phố sẽ phối hợp với lực lượng đoàn viên thanh niên và hội phụ nữ tổ chức tuyên truyền về \
{topic} đến từng hộ gia đình. Đề nghị bà con bố trí thời gian tham gia đầy đủ, thực hiện \
nghiêm các hướng dẫn của cán bộ phường và tổ trưởng tổ dân phố.

Các hộ kinh doanh trên đường Trần Hưng Đạo và đường Lê Lợi lưu ý giữ gìn vệ sinh trước cửa \
nhà, không lấn chiếm vỉa hè, không để vật liệu xây dựng dưới lòng đường. Trường hợp phát hiện \
vi phạm, xin báo ngay cho công an phường hoặc tổ trưởng tổ dân phố số {street}.

Ủy ban nhân dân phường kính mong bà con quan tâm thực hiện để xây dựng khu dân cư xanh, sạch, \
đẹp và an toàn. Xin trân trọng cảm ơn bà con đã lắng nghe!
"""


def make_ward(root: Path, count: int) -> tuple[Path, list[Path]]:
    """A ward folder with ``count`` signed scripts and a trust list of the one key."""
    ward = root / "ward"
    scripts = ward / "scripts"
    scripts.mkdir(parents=True)
    ward.chmod(0o755)
    private = Ed25519PrivateKey.generate()
    paths: list[Path] = []
    for n in range(count):
        path = scripts / f"s{n:03d}.md"
        path.write_text(SCRIPT.format(
            n=n, approver=APPROVER, position=POSITION, topic=TOPICS[n % len(TOPICS)],
            phone=100 + n % 900, day=1 + n % 28, month=1 + n % 12, street=1 + n % 15,
        ), encoding="utf-8")
        fields = sign(load_bulletin(path), private, name=APPROVER, position=POSITION,
                      signed_at=dt.datetime.now().astimezone())
        write_approval(path, fields)
        paths.append(path)
    trust = ward / TRUST_LIST
    trust.write_text(yaml.safe_dump(
        {"approvers": [{"name": APPROVER, "position": POSITION,
                        "key": public_text(private.public_key())}]},
        allow_unicode=True), encoding="utf-8")
    trust.chmod(0o644)
    return ward, paths


def load_all(store_root: Path, paths: list[Path], rule: ApprovalRule) -> float:
    """Milliseconds to approve every script as the daemon does at load."""
    store = RenderStore(store_root, keep_last_good=True)
    start = time.perf_counter()
    for path in paths:
        store.approved_bulletin(path, rule)
    return (time.perf_counter() - start) * 1000


def report(label: str, times: dict[str, list[float]], scripts: int) -> float:
    """Print one load's figures; return the milliseconds added per script."""
    header = statistics.median(times["header"])
    signed = statistics.median(times["signed"])
    added = (signed - header) / scripts
    print(f"{label}: header (baseline) {header:7.1f} ms, signed {signed:7.1f} ms, "
          f"added {added:6.3f} ms per script, signed / header {signed / header:5.2f} x")
    return added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-approval-") as tmp:
        root = Path(tmp)
        ward, paths = make_ward(root, args.scripts)
        rules = {"header": ApprovalRule.of("header", ward),
                 "signed": ApprovalRule.of("signed", ward)}
        for mode, rule in rules.items():
            load_all(root / f"renders-{mode}", paths, rule)
        load: dict[str, list[float]] = {mode: [] for mode in rules}
        first: dict[str, list[float]] = {mode: [] for mode in rules}
        for round_ in range(args.rounds):
            order = list(rules) if round_ % 2 == 0 else list(reversed(rules))
            for mode in order:
                load[mode].append(load_all(root / f"renders-{mode}", paths, rules[mode]))
                first[mode].append(load_all(root / f"renders-{round_}-{mode}", paths,
                                            rules[mode]))
        size_kb = statistics.mean(path.stat().st_size for path in paths) / 1024
        print(f"scripts: {args.scripts} (~{size_kb:.1f} kB each), median of {args.rounds} "
              "rounds")
        added = report("load      ", load, args.scripts)
        report("first load", first, args.scripts)
        verdict = "PASS" if added <= TARGET_MS else "FAIL"
        print(f"target: loading adds at most {TARGET_MS:.1f} ms per script: {verdict}")


if __name__ == "__main__":
    main()
