"""Signed approvals: the ward leadership's approval, bound to the exact words of a script.

An approver has an Ed25519 key pair (``broadcast keys new``): the private key stays on their own
computer, encrypted with their passphrase; the public key goes into the ward's trust list,
``approvers.yaml``. ``broadcast approve SCRIPT`` writes ``SCRIPT.approval`` beside the script:
what was approved (the script's content hash and its words), by which key, when, until when, and
an Ed25519 signature over all of that. The signed bytes are a versioned, domain-separated
canonical encoding (:func:`signed_bytes`), so a signature made for one purpose or version cannot
pass for another.

An approval holds when the signature is good, the key is on the trust list and was in office
when it signed (not revoked as compromised, not after leaving office, within its term), the
approval has not expired, and the script's content hash is still the one approved. Otherwise
:func:`verify` says in one line which of these failed; for changed words, which ones.
"""

from __future__ import annotations

import base64
import datetime as dt
import difflib
import hashlib
import json
import os
import stat
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from broadcast.bulletin import ApprovalRecord, Bulletin, BulletinError, require_approved
from broadcast.errors import BroadcastError, Location
from broadcast.fileio import file_sha256, read_at_most, write_text_atomic
from broadcast.schedule import explain, in_file_order
from broadcast.vietnamese import TextDecodingError, decode_text
from broadcast.yamlsource import YamlSyntaxError, load_yaml

FORMAT = "broadcast-approval"
VERSION = 1
DOMAIN = b"broadcast approval of words to air, version 1\x00"
"""Prefix of every signed message: a signature for anything else never verifies here."""
SUFFIX = ".approval"
MAX_APPROVAL_BYTES = 400_000
"""An approval holds the script's words (at most 200 kB) and a few lines more."""
KEY_PREFIX = "ed25519:"


def approval_path(script: Path) -> Path:
    return script.with_name(script.name + SUFFIX)


def key_id(public: Ed25519PublicKey) -> str:
    """A short name for a public key: the start of its SHA-256, in hex."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_text(public: Ed25519PublicKey) -> str:
    """A public key as one line, as approvers.yaml holds it: ``ed25519:BASE64``."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.b64encode(raw).decode()


def read_public(text: str) -> Ed25519PublicKey:
    """A public key from its one-line form; :class:`ValueError` if it is not one."""
    if not text.startswith(KEY_PREFIX):
        raise ValueError(f"a key is written {KEY_PREFIX}... (as 'broadcast keys new' prints it)")
    try:
        raw = base64.b64decode(text[len(KEY_PREFIX):], validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise ValueError("this key is damaged: copy it again from 'broadcast keys new'") from None


class Approver(BaseModel):
    """Who signed: their name and position, and their public key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    position: Annotated[str, Field(max_length=200)] = ""
    key: Annotated[str, Field(max_length=200)]


class Approval(BaseModel):
    """The contents of an approval file (see the module doc)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["broadcast-approval"]
    version: Literal[1]
    kind: Literal["script", "audio"]
    """What was approved: a script's words, or a recording's file (its SHA-256)."""
    content_hash: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
    title: str
    text: str
    approver: Approver
    signed_at: dt.datetime
    valid_until: dt.date | None = None
    signature: str

    @property
    def key_id(self) -> str:
        return key_id(read_public(self.approver.key))

    @property
    def signature_id(self) -> str:
        return hashlib.sha256(self.signature.encode()).hexdigest()[:16]


def signed_bytes(fields: dict[str, Any]) -> bytes:
    """What the signature covers: the domain prefix, then every field but the signature as
    canonical JSON (keys sorted, no spaces, UTF-8)."""
    body = {key: value for key, value in fields.items() if key != "signature"}
    return DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False).encode("utf-8")


