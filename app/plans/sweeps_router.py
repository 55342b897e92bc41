from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
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
from app.plans import service, sweeps
from app.plans.runner import PlanEngine
from app.plans.schemas import SweepRead, SweepRequest
from app.returns import csv_io

router = APIRouter(prefix="/v1/plans/sweeps", tags=["plans"], dependencies=[SystemWideDep])
ERRORS = (Unauthorised, Forbidden, ValidationFailed)


def _create_and_commit(session: Session, **kwargs: Any) -> tuple[str, list[str]]:
    sweep, plan_ids = sweeps.create_sweep(session, **kwargs)
    # The workers read the plans from their own connections: commit before handing out.
    session.commit()
    return sweep.id, plan_ids


def _submit_all(runner: PlanEngine, plan_ids: list[str]) -> list[str]:
    """Hand each plan to the runner; returns those that could not be handed out."""
    for position, plan_id in enumerate(plan_ids):
        try:
            runner.submit(plan_id)
        except ServiceUnavailable:
            return plan_ids[position:]
    return []


def _read(session: Session, sweep_id: str) -> SweepRead:
    if session.in_transaction():
        session.commit()  # a fresh snapshot: the workers write from other connections
    return sweeps.to_read(session, sweeps.get_sweep(session, sweep_id=sweep_id))


@router.post(
    "",
    operation_id="create_sweep",
    status_code=202,
    response_model=SweepRead,
    responses=problem_responses(*ERRORS, ServiceUnavailable),
)
async def create_sweep(
    request: Request, body: SweepRequest, session: SessionDep, principal: PrincipalDep
) -> Response:
    """Sweep scenarios (plans:write): one plan per point of a grid over one or two keys.

    Answers 202 with the sweep and a `Location` to poll for its progress and table; 422
    for a grid of more than 200 points or a bad key or value; 503 when the message broker
    handing plans to workers cannot be reached.
    """
    runner: PlanEngine = request.app.state.plan_runner
    await run_in_threadpool(runner.check_available)
    sweep_id, plan_ids = await run_in_threadpool(
        _create_and_commit,
        session,
        request=body,
        principal=principal,
        settings=request.app.state.settings,
        owner=runner.identity,
    )
    stranded = (
        await run_in_threadpool(_submit_all, runner, plan_ids)
        if runner.submit_blocks
        else _submit_all(runner, plan_ids)
    )
    if stranded:
        await run_in_threadpool(
            sweeps.fail_unsubmitted,
            session,
            plan_ids=stranded,
            reason="the message broker could not be reached to hand it to a worker",
        )
        raise ServiceUnavailable(
            f"The message broker became unreachable while sweep '{sweep_id}' was being "
            f"handed out: {len(stranded)} of its {len(plan_ids)} points were failed. "
            "Try again shortly."
        )
    read = await run_in_threadpool(_read, session, sweep_id)
    location = f"/v1/plans/sweeps/{sweep_id}"
    return JSONResponse(
        read.model_dump(mode="json"),
        status_code=202,
        headers={"Location": location, "Retry-After": "1"},
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
