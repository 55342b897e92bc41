"""unit totals

The sums of each organisation's and each place's latest lines per month and staff group,
with their 12-month window sums, so that a metric reads one row, and each organisation's
first month returned; filled here from the latest lines already stored.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    total = sa.Double()
    op.create_table('unit_totals',
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('staff_group', sa.String(length=32), nullable=False),
    sa.Column('establishment_wte', total, nullable=False),
    sa.Column('staff_in_post_wte', total, nullable=False),
    sa.Column('vacancy_wte', total, nullable=False),
    sa.Column('starters_wte', total, nullable=False),
    sa.Column('leavers_wte', total, nullable=False),
    sa.Column('bank_wte', total, nullable=False),
    sa.Column('agency_wte', total, nullable=False),
    sa.Column('nursing_capacity_wte', total, nullable=False),
    sa.Column('spend_gbp', total, nullable=False),
    sa.Column('spend_reported', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.Column('window_leavers_wte', total, nullable=False),
    sa.Column('window_staff_in_post_wte', total, nullable=False),
    sa.Column('window_returned', sa.Integer(), nullable=False),
    sa.Column('window_synthetic', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('level', 'period', 'code', 'staff_group', name=op.f('pk_unit_totals'))
    )
    with op.batch_alter_table('unit_totals', schema=None) as batch_op:
        batch_op.create_index('ix_unit_totals_series', ['level', 'code', 'staff_group', 'period'], unique=False)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_return_period', sa.String(length=7), nullable=True))

    # The totals of the latest lines as they stand, and each organisation's first return.
    from app.metrics import totals

    totals.rebuild_from_latest_lines(Session(bind=op.get_bind()))


def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('first_return_period')

    with op.batch_alter_table('unit_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_totals_series')

    op.drop_table('unit_totals')
