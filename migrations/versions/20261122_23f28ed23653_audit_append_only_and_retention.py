"""Audit log append-only in the database; its retention checkpoint; plans.purged_at.

Triggers refuse every UPDATE of audit_entries, and every DELETE except of rows before the
checkpoint in audit_head that are more than 12 months old (the least audit retention the
configuration accepts); on PostgreSQL the purge must also have said so in its own
transaction (SET LOCAL samenop.audit_purge = 'on'). SQLite triggers cannot see such
per-connection state (a temporary table is out of a trigger's reach), so there the
checkpoint and the age are the whole rule. TRUNCATE fires no row trigger: production
takes it away with privileges (README, "Retention and backup").

A later migration that recreates audit_entries in batch mode on SQLite drops its triggers:
create them again there. Downgrading after a purge removed audit rows drops the checkpoint,
and the older code's verification then reports those rows as missing.

Revision ID: 23f28ed23653
Revises: d1e89ab7b53c
Create Date: 2026-11-22 23:52:38.009094
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '23f28ed23653'
down_revision: str | None = 'd1e89ab7b53c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64

POSTGRESQL_FUNCTION = """
CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('samenop.audit_purge', true) = 'on'
       AND OLD.id < COALESCE((SELECT first_entry_id FROM audit_head WHERE id = 1), 0)
       AND OLD.at < now() - interval '12 months'
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""

POSTGRESQL_TRIGGER = """
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
"""

SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
    BEGIN
        SELECT RAISE(ABORT, 'audit_entries is append-only: UPDATE refused');
    END
    """,
    # stored moments read 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), so they compare as text
    """
    CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
    WHEN NOT (
        OLD.id < COALESCE((SELECT first_entry_id FROM audit_head WHERE id = 1), 0)
        AND OLD.at < datetime('now', '-12 months')
    )
    BEGIN
        SELECT RAISE(ABORT, 'audit_entries is append-only: DELETE refused');
    END
    """,
)


def upgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_entry_id', sa.BigInteger(), server_default=sa.text('1'), nullable=False))
        batch_op.add_column(sa.Column('first_prev_hash', sa.String(length=64), server_default=GENESIS_HASH, nullable=False))

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(POSTGRESQL_TRIGGER)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION audit_entries_append_only()")
    else:
        op.execute("DROP TRIGGER audit_entries_no_delete")
        op.execute("DROP TRIGGER audit_entries_no_update")

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('purged_at')

    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('first_prev_hash')
        batch_op.drop_column('first_entry_id')
