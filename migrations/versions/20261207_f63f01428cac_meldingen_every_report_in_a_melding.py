"""meldingen: every report in a melding (one acute call); a report without a plan

The pilots count meldingen, not reports: a call the police and Veilig Thuis both reported is
one melding, and a call about a family without a handelingskader is a melding too. Each report
now belongs to a melding (reports.melding_id, required), and reports.plan_id and
plan_version_id may be empty (a melding without a handelingskader).

Upgrade: every existing report gets a melding. In order of the time of the call, a report
joins the melding with the same meldingnummer (case and spaces ignored) whose call came in
within 7 days of its own (the nearest, when more), whichever organisation reported, as
registry.core.rules.same_melding has it; otherwise it starts one, with its meldingnummer, its
time and its plan. No melding has a gemeente yet.
Downgrade: refused while a report without a plan exists (the old schema cannot hold it, and
dropping it would lose what a responder recorded); otherwise the meldingen are dropped and the
reports are as they were.

Revision ID: f63f01428cac
Revises: 458d925e757a
Create Date: 2026-12-07 18:12:45.961060
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op


revision: str = 'f63f01428cac'
down_revision: str | None = '458d925e757a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the rule as it stood when this revision was written (registry.core.rules: melding_key_of,
# MELDING_WINDOW): a revision must not change when the code's rule does
WINDOW = timedelta(days=7)


def key_of(incident_ref: str) -> str:
    return "".join(incident_ref.split()).casefold()


_reports = sa.table(
    'reports',
    sa.column('id', sa.Uuid()),
    sa.column('plan_id', sa.Uuid()),
    sa.column('incident_ref', sa.String()),
    sa.column('occurred_at', sa.DateTime(timezone=True)),
    sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('melding_id', sa.Uuid()),
)
_meldingen = sa.table(
    'meldingen',
    sa.column('id', sa.Uuid()),
    sa.column('incident_ref', sa.String()),
    sa.column('incident_key', sa.String()),
    sa.column('occurred_at', sa.DateTime(timezone=True)),
    sa.column('plan_id', sa.Uuid()),
    sa.column('created_at', sa.DateTime(timezone=True)),
)


def _aware(moment: datetime) -> datetime:
    # SQLite gives back the stored UTC time without its offset
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _fill_meldingen() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_reports.c.id, _reports.c.plan_id, _reports.c.incident_ref, _reports.c.occurred_at,
                  _reports.c.created_at)
    ).all()
    meldingen: dict[str, list[dict]] = {}  # incident_key -> its meldingen
    links: list[dict] = []
    for report_id, plan_id, incident_ref, occurred_at, created_at in sorted(
        rows, key=lambda row: (_aware(row.occurred_at), _aware(row.created_at), str(row.id))
    ):
        occurred = _aware(occurred_at)
        key = key_of(incident_ref)
        near = [m for m in meldingen.get(key, []) if abs(m['occurred'] - occurred) <= WINDOW]
        if near:
            melding = min(near, key=lambda m: abs(m['occurred'] - occurred))
            if melding['plan_id'] is None:
                melding['plan_id'] = plan_id
        else:
            melding = {'id': uuid.uuid4(), 'incident_ref': incident_ref, 'incident_key': key,
                       'occurred_at': occurred_at, 'occurred': occurred, 'plan_id': plan_id,
                       'created_at': created_at}
            meldingen.setdefault(key, []).append(melding)
        links.append({'report_id': report_id, 'melding_id': melding['id']})
    stored = [
        {name: value for name, value in melding.items() if name != 'occurred'}
        for group in meldingen.values() for melding in group
    ]
    if stored:
        connection.execute(_meldingen.insert(), stored)
        connection.execute(
            _reports.update()
            .where(_reports.c.id == sa.bindparam('report_id', type_=sa.Uuid()))
            .values(melding_id=sa.bindparam('melding_id', type_=sa.Uuid())),
            links,
        )


def upgrade() -> None:
    op.create_table('meldingen',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('incident_ref', sa.String(length=64), nullable=False),
    sa.Column('incident_key', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('gemeente_id', sa.Integer(), nullable=True),
    sa.Column('plan_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['gemeente_id'], ['gemeenten.id'], name=op.f('fk_meldingen_gemeente_id_gemeenten')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_meldingen_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meldingen'))
    )
    with op.batch_alter_table('meldingen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meldingen_gemeente_id'), ['gemeente_id'], unique=False)
        batch_op.create_index('ix_meldingen_incident_key_occurred_at', ['incident_key', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_meldingen_plan_id'), ['plan_id'], unique=False)

    # three steps: nullable, filled, then required
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('melding_id', sa.Uuid(), nullable=True))
    _fill_meldingen()
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.alter_column('melding_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.alter_column('plan_id', existing_type=sa.Uuid(), nullable=True)
        batch_op.alter_column('plan_version_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_reports_melding_id'), ['melding_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_reports_melding_id_meldingen'), 'meldingen', ['melding_id'], ['id'])


def downgrade() -> None:
    planless = op.get_bind().scalar(sa.text("SELECT COUNT(*) FROM reports WHERE plan_id IS NULL"))
    if planless:
        raise RuntimeError(
            f"{planless} report(s) record a melding without a handelingskader: the schema before "
            "f63f01428cac cannot hold them. Export and remove them first, or stay at this revision."
        )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reports_melding_id_meldingen'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_reports_melding_id'))
        batch_op.alter_column('plan_version_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('plan_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column('melding_id')

    with op.batch_alter_table('meldingen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meldingen_plan_id'))
        batch_op.drop_index('ix_meldingen_incident_key_occurred_at')
        batch_op.drop_index(batch_op.f('ix_meldingen_gemeente_id'))

    op.drop_table('meldingen')