def sign(bulletin: Bulletin | Path, private: Ed25519PrivateKey, *, name: str, position: str,
         signed_at: dt.datetime, valid_until: dt.date | None = None,
         content_hash: str | None = None) -> dict[str, Any]:
    """The approval of ``bulletin``'s words (or of a recording, by its file's SHA-256, or
    ``content_hash`` when the caller has it: the digest of the bytes the approver heard) by
    the holder of ``private``, as the approval file holds it."""
    if isinstance(bulletin, Path):
        what = {"kind": "audio", "content_hash": content_hash or recording_hash(bulletin),
                "title": bulletin.name, "text": ""}
    else:
        what = {"kind": "script", "content_hash": bulletin.content_hash,
                "title": bulletin.title, "text": bulletin.body}
    fields: dict[str, Any] = {
        "format": FORMAT, "version": VERSION, **what,
        "approver": {"name": name, "position": position,
                     "key": public_text(private.public_key())},
        "signed_at": signed_at.isoformat(timespec="seconds"),
        "valid_until": valid_until.isoformat() if valid_until else None,
    }
    fields["signature"] = base64.b64encode(private.sign(signed_bytes(fields))).decode()
    return fields


def recording_hash(path: Path) -> str:
    """What a recording's approval binds: its file's SHA-256."""
    return "sha256:" + file_sha256(path)


def write_approval(script: Path, fields: dict[str, Any]) -> Path:
    """Write an approval beside the script (atomically); return where."""
    path = approval_path(script)
    write_text_atomic(path, json.dumps(fields, ensure_ascii=False, indent=2) + "\n")
    return path


def read_approval(script: Path) -> tuple[Approval, dict[str, Any]]:
    """The approval beside ``script`` and the fields exactly as written (what the signature
    covers), or :class:`BulletinError` saying why there is none."""
    path = approval_path(script)
    try:
        data = read_at_most(path, MAX_APPROVAL_BYTES)
    except FileNotFoundError:
        raise BulletinError(
            f"{script.name} has no signed approval ({path.name}). Ask an approver to run "
            f"'broadcast approve {script.name}'.", Location(script)) from None
    if data is None:
        raise BulletinError(f"{path.name} is far too large to be an approval.", Location(path))
    try:
        fields = json.loads(data.decode("utf-8"))
        return Approval.model_validate(fields), fields
    except (UnicodeDecodeError, ValueError, ValidationError):
        raise BulletinError(
            f"{path.name} is damaged and cannot be read. Ask the approver to approve "
            f"{script.name} again.", Location(path)) from None


def private_key(path: Path, passphrase: str) -> Ed25519PrivateKey:
    """An approver's private key from its file; :class:`BroadcastError` with a wrong
    passphrase or a file that is not a key."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BroadcastError(f"cannot read the key {path}: {exc.strerror or exc}.") from None
    try:
        key = serialization.load_pem_private_key(data, passphrase.encode("utf-8"))
    except (ValueError, TypeError):
        raise BroadcastError(f"the passphrase is wrong for {path.name} (or it is not a key "
                             "made by 'broadcast keys new'). Nothing was signed.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BroadcastError(f"{path.name} is not an approver's key (Ed25519).")
    return key


def new_key(folder: Path, passphrase: str) -> tuple[Path, Ed25519PublicKey]:
    """Make a key pair; keep the private key in ``folder`` (mode 0600), encrypted with
    ``passphrase``; return its file and the public key."""
    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / f"{key_id(public)}.pem"
    data = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")))
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return path, public


def changed_words(approved: str, now: str, most: int = 3) -> str:
    """The words that differ between the approved text and the script as it is now."""
    old, new = approved.split(), now.split()
    changes = []
    for tag, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False) \
            .get_opcodes():
        if tag == "equal":
            continue
        before, after = " ".join(old[a1:a2]), " ".join(new[b1:b2])
        changes.append(f"'{before}' became '{after}'" if before and after else
                       f"'{before}' was removed" if before else f"'{after}' was added")
    more = f" (and {len(changes) - most} more changes)" if len(changes) > most else ""
    return "; ".join(changes[:most]) + more


def trust_list_problem(path: Path, owners: tuple[int, ...] = ()) -> str | None:
    """Why ``path`` (and the folder it is in) cannot be trusted, like sshd's StrictModes: each
    must belong to root or the daemon's user and be writable by no one else."""
    allowed = {0, os.geteuid(), *owners}
    for place in (path, path.parent):
        try:
            info = place.stat()
        except OSError as exc:
            return f"{place} cannot be read: {exc.strerror or exc}"
        if info.st_uid not in allowed:
            return (f"{place} belongs to another user (uid {info.st_uid}). Give it to the "
                    f"daemon's user or root: chown root {place}")
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return (f"{place} may be changed by other users, so anyone could add an approver. "
                    f"Fix it with: chmod go-w {place}")
    return None


