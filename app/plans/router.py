from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import Future
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session

from app.auth import PrincipalDep, SystemWideDep
from app.deps import SessionDep
from app.errors import (
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unauthorised,
    ValidationFailed,
    problem_responses,
)
from app.inputs import MAX_INT
from app.plans import export, service
from app.plans.models import PlanState
from app.plans.runner import PlanEngine
from app.plans.schemas import Allocation, PlanPage, PlanRead, PlanRequest
from app.returns import csv_io

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


def _create_and_commit(session: Session, **kwargs: Any) -> str:
    plan = service.create_plan(session, **kwargs)
    # The worker reads the plan from its own connection: it must be committed first.
    session.commit()
    return plan.id


@router.post(
    "",
    operation_id="create_plan",
    status_code=201,
    response_model=PlanRead,
    responses={
        202: {"model": PlanRead, "description": "Accepted; poll the Location for the result"},
        **problem_responses(*ERRORS, ServiceUnavailable),
    },
)
async def create_plan(
    request: Request,
    body: PlanRequest,
    session: SessionDep,
    principal: PrincipalDep,
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
    runner: PlanEngine = request.app.state.plan_runner
    settings = request.app.state.settings
    # Before anything is stored: with the broker down, nothing could solve the plan.
    await run_in_threadpool(runner.check_available)
    plan_id = await run_in_threadpool(
        _create_and_commit,
        session,
        request=body,
        principal=principal,
        settings=settings,
        owner=runner.identity,
    )
    try:
        future = (
            await run_in_threadpool(runner.submit, plan_id)
            if runner.submit_blocks
            else runner.submit(plan_id)
        )
    except ServiceUnavailable:
        # Nobody will ever solve it: the plan was not accepted, so it is not kept.
        await run_in_threadpool(service.discard_plan, session, plan_id=plan_id)
        raise
    wait = _wait_budget(prefer, settings.plan_wait_s)
    if wait > 0:
        await wait_for_plans(session, [plan_id], future=future, timeout=wait)
    plan = await run_in_threadpool(_reload, session, plan_id)
    done = plan.state in (PlanState.FINISHED, PlanState.FAILED)
    location = f"/v1/plans/{plan_id}"
    headers = {"Location": location}
    if prefer is not None:
        headers["Preference-Applied"] = "respond-async" if wait == 0 else f"wait={wait:g}"
    if not done:
        headers["Retry-After"] = "1"
    return JSONResponse(
        plan.model_dump(mode="json"), status_code=201 if done else 202, headers=headers
    )


async def wait_for_plans(
    session: Session, plan_ids: list[str], *, future: Future[str] | None, timeout: float
) -> None:
    """Wait up to ``timeout`` for the plans to end: on the future when the plan runs in
    this process, else by reading the rows (a Celery worker writes them)."""
    if future is not None:
        await asyncio.wait([asyncio.wrap_future(future)], timeout=timeout)
        return
    deadline = time.monotonic() + timeout
    pause = 0.05
    while time.monotonic() < deadline:
        if await run_in_threadpool(service.all_ended, session, plan_ids=plan_ids):
            return
        await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 1.5, 0.5)


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
    """Plans, newest first, without their rows."""
    service.require_plan_reader(principal)
    rows, total = service.list_plans(session, limit=limit, offset=offset)
    following = offset + limit
    return PlanPage(
        items=[service.to_summary(plan) for plan in rows],
        total=total,
        limit=limit,
        offset=offset,
        next=str(request.url.include_query_params(offset=following)) if following < total else None,
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
    """The plan as an Excel workbook: summary, allocations, projections, targets, prices."""
    service.require_plan_reader(principal)
    plan = service.to_read(service.get_plan(session, plan_id=plan_id))
    return Response(
        export.workbook_bytes(plan),
        media_type=export.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}.xlsx"'},
    )
