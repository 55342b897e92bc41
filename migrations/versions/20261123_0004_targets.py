"""targets

The system's workforce commitments: what each measures, its value, baseline and target month.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 07:04:18.173280
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('targets',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Numeric(precision=8, scale=4), nullable=False),
    sa.Column('baseline_period', sa.String(length=7), nullable=False),
    sa.Column('target_period', sa.String(length=7), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_targets'))
    )


def downgrade() -> None:
    op.drop_table('targets')