class Revocation(BaseModel):
    """A key taken back: ``compromised`` voids every signature it made; ``left_office`` those
    made after ``date``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date
    reason: Literal["compromised", "left_office"]


class TrustedKey(BaseModel):
    """One approver on the ward's trust list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    position: Annotated[str, Field(max_length=200)] = ""
    key: Annotated[str, Field(max_length=200)]
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    revoked: Revocation | None = None

    @property
    def approved_by(self) -> str:
        return f"{self.name}, {self.position}" if self.position else self.name


class TrustList(BaseModel):
    """approvers.yaml: the keys whose approvals the ward accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approvers: list[TrustedKey] = []

    def find(self, key: str) -> TrustedKey | None:
        return next((entry for entry in self.approvers if entry.key == key), None)


@dataclass(frozen=True)
class Verified:
    """An approval that holds: the approver as the trust list names them, key and signature."""

    approval: Approval
    approver: TrustedKey

    @property
    def approved_by(self) -> str:
        return self.approver.approved_by


def verify(bulletin: Bulletin | Path, approval: Approval, fields: dict[str, Any],
           trust: TrustList, today: dt.date, content_hash: str | None = None) -> Verified:
    """Whether ``approval`` (its ``fields`` as written) approves ``bulletin`` (or a recording)
    as it is now; :class:`BulletinError` saying in one line what does not hold (see the module
    doc)."""
    path = bulletin if isinstance(bulletin, Path) else bulletin.path
    where = Location(approval_path(path))
    name = path.name
    kind = "audio" if isinstance(bulletin, Path) else "script"
    try:
        public = read_public(approval.approver.key)
        public.verify(base64.b64decode(approval.signature, validate=True), signed_bytes(fields))
    except (ValueError, InvalidSignature):
        raise BulletinError(f"the approval of {name} does not match its signature: it was "
                            "altered after signing. Ask for a new approval.", where) from None
    entry = trust.find(approval.approver.key)
    if entry is None:
        raise BulletinError(f"{name} is signed with a key that is not in approvers.yaml (key "
                            f"{approval.key_id}). Ask an approver on the list to approve it.",
                            where)
    signed = approval.signed_at.date()
    revoked = entry.revoked
    if revoked is not None and revoked.reason == "compromised":
        raise BulletinError(f"{name} is signed with {entry.name}'s key, revoked on "
                            f"{revoked.date} as compromised: none of its approvals count. Ask "
                            "another approver.", where)
    if revoked is not None and signed > revoked.date:
        raise BulletinError(f"{name} was signed by {entry.name} on {signed}, after they left "
                            f"office on {revoked.date}. Ask a current approver.", where)
    if entry.valid_from is not None and signed < entry.valid_from:
        raise BulletinError(f"{name} was signed on {signed}, before {entry.name}'s term began "
                            f"({entry.valid_from}). Ask for a new approval.", where)
    if entry.valid_until is not None and signed > entry.valid_until:
        raise BulletinError(f"{name} was signed on {signed}, after {entry.name}'s term ended "
                            f"({entry.valid_until}). Ask a current approver.", where)
    if approval.valid_until is not None and today > approval.valid_until:
        raise BulletinError(f"the approval of {name} ended on {approval.valid_until}. Ask for "
                            "a new approval.", where)
    if approval.kind != kind:
        raise BulletinError(f"the approval beside {name} is for {approval.kind} "
                            f"'{approval.title}', not this file. Ask for a new approval.",
                            where)
    if isinstance(bulletin, Path):
        if approval.content_hash != (content_hash or recording_hash(bulletin)):
            raise BulletinError(f"the recording {name} was changed after it was approved (its "
                                "SHA-256 differs). Ask for a new approval.", where)
    elif approval.content_hash != bulletin.content_hash:
        words = changed_words(f"{approval.title}\n{approval.text}",
                              f"{bulletin.title}\n{bulletin.body}")
        raise BulletinError(f"{name} was changed after it was approved: {words}. Ask for a new "
                            "approval.", where)
    return Verified(approval, entry)


MAX_TRUST_LIST_BYTES = 256_000
TRUST_LIST = "approvers.yaml"
"""The trust list's name, in the ward folder (beside schedule.yaml)."""


