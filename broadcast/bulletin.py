"""Bulletin scripts: UTF-8 Markdown files with a YAML front matter block.

A script looks like::

    ---
    title: Phòng ngừa tai nạn lao động
    category: bản tin
    author: Nguyễn Thị Thu Hà
    approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường
    approved_on: 2026-05-04
    ---

    Kính thưa bà con nhân dân! ...

Parsing gives a :class:`Bulletin`: plain data with the body's paragraphs and a canonical content
hash. The hash covers what is read aloud (title and body, Unicode-normalized, line endings and
trailing spaces folded), so cosmetic re-saves do not change it but any edit to the words does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from broadcast.errors import BroadcastError, Location
from broadcast.vietnamese import TextDecodingError, decode_text

CATEGORIES = ("bản tin", "thông báo")
_FENCE = "---"


class BulletinError(BroadcastError):
    """A script file that cannot be read or is not fit to air."""


@dataclass(frozen=True)
class Bulletin:
    """One parsed script file."""

    path: Path
    title: str
    category: str
    author: str
    approved_by: str | None
    approved_on: dt.date | None
    tags: tuple[str, ...]
    body: str
    content_hash: str

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """Body paragraphs (blank-line separated), each with its lines kept."""
        parts = re.split(r"\n\s*\n", self.body)
        return tuple(p.strip() for p in parts if p.strip())

    @property
    def is_approved(self) -> bool:
        return bool(self.approved_by)


def canonical_text(text: str) -> str:
    """The form of ``text`` that the content hash covers."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def content_hash(title: str, body: str) -> str:
    digest = hashlib.sha256()
    digest.update(canonical_text(title).encode("utf-8"))
    digest.update(b"\n\x00\n")
    digest.update(canonical_text(body).encode("utf-8"))
    return "sha256:" + digest.hexdigest()


def load_bulletin(path: Path) -> Bulletin:
    """Read and parse a script file; raise :class:`BulletinError` with a location if it is bad."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BulletinError(
            "script file not found. Check the path in schedule.yaml.", Location(path)
        ) from None
    except OSError as exc:
        raise BulletinError(f"cannot read the script: {exc.strerror}.", Location(path)) from None
    try:
        text = decode_text(data)
    except TextDecodingError as exc:
        raise BulletinError(str(exc), Location(path)) from None
    return parse_bulletin(text, path)


def parse_bulletin(text: str, path: Path) -> Bulletin:
    """Parse script text (already decoded) that came from ``path``."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[0].strip() != _FENCE:
        raise BulletinError(
            "the script must start with a '---' line, then the title, author and approval, "
            "then another '---' line. See scripts/README.md.",
            Location(path, 1, 1),
        )
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == _FENCE)
    except StopIteration:
        raise BulletinError(
            "the header block is not closed. Add a line '---' after the approval fields.",
            Location(path, 1, 1),
        ) from None
    header_text = "\n".join(lines[1:end])
    body = "\n".join(lines[end + 1 :])
    meta = _parse_header(header_text, path)

    def field(name: str, required: bool) -> str | None:
        value = meta.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise BulletinError(
                    f"the header has no '{name}'. Add a line '{name}: ...'.",
                    Location(path, 2, 1),
                )
            return None
        if not isinstance(value, str | int | float | dt.date):
            raise BulletinError(
                f"'{name}' must be plain text.", Location(path, _key_line(lines, name, end), 1)
            )
        return str(value).strip()

    approver = meta.get("approved_by")
    if approver is not None and not isinstance(approver, str):
        raise BulletinError(
            "approved_by must be the approver's name and position, for example: "
            "approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường. A script without it is "
            "not aired.",
            Location(path, _key_line(lines, "approved_by", end), 1),
        )
    title = field("title", required=True)
    assert title is not None
    category = field("category", required=False) or "bản tin"
    if category not in CATEGORIES:
        raise BulletinError(
            f"category '{category}' is not known. Use one of: {', '.join(CATEGORIES)}.",
            Location(path, _key_line(lines, "category", end), 1),
        )
    approved_on = meta.get("approved_on")
    if approved_on is not None and not isinstance(approved_on, dt.date):
        raise BulletinError(
            "approved_on must be a date written as YYYY-MM-DD, for example 2026-05-04.",
            Location(path, _key_line(lines, "approved_on", end), 1),
        )
    tags = meta.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise BulletinError(
            "tags must be a list of words, for example: tags: [atvsld, suc-khoe].",
            Location(path, _key_line(lines, "tags", end), 1),
        )
    if not body.strip():
        raise BulletinError(
            "the script has no text after the header. Write the bulletin below the second '---'.",
            Location(path, end + 2, 1),
        )
    return Bulletin(
        path=path,
        title=title,
        category=category,
        author=field("author", required=False) or "",
        approved_by=field("approved_by", required=False),
        approved_on=approved_on,
        tags=tuple(tags),
        body=canonical_text(body),
        content_hash=content_hash(title, body),
    )


def require_approved(bulletin: Bulletin) -> None:
    """Refuse a script nobody approved: unapproved content must never reach a loudspeaker."""
    if not bulletin.is_approved:
        raise BulletinError(
            "this script is not approved, so it will not be aired. Ask the ward leader to "
            "approve it, then add 'approved_by: <name, position>' to its header.",
            Location(bulletin.path, 2, 1),
        )


def _parse_header(header_text: str, path: Path) -> dict[str, object]:
    try:
        meta = yaml.safe_load(header_text) if header_text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "the header is not valid"
        location = (
            Location(path, mark.line + 2, mark.column + 1) if mark is not None else Location(path)
        )
        raise BulletinError(
            f"{problem}. Each header line must look like 'name: value'.", location
        ) from None
    if not isinstance(meta, dict):
        raise BulletinError(
            "the header must be lines of 'name: value'.", Location(path, 2, 1)
        )
    return {str(k): v for k, v in meta.items()}


def _key_line(lines: list[str], key: str, end: int) -> int:
    for number in range(1, end):
        if lines[number].lstrip().startswith(f"{key}:"):
            return number + 1
    return 2
