"""spoed: a report's deadline in hours, the urgent mark, an organisation's spoed address, escalations

After an arrest or a temporary restraining order, or when the responder marks it urgent, a report
is a spoedmelding: due within hours (reports.feedback_due_at), announced at once to each
receiving organisation's spoed address (organisations.spoed_email), and escalated once to the
coordinators of an organisation that let the deadline pass (spoed_escalations).

Upgrade: adds reports.urgent (false for the reports before), urgent_reason and feedback_due_at
(empty: reports stored before keep their terugkoppeldag; none becomes a spoedmelding
afterwards), organisations.spoed_email (empty) and the table spoed_escalations.
Downgrade: drops them, and with them the deadlines, marks, addresses and escalations recorded.

Revision ID: 7c3e9f2a4b10
Revises: 1db1a055f0e4
Create Date: 2026-12-07 21:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '7c3e9f2a4b10'
down_revision: str | None = '1db1a055f0e4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('urgent_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('feedback_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_reports_feedback_due_at'), ['feedback_due_at'], unique=False)
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spoed_email', sa.String(length=254), nullable=True))
    op.create_table(
        'spoed_escalations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.Uuid(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recipients', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_spoed_escalations_organisation_id_organisations')),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_spoed_escalations_report_id_reports')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_spoed_escalations')),
        sa.UniqueConstraint('report_id', 'organisation_id', name=op.f('uq_spoed_escalations_report_id_organisation_id')),
    )
    with op.batch_alter_table('spoed_escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spoed_escalations_report_id'), ['report_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('spoed_escalations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spoed_escalations_report_id'))
    op.drop_table('spoed_escalations')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('spoed_email')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_feedback_due_at'))
        batch_op.drop_column('feedback_due_at')
        batch_op.drop_column('urgent_reason')
        batch_op.drop_column('urgent')
