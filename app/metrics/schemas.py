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
    staff_in_post_wte: float | None
    establishment_wte: float | None
    vacancy_wte: float | None
    vacancy_rate: float | None = Field(description="vacancy / establishment; null when 0")
    turnover_rate_12m: float | None = Field(
        description="leavers over the 12 months ending at the period / mean staff in post; "
        "from the months present, annualised, when some are missing"
    )
    turnover_annualised: bool = Field(
        description="True when the turnover window had missing months"
    )
    starters_wte: float | None
    leavers_wte: float | None
    bank_wte: float | None
    agency_wte: float | None
    temporary_staffing_share: float | None = Field(
        description="(bank + agency) / (staff in post + bank + agency)"
    )
    temporary_staffing_spend_gbp: float | None = Field(
        description="bank and agency spend where reported; null when none was"
    )
    nursing_capacity_wte: float | None = Field(
        description="staff in post + bank + agency of the nursing groups"
    )
    over_establishment_wte: float | None = Field(
        description="staff in post above establishment, summed line by line "
        "(max(0, staff in post - establishment)); the vacancy of such a line is 0"
    )
    missing_periods: list[str] = Field(
        description="months of the 12-month window in which an organisation of the unit "
        "that had started returning sent no return"
    )
    organisations_covered: int = Field(description="organisations with a return this month")
    organisations_expected: int = Field(
        description="organisations of the unit expected this month: those that returned for "
        "it or for any of the 11 months before it"
    )
    complete: bool = Field(
        description="every expected organisation of the unit returned this month; when "
        "false the month's figures stand for part of the unit (or, with none covered, are "
        "null)"
    )
    coverage_note: str | None = Field(
        description="why the figures are null or partial, e.g. 'no organisation of "
        "Southampton returned for 2026-12'; null when complete"
    )
    synthetic: bool = Field(description="True when built from synthetic demo returns")


class MonthCoverage(BaseModel):
    """How many of the system's expected organisations returned for a month."""

    period: str
    organisations_covered: int
    organisations_expected: int


class PartialMonth(BaseModel):
    """What a page says of a month after the latest complete one."""

    latest_partial_period: str | None = Field(
        default=None,
        description="A later month with returns from only some expected organisations, "
        "if any; shown as partial, never rated",
    )
    latest_partial: MonthCoverage | None = Field(
        default=None, description="latest_partial_period's organisations covered of expected"
    )


class MetricPage(PartialMonth):
    items: list[MetricItem]
    period: str | None = Field(
        default=None,
        description="The month of the items (for a series, null): the month asked for or, "
        "by default, latest_complete_period",
    )
    complete: bool | None = Field(
        default=None, description="every expected organisation of the system returned in period"
    )
    organisations_covered: int | None = Field(
        default=None, description="the system's organisations that returned in period"
    )
    organisations_expected: int | None = Field(
        default=None, description="the system's organisations expected in period"
    )
    latest_complete_period: str | None = Field(
        default=None,
        description="The latest month in which every expected organisation returned: the "
        "default period of measures and ratings",
    )
