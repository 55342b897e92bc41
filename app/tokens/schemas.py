from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.auth import Scope, unbindable_scopes
from app.inputs import Text


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=200, examples=["RHM ESR export"])
    scopes: list[Scope] = Field(min_length=1, examples=[["returns:write"]])
    organisation: Text | None = Field(
        default=None,
        max_length=16,
        description="Required for returns:write. A token bound to an organisation may hold "
        "only returns:write and read, and reads that organisation's data only.",
        examples=["RHM"],
    )

    @model_validator(mode="after")
    def _organisation_for_returns(self) -> TokenCreate:
        if Scope.RETURNS_WRITE in self.scopes and not self.organisation:
            raise ValueError("a token with the returns:write scope must name its organisation")
        if system := unbindable_scopes(self.scopes, self.organisation):
            raise ValueError(
                f"{', '.join(system)} act on the whole system: a token bound to an "
                "organisation may hold only returns:write and read"
            )
        return self


class TokenRead(BaseModel):
    id: str
    name: str
    scopes: list[Scope]
    organisation: str | None
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(BaseModel):
    """The new token. `token` is shown this once and never again."""

    id: str
    token: str
    name: str
    scopes: list[Scope]
    organisation: str | None
