"""over-establishment in the running totals; an index of coverage

Staff in post above establishment, summed line by line, beside the vacancy (which is
never below 0), so that the measures can show both. An index of the organisations'
all-groups rows by month, from which the organisations that returned and were expected
in each month are counted.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXCESS = "CASE WHEN l.staff_in_post_wte > l.establishment_wte " \
    "THEN l.staff_in_post_wte - l.establishment_wte ELSE 0 END"


def upgrade() -> None:
    op.add_column(
        "unit_totals",
        sa.Column("over_establishment_wte", sa.Double(), nullable=False, server_default="0"),
    )
    # The month's sums from the latest lines: by organisation, by place, each for one
    # staff group or all (``*``).
    for level, unit in (("organisation", "l.organisation_code"), ("place", "o.place")):
        for group in ("l.staff_group = t.staff_group", "t.staff_group = '*'"):
            op.execute(
                "UPDATE unit_totals AS t SET over_establishment_wte = COALESCE(("
                f"SELECT SUM({EXCESS}) FROM latest_lines l "
                "JOIN organisations o ON o.code = l.organisation_code "
                f"WHERE {unit} = t.code AND l.period = t.period AND {group}"
                f"), 0) WHERE t.level = '{level}'"
                + (" AND t.staff_group <> '*'" if group.startswith("l.") else " AND t.staff_group = '*'")
            )
    op.create_index(
        "ix_unit_totals_coverage",
        "unit_totals",
        ["level", "staff_group", "period"],
        postgresql_include=["code", "returned", "window_returned"],
    )


def downgrade() -> None:
    op.drop_index("ix_unit_totals_coverage", table_name="unit_totals")
    with op.batch_alter_table("unit_totals") as batch:
        batch.drop_column("over_establishment_wte")
