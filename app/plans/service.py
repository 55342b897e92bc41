"""Plans: the one place that knows both the database and the optimiser's input.

``create_plan`` gathers the data, builds and checks the optimiser's problem and stores
the plan ``queued`` with its exact inputs; a worker solves it (``app.plans.worker``).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.orm import Session

from app.auth import Principal, Scope
from app.config import Settings
from app.errors import Forbidden, NotFound
from app.plans import inputs as plan_inputs
from app.plans.models import Plan, PlanState
from app.plans.schemas import PlanRead, PlanRequest
from app.plans.solving import build_problem

ALLOCATION_FIELDS = ("pool", "organisation", "staff_group", "period", "wte", "cost")


def require_plan_reader(principal: Principal) -> None:
    if not (principal.has(Scope.READ) or principal.has(Scope.PLANS_WRITE)):
        raise Forbidden("Reading plans needs the 'read' or 'plans:write' scope.")


def create_plan(
    session: Session,
    *,
    request: PlanRequest,
    principal: Principal,
    settings: Settings,
    owner: str,
    gathered: plan_inputs.GatheredInputs | None = None,
    targets: dict[str, float] | None = None,
    sweep_id: str | None = None,
    sweep_index: int | None = None,
    sweep_point: dict[str, Any] | None = None,
) -> Plan:
    """Check the request against the data, and store the plan queued with its inputs.

    A sweep gathers the data once and passes it (``gathered``, ``targets``) for each point.
    """
    principal.require(Scope.PLANS_WRITE)
    if gathered is None:
        gathered = plan_inputs.gather(session, request=request)
    if targets is None:
        targets = plan_inputs.stored_targets(session)
    solver_inputs = build_problem(
        gathered,
        request=request,
        targets=targets,
        default_time_limit_s=settings.plan_time_limit_s,
    )
    plan = Plan(
        id=secrets.token_hex(8),
        state=PlanState.QUEUED.value,
        start=request.start,
        months=request.months,
        request=request.model_dump(mode="json", exclude_unset=True),
        inputs={
            "base_period": gathered.base_period,
            "synthetic_data": gathered.synthetic,
            "notes": gathered.notes,
            "targets": targets,
            **solver_inputs,
        },
        requested_by=principal.label,
        token_id=principal.token_id,
        label=request.label,
        owner=owner,
        sweep_id=sweep_id,
        sweep_index=sweep_index,
        sweep_point=sweep_point,
    )
    session.add(plan)
    session.flush()
    return plan


def get_plan(session: Session, *, plan_id: str) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"There is no plan with id '{plan_id}'.")
    return plan


def to_read(plan: Plan) -> PlanRead:
    result: dict[str, Any] = plan.result or {}
    return PlanRead.model_validate(
        {
            "id": plan.id,
            "label": plan.label,
            "state": plan.state,
            "status": plan.status,
            "message": plan.message,
            "start": plan.start,
            "months": plan.months,
            "scenario": plan.request.get("scenario", {}),
            "requested_by": plan.requested_by,
            "created_at": plan.created_at,
            "started_at": plan.started_at,
            "finished_at": plan.finished_at,
            "data_notes": plan.inputs.get("notes", []),
            "synthetic_data": plan.inputs.get("synthetic_data", False),
            **{key: value for key, value in result.items() if key not in {"status", "message"}},
        }
    )


def allocation_rows(plan: Plan) -> list[dict[str, Any]]:
    return list((plan.result or {}).get("allocations", []))
