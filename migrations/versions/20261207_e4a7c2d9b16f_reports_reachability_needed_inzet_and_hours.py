"""reports: reachability, the inzet that was needed, and the hours spent

The pilot described in words what it could not count: how soon the police had VT on the line
and which team answered, whether the inzet given was the one needed, and the time it took.
Four optional columns on reports let a responder record them (all empty for the reports before).

Upgrade: adds reached_after_minutes, answered_by, needed_mode and hours_spent, empty.
Downgrade: drops them, and with them what was recorded in them.

Revision ID: e4a7c2d9b16f
Revises: b5d3e8a1c7f2
Create Date: 2026-12-07 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e4a7c2d9b16f'
down_revision: str | None = 'b5d3e8a1c7f2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reached_after_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('answered_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('needed_mode', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('hours_spent', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('hours_spent')
        batch_op.drop_column('needed_mode')
        batch_op.drop_column('answered_by')
        batch_op.drop_column('reached_after_minutes')
