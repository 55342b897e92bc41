"""Every ORM model, imported in one place so that Alembic sees the whole metadata."""

from app.db import Base
from app.organisations.models import Organisation, StaffGroup
from app.returns.models import IdempotencyKey, Return, ReturnLine, ReturnRevision
from app.tokens.models import ApiToken

__all__ = [
    "ApiToken",
    "Base",
    "IdempotencyKey",
    "Organisation",
    "Return",
    "ReturnLine",
    "ReturnRevision",
    "StaffGroup",
]
