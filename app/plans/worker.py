"""What a worker process runs: claim a plan, solve it, store the result.

Only the worker that claimed a plan (its ``runner``) may store its result, so a plan
handed out twice never gets two results.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from typing import Any, cast

from sqlalchemy import CursorResult, Result, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_sessionmaker, utcnow
from app.plans.models import Plan, PlanState

log = logging.getLogger("app.plans.worker")
_sessions: dict[str, sessionmaker[Session]] = {}


def process_identity(pid: int | None = None) -> str:
    return f"{socket.gethostname()}:{pid or os.getpid()}"


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE changed (an UPDATE's result is a cursor result)."""
    return cast(CursorResult[Any], result).rowcount


def warm_up() -> None:
    """Import the solver stack, so that the first plan does not pay for it."""
    from app.plans import solving  # noqa: F401


def sessions_for(database_url: str) -> sessionmaker[Session]:
    if database_url not in _sessions:
        _sessions[database_url] = make_sessionmaker(make_engine(database_url, pool_size=2))
    return _sessions[database_url]


def run_plan(database_url: str, plan_id: str) -> str:
    """Solve one plan if it is still queued; returns the plan's state afterwards."""
    from app.plans.solving import solve_inputs

    sessions = sessions_for(database_url)
    identity = process_identity()
    with sessions.begin() as session:
        claimed = rowcount(
            session.execute(
                update(Plan)
                .where(Plan.id == plan_id, Plan.state == PlanState.QUEUED)
                .values(
                    state=PlanState.RUNNING,
                    runner=identity,
                    started_at=utcnow(),
                    attempts=Plan.attempts + 1,
                )
            )
        )
        if not claimed:
            state = session.scalar(select(Plan.state).where(Plan.id == plan_id))
            return str(state or "missing")
        inputs = session.scalars(select(Plan.inputs).where(Plan.id == plan_id)).one()

    mine = (Plan.id == plan_id, Plan.state == PlanState.RUNNING, Plan.runner == identity)
    try:
        outcome = solve_inputs(inputs)
    except Exception as error:
        log.exception("plan solve failed", extra={"fields": {"plan": plan_id}})
        with sessions.begin() as session:
            session.execute(
                update(Plan)
                .where(*mine)
                .values(
                    state=PlanState.FAILED,
                    status="error",
                    message=f"The solve failed: {error}",
                    error="".join(traceback.format_exception(error))[-4000:],
                    finished_at=utcnow(),
                )
            )
        return PlanState.FAILED.value
    with sessions.begin() as session:
        session.execute(
            update(Plan)
            .where(*mine)
            .values(
                state=PlanState.FINISHED,
                status=outcome.status,
                message=outcome.message,
                result=outcome.result,
                finished_at=utcnow(),
            )
        )
    return PlanState.FINISHED.value
