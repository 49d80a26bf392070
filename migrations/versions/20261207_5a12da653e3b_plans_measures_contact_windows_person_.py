"""plans: measures, contact windows, person language and reasons, several profiles

The plan as the practice writes it (issue 18): lopende maatregelen (a new table), a contact's
availability as weekly windows with "weet van het handelingskader" and "nummer getest op", an
agreement's contact, a geheim address (and whether a lookup found the plan through the
perpetrator, so that it shows none), a person's language, interpreter, the reason not to
inform and a perpetrator's confirmed "mag ervan weten", and several family profiles.

Data moved: the one family_profile becomes a list of one (or an empty list); a contact whose
free text said it is always reachable ("dag en nacht", "24/7", "24 uur", "altijd") gets the
24/7 window, and every free text stays as the contact's note (`available`). Persons that must
not be informed keep an empty reason, and perpetrators are not taken to have been confirmed:
the plan page asks the owner for both, and the next version cannot be saved without them.
Going back, the first profile is the profile again; what the old schema cannot hold is dropped.

Revision ID: 5a12da653e3b
Revises: 91cecbdd6a39
Create Date: 2026-12-07 23:15:45.966906
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5a12da653e3b"
down_revision: str | None = "91cecbdd6a39"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALWAYS = '[{"days": [1, 2, 3, 4, 5, 6, 7], "from": "00:00", "to": "24:00"}]'
ALWAYS_TEXTS = "('dag en nacht', '24/7', '24 uur', '24 uur per dag', 'altijd', 'dag & nacht')"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "measures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_versions.id"],
            name=op.f("fk_measures_plan_version_id_plan_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measures")),
    )
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_measures_plan_version_id"), ["plan_version_id"], unique=False)

    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_secret", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_number", sa.Integer(), nullable=True))

    with op.batch_alter_table("lookup_results", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("via_perpetrator", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("availability", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("knows_plan", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("tested_on", sa.Date(), nullable=True))
    always = f"CAST('{ALWAYS}' AS JSON)" if postgresql else f"'{ALWAYS}'"
    op.execute(
        f"UPDATE contacts SET availability = {always} "  # noqa: S608 (constants of this revision)
        f"WHERE lower(trim(available)) IN {ALWAYS_TEXTS}"
    )

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("do_not_inform_reason", sa.Text(), nullable=False, server_default=sa.text("''"))
        )
        batch_op.add_column(
            sa.Column("perpetrator_may_know", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("language", sa.String(length=50), nullable=False, server_default=sa.text("''"))
        )
        batch_op.add_column(
            sa.Column("interpreter_needed", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("family_profiles", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    one = "json_build_array(family_profile)" if postgresql else "json_array(family_profile)"
    op.execute(f"UPDATE plan_versions SET family_profiles = {one} WHERE family_profile IS NOT NULL")  # noqa: S608
    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.drop_column("family_profile")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("family_profile", sa.VARCHAR(length=64), nullable=True))
    first = "family_profiles ->> 0" if postgresql else "json_extract(family_profiles, '$[0]')"
    op.execute(f"UPDATE plan_versions SET family_profile = {first}")  # noqa: S608
    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.drop_column("family_profiles")

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("interpreter_needed")
        batch_op.drop_column("language")
        batch_op.drop_column("perpetrator_may_know")
        batch_op.drop_column("do_not_inform_reason")

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("tested_on")
        batch_op.drop_column("knows_plan")
        batch_op.drop_column("availability")

    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_column("contact_number")

    with op.batch_alter_table("lookup_results", schema=None) as batch_op:
        batch_op.drop_column("via_perpetrator")

    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.drop_column("is_secret")

    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measures_plan_version_id"))

    op.drop_table("measures")
