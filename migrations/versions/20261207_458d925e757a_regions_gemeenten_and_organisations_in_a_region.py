"""regions: regions with their Veilig Thuis, gemeenten with inhabitants, organisations in a region

An organisation's region was free text that nothing read. A region is now a row: it names its
Veilig Thuis organisation (who hears of the meldingen without a handelingskader) and holds its
gemeenten with their inhabitants (for the per-1.000 figures); organisations point at it.

Upgrade: one region per distinct region text (spaces around it ignored; its created_at the
earliest of its organisations'), each organisation linked to its own; organisations without a
region, or with an empty one, get none. No region names a Veilig Thuis yet.
Downgrade: each organisation's region text is its region's name again; the gemeenten and the
Veilig Thuis links are dropped (the old schema has no place for them).

Revision ID: 458d925e757a
Revises: 32c42c5a98d1
Create Date: 2026-12-07 18:09:51.739500
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '458d925e757a'
down_revision: str | None = '32c42c5a98d1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('regions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('veilig_thuis_organisation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['veilig_thuis_organisation_id'], ['organisations.id'], name=op.f('fk_regions_veilig_thuis_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regions')),
    sa.UniqueConstraint('name', name=op.f('uq_regions_name'))
    )
    op.create_table('gemeenten',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_gemeenten_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gemeenten')),
    sa.UniqueConstraint('name', name=op.f('uq_gemeenten_name'))
    )
    with op.batch_alter_table('gemeenten', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gemeenten_region_id'), ['region_id'], unique=False)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_organisations_region_id'), ['region_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_organisations_region_id_regions'), 'regions', ['region_id'], ['id'])

    op.execute(
        "INSERT INTO regions (name, created_at) "
        "SELECT TRIM(region), MIN(created_at) FROM organisations "
        "WHERE region IS NOT NULL AND TRIM(region) <> '' GROUP BY TRIM(region)"
    )
    op.execute(
        "UPDATE organisations SET region_id = "
        "(SELECT regions.id FROM regions WHERE regions.name = TRIM(organisations.region))"
    )

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('region')


def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.VARCHAR(length=100), nullable=True))

    op.execute(
        "UPDATE organisations SET region = "
        "(SELECT regions.name FROM regions WHERE regions.id = organisations.region_id)"
    )

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_organisations_region_id_regions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_organisations_region_id'))
        batch_op.drop_column('region_id')

    with op.batch_alter_table('gemeenten', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gemeenten_region_id'))

    op.drop_table('gemeenten')
    op.drop_table('regions')