def load_trust_list(path: Path) -> TrustList:
    """The ward's trust list, refused (with how to fix it) when other users could change it,
    and checked like schedule.yaml: every problem with its line and column."""
    if not path.exists():
        raise BroadcastError(f"there is no {path.name} in {path.parent}: add each approver's "
                             "key to it (as 'broadcast keys new' prints it).", Location(path))
    problem = trust_list_problem(path)
    if problem is not None:
        raise BroadcastError(f"approvals cannot be trusted: {problem}.", Location(path))
    info = path.stat()
    version = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    with _TRUSTED_LOCK:
        kept = _TRUSTED.get(path)
    if kept is not None and kept[0] == version:
        return kept[1]
    trust = _read_trust_list(path)
    with _TRUSTED_LOCK:
        _TRUSTED[path] = (version, trust)
    return trust


_TRUSTED: dict[Path, tuple[tuple[int, int, int, int], TrustList]] = {}
"""Trust lists as last read, by file version: a schedule's scripts are checked against one
list, read once (its modes are checked every time)."""
_TRUSTED_LOCK = threading.Lock()


def _read_trust_list(path: Path) -> TrustList:
    data = read_at_most(path, MAX_TRUST_LIST_BYTES)
    if data is None:
        raise BroadcastError("the trust list is far too large.", Location(path))
    try:
        text = decode_text(data)
        meta, positions = load_yaml(text, path, advice="Each approver is a block of "
                                    "'name:', 'position:' and 'key:' lines.")
    except (TextDecodingError, YamlSyntaxError) as exc:
        raise BroadcastError(str(exc), Location(path)) from None
    try:
        trust = TrustList.model_validate(meta or {})
    except ValidationError as exc:
        problems = in_file_order([explain(dict(error), positions, meta, TrustList)
                                  for error in exc.errors()])
        if len(problems) == 1:
            raise problems[0] from None
        raise BroadcastError("\n".join([f"{path.name} has {len(problems)} problems:",
                                        *(f"  {problem}" for problem in problems)])) from None
    for index, entry in enumerate(trust.approvers):
        try:
            read_public(entry.key)
        except ValueError as exc:
            raise BroadcastError(str(exc), positions.location(("approvers", index, "key"))
                                 ) from None
    return trust


@dataclass(frozen=True)
class ApprovalRule:
    """How a ward's scripts must be approved (schedule.yaml's ``approval``): by an
    ``approved_by`` line, or ``signed`` with a key of the trust list ``trust_list``. Every
    check of a script's approval goes through :meth:`approve`."""

    signed: bool = False
    trust_list: Path | None = None

    @classmethod
    def of(cls, approval: str, ward: Path) -> ApprovalRule:
        """The rule a schedule sets (``approval``) for the ward folder ``ward``."""
        return cls(approval == "signed", ward / TRUST_LIST)

    def approve(self, bulletin: Bulletin, *, approval_of: Path | None = None,
                today: dt.date | None = None) -> Bulletin:
        """``bulletin`` as approved, or :class:`BulletinError` saying why it is not.

        Signed, the approval file beside ``approval_of`` (by default the script itself) must
        hold, and the bulletin then names the approver as the trust list does: a script's own
        ``approved_by`` line counts for nothing.
        """
        if not self.signed:
            require_approved(bulletin)
            return bulletin
        assert self.trust_list is not None
        approval, fields = read_approval(approval_of or bulletin.path)
        verified = verify(bulletin, approval, fields, load_trust_list(self.trust_list),
                          today or dt.date.today())
        return replace(bulletin, approved_by=verified.approved_by,
                       approved_on=approval.signed_at.date(), key_id=approval.key_id,
                       signature_id=approval.signature_id, approved_until=approval.valid_until)

    def approve_recording(self, path: Path, today: dt.date | None = None,
                          content_hash: str | None = None) -> ApprovalRecord | None:
        """The approval of the recording at ``path`` (whose bytes, as the caller read them,
        have ``content_hash``): signed, it must hold (else :class:`BulletinError` says why);
        by header, recordings need none (None)."""
        if not self.signed:
            return None
        assert self.trust_list is not None
        approval, fields = read_approval(path)
        verified = verify(path, approval, fields, load_trust_list(self.trust_list),
                          today or dt.date.today(), content_hash)
        return ApprovalRecord(verified.approved_by, approval.signed_at.date(), approval.key_id,
                              approval.signature_id)
