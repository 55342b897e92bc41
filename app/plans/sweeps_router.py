from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session

from app.auth import PrincipalDep, SystemWideDep
from app.deps import SessionDep, SettingsDep
from app.errors import (
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorised,
    ValidationFailed,
    problem_responses,
)
from app.inputs import MAX_INT
from app.plans import listing, service, sweeps
from app.plans.engines import PlanEngineDep
from app.plans.schemas import SweepPage, SweepRead, SweepRequest
from app.plans.submission import Batch, submit_plans
from app.returns import csv_io

router = APIRouter(prefix="/v1/plans/sweeps", tags=["plans"], dependencies=[SystemWideDep])
ERRORS = (Unauthorised, Forbidden, ValidationFailed)


def _read(session: Session, sweep_id: str) -> SweepRead:
    if session.in_transaction():
        session.commit()  # a fresh snapshot: the workers write from other connections
    return sweeps.to_read(session, sweeps.get_sweep(session, sweep_id=sweep_id))


@router.post(
    "",
    operation_id="create_sweep",
    status_code=202,
    response_model=SweepRead,
    responses=problem_responses(*ERRORS, TooManyRequests, ServiceUnavailable),
)
async def create_sweep(
    body: SweepRequest,
    session: SessionDep,
    principal: PrincipalDep,
    engine: PlanEngineDep,
    settings: SettingsDep,
) -> Response:
    """Sweep scenarios (plans:write): one plan per point of a grid over one or two keys.

    Answers 202 with the sweep and a `Location` to poll for its progress and table; 422
    for a grid of more than 200 points or a bad key or value; 503 when the message broker
    handing plans to workers cannot be reached.
    """
    stored: list[str] = []

    def create(session: Session, owner: str) -> Batch:
        sweep, plan_ids = sweeps.create_sweep(
            session, request=body, principal=principal, settings=settings, owner=owner
        )
        stored.append(sweep.id)
        return Batch(
            plan_ids=plan_ids,
            sweep_id=sweep.id,
            chains=sweeps.chains(sweep, plan_ids),
        )

    await submit_plans(session, engine=engine, create=create)
    sweep_id = stored[0]
    read = await run_in_threadpool(_read, session, sweep_id)
    location = f"/v1/plans/sweeps/{sweep_id}"
    return JSONResponse(
        read.model_dump(mode="json"),
        status_code=202,
        headers={"Location": location, "Retry-After": "1"},
    )


@router.get("", operation_id="list_sweeps", responses=problem_responses(*ERRORS))
def list_sweeps(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> SweepPage:
    """Sweeps, newest first: each with its state, progress and grid, without its points."""
    service.require_plan_reader(principal)
    items, total = listing.list_sweeps(session, limit=limit, offset=offset)
    return SweepPage(
        items=items,
        total=total,
        limit=limit,
        offset=offset,
        next=listing.next_page(request, limit=limit, offset=offset, total=total),
    )


@router.get(
    "/{sweep_id}",
    operation_id="get_sweep",
    response_model=SweepRead,
    responses={
        200: {
            "description": "The sweep's progress and a row per point, or with `format=csv` "
            "the table as CSV",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problem_responses(*ERRORS, NotFound),
    },
)
def get_sweep(
    sweep_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """A sweep: its progress (done, failed, total, state) and per point the values, the
    plan, its costs, saving, targets met, shortfalls and the nursing target's price."""
    service.require_plan_reader(principal)
    read = _read(session, sweep_id)
    if format == "csv":
        return StreamingResponse(
            csv_io.render(sweeps.table_rows(read), fields=sweeps.table_fields(read)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="sweep-{sweep_id}.csv"'},
        )
    return read
