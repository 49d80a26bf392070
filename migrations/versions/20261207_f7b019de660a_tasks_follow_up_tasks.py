"""tasks: follow-up tasks (Opvolging), one per melding, kind and organisation

A new table only: no rows to move. Meldingen stored before it have no tasks; their clocks
(48 hours, 24 hours, 10 days) start with the reports stored afterwards.

Revision ID: f7b019de660a
Revises: 121bec06f30a
Create Date: 2026-12-07 22:51:42.346167
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'f7b019de660a'
down_revision: str | None = "121bec06f30a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'follow_up_tasks',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('melding_id', sa.Uuid(), nullable=False),
        sa.Column('report_id', sa.Uuid(), nullable=False),
        sa.Column('plan_id', sa.Uuid(), nullable=True),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('remind_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.Column('done_note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_follow_up_tasks_done_by_id_users')),
        sa.ForeignKeyConstraint(['melding_id'], ['meldingen.id'], name=op.f('fk_follow_up_tasks_melding_id_meldingen')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_follow_up_tasks_organisation_id_organisations')),
        sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_follow_up_tasks_plan_id_plans')),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_follow_up_tasks_report_id_reports')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_tasks')),
        sa.UniqueConstraint('melding_id', 'kind', 'organisation_id', name=op.f('uq_follow_up_tasks_melding_id_kind_organisation_id')),
    )
    with op.batch_alter_table('follow_up_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_tasks_organisation_id_done_at', ['organisation_id', 'done_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_tasks_report_id'), ['report_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('follow_up_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_tasks_report_id'))
        batch_op.drop_index('ix_follow_up_tasks_organisation_id_done_at')
    op.drop_table('follow_up_tasks')
