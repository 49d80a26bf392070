"""The audit log (NEN 7513): append-only rows, each hash-chained to the one before it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from flask import has_request_context, request
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.models import AuditEntry, AuditHead, User
from registry.timeutil import aware, utcnow

GENESIS_HASH = "0" * 64
HEAD_ID = 1
# any constant: the key of the PostgreSQL advisory lock that serialises chain appends
_CHAIN_LOCK_KEY = 7513


def _payload(entry: AuditEntry) -> str:
    fields = {
        "id": entry.id,
        # in UTC whatever the database hands back: PostgreSQL answers in its session time zone
        "at": aware(entry.at).astimezone(UTC).isoformat(),
        "user_id": entry.user_id,
        "username": entry.username,
        "organisation": entry.organisation,
        "role": entry.role,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "outcome": entry.outcome,
        "remote_addr": entry.remote_addr,
        "detail": entry.detail,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)


def chain_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256((prev_hash + _payload(entry)).encode()).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    head = session.scalars(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()).one()
    return head


def record(
    session: Session,
    action: str,
    outcome: str,
    *,
    user: User | None = None,
    role: str = "",
    object_type: str = "",
    object_id: object = "",
    detail: dict[str, Any] | None = None,
    username: str | None = None,
) -> AuditEntry:
    """Append one audit row in the caller's transaction (it commits with the act it records)."""
    head = _lock_head(session)
    remote = (request.remote_addr or "") if has_request_context() else ""
    entry = AuditEntry(
        id=head.last_entry_id + 1,
        at=utcnow(),
        user_id=user.id if user is not None else None,
        username=username if username is not None else (user.username if user else ""),
        organisation=user.organisation.name if user is not None else "",
        role=role,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        outcome=outcome,
        remote_addr=remote[:64],
        detail=detail or {},
        prev_hash=head.last_hash,
    )
    entry.hash = chain_hash(head.last_hash, entry)
    session.add(entry)
    head.last_entry_id = entry.id
    head.last_hash = entry.hash
    head.count += 1
    session.flush()
    return entry


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    problems: list[str]


def verify(session: Session) -> VerifyResult:
    """Walk the chain; any altered, inserted or removed row breaks it."""
    problems: list[str] = []
    prev_hash = GENESIS_HASH
    expected_id = 1
    checked = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        if entry.id != expected_id:
            problems.append(f"row {expected_id}..{entry.id - 1} missing")
        if entry.prev_hash != prev_hash:
            problems.append(f"row {entry.id}: does not follow its predecessor")
        if chain_hash(entry.prev_hash, entry) != entry.hash:
            problems.append(f"row {entry.id}: content altered")
        prev_hash = entry.hash
        expected_id = entry.id + 1
        checked += 1
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        problems.append("chain head missing")
    else:
        if head.count != checked or head.last_hash != prev_hash:
            problems.append(
                f"chain head expects {head.count} rows ending in {head.last_hash[:12]}, "
                f"found {checked} ending in {prev_hash[:12]}"
            )
    return VerifyResult(ok=not problems, checked=checked, problems=problems)
