from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Level = Literal["system", "place", "organisation"]


class MetricItem(BaseModel):
    """The measures of one unit (the system, a place or an organisation) in one month, for
    one staff group or (``staff_group`` null) all groups together."""

    level: Level
    code: str = Field(description="HIOW for the system, the place's name, or the ODS code")
    staff_group: str | None
    period: str
    staff_in_post_wte: float
    establishment_wte: float
    vacancy_wte: float
    vacancy_rate: float | None = Field(description="vacancy / establishment; null when 0")
    turnover_rate_12m: float | None = Field(
        description="leavers over the 12 months ending at the period / mean staff in post; "
        "from the months present, annualised, when some are missing"
    )
    turnover_annualised: bool = Field(
        description="True when the turnover window had missing months"
    )
    starters_wte: float
    leavers_wte: float
    bank_wte: float
    agency_wte: float
    temporary_staffing_share: float | None = Field(
        description="(bank + agency) / (staff in post + bank + agency)"
    )
    temporary_staffing_spend_gbp: float | None = Field(
        description="bank and agency spend where reported; null when none was"
    )
    nursing_capacity_wte: float = Field(
        description="staff in post + bank + agency of the nursing groups"
    )
    missing_periods: list[str] = Field(
        description="months of the 12-month window in which an organisation of the unit "
        "that had started returning sent no return"
    )
    organisations_covered: int = Field(description="organisations with a return this month")
    organisations_expected: int = Field(
        description="organisations of the unit returning by this month"
    )
    synthetic: bool = Field(description="True when built from synthetic demo returns")


class MetricPage(BaseModel):
    items: list[MetricItem]
