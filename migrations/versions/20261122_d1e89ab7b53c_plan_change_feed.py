"""Plan change feed: the ordered list of plan changes that every search index applies.

Revision ID: d1e89ab7b53c
Revises: c9ff6ca2c22e
Create Date: 2026-11-22 22:53:53.797572
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'd1e89ab7b53c'
down_revision: str | None = 'c9ff6ca2c22e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('plan_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_changes'))
    )
    with op.batch_alter_table('plan_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_changes_plan_id'), ['plan_id'], unique=False)
    # plans that existed before the feed: one change each, so every index picks them up
    op.execute("INSERT INTO plan_changes (plan_id, changed_at) SELECT id, updated_at FROM plans")



def downgrade() -> None:
    with op.batch_alter_table('plan_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_changes_plan_id'))

    op.drop_table('plan_changes')
