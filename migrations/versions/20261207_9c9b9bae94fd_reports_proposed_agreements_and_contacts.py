"""reports: proposed agreements and contacts, the owners' decision

A report may carry agreements and contacts the responder made with the family (proposed_agreements,
proposed_contacts: never edited, like the report), and the owners decide on them once
(proposal_decisions, one per report: accepted into a plan version, or declined with a reason).
New tables only: no data moves, and downgrade drops them.

Revision ID: 9c9b9bae94fd
Revises: bddb6b38fe51
Create Date: 2026-12-07 22:52:11.035539
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c9b9bae94fd"
down_revision: str | None = "bddb6b38fe51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proposal_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_proposal_decisions_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_proposal_decisions_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_proposal_decisions_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_decisions")),
        sa.UniqueConstraint("report_id", name=op.f("uq_proposal_decisions_report_id")),
    )
    op.create_table(
        "proposed_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_proposed_agreements_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposed_agreements")),
        sa.UniqueConstraint("report_id", "position", name=op.f("uq_proposed_agreements_report_id_position")),
    )
    op.create_table(
        "proposed_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relation", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("available", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_proposed_contacts_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposed_contacts")),
        sa.UniqueConstraint("report_id", "position", name=op.f("uq_proposed_contacts_report_id_position")),
    )


def downgrade() -> None:
    op.drop_table("proposed_contacts")
    op.drop_table("proposed_agreements")
    op.drop_table("proposal_decisions")
