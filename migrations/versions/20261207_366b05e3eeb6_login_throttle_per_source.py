"""Login throttle per (username, source address); the account lock only after wrong codes.

Failed logins used to count per username, from wherever they came: ten wrong passwords for a
known username locked it for everyone, thirty until a coordinator acted. Now failures count per
username and source address (login_source_throttles: that address waits, others do not), and
the account itself counts only wrong codes after a right password (login_throttles.code_failures).

Upgrade: the old per-username counts mixed wrong passwords from every address and say nothing
under the new rules, so they go (rows without a hard lock are removed, the counts of the others
start at 0); a hard lock stays until a coordinator lifts it, as before. Downgrade: the per-source
rows are dropped (waits that would otherwise lock the username for every address); the account
rows go back with their counts and hard locks.

Revision ID: 366b05e3eeb6
Revises: 23f28ed23653
Create Date: 2026-12-07 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '366b05e3eeb6'
down_revision: str | None = '23f28ed23653'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_throttles = sa.table(
    'login_throttles',
    sa.column('hard_locked', sa.Boolean()),
    sa.column('code_failures', sa.Integer()),
)


def upgrade() -> None:
    op.create_table('login_source_throttles',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('username', 'source', name=op.f('pk_login_source_throttles'))
    )
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.alter_column('consecutive_failures', new_column_name='code_failures',
                              existing_type=sa.Integer(), existing_nullable=False)
        batch_op.drop_column('locked_until')
    op.execute(_throttles.delete().where(_throttles.c.hard_locked.is_(False)))
    op.execute(_throttles.update().values(code_failures=0))


def downgrade() -> None:
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('code_failures', new_column_name='consecutive_failures',
                              existing_type=sa.Integer(), existing_nullable=False)
    op.drop_table('login_source_throttles')
