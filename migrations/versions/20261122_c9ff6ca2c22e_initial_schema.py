"""Initial schema: accounts, plans with versions, lookups, reports, feedback, audit chain.

Revision ID: c9ff6ca2c22e
Revises: 
Create Date: 2026-11-22 22:45:40.297433
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'c9ff6ca2c22e'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_entries',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_entries_hash'))
    )
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_entry_id', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    # the chain's genesis: appends lock this row, so it must exist before the first one
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer),
            sa.column("last_entry_id", sa.BigInteger),
            sa.column("last_hash", sa.String),
            sa.column("count", sa.BigInteger),
        ),
        [{"id": 1, "last_entry_id": 0, "last_hash": "0" * 64, "count": 0}],
    )
    op.create_table('closed_days',
    sa.Column('day_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('day_on', name=op.f('pk_closed_days'))
    )
    op.create_table('login_throttles',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hard_locked', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_login_throttles'))
    )
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('name', name=op.f('uq_organisations_name'))
    )
    op.create_table('plans',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_organisation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.Text(), nullable=True),
    sa.Column('expired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_14_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_3_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['owner_organisation_id'], ['organisations.id'], name=op.f('fk_plans_owner_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans'))
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plans_owner_organisation_id'), ['owner_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plans_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_plans_valid_until'), ['valid_until'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('enrolment_token_hash', sa.String(length=64), nullable=True),
    sa.Column('enrolment_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_users_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('enrolment_token_hash', name=op.f('uq_users_enrolment_token_hash')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('lookups',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('incident_ref', sa.String(length=64), nullable=False),
    sa.Column('query_kind', sa.String(length=16), nullable=False),
    sa.Column('performed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('match_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_lookups_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lookups_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lookups'))
    )
    with op.batch_alter_table('lookups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lookups_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lookups_performed_at'), ['performed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lookups_user_id'), ['user_id'], unique=False)

    op.create_table('plan_shares',
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_plan_shares_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_shares_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', 'organisation_id', name=op.f('pk_plan_shares'))
    )
    with op.batch_alter_table('plan_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_shares_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('plan_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('family_profile', sa.String(length=64), nullable=True),
    sa.Column('risk_signals', sa.JSON(), nullable=False),
    sa.Column('owner_name', sa.String(length=200), nullable=False),
    sa.Column('owner_phone', sa.String(length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_plan_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_versions_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_versions')),
    sa.UniqueConstraint('plan_id', 'version', name=op.f('uq_plan_versions_plan_id_version'))
    )
    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_versions_plan_id'), ['plan_id'], unique=False)

    op.create_table('user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_roles'))
    )
    op.create_table('web_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('postcode', sa.String(length=6), nullable=False),
    sa.Column('house_number', sa.Integer(), nullable=False),
    sa.Column('house_number_suffix', sa.String(length=16), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['plan_version_id'], ['plan_versions.id'], name=op.f('fk_addresses_plan_version_id_plan_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addresses'))
    )
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_addresses_plan_version_id'), ['plan_version_id'], unique=False)
        batch_op.create_index('ix_addresses_postcode_number', ['postcode', 'house_number'], unique=False)

    op.create_table('agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['plan_version_id'], ['plan_versions.id'], name=op.f('fk_agreements_plan_version_id_plan_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements'))
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreements_plan_version_id'), ['plan_version_id'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('relation', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('available', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['plan_version_id'], ['plan_versions.id'], name=op.f('fk_contacts_plan_version_id_plan_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_plan_version_id'), ['plan_version_id'], unique=False)

    op.create_table('lookup_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lookup_id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('match_on', sa.String(length=16), nullable=False),
    sa.Column('quality', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['lookup_id'], ['lookups.id'], name=op.f('fk_lookup_results_lookup_id_lookups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_lookup_results_plan_id_plans')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['plan_versions.id'], name=op.f('fk_lookup_results_plan_version_id_plan_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lookup_results'))
    )
    with op.batch_alter_table('lookup_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lookup_results_lookup_id'), ['lookup_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lookup_results_plan_id'), ['plan_id'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('surname_prefix', sa.String(length=30), nullable=False),
    sa.Column('surname', sa.String(length=150), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('do_not_inform', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['plan_version_id'], ['plan_versions.id'], name=op.f('fk_persons_plan_version_id_plan_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_birth_date'), ['birth_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_plan_version_id'), ['plan_version_id'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('lookup_id', sa.Uuid(), nullable=True),
    sa.Column('incident_ref', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mode', sa.String(length=32), nullable=False),
    sa.Column('responders', sa.JSON(), nullable=False),
    sa.Column('violence_type', sa.String(length=32), nullable=True),
    sa.Column('household_type', sa.String(length=32), nullable=True),
    sa.Column('care_involvement', sa.String(length=32), nullable=True),
    sa.Column('mental_health_service', sa.String(length=32), nullable=True),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('feedback_due', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_reports_created_by_id_users')),
    sa.ForeignKeyConstraint(['lookup_id'], ['lookups.id'], name=op.f('fk_reports_lookup_id_lookups')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_reports_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_reports_plan_id_plans')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['plan_versions.id'], name=op.f('fk_reports_plan_version_id_plan_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('created_by_id', 'idempotency_key', name=op.f('uq_reports_created_by_id_idempotency_key'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_feedback_due'), ['feedback_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_lookup_id'), ['lookup_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_plan_id'), ['plan_id'], unique=False)

    op.create_table('feedback_acknowledgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=True),
    sa.Column('lookup_id', sa.Uuid(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lookup_id'], ['lookups.id'], name=op.f('fk_feedback_acknowledgements_lookup_id_lookups')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_feedback_acknowledgements_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_feedback_acknowledgements_report_id_reports')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_feedback_acknowledgements_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_acknowledgements')),
    sa.UniqueConstraint('organisation_id', 'lookup_id', name=op.f('uq_feedback_acknowledgements_organisation_id_lookup_id')),
    sa.UniqueConstraint('organisation_id', 'report_id', name=op.f('uq_feedback_acknowledgements_organisation_id_report_id'))
    )
    with op.batch_alter_table('feedback_acknowledgements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_acknowledgements_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('report_agreements',
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_report_agreements_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_agreements_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'agreement_id', name=op.f('pk_report_agreements'))
    )
    op.create_table('report_amendments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_report_amendments_created_by_id_users')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_amendments_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_amendments'))
    )
    with op.batch_alter_table('report_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_amendments_report_id'), ['report_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_amendments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_amendments_report_id'))

    op.drop_table('report_amendments')
    op.drop_table('report_agreements')
    with op.batch_alter_table('feedback_acknowledgements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_acknowledgements_organisation_id'))

    op.drop_table('feedback_acknowledgements')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_plan_id'))
        batch_op.drop_index(batch_op.f('ix_reports_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_reports_lookup_id'))
        batch_op.drop_index(batch_op.f('ix_reports_feedback_due'))

    op.drop_table('reports')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_plan_version_id'))
        batch_op.drop_index(batch_op.f('ix_persons_phone'))
        batch_op.drop_index(batch_op.f('ix_persons_birth_date'))

    op.drop_table('persons')
    with op.batch_alter_table('lookup_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lookup_results_plan_id'))
        batch_op.drop_index(batch_op.f('ix_lookup_results_lookup_id'))

    op.drop_table('lookup_results')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_plan_version_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreements_plan_version_id'))

    op.drop_table('agreements')
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_index('ix_addresses_postcode_number')
        batch_op.drop_index(batch_op.f('ix_addresses_plan_version_id'))

    op.drop_table('addresses')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))

    op.drop_table('web_sessions')
    op.drop_table('user_roles')
    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_versions_plan_id'))

    op.drop_table('plan_versions')
    with op.batch_alter_table('plan_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_shares_organisation_id'))

    op.drop_table('plan_shares')
    with op.batch_alter_table('lookups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lookups_user_id'))
        batch_op.drop_index(batch_op.f('ix_lookups_performed_at'))
        batch_op.drop_index(batch_op.f('ix_lookups_organisation_id'))

    op.drop_table('lookups')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_organisation_id'))

    op.drop_table('users')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plans_valid_until'))
        batch_op.drop_index(batch_op.f('ix_plans_status'))
        batch_op.drop_index(batch_op.f('ix_plans_owner_organisation_id'))

    op.drop_table('plans')
    op.drop_table('organisations')
    op.drop_table('login_throttles')
    op.drop_table('closed_days')
    op.drop_table('audit_head')
    op.drop_table('audit_entries')
