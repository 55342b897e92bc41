"""Running totals of the measures, kept on submission so that a metric is read from one
row instead of summed from every line of its unit and window."""

from __future__ import annotations

from sqlalchemy import Double, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

# Sums of two-decimal figures, as doubles: read without conversion, exact to far below the
# hundredth the measures are rounded to.
Total: Double[float] = Double()


class UnitTotal(Base):
    """The sums of one organisation's or one place's latest lines in a month, for one
    staff group or (``staff_group`` ``*``) all groups, with the sums over the 12-month
    window ending at that month. The system is the sum of its places."""

    __tablename__ = "unit_totals"
    __table_args__ = (
        Index("ix_unit_totals_series", "level", "code", "staff_group", "period"),
        # Which organisations returned and were expected, month by month: every
        # organisation's all-groups row of a month, without reading its other groups.
        Index(
            "ix_unit_totals_coverage",
            "level",
            "staff_group",
            "period",
            postgresql_include=["code", "returned", "window_returned"],
        ),
    )

    level: Mapped[str] = mapped_column(String(16), primary_key=True)  # organisation | place
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_group: Mapped[str] = mapped_column(String(32), primary_key=True)

    establishment_wte: Mapped[float] = mapped_column(Total, default=0)
    staff_in_post_wte: Mapped[float] = mapped_column(Total, default=0)
    vacancy_wte: Mapped[float] = mapped_column(Total, default=0)
    starters_wte: Mapped[float] = mapped_column(Total, default=0)
    leavers_wte: Mapped[float] = mapped_column(Total, default=0)
    bank_wte: Mapped[float] = mapped_column(Total, default=0)
    agency_wte: Mapped[float] = mapped_column(Total, default=0)
    nursing_capacity_wte: Mapped[float] = mapped_column(Total, default=0)
    # Staff in post above establishment, line by line: max(0, staff in post - establishment).
    over_establishment_wte: Mapped[float] = mapped_column(Total, default=0)
    spend_gbp: Mapped[float] = mapped_column(Total, default=0)
    # Bank and agency spend figures reported (a line may report either, both or neither).
    spend_reported: Mapped[int] = mapped_column(Integer, default=0)
    # Returns this month: lines for a staff group, organisations for ``*``.
    returned: Mapped[int] = mapped_column(Integer, default=0)
    window_leavers_wte: Mapped[float] = mapped_column(Total, default=0)
    window_staff_in_post_wte: Mapped[float] = mapped_column(Total, default=0)
    # As ``returned``, summed over the window: lines, or organisation-months for ``*``.
    window_returned: Mapped[int] = mapped_column(Integer, default=0)
    window_synthetic: Mapped[int] = mapped_column(Integer, default=0)
