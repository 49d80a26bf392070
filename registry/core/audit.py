"""The audit log (NEN 7513): append-only rows, each hash-chained to the one before it."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from flask import has_request_context, request
from sqlalchemy import Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from registry.core.db import keep, serialise_writes
from registry.core.logs import current_request_id
from registry.core.models import AuditEntry, AuditHead
from registry.core.timeutil import utcnow
from registry.core.vocabulary import AuditAction, AuditOutcome

_ACTIONS = frozenset(AuditAction.codes())
_OUTCOMES = frozenset(AuditOutcome.codes())

GENESIS_HASH = "0" * 64
HEAD_ID = 1


#: what the hash covers, besides the previous hash
_HASHED = (
    "id",
    "at",
    "user_id",
    "username",
    "organisation",
    "role",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "remote_addr",
    "detail",
)
#: hashed too, but only when the row has one: rows written before it existed keep their hashes
_HASHED_WHEN_PRESENT = ("request_id",)


def _link_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    # `at` in UTC whatever the database hands back: PostgreSQL answers in its session time zone
    payload = json.dumps(
        {**fields, "at": fields["at"].astimezone(UTC).isoformat()},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def chain_hash(prev_hash: str, entry: AuditEntry) -> str:
    fields = {name: getattr(entry, name) for name in _HASHED}
    for name in _HASHED_WHEN_PRESENT:
        if getattr(entry, name) is not None:
            fields[name] = getattr(entry, name)
    return _link_hash(prev_hash, fields)


_ENTRIES = cast(Table, AuditEntry.__table__)
_HEADS = cast(Table, AuditHead.__table__)
_HEAD_FOR_UPDATE = (
    select(AuditHead.last_entry_id, AuditHead.last_hash).where(AuditHead.id == HEAD_ID).with_for_update()
)
_INSERT_ENTRY = insert(_ENTRIES)
_ADVANCE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.id == HEAD_ID)
    .values(last_entry_id=bindparam("entry_id"), last_hash=bindparam("entry_hash"), count=_HEADS.c.count + 1)
)


class Actor(Protocol):
    """Who acted: a User, or the caller an API token check found (no ORM object needed)."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def organisation_name(self) -> str: ...


def command_actor() -> str:
    """Who ran a command-line step, for its audit row: 'cli:' and the login behind sudo, else the
    user's own."""
    try:
        user = os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container)
        user = str(os.getuid())
    return f"cli:{user}"


def record_kept(session: Session, action: str, outcome: str, **fields: Any) -> None:
    """record(), kept (registry.core.db.keep): the row stands however the request ends, as the
    row of a refused attempt must; it is written when the request ends."""
    keep(session, lambda kept: record(kept, action, outcome, **fields))


def _lock_head(session: Session) -> AuditHead:
    serialise_writes(session)  # ids in commit order: the same lock as the change feed
    head = session.scalars(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()).one()
    return head


def record(
    session: Session,
    action: str,
    outcome: str,
    *,
    user: Actor | None = None,
    role: str = "",
    object_type: str = "",
    object_id: object = "",
    detail: dict[str, Any] | None = None,
    username: str | None = None,
    organisation: str | None = None,
) -> int:
    """Append one audit row in the caller's transaction (it commits with the act it records);
    returns the row's id. A system rather than a person (a machine client) acts with `username`
    and `organisation` and no `user`. `action` and `outcome` are codes of AuditAction and AuditOutcome (the
    Logboek names each in Dutch): any other is a programming error, refused before anything is
    written."""
    if action not in _ACTIONS or outcome not in _OUTCOMES:
        raise ValueError(
            f"not an audit action and outcome of registry.core.vocabulary: {action!r}, {outcome!r}"
        )
    serialise_writes(session)  # ids in commit order: the same lock as the change feed
    last_id, last_hash = session.connection().execute(_HEAD_FOR_UPDATE).one()
    remote = (request.remote_addr or "") if has_request_context() else ""
    fields: dict[str, Any] = {
        "id": last_id + 1,
        "at": utcnow(),
        "user_id": user.id if user is not None else None,
        "username": username if username is not None else (user.username if user else ""),
        "organisation": organisation
        if organisation is not None
        else (user.organisation_name if user else ""),
        "role": role,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "outcome": outcome,
        "remote_addr": remote[:64],
        "detail": detail or {},
    }
    request_id = current_request_id()
    if request_id is not None:
        fields["request_id"] = request_id
    entry_hash = _link_hash(last_hash, fields)
    # two Core statements on the session's connection: on SQLite the write lock is held while
    # they run (no unit of work, no ORM object: this runs on every lookup)
    connection = session.connection()
    connection.execute(_INSERT_ENTRY, {**fields, "prev_hash": last_hash, "hash": entry_hash})
    connection.execute(_ADVANCE_HEAD, {"entry_id": fields["id"], "entry_hash": entry_hash})
    session.flush()  # what the caller added goes with it, as before
    return last_id + 1


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    problems: list[str]
    first_entry_id: int = 1
    #: the same problems in the privacy officer's words, for the Logboek page
    problems_nl: list[str] = field(default_factory=list)


