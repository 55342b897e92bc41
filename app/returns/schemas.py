from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

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


class ReturnPage(BaseModel):
    items: list[ReturnRead]
    total: int
    limit: int
    offset: int
    next: str | None = Field(description="The next page's URL, or null on the last page")
