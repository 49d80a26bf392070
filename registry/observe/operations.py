"""What /health and /metrics read: the database check, the figures that come from the database,
and the hooks through which other parts report theirs (the search index's lag, the outbox, the
scheduler's jobs) without the registry importing them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import and_, exists, func, or_, select, text
from sqlalchemy.orm import Session

from registry.core.models import Lookup, Report
from registry.core.timeutil import utcnow


@dataclass(frozen=True)
class IndexLag:
    """How far a server's search index is behind the change feed: the changes it has not
    applied, and how long ago the oldest of them was committed (0 when it is up to date)."""

    behind: int
    lag_seconds: float


@dataclass(frozen=True)
class OutboxBacklog:
    """Messages waiting in the outbox, and when the oldest of them was queued."""

    pending: int
    oldest_queued_at: datetime | None = None
    # given up on (a permanent refusal, or too many attempts): someone must look
    failed: int = 0


@dataclass(frozen=True)
class JobRun:
    """The last run of one of the scheduler's jobs (expire, purge, digest, ...)."""

    job: str
    finished_at: datetime | None
    succeeded: bool
    last_success_at: datetime | None = None


@dataclass
class Hooks:
    """What other parts plugged in (registry.observe.register_*); None: not (yet) there, and the
    figures it would give are not reported."""

    index_lag: Callable[[Session], IndexLag] | None = None
    outbox_backlog: Callable[[Session], OutboxBacklog] | None = None
    job_runs: Callable[[Session], Iterable[JobRun]] | None = None


def hooks(app: Flask) -> Hooks:
    found: Hooks = app.extensions.setdefault("samenop.observe", Hooks())
    return found


# --- health ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of /health: whether it is healthy, and figures that carry no personal data."""

    ok: bool
    figures: dict[str, Any]


def database_part(session: Session) -> Part:
    started = time.perf_counter()
    try:
        session.execute(text("SELECT 1")).scalar_one()
    except Exception as exc:
        return Part(False, {"error": type(exc).__name__})
    return Part(True, {"ms": round((time.perf_counter() - started) * 1000, 1)})


def index_part(read: Callable[[Session], IndexLag], session: Session, max_lag_seconds: float) -> Part:
    """Healthy while the oldest change the index has not applied is at most max_lag_seconds old
    (a write is applied within a second; a compaction may hold the index for several)."""
    try:
        lag = read(session)
    except Exception as exc:
        return Part(False, {"error": type(exc).__name__})
    return Part(
        lag.lag_seconds <= max_lag_seconds,
        {"behind": lag.behind, "lag_seconds": round(lag.lag_seconds, 1), "max_lag_seconds": max_lag_seconds},
    )


def health(app: Flask, session: Session) -> dict[str, Part]:
    """Every part, in order: the database first; what needs it is not asked when it is down."""
    parts = {"database": database_part(session)}
    read = hooks(app).index_lag
    if read is not None:
        if parts["database"].ok:
            parts["index"] = index_part(read, session, app.config["INDEX_MAX_LAG_SECONDS"])
        else:
            parts["index"] = Part(False, {"error": "database unavailable"})
    return parts


# --- figures from the database ----------------------------------------------------------------

#: a lookup that showed a plan: it found one, and it was no list of candidates of a name alone
#: (the same rule as the Monitoring's Raadplegingen table)
_SHOWED_PLAN = and_(Lookup.match_count > 0, or_(Lookup.name_only.is_(False), Lookup.opened_from.is_not(None)))
_REPORTED = exists().where(Report.lookup_id == Lookup.id)


def lookups_last_day(session: Session, now: datetime | None = None) -> tuple[int, int]:
    """Of the lookups of the last 24 hours: how many showed a plan, and how many of those have no
    report (yet) that names the lookup."""
    since = (now or utcnow()) - timedelta(hours=24)
    showed, without = session.execute(
        select(func.count(), func.count().filter(~_REPORTED))
        .select_from(Lookup)
        .where(Lookup.performed_at >= since, _SHOWED_PLAN)
    ).one()
    return int(showed), int(without)
