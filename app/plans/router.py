from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session

from app.auth import PrincipalDep, SystemWideDep
from app.deps import SessionDep, SettingsDep
from app.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorised,
    ValidationFailed,
    problem_responses,
)
from app.inputs import MAX_INT
from app.plans import export, listing, service
from app.plans.engines import PlanEngineDep
from app.plans.models import PlanState
from app.plans.schemas import Allocation, PlanPage, PlanRead, PlanRequest
from app.plans.submission import one_plan, submit_plans
from app.returns import csv_io
from optimiser import lpfile
from optimiser.problem import Problem

# Plans are of the whole system: an organisation-bound token is refused before the handler.
router = APIRouter(prefix="/v1/plans", tags=["plans"], dependencies=[SystemWideDep])
ERRORS = (Unauthorised, Forbidden, ValidationFailed)
PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait=(\d+(?:\.\d+)?)")
MAX_WAIT_S = 120.0


def _wait_budget(prefer: str | None, default: float) -> float:
    """Seconds to wait for the solve: RFC 7240 ``Prefer: wait=N`` or ``respond-async``."""
    if prefer is None:
        return default
    if "respond-async" in prefer:
        return 0.0
    match = PREFER_WAIT.search(prefer)
    return min(float(match.group(1)), MAX_WAIT_S) if match else default


@router.post(
    "",
    operation_id="create_plan",
    status_code=201,
    response_model=PlanRead,
    responses={
        202: {"model": PlanRead, "description": "Accepted; poll the Location for the result"},
        **problem_responses(*ERRORS, TooManyRequests, ServiceUnavailable),
    },
)
async def create_plan(
    body: PlanRequest,
    session: SessionDep,
    principal: PrincipalDep,
    engine: PlanEngineDep,
    settings: SettingsDep,
    prefer: Annotated[
        str | None,
        Header(description="`wait=N` seconds to wait for the solve, or `respond-async`"),
    ] = None,
) -> Response:
    """Request an allocation plan of the bank (plans:write).

    Answers 201 with the finished plan when it is solved within the wait budget (10 s, or
    `Prefer: wait=N`), else 202 with the plan queued or running and a `Location` to poll;
    503 when the message broker handing plans to workers cannot be reached.
    """
    wait = _wait_budget(prefer, settings.plan_wait_s)
    batch = await submit_plans(
        session,
        engine=engine,
        create=one_plan(body, principal=principal, settings=settings),
        wait_s=wait,
    )
    plan_id = batch.plan_ids[0]
    plan = await run_in_threadpool(_reload, session, plan_id)
    done = plan.state in (PlanState.FINISHED, PlanState.FAILED)
    headers = {"Location": f"/v1/plans/{plan_id}"}
    if prefer is not None:
        headers["Preference-Applied"] = "respond-async" if wait == 0 else f"wait={wait:g}"
    if not done:
        headers["Retry-After"] = "1"
    return JSONResponse(
        plan.model_dump(mode="json"), status_code=201 if done else 202, headers=headers
    )


def _reload(session: Session, plan_id: str) -> PlanRead:
    session.expire_all()
    if session.in_transaction():
        session.commit()  # a fresh snapshot: the worker wrote from another connection
    return service.to_read(service.get_plan(session, plan_id=plan_id))


