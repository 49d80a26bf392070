"""Signals the registry sends after commit; lookup listens (registry never imports lookup)."""

from __future__ import annotations

import uuid
from typing import Any

from blinker import Namespace
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

_signals = Namespace()

#: sent after a commit that created, changed, withdrew or expired plans; `plan_ids` is a set
plans_changed = _signals.signal("plans-changed")

_KEY = "samenop.changed_plans"


def mark_plan_changed(session: Session, plan_id: uuid.UUID) -> None:
    session.info.setdefault(_KEY, set()).add(plan_id)


def install(factory: sessionmaker[Session], app: Any) -> None:
    """Send `plans_changed` only once the change is durable; forget it on rollback."""

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        changed = session.info.pop(_KEY, None)
        if changed:
            plans_changed.send(app, plan_ids=frozenset(changed))

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(_KEY, None)
