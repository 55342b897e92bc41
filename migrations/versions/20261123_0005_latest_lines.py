"""latest lines

The lines of each return's latest revision in a table of their own, so that the measures
read one table; filled here from the revisions already stored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 07:13:04.319607
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('latest_lines',
    sa.Column('organisation_code', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('staff_group', sa.String(length=32), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), nullable=False),
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
    sa.ForeignKeyConstraint(['organisation_code'], ['organisations.code'], name=op.f('fk_latest_lines_organisation_code_organisations')),
    sa.ForeignKeyConstraint(['revision_id'], ['return_revisions.id'], name=op.f('fk_latest_lines_revision_id_return_revisions')),
    sa.ForeignKeyConstraint(['staff_group'], ['staff_groups.code'], name=op.f('fk_latest_lines_staff_group_staff_groups')),
    sa.PrimaryKeyConstraint('organisation_code', 'period', 'staff_group', name=op.f('pk_latest_lines'))
    )
    with op.batch_alter_table('latest_lines', schema=None) as batch_op:
        batch_op.create_index('ix_latest_lines_period_organisation', ['period', 'organisation_code'], unique=False)

    # Every return's latest revision, as it stands.
    op.execute(
        """
        INSERT INTO latest_lines (
            organisation_code, period, staff_group, revision_id, synthetic,
            establishment_wte, staff_in_post_wte, vacancy_wte, starters_wte, leavers_wte,
            bank_wte, agency_wte, bank_spend_gbp, agency_spend_gbp, sickness_absence_rate
        )
        SELECT r.organisation_code, r.period, l.staff_group, v.id, v.synthetic,
            l.establishment_wte, l.staff_in_post_wte, l.vacancy_wte, l.starters_wte,
            l.leavers_wte, l.bank_wte, l.agency_wte, l.bank_spend_gbp, l.agency_spend_gbp,
            l.sickness_absence_rate
        FROM returns r
        JOIN return_revisions v ON v.return_id = r.id AND v.revision = r.latest_revision
        JOIN return_lines l ON l.revision_id = v.id
        """
    )


def downgrade() -> None:
    with op.batch_alter_table('latest_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_latest_lines_period_organisation')

    op.drop_table('latest_lines')
