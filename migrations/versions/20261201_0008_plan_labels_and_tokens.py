"""plans: a label, and the token that requested each

A plan may carry a label that tells it apart in lists; the requesting token's id is kept
so that the plans a token has queued or running at once can be counted and limited.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('label', sa.String(length=200), nullable=True))
        batch_op.create_index('ix_plans_token_id_state', ['token_id', 'state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index('ix_plans_token_id_state')
        batch_op.drop_column('label')
        batch_op.drop_column('token_id')
