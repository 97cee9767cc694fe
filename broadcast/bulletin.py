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
Every problem of a header is reported at once, each with file, line and column, in the words
``schedule.yaml`` uses.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, ValidationInfo

from broadcast.errors import BroadcastError, Location
from broadcast.fileio import read_at_most
from broadcast.schedule import explain, in_file_order
from broadcast.schedule.values import parse_date
from broadcast.vietnamese import TextDecodingError, decode_text
from broadcast.yamlsource import YamlSyntaxError, load_yaml

CATEGORIES = ("bản tin", "thông báo")
_FENCE = "---"


class BulletinError(BroadcastError):
    """A script file that cannot be read or is not fit to air. ``problems`` lists what is wrong:
    one problem, or every problem a script's header and body have."""

    def __init__(self, message: str, location: Location | None = None,
                 problems: list[BroadcastError] | None = None) -> None:
        super().__init__(message, location)
        self.problems = problems or [BroadcastError(message, location)]

    @classmethod
    def of(cls, problems: list[BroadcastError]) -> BulletinError:
        """One error for ``problems``: the only one as it is, or all of them, one a line."""
        if len(problems) == 1:
            return cls(problems[0].message, problems[0].location)
        lines = [f"script has {len(problems)} problems:", *(f"  {p}" for p in problems)]
        return cls("\n".join(lines), problems=problems)


def _text(value: object, info: ValidationInfo) -> str | None:
    """A header value as plain text; empty counts as not written."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str | int | float | dt.date):
        raise ValueError(f"'{info.field_name}' must be plain text")
    return str(value).strip()


def _title(value: object, info: ValidationInfo) -> str:
    title = _text(value, info)
    if title is None:
        raise ValueError("the header has no 'title'. Add a line 'title: ...'")
    return title


def _category(value: object, info: ValidationInfo) -> str:
    category = _text(value, info) or "bản tin"
    if category not in CATEGORIES:
        raise ValueError(
            f"category '{category}' is not known. Use one of: {', '.join(CATEGORIES)}")
    return category


def _author(value: object, info: ValidationInfo) -> str:
    return _text(value, info) or ""


def _approver(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(
            "approved_by must be the approver's name and position, for example: "
            "approved_by: Trần Văn Minh, Phó Chủ tịch UBND phường. A script without it is "
            "not aired"
        )
    return value.strip() or None


def _approval_date(value: object) -> dt.date | None:
    """The approval date, as schedule.yaml writes dates (YYYY-MM-DD or DD/MM/YYYY); a day
    that has not come yet (anywhere: the machine may keep UTC) cannot be the day of an
    approval."""
    if value is None:
        return None
    try:
        day = parse_date(value)
    except ValueError:
        raise ValueError("approved_on must be a date written as YYYY-MM-DD or DD/MM/YYYY, for "
                         "example 2026-05-04") from None
    if day > dt.date.today() + dt.timedelta(days=1):
        raise ValueError(f"approved_on {day} is in the future. Write the day the script was "
                         "approved")
    return day


def _tags(value: object) -> tuple[str, ...]:
    tags = value or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("tags must be a list of words, for example: tags: [atvsld, suc-khoe]")
    return tuple(tags)


class _Header(BaseModel):
    """A script's header. Other lines in it are the writer's own notes and are left alone."""

    model_config = ConfigDict(frozen=True)

    title: Annotated[str, PlainValidator(_title)] = Field(None, validate_default=True)
    category: Annotated[str, PlainValidator(_category)] = "bản tin"
    author: Annotated[str, PlainValidator(_author)] = ""
    approved_by: Annotated[str | None, PlainValidator(_approver)] = None
    approved_on: Annotated[dt.date | None, PlainValidator(_approval_date)] = None
    tags: Annotated[tuple[str, ...], PlainValidator(_tags)] = ()


@dataclass(frozen=True)
class ApprovalRecord:
    """An approval as the as-run log records it: by whom and when, and with a signed approval
    the key's and the signature's ids."""

    approved_by: str | None
    approved_on: dt.date | None
    key_id: str | None = None
    signature_id: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"approved_by": self.approved_by,
                "approved_on": self.approved_on.isoformat() if self.approved_on else None,
                "key_id": self.key_id, "signature_id": self.signature_id}


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
    key_id: str | None = None
    """With a signed approval: the approver's key and the signature (short ids), and the last
    day the approval holds."""
    signature_id: str | None = None
    approved_until: dt.date | None = None

    @property
    def approval(self) -> ApprovalRecord:
        """Who approved these words, for the as-run log."""
        return ApprovalRecord(self.approved_by, self.approved_on, self.key_id,
                              self.signature_id)

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


MAX_SCRIPT_BYTES = 200_000
"""A 15-minute bulletin is about 15 kB of text."""


def load_bulletin(path: Path) -> Bulletin:
    """Read and parse a script file; raise :class:`BulletinError` with a location if it is bad."""
    return read_bulletin(path)[0]


def read_bulletin(path: Path, source: Path | None = None) -> tuple[Bulletin, bytes]:
    """Read and parse a script file, and return the exact bytes parsed too (so a copy kept of
    a good script is the very text that was found good). ``source`` reads the bytes from
    another file (a kept copy) while errors and the bulletin still name ``path``."""
    try:
        data = read_at_most(source or path, MAX_SCRIPT_BYTES)
    except FileNotFoundError:
        raise BulletinError(
            "script file not found. Check the path in schedule.yaml.", Location(path)
        ) from None
    except OSError as exc:
        raise BulletinError(f"cannot read the script: {exc.strerror}.", Location(path)) from None
    if data is None:
        raise BulletinError(
            f"the script is larger than {MAX_SCRIPT_BYTES // 1000} kB, far longer than any "
            "bulletin. Check that it is the file you meant.", Location(path))
    try:
        text = decode_text(data)
    except TextDecodingError as exc:
        raise BulletinError(str(exc), Location(path)) from None
    return parse_bulletin(text, path), data


def script_tags(path: Path) -> tuple[str, ...]:
    """The tags of a script as its file is now (none when it cannot be read or parsed): what
    the as-run log records as a broadcast's topics. Read once per version of the file."""
    try:
        stat = path.stat()
    except OSError:
        return ()
    return _tags_of_version(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=512)
