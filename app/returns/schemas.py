from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from app.inputs import JsonNumber, Text

# Decimals travel as JSON numbers: the contract says WTE and money are numbers.
AsNumber = PlainSerializer(float, return_type=float, when_used="json")
Wte = Annotated[
    Decimal,
    Field(ge=0, le=Decimal("9999999999.99"), max_digits=12, decimal_places=2),
    AsNumber,
    JsonNumber(),
]
Money = Annotated[
    Decimal,
    Field(ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2),
    AsNumber,
    JsonNumber(),
]
Rate = Annotated[Decimal, Field(ge=0, le=1, max_digits=6, decimal_places=4), AsNumber, JsonNumber()]

LINE_FIELDS = (
    "staff_group",
    "establishment_wte",
    "staff_in_post_wte",
    "vacancy_wte",
    "starters_wte",
    "leavers_wte",
    "bank_wte",
    "agency_wte",
    "bank_spend_gbp",
    "agency_spend_gbp",
    "sickness_absence_rate",
)
MAX_LINES = 100


class ReturnLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_group: Text = Field(min_length=1, max_length=32, examples=["NURSE"])
    establishment_wte: Wte = Field(description="Funded posts", examples=[1200.5])
    staff_in_post_wte: Wte = Field(description="Contracted substantive staff", examples=[1050])
    vacancy_wte: Wte | None = Field(
        default=None,
        description="Defaults to max(0, establishment - staff in post); never above establishment",
    )
    starters_wte: Wte = Field(description="Joiners in the month")
    leavers_wte: Wte = Field(description="Leavers in the month")
    bank_wte: Wte = Field(description="Bank staff worked in the month")
    agency_wte: Wte = Field(description="Agency staff worked in the month")
    bank_spend_gbp: Money | None = None
    agency_spend_gbp: Money | None = None
    sickness_absence_rate: Rate | None = Field(
        default=None, description="Fraction of available time lost"
    )


class ReturnSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Text | None = Field(
        default=None,
        max_length=200,
        description="The system that produced the return; defaults to the token's name",
        examples=["ESR monthly extract"],
    )
    amendment_reason: Text | None = Field(
        default=None,
        max_length=2000,
        description="Required when the period has a return already and the content differs",
    )
    replace_all: bool = Field(
        default=False,
        description="An amendment must carry every staff group of the revision it amends, "
        "or it is refused naming those left out; true says that these lines replace the "
        "whole return, dropping the groups left out (with CSV: `?replace_all=true`)",
    )
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=MAX_LINES)


class ReturnLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    staff_group: str
    establishment_wte: Wte
    staff_in_post_wte: Wte
    vacancy_wte: Wte
    starters_wte: Wte
    leavers_wte: Wte
    bank_wte: Wte
    agency_wte: Wte
    bank_spend_gbp: Money | None
    agency_spend_gbp: Money | None
    sickness_absence_rate: Rate | None


class ReturnRead(BaseModel):
    organisation: str
    period: str
    revision: int
    latest_revision: int
    source: str
    amendment_reason: str | None
    submitted_by: str
    submitted_at: datetime
    synthetic: bool = Field(description="True for synthetic demo data, never for a real return")
    lines: list[ReturnLineRead]


WarningCode = Literal["over_establishment", "staff_in_post_change", "high_leavers"]


class SubmissionWarning(BaseModel):
    """Something legal but unusual in an accepted return, worth a second look."""

    code: WarningCode = Field(
        description="over_establishment: staff in post above establishment (kept; the "
        "vacancy is 0 and the excess is reported as over-establishment); "
        "staff_in_post_change: staff in post changed by more than 10% since the previous "
        "month's return; high_leavers: leavers above 5% of staff in post in the month"
    )
    pointer: str = Field(examples=["/lines/0/staff_in_post_wte"])
    message: str


class ReturnSubmitted(ReturnRead):
    """The revision a submission stored (or found unchanged), with its warnings."""

    warnings: list[SubmissionWarning] = Field(
        description="Legal but unusual content of this submission; empty when none"
    )


class ReturnPage(BaseModel):
    items: list[ReturnRead]
    total: int
    limit: int
    offset: int
    next: str | None = Field(description="The next page's URL, or null on the last page")
