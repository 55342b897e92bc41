from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.inputs import Text
from app.metrics.schemas import Level, PartialMonth
from app.periods import PERIOD_PATTERN

TargetCode = Literal["nursing_capacity_growth", "turnover_rate", "agency_reduction"]
Period = Annotated[str, Field(pattern=PERIOD_PATTERN, examples=["2024-03"])]


class TargetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    value: float
    baseline_period: str
    target_period: str
    direction: Literal["increase", "decrease"]
    measure: str


class TargetWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=200)
    value: float = Field(ge=-1, le=1, allow_inf_nan=False, description="a fraction")
    baseline_period: Period
    target_period: Period


class TargetStatus(BaseModel):
    target: str
    level: Level
    code: str
    measure: str
    baseline_period: str = Field(description="The month the baseline was taken from")
    baseline: float | None
    latest_period: str | None
    latest: float | None
    target_value: float | None = Field(description="The measure's value the target asks for")
    required: float | None = Field(
        description="The value the straight-line trajectory needs by the latest month"
    )
    rag: Literal["green", "amber", "red", "unknown", "not_applicable"] = Field(
        description="green: on or ahead of the trajectory; amber: within 10% of it; red: "
        "further off; unknown: no figure for the baseline or the latest month (see note); "
        "not_applicable: the unit has no establishment in the target's staff groups (for "
        "nursing capacity, the nursing groups) in the latest month, so the target does "
        "not apply to it"
    )
    note: str | None = Field(
        default=None, description="why the rating is unknown or not applicable; else null"
    )
    synthetic: bool


class TargetStatusPage(PartialMonth):
    items: list[TargetStatus]
    period: str | None = Field(
        default=None,
        description="The month rated: the latest in which every expected organisation "
        "returned (each item's latest_period)",
    )
