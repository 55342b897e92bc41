"""bank pools and plans

The system-wide staff bank's pools, with the staff groups each covers and explicit monthly
capacities; plans with their exact inputs, state and result.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 05:57:11.178061
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bank_pools',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('home_place', sa.String(length=64), nullable=False),
    sa.Column('cost_per_wte_month', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('capacity_wte', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('monthly_growth_rate', sa.Numeric(precision=8, scale=6), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_bank_pools'))
    )
    op.create_table('plans',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('start', sa.String(length=7), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('runner', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans'))
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index('ix_plans_state_created_at', ['state', 'created_at'], unique=False)

    op.create_table('bank_pool_capacities',
    sa.Column('pool_code', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('wte', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['pool_code'], ['bank_pools.code'], name=op.f('fk_bank_pool_capacities_pool_code_bank_pools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pool_code', 'period', name=op.f('pk_bank_pool_capacities'))
    )
    op.create_table('bank_pool_covers',
    sa.Column('pool_code', sa.String(length=32), nullable=False),
    sa.Column('staff_group', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['pool_code'], ['bank_pools.code'], name=op.f('fk_bank_pool_covers_pool_code_bank_pools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_group'], ['staff_groups.code'], name=op.f('fk_bank_pool_covers_staff_group_staff_groups')),
    sa.PrimaryKeyConstraint('pool_code', 'staff_group', name=op.f('pk_bank_pool_covers'))
    )


def downgrade() -> None:
    op.drop_table('bank_pool_covers')
    op.drop_table('bank_pool_capacities')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index('ix_plans_state_created_at')

    op.drop_table('plans')
    op.drop_table('bank_pools')
