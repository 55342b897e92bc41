from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.inputs import Text


class OrganisationKind(StrEnum):
    ACUTE = "acute"
    COMMUNITY = "community"
    MENTAL_HEALTH = "mental_health"
    AMBULANCE = "ambulance"
    COMBINED = "combined"
    SOCIAL_CARE = "social_care"
    PRIMARY_CARE = "primary_care"


class StaffGroupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    counts_as_nursing: bool


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        min_length=1,
        max_length=16,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
        description="ODS code, local authority code or a local code",
        examples=["RHM"],
    )
    name: Text = Field(min_length=1, max_length=200)
    kind: OrganisationKind
    place: Text = Field(min_length=1, max_length=64, examples=["Southampton"])


class OrganisationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    kind: OrganisationKind | None = None
    place: Text | None = Field(default=None, min_length=1, max_length=64)


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    kind: OrganisationKind
    place: str
