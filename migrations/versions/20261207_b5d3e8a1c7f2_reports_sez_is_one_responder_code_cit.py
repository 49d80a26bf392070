"""reports: SEZ is one responder code, cit; youth_protection is the jeugdbeschermer

The pilots count the youth crisis service as one partner, SEZ (Spoedeisende Zorg; elsewhere
the CIT), and its type inzet (VT/SEZ) is derived from it. Until now a responder recorded SEZ as
either `cit` ("CIT") or `youth_protection` ("Jeugdbescherming (SEZ)"). From now on `cit` is
"CIT / SEZ (spoedeisende zorg jeugd)" and `youth_protection` is "Jeugdbeschermer": the family's
own youth protection officer, who is not the crisis service.

Upgrade: every report whose responders hold `youth_protection` was recorded under the label
"Jeugdbescherming (SEZ)", the only youth-protection choice there was: it meant SEZ, and now
says `cit` (once, when the report named both; the list stays sorted, as reports store it).
No schema change.
Downgrade: leaves the responders as they are. Which `cit` was a `youth_protection` before
cannot be told any more, and `cit` is a valid code before this revision too; nothing is lost
that the old schema could hold.

Revision ID: b5d3e8a1c7f2
Revises: f63f01428cac
Create Date: 2026-12-07 20:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'b5d3e8a1c7f2'
down_revision: str | None = 'f63f01428cac'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the codes as they stood when this revision was written
SEZ_BEFORE = 'youth_protection'
SEZ = 'cit'

_reports = sa.table(
    'reports',
    sa.column('id', sa.Uuid()),
    sa.column('responders', sa.JSON()),
)


def upgrade() -> None:
    connection = op.get_bind()
    # the JSON text holds the code in quotes: a LIKE finds the candidates on both databases
    candidates = connection.execute(
        sa.select(_reports.c.id, _reports.c.responders).where(
            sa.cast(_reports.c.responders, sa.Text()).like(f'%"{SEZ_BEFORE}"%')
        )
    ).all()
    changed = [
        {'report_id': report_id, 'merged': sorted({SEZ if code == SEZ_BEFORE else code for code in responders})}
        for report_id, responders in candidates
        if SEZ_BEFORE in responders
    ]
    if changed:
        connection.execute(
            _reports.update()
            .where(_reports.c.id == sa.bindparam('report_id', type_=sa.Uuid()))
            .values(responders=sa.bindparam('merged', type_=sa.JSON())),
            changed,
        )


def downgrade() -> None:
    # see the docstring: which cit was youth_protection cannot be told, and cit is valid before
    pass