def verify(session: Session) -> VerifyResult:
    """Walk the chain from its checkpoint; any altered, inserted or removed row breaks it,
    and so does a checkpoint that no purge entry in the chain vouches for."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        # one snapshot for the head and the rows: under READ COMMITTED, rows appended while
        # the walk runs would not match the head read before it (a chain "broken" by traffic)
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    problems: list[str] = []
    problems_nl: list[str] = []

    def broken(problem: str, in_dutch: str) -> None:
        problems.append(problem)
        problems_nl.append(in_dutch)

    head = session.get(AuditHead, HEAD_ID, populate_existing=True)  # record() writes it with Core
    first_id = head.first_entry_id if head is not None else 1
    first_prev = head.first_prev_hash if head is not None else GENESIS_HASH
    prev_hash = first_prev
    expected_id = first_id
    checked = 0
    vouched: dict[str, Any] | None = None  # the checkpoint named by the newest purge entry
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        if entry.id < expected_id:
            broken(
                f"row {entry.id}: before the checkpoint at row {first_id}",
                f"Regel {entry.id} staat vóór het controlepunt bij regel {first_id}.",
            )
        elif entry.id != expected_id:
            broken(
                f"row {expected_id}..{entry.id - 1} missing",
                f"Regel {expected_id} tot en met {entry.id - 1} ontbreekt.",
            )
        if entry.prev_hash != prev_hash:
            broken(
                f"row {entry.id}: does not follow its predecessor",
                f"Regel {entry.id} sluit niet aan op de regel ervoor.",
            )
        if chain_hash(entry.prev_hash, entry) != entry.hash:
            broken(f"row {entry.id}: content altered", f"Regel {entry.id} is na het schrijven gewijzigd.")
        if entry.action == PURGE_ACTION and isinstance(entry.detail.get(CHECKPOINT_KEY), dict):
            vouched = entry.detail[CHECKPOINT_KEY]
        prev_hash = entry.hash
        expected_id = entry.id + 1
        checked += 1
    if head is None:
        broken("chain head missing", "Het sluitstuk van de keten ontbreekt.")
    else:
        if head.count != checked or head.last_hash != prev_hash:
            broken(
                f"chain head expects {head.count} rows ending in {head.last_hash[:12]}, "
                f"found {checked} ending in {prev_hash[:12]}",
                f"Het sluitstuk van de keten verwacht {head.count} regels, "
                f"er zijn er {checked} gevonden (of de laatste regel is een andere).",
            )
        at_genesis = (first_id, first_prev) == (1, GENESIS_HASH)
        if vouched is None and not at_genesis:
            broken(
                f"checkpoint at row {first_id}: no purge entry in the chain records it",
                f"Het controlepunt bij regel {first_id} wordt door geen opschoning in de keten vastgelegd.",
            )
        elif vouched is not None and vouched != _checkpoint(first_id, first_prev):
            broken(
                f"checkpoint at row {first_id} differs from the one the last purge recorded "
                f"(row {vouched.get('first_entry_id')})",
                f"Het controlepunt bij regel {first_id} wijkt af van wat de laatste opschoning "
                f"vastlegde (regel {vouched.get('first_entry_id')}).",
            )
    return VerifyResult(
        ok=not problems, checked=checked, problems=problems, first_entry_id=first_id, problems_nl=problems_nl
    )


# --- retention --------------------------------------------------------------------------------

PURGE_ACTION = "purge"
CHECKPOINT_KEY = "audit_checkpoint"


def _checkpoint(first_entry_id: int, first_prev_hash: str) -> dict[str, Any]:
    return {"first_entry_id": first_entry_id, "first_prev_hash": first_prev_hash}


@dataclass
class PruneResult:
    entry_id: int  # the purge's own row, which carries the checkpoint
    removed: int
    first_entry_id: int


def prune(session: Session, before: datetime, detail: dict[str, Any]) -> PruneResult:
    """Write the purge's audit row, then remove the rows older than `before`, in this transaction.

    Only a prefix of the chain goes: the rows before the first one written at or after
    `before` (a row with an earlier time after it stays, and so does everything after it).
    The new checkpoint (first row kept, and the hash it follows) is written into the purge's
    own row and into audit_head; verify() starts there, and the triggers allow a DELETE only
    before it (migration 23f28ed23653).
    """
    head = _lock_head(session)
    keep_from = session.scalar(select(func.min(AuditEntry.id)).where(AuditEntry.at >= before))
    if keep_from is None:
        keep_from = head.last_entry_id + 1  # every row is old: the purge's own row is the first kept
    keep_from = max(keep_from, head.first_entry_id)
    removable = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.id < keep_from))
    first_prev = session.scalar(select(AuditEntry.prev_hash).where(AuditEntry.id == keep_from))
    if first_prev is None:
        first_prev = head.last_hash if keep_from == head.last_entry_id + 1 else head.first_prev_hash
    checkpoint = _checkpoint(keep_from, first_prev)
    entry_id = record(
        session,
        PURGE_ACTION,
        "success",
        username="system",
        object_type="retention",
        detail={**detail, "audit_removed": removable or 0, CHECKPOINT_KEY: checkpoint},
    )
    # record() advanced the head with Core: change it the same way, never from the loaded copy
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(
            first_entry_id=keep_from, first_prev_hash=first_prev, count=AuditHead.count - (removable or 0)
        )
    )
    if removable:
        if session.get_bind().dialect.name == "postgresql":
            # the trigger's second key; ends with this transaction
            session.execute(text("SET LOCAL samenop.audit_purge = 'on'"))
        session.execute(
            delete(AuditEntry).where(AuditEntry.id < keep_from).execution_options(synchronize_session=False)
        )
    return PruneResult(entry_id=entry_id, removed=removable or 0, first_entry_id=keep_from)
