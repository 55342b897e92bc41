"""returns, reference data and tokens

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 05:31:36.307254
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organisations',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('place', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_organisations'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisations_place'), ['place'], unique=False)

    op.create_table('staff_groups',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('counts_as_nursing', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_staff_groups'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.String(length=200), nullable=False),
    sa.Column('organisation_code', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_code'], ['organisations.code'], name=op.f('fk_api_tokens_organisation_code_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_code', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('latest_revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_code'], ['organisations.code'], name=op.f('fk_returns_organisation_code_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_returns')),
    sa.UniqueConstraint('organisation_code', 'period', name=op.f('uq_returns_organisation_code'))
    )
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_returns_period'), ['period'], unique=False)

    op.create_table('return_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('amendment_reason', sa.Text(), nullable=True),
    sa.Column('submitted_by', sa.String(length=200), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('synthetic', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['returns.id'], name=op.f('fk_return_revisions_return_id_returns'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_revisions')),
    sa.UniqueConstraint('return_id', 'revision', name=op.f('uq_return_revisions_return_id'))
    )
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_code', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_code'], ['organisations.code'], name=op.f('fk_idempotency_keys_organisation_code_organisations')),
    sa.ForeignKeyConstraint(['revision_id'], ['return_revisions.id'], name=op.f('fk_idempotency_keys_revision_id_return_revisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('organisation_code', 'key', name=op.f('uq_idempotency_keys_organisation_code'))
    )
    op.create_table('return_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('staff_group', sa.String(length=32), nullable=False),
    sa.Column('establishment_wte', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('staff_in_post_wte', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('vacancy_wte', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('starters_wte', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('leavers_wte', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('bank_wte', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('agency_wte', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('bank_spend_gbp', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('agency_spend_gbp', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('sickness_absence_rate', sa.Numeric(precision=6, scale=4), nullable=True),
    sa.ForeignKeyConstraint(['revision_id'], ['return_revisions.id'], name=op.f('fk_return_lines_revision_id_return_revisions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['staff_group'], ['staff_groups.code'], name=op.f('fk_return_lines_staff_group_staff_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_lines')),
    sa.UniqueConstraint('revision_id', 'staff_group', name=op.f('uq_return_lines_revision_id'))
    )
    with op.batch_alter_table('return_lines', schema=None) as batch_op:
        batch_op.create_index('ix_return_lines_staff_group', ['staff_group'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('return_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_return_lines_staff_group')

    op.drop_table('return_lines')
    op.drop_table('idempotency_keys')
    op.drop_table('return_revisions')
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_returns_period'))

    op.drop_table('returns')
    op.drop_table('api_tokens')
    op.drop_table('staff_groups')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_place'))

    op.drop_table('organisations')