@router.get("", operation_id="list_plans", responses=problem_responses(*ERRORS))
def list_plans(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> PlanPage:
    """Plans, newest first, without their rows: each with its label, the scenario keys it
    changed, its sweep if any, its costs and which targets it meets."""
    service.require_plan_reader(principal)
    rows, total = listing.list_plans(session, limit=limit, offset=offset)
    return PlanPage(
        items=[listing.to_summary(plan) for plan in rows],
        total=total,
        limit=limit,
        offset=offset,
        next=listing.next_page(request, limit=limit, offset=offset, total=total),
    )


@router.get("/{plan_id}", operation_id="get_plan", responses=problem_responses(*ERRORS, NotFound))
def get_plan(plan_id: str, session: SessionDep, principal: PrincipalDep) -> PlanRead:
    """A plan: its state, and once finished its allocations, projections, costs and prices."""
    service.require_plan_reader(principal)
    return service.to_read(service.get_plan(session, plan_id=plan_id))


@router.get(
    "/{plan_id}/allocations",
    operation_id="get_plan_allocations",
    response_model=list[Allocation],
    responses={
        200: {
            "description": "The allocation rows, or with `format=csv` the same as CSV",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problem_responses(*ERRORS, NotFound),
    },
)
def get_allocations(
    plan_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """The plan's allocation rows: pool, organisation, staff group, month, WTE and cost."""
    service.require_plan_reader(principal)
    rows = service.allocation_rows(service.get_plan(session, plan_id=plan_id))
    if format == "csv":
        return StreamingResponse(
            csv_io.render(rows, fields=service.ALLOCATION_FIELDS),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="plan-{plan_id}-allocations.csv"'
            },
        )
    return [Allocation.model_validate(row) for row in rows]


@router.get(
    "/{plan_id}/inputs",
    operation_id="get_plan_inputs",
    responses=problem_responses(*ERRORS, NotFound),
)
def get_inputs(plan_id: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """The exact inputs the plan was solved with: the optimiser's problem, the base month,
    the stored targets and how missing returns were filled."""
    service.require_plan_reader(principal)
    plan = service.get_plan(session, plan_id=plan_id)
    return {"id": plan.id, "request": plan.request, **plan.inputs}


@router.get(
    "/{plan_id}/workbook",
    operation_id="get_plan_workbook",
    response_class=Response,
    responses={
        200: {
            "description": "The plan as an Excel workbook",
            "content": {export.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        **problem_responses(*ERRORS, NotFound),
    },
)
def get_workbook(plan_id: str, session: SessionDep, principal: PrincipalDep) -> Response:
    """The plan as an Excel workbook: what each sheet and figure means, the summary, what
    would close the gap, targets, the system by month, allocations, projections, prices."""
    service.require_plan_reader(principal)
    return Response(
        export.plan_workbook(session, service.get_plan(session, plan_id=plan_id)),
        media_type=export.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}.xlsx"'},
    )


@router.get(
    "/{plan_id}/model.lp",
    operation_id="get_plan_model",
    response_class=Response,
    responses={
        200: {
            "description": "The plan's model as an LP file (CPLEX LP format, written by PuLP)",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **problem_responses(*ERRORS, NotFound, Conflict),
    },
)
async def get_model(
    plan_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    stage: Annotated[
        Literal["cost", "shortfall"],
        Query(
            description="cost: the least cost with the shortfall held at the plan's least "
            "(its optimum is the plan's objective); shortfall: the least total target "
            "shortfall (its optimum is least_shortfall_wte_months)"
        ),
    ] = "cost",
) -> Response:
    """The plan's model as an LP file, to solve in another solver (CBC, HiGHS, Gurobi...).

    A plan is solved in two stages (the least target shortfall, then the least cost at
    it), and an LP file holds one objective: the file is the stage asked for, built again
    from the plan's stored inputs. The cost stage needs the plan's least shortfall, so it
    is there once the plan has finished with a plan (409 before)."""
    service.require_plan_reader(principal)
    plan = service.get_plan(session, plan_id=plan_id)
    least = (plan.result or {}).get("least_shortfall_wte_months")
    if stage == "cost" and least is None:
        raise Conflict(
            f"Plan '{plan_id}' has no least shortfall to hold (it is {plan.state}"
            + (f", {plan.status}" if plan.status else "")
            + "), so its cost stage cannot be written; ask for ?stage=shortfall, or wait "
            "for it to finish."
        )
    text = await run_in_threadpool(
        lpfile.lp_text,
        Problem.from_dict(plan.inputs["problem"]),
        stage=stage,
        least_shortfall=least,
        title=f"Plan {plan_id}, {plan.start} for {plan.months} months.",
    )
    return Response(
        text,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}-{stage}.lp"'},
    )
