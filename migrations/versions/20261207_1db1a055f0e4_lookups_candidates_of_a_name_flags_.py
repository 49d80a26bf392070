"""lookups: candidates of a name, flags, meldingnummer format

Against harvesting by an insider (docs/privacy.md): an organisation's meldingnummer format
(organisations.incident_ref_pattern, _example); a name without a birth date lists candidates
(lookup_candidates) and opens one plan at a time (lookups.opened_from, lookups.name_only); a
user's lookups of the last hour counted from the table (ix_lookups_user_id_performed_at); and
the flags for the privacy officer (lookup_flags). Existing lookups are not name-only: they showed
what they found, as lookups did then. Downgrade drops what was added.

Revision ID: 1db1a055f0e4
Revises: e4a7c2d9b16f
Create Date: 2026-12-07 19:48:18.393583
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '1db1a055f0e4'
down_revision: str | None = 'e4a7c2d9b16f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lookup_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_user_id'], ['users.id'], name=op.f('fk_lookup_flags_closed_by_user_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_lookup_flags_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lookup_flags_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lookup_flags')),
    sa.UniqueConstraint('user_id', 'rule', 'day', name='uq_lookup_flags_user_rule_day')
    )
    with op.batch_alter_table('lookup_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lookup_flags_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lookup_flags_user_id'), ['user_id'], unique=False)

    op.create_table('lookup_candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lookup_id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('quality', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['lookup_id'], ['lookups.id'], name=op.f('fk_lookup_candidates_lookup_id_lookups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_lookup_candidates_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lookup_candidates'))
    )
    with op.batch_alter_table('lookup_candidates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lookup_candidates_lookup_id'), ['lookup_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lookup_candidates_plan_id'), ['plan_id'], unique=False)

    with op.batch_alter_table('lookups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_only', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('opened_from', sa.Uuid(), nullable=True))
        batch_op.create_index('ix_lookups_user_id_performed_at', ['user_id', 'performed_at', 'name_only'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_lookups_opened_from_lookups'), 'lookups', ['opened_from'], ['id'])

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incident_ref_pattern', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('incident_ref_example', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('incident_ref_example')
        batch_op.drop_column('incident_ref_pattern')

    with op.batch_alter_table('lookups', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lookups_opened_from_lookups'), type_='foreignkey')
        batch_op.drop_index('ix_lookups_user_id_performed_at')
        batch_op.drop_column('opened_from')
        batch_op.drop_column('name_only')

    with op.batch_alter_table('lookup_candidates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lookup_candidates_plan_id'))
        batch_op.drop_index(batch_op.f('ix_lookup_candidates_lookup_id'))

    op.drop_table('lookup_candidates')
    with op.batch_alter_table('lookup_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lookup_flags_user_id'))
        batch_op.drop_index(batch_op.f('ix_lookup_flags_closed_at'))

    op.drop_table('lookup_flags')
