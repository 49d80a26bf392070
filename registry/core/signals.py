"""Signals the registry sends after commit; lookup listens (registry never imports lookup)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from blinker import Namespace
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

_signals = Namespace()

#: sent after a commit that created, changed, withdrew or expired plans; `plan_ids` is a set
plans_changed = _signals.signal("plans-changed")

#: sent after a commit that purged plans' personal data (`samenop purge`); `plan_ids` is a set.
#: Whoever keeps copies of that data outside the database (the search index's segment files,
#: where a deleted document's words stay until the segment is rewritten) removes them.
plans_purged = _signals.signal("plans-purged")

#: sent by `samenop init` / `samenop demo` once the schema is at head
database_ready = _signals.signal("database-ready")

#: sent in a served worker before its first request: open what the first request should not wait for
worker_started = _signals.signal("worker-started")

_KEY = "samenop.changed_plans"
_PURGED_KEY = "samenop.purged_plans"
_ON_COMMIT_KEY = "samenop.on_commit"

log = logging.getLogger(__name__)


def on_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run `callback` once the transaction is committed (never on rollback): what leaves the
    system (an e-mail) must not announce what was not stored. A callback that fails is logged;
    it cannot undo the commit, and does not fail the request."""
    session.info.setdefault(_ON_COMMIT_KEY, []).append(callback)


def mark_plan_changed(session: Session, plan_id: uuid.UUID) -> None:
    """Record the change in the feed (same transaction) and announce it after commit."""
    from registry.core.db import serialise_writes
    from registry.core.models import PlanChange

    serialise_writes(session)
    session.add(PlanChange(plan_id=plan_id))
    session.info.setdefault(_KEY, set()).add(plan_id)


def mark_plan_purged(session: Session, plan_id: uuid.UUID) -> None:
    """Announce, after commit, that the plan's personal data is gone (mark_plan_changed too:
    the feed takes it out of the index; this signal takes it off the disk)."""
    mark_plan_changed(session, plan_id)
    session.info.setdefault(_PURGED_KEY, set()).add(plan_id)


def install(factory: sessionmaker[Session], app: Any) -> None:
    """Send `plans_changed` only once the change is durable; forget it on rollback."""

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint released: the change is not durable yet
        changed = session.info.pop(_KEY, None)
        purged = session.info.pop(_PURGED_KEY, None)
        for callback in session.info.pop(_ON_COMMIT_KEY, []):
            try:
                callback()
            except Exception:  # the commit stands whatever happens after it
                log.exception("after commit: %r failed", callback)
        if changed:
            plans_changed.send(app, plan_ids=frozenset(changed))
        if purged:
            plans_purged.send(app, plan_ids=frozenset(purged))

    @event.listens_for(factory, "after_soft_rollback")
    def _after_rollback(session: Session, previous: SessionTransaction) -> None:
        if previous.parent is None and not previous.nested:
            session.info.pop(_KEY, None)
            session.info.pop(_PURGED_KEY, None)
            session.info.pop(_ON_COMMIT_KEY, None)
