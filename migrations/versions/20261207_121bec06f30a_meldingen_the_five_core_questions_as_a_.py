"""meldingen: the five core questions as a shared record

One new table, assessment_additions: what each partner added to a section of a melding's record
(append-only; a correction names the addition it corrects). No rows move: meldingen recorded
before this revision simply have an empty record.

Revision ID: 121bec06f30a
Revises: b35192b3696c
Create Date: 2026-12-07 22:50:49.079687
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "121bec06f30a"
down_revision: str | None = "b35192b3696c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_additions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("melding_id", sa.Uuid(), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["assessment_additions.id"],
            name=op.f("fk_assessment_additions_corrects_id_assessment_additions"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_assessment_additions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["melding_id"], ["meldingen.id"], name=op.f("fk_assessment_additions_melding_id_meldingen")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_assessment_additions_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_assessment_additions_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_additions")),
    )
    with op.batch_alter_table("assessment_additions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assessment_additions_melding_id_created_at", ["melding_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assessment_additions", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_additions_melding_id_created_at")
    op.drop_table("assessment_additions")
