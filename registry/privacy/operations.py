"""The Logboek: the audit log searched by person, plan, organisation and period, newest first, paged;
and the hash chain checked. Every search is itself an audit row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from registry.core import audit
from registry.core.models import AuditEntry, User
from registry.core.vocabulary import Role

ROLE = Role.AUDITOR
PAGE_SIZE = 50


@dataclass(frozen=True)
class LogFilter:
    username: str | None = None
    plan_id: uuid.UUID | None = None
    organisation: str | None = None
    action: str | None = None
    start: date | None = None  # inclusive, a calendar day in the configured time zone
    end: date | None = None  # inclusive

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> LogFilter:
        return cls(
            args.get("username"),
            args.get("plan"),
            args.get("organisation"),
            args.get("action"),
            args.get("start"),
            args.get("end"),
        )

    def as_detail(self) -> dict[str, str]:
        """What the search's own audit row records: the filters given."""
        given = {
            "username": self.username,
            "plan": self.plan_id,
            "organisation": self.organisation,
            "action": self.action,
            "from": self.start,
            "to": self.end,
        }
        return {key: str(value) for key, value in given.items() if value is not None}


@dataclass(frozen=True)
class LogEntry:
    id: int
    at: datetime
    username: str
    organisation: str
    role: str
    action: str
    object_type: str
    object_id: str
    outcome: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class LogPage:
    entries: list[LogEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _conditions(filters: LogFilter, timezone: str) -> list[Any]:
    zone = ZoneInfo(timezone)
    conditions: list[Any] = []
    if filters.username:
        conditions.append(func.lower(AuditEntry.username) == filters.username.lower())
    if filters.plan_id is not None:
        plan = str(filters.plan_id)
        # the plan's own rows, and those that name it in their detail (a lookup that showed it,
        # a list of plans); the detail is JSON, read as text on both databases
        conditions.append(
            or_(AuditEntry.object_id == plan, cast(AuditEntry.detail, String).contains(plan, autoescape=True))
        )
    if filters.organisation:
        conditions.append(
            func.lower(AuditEntry.organisation).contains(filters.organisation.lower(), autoescape=True)
        )
    if filters.action:
        conditions.append(AuditEntry.action == filters.action)
    if filters.start is not None:
        conditions.append(AuditEntry.at >= _midnight(filters.start, zone))
    if filters.end is not None:
        conditions.append(AuditEntry.at < _midnight(filters.end + timedelta(days=1), zone))
    return conditions


def search(
    session: Session, user: User, filters: LogFilter, page: int, timezone: str, per_page: int = PAGE_SIZE
) -> LogPage:
    """The rows that match every filter given, newest first, one page of them; the search is
    recorded with its filters and the number of rows found."""
    conditions = _conditions(filters, timezone)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    rows = session.scalars(
        select(AuditEntry)
        .where(*conditions)
        .order_by(AuditEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    entries = [
        LogEntry(
            row.id,
            row.at,
            row.username,
            row.organisation,
            row.role,
            row.action,
            row.object_type,
            row.object_id,
            row.outcome,
            dict(row.detail or {}),
        )  # fmt: skip
        for row in rows
    ]
    audit.record(
        session,
        "audit_search",
        "success",
        user=user,
        role=ROLE,
        object_type="audit_log",
        detail={**filters.as_detail(), "page": page, "found": total},
    )
    return LogPage(entries, total, page, per_page)


def check_chain(session: Session) -> audit.VerifyResult:
    """`samenop audit verify`, for the page."""
    return audit.verify(session)
