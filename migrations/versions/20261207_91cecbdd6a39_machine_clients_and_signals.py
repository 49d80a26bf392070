"""machine clients and signals: systems of responder organisations, their certificates, signals

A control room's own system asks for a content-free signal on every call, authenticated by its
client certificate (mutual TLS). machine_clients holds the registered systems, each of one
responder organisation; client_certificates their certificates by SHA-256 fingerprint (several
while one is rotated); signals every question a system asked (the meldingnummer and the kind of
query, never its terms; the reference only as its SHA-256) and signal_results the plans each
pointed at. lookups.signal_id names the signal a person opened with two factors.

Upgrade: adds the four tables (empty) and lookups.signal_id (empty for the lookups before).
Downgrade: drops them, and with them every registered system, certificate and signal.

Revision ID: 91cecbdd6a39
Revises: f7b019de660a
Create Date: 2026-12-07 22:51:07.937361
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '91cecbdd6a39'
down_revision: str | None = "f7b019de660a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('machine_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_machine_clients_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_machine_clients')),
    sa.UniqueConstraint('name', name=op.f('uq_machine_clients_name'))
    )
    with op.batch_alter_table('machine_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_machine_clients_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('client_certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('not_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['machine_clients.id'], name=op.f('fk_client_certificates_client_id_machine_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_certificates')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_client_certificates_fingerprint'))
    )
    with op.batch_alter_table('client_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_certificates_client_id'), ['client_id'], unique=False)

    op.create_table('signals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('reference_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('incident_ref', sa.String(length=64), nullable=False),
    sa.Column('query_kind', sa.String(length=16), nullable=False),
    sa.Column('performed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('match_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['machine_clients.id'], name=op.f('fk_signals_client_id_machine_clients')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_signals_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals')),
    sa.UniqueConstraint('reference_hash', name=op.f('uq_signals_reference_hash'))
    )
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signals_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signals_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signals_performed_at'), ['performed_at'], unique=False)

    op.create_table('signal_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('signal_id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('match_on', sa.String(length=16), nullable=False),
    sa.Column('quality', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_signal_results_plan_id_plans')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['plan_versions.id'], name=op.f('fk_signal_results_plan_version_id_plan_versions')),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_signal_results_signal_id_signals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signal_results'))
    )
    with op.batch_alter_table('signal_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signal_results_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signal_results_signal_id'), ['signal_id'], unique=False)

    with op.batch_alter_table('lookups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signal_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_lookups_signal_id'), ['signal_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_lookups_signal_id_signals'), 'signals', ['signal_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('lookups', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lookups_signal_id_signals'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_lookups_signal_id'))
        batch_op.drop_column('signal_id')

    with op.batch_alter_table('signal_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signal_results_signal_id'))
        batch_op.drop_index(batch_op.f('ix_signal_results_plan_id'))

    op.drop_table('signal_results')
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signals_performed_at'))
        batch_op.drop_index(batch_op.f('ix_signals_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_signals_client_id'))

    op.drop_table('signals')
    with op.batch_alter_table('client_certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_certificates_client_id'))

    op.drop_table('client_certificates')
    with op.batch_alter_table('machine_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_machine_clients_organisation_id'))

    op.drop_table('machine_clients')
