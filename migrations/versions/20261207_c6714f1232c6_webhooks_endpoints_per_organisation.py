"""webhooks: endpoints per organisation, outbox rows per endpoint

An organisation's own system is told of feedback, spoedmeldingen, acknowledgements and expiring
plans by a signed HTTP POST (registry.webhooks, docs/api.md). webhook_endpoints holds each
receiving URL, the events it wants and its signing secret (encrypted under TOTP_KEY);
outbox.endpoint_id names the endpoint of a webhook row (NULL for e-mail), whose secret signs it
and whose rows leave in order.

Upgrade: adds the table (empty) and outbox.endpoint_id (NULL for the rows before: all e-mail).
Downgrade: drops both, and with them every endpoint; webhook rows left in the outbox would then
have no endpoint, so the downgrade removes them first.

Revision ID: c6714f1232c6
Revises: 5a12da653e3b
Create Date: 2026-12-07 23:31:36.368783
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'c6714f1232c6'
down_revision: str | None = '5a12da653e3b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('previous_secret_encrypted', sa.Text(), nullable=True),
    sa.Column('previous_secret_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('secret_rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_webhook_endpoints_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_endpoints_organisation_id'), ['organisation_id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('endpoint_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_endpoint_id'), ['endpoint_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_endpoint_id_webhook_endpoints'), 'webhook_endpoints', ['endpoint_id'], ['id'])


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE endpoint_id IS NOT NULL")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_endpoint_id_webhook_endpoints'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_endpoint_id'))
        batch_op.drop_column('endpoint_id')

    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_endpoints_organisation_id'))

    op.drop_table('webhook_endpoints')
