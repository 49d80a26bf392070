"""What someone with the database owner's rights can do behind the application's back: switch
off the audit log's append-only triggers for one transaction, change rows, switch them on again.

The application itself cannot UPDATE or DELETE audit rows (migration 23f28ed23653); tests that
prove tampering is *detected* tamper through here.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.core.db import db as database

PG_TRIGGER = "audit_entries_append_only"


def tamper_in(session: Session, sql: str, **params: Any) -> None:
    """Run `sql` in the session's transaction with the audit triggers off; the caller commits."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ALTER TABLE audit_entries DISABLE TRIGGER {PG_TRIGGER}"))
        session.execute(text(sql), params)
        session.execute(text(f"ALTER TABLE audit_entries ENABLE TRIGGER {PG_TRIGGER}"))
        return
    # SQLite cannot switch a trigger off: drop it and create it again, in the same transaction
    triggers = session.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'")
    ).all()
    for name, _sql in triggers:
        session.execute(text(f'DROP TRIGGER "{name}"'))
    session.execute(text(sql), params)
    for _name, create in triggers:
        session.execute(text(create))


def tamper(app: Flask, sql: str, **params: Any) -> None:
    """One committed change behind the application's back."""
    with app.app_context():
        tamper_in(database.session, sql, **params)
        database.commit()
