"""Limits on the plan work one token may ask for, from the settings.

A request over a fixed bound (months, the solver's time limit, a sweep's points) is
refused with 422 naming the field; a token that already has too many plans queued or
running at once is refused with 429 and ``Retry-After``, nothing stored either way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth import Principal, Scope
from app.config import Settings
from app.errors import FieldError, TooManyRequests, ValidationFailed, field_error
from app.plans.models import Plan, PlanState
from app.plans.schemas import PlanRequest

# Seconds a refused client is asked to wait: about as long as a plan takes to solve.
RETRY_AFTER_S = 10


def request_problems(
    request: PlanRequest, settings: Settings, *, at: tuple[str, ...] = ()
) -> list[FieldError]:
    """What in ``request`` goes past the fixed bounds; ``at`` is where it sits."""
    problems = []
    if request.months > settings.plan_max_months:
        problems.append(
            field_error(
                (*at, "months"),
                f"{request.months} months; a plan may look at most "
                f"{settings.plan_max_months} months ahead",
            )
        )
    time_limit = request.scenario.time_limit_s
    if time_limit is not None and (why := over_time_limit(time_limit, settings)):
        problems.append(field_error((*at, "scenario", "time_limit_s"), why))
    return problems


def over_time_limit(value: Any, settings: Settings) -> str | None:
    """Why a solver time limit is refused, or None."""
    bound = settings.plan_max_time_limit_s
    if isinstance(value, int | float) and value > bound:
        return f"{value:g} s; a plan may ask for at most {bound:g} s of solving"
    return None


def refuse(problems: list[FieldError]) -> None:
    if problems:
        raise ValidationFailed(
            "The request asks for more plan work than this service allows: "
            + "; ".join(f"{p.field}: {p.message}" for p in problems)
            + ".",
            errors=problems,
        )


def check_pending(
    session: Session, *, principal: Principal, adding: int, settings: Settings
) -> None:
    """Refuse (429) when the token's plans queued or running, with these, pass the limit."""
    principal.require(Scope.PLANS_WRITE)
    limit = settings.plan_max_pending_per_token
    pending = (
        session.scalar(
            select(func.count())
            .select_from(Plan)
            .where(
                Plan.token_id == principal.token_id,
                Plan.state.in_([PlanState.QUEUED, PlanState.RUNNING]),
            )
        )
        or 0
    )
    if pending + adding > limit:
        raise TooManyRequests(
            f"This token has {pending} plan(s) queued or running and may have at most "
            f"{limit} at once; this request would add {adding}. Try again once some have "
            "finished.",
            retry_after_s=RETRY_AFTER_S,
        )
