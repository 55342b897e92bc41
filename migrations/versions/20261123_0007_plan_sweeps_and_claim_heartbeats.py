"""plan sweeps and claim heartbeats

Sweeps of scenarios, each point a plan linked to its sweep; a heartbeat on plans so that
a claim held by a dead worker can be recognised and taken over.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:15:49.480672
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('plan_sweeps',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('keys', sa.JSON(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_sweeps'))
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sweep_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('sweep_index', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sweep_point', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('summary', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_plans_sweep_id'), ['sweep_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_plans_sweep_id_plan_sweeps'), 'plan_sweeps', ['sweep_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_plans_sweep_id_plan_sweeps'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_plans_sweep_id'))
        batch_op.drop_column('summary')
        batch_op.drop_column('sweep_point')
        batch_op.drop_column('sweep_index')
        batch_op.drop_column('sweep_id')
        batch_op.drop_column('heartbeat_at')

    op.drop_table('plan_sweeps')
