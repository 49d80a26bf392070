"""audit entries carry the request id

The id of the request that wrote an audit row (the X-Request-ID answer header, and the field of
its JSON log lines), so that a row and the log lines of its request can be found from each
other. Nullable: rows written before, and by the command line, have none; the chain hash covers
it only when present, so existing rows keep verifying.

Both directions are plain ALTER TABLE, also on SQLite (ADD COLUMN, and DROP COLUMN since SQLite
3.35): batch mode would rebuild audit_entries on SQLite and lose its append-only triggers.

Revision ID: b35192b3696c
Revises: 9c9b9bae94fd
Create Date: 2026-12-07 22:51:20.605257
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'b35192b3696c'
down_revision: str | None = "9c9b9bae94fd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('audit_entries', sa.Column('request_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('audit_entries', 'request_id')
