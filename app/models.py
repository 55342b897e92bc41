"""Every ORM model, imported in one place so that Alembic sees the whole metadata."""

from app.bank.models import BankPool, BankPoolCapacity, BankPoolCover
from app.db import Base
from app.metrics.models import UnitTotal
from app.organisations.models import Organisation, StaffGroup
from app.plans.models import Plan, PlanSweep
from app.returns.models import IdempotencyKey, LatestLine, Return, ReturnLine, ReturnRevision
from app.targets.models import Target
from app.tokens.models import ApiToken

__all__ = [
    "ApiToken",
    "BankPool",
    "BankPoolCapacity",
    "BankPoolCover",
    "Base",
    "IdempotencyKey",
    "LatestLine",
    "Organisation",
    "Plan",
    "PlanSweep",
    "Return",
    "ReturnLine",
    "ReturnRevision",
    "StaffGroup",
    "Target",
    "UnitTotal",
]