def _tags_of_version(path: Path, _mtime_ns: int, _size: int) -> tuple[str, ...]:
    try:
        return load_bulletin(path).tags
    except BulletinError:
        return ()


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
    header, problems = _read_header(header_text, path)
    if not body.strip():
        problems.append(BroadcastError(
            "the script has no text after the header. Write the bulletin below the second '---'.",
            Location(path, end + 2, 1),
        ))
    if problems:
        raise BulletinError.of(problems)
    assert header is not None
    return Bulletin(
        path=path,
        title=header.title,
        category=header.category,
        author=header.author,
        approved_by=header.approved_by,
        approved_on=header.approved_on,
        tags=header.tags,
        body=canonical_text(body),
        content_hash=content_hash(header.title, body),
    )


NOTICE_TITLE = "Thông báo"
"""The title of every typed notice (``broadcast say``): what an approver signs is its words."""


def notice_script(text: str, *, approved_on: dt.date | None = None, **header: str) -> str:
    """A typed notice as a script: the notice title, ``header``'s lines, then the words."""
    lines = [f"{key}: {json.dumps(value, ensure_ascii=False)}"
             for key, value in {"title": NOTICE_TITLE, **header}.items()]
    if approved_on is not None:
        lines.append(f"approved_on: {approved_on.isoformat()}")
    body = text.replace("\r\n", "\n").strip()
    return "---\n" + "\n".join(lines) + f"\n---\n\n{body}\n"


def require_approved(bulletin: Bulletin) -> None:
    """Refuse a script nobody approved: unapproved content must never reach a loudspeaker."""
    if not bulletin.is_approved:
        raise BulletinError(
            "this script is not approved, so it will not be aired. Ask the ward leader to "
            "approve it, then add 'approved_by: <name, position>' to its header.",
            Location(bulletin.path, 2, 1),
        )


def _read_header(header_text: str, path: Path) -> tuple[_Header | None, list[BroadcastError]]:
    """The header (it starts on the file's second line), or every problem it has, in file
    order."""
    try:
        meta, positions = load_yaml(header_text, path, first_line=2,
                                    advice="Each header line must look like 'name: value'.")
    except YamlSyntaxError as exc:
        return None, [exc]
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return None, [BroadcastError(
            "the header must be lines of 'name: value'.", Location(path, 2, 1))]
    try:
        return _Header.model_validate(meta), []
    except ValidationError as exc:
        problems = [explain(dict(error), positions, meta, _Header, at_key=True)
                    for error in exc.errors()]
        return None, in_file_order(problems)
