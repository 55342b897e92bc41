from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.inputs import JsonNumber, Text
from app.returns.schemas import AsNumber, Money, Wte

GrowthRate = Annotated[
    Decimal, Field(ge=-0.5, le=0.5, max_digits=8, decimal_places=6), AsNumber, JsonNumber()
]
PoolCode = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]


class PoolCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: PoolCode = Field(examples=["SOT-NURSING"])
    name: Text = Field(min_length=1, max_length=200)
    home_place: Text = Field(min_length=1, max_length=64, examples=["Southampton"])
    covers: list[Text] = Field(min_length=1, max_length=20, examples=[["NURSE", "MIDWIFE"]])
    cost_per_wte_month: Money = Field(description="GBP per WTE-month of bank work")
    capacity_wte: Wte = Field(description="WTE the pool can supply in the first month")
    monthly_growth_rate: GrowthRate | None = Field(
        default=None, description="Capacity growth per month, e.g. 0.004 for about 5% a year"
    )


class PoolUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    home_place: Text | None = Field(default=None, min_length=1, max_length=64)
    covers: list[Text] | None = Field(default=None, min_length=1, max_length=20)
    cost_per_wte_month: Money | None = None
    capacity_wte: Wte | None = None
    monthly_growth_rate: GrowthRate | None = None


class PoolRead(BaseModel):
    code: str
    name: str
    home_place: str
    covers: list[str]
    cost_per_wte_month: Money
    capacity_wte: Wte
    monthly_growth_rate: GrowthRate | None
    capacity_by_period: dict[str, Wte] = Field(
        description="Explicit capacities by month (YYYY-MM), overriding the growth formula"
    )
