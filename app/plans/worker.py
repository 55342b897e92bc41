"""What a worker process runs: claim a plan, solve it, store the result.

Only the worker that claimed a plan (its ``runner``) may store its result, so a plan
handed out twice never gets two results. Whoever runs a plan (a process of the API's own
pool, or a Celery worker) calls ``run_plan``.

A claim is taken in one conditional UPDATE: ``queued`` -> ``running``. While it solves, the
runner touches ``heartbeat_at``. A plan ``running`` under a runner that is dead (a process
of this host that no longer exists, or a heartbeat older than ``stale_after_s``) may be
taken over by a task delivered again; the takeover is a compare-and-set on the old runner
and attempt count, so of several redeliveries only one wins.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Result, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import begin_write, make_engine, make_sessionmaker, utcnow
from app.plans import brief
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


def is_alive_here(identity: str | None) -> bool:
    """Whether ``identity`` names a live process of this host (one of another host cannot
    be checked from here, so it counts as alive)."""
    if not identity:
        return False
    host, _, pid = identity.rpartition(":")
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def sessions_for(database_url: str) -> sessionmaker[Session]:
    if database_url not in _sessions:
        _sessions[database_url] = make_sessionmaker(make_engine(database_url, pool_size=2))
    return _sessions[database_url]


class Outcome:
    """What ``run_plan`` returns besides a final state: the plan is someone else's."""

    HELD = "held"  # running under a live runner; ask again later
    MISSING = "missing"


def _claim(
    session: Session,
    *,
    plan_id: str,
    identity: str,
    stale_after_s: float,
    max_attempts: int,
) -> str | None:
    """Take the plan for ``identity``; None when taken, else why not (a state or Outcome)."""
    row = session.execute(
        select(Plan.state, Plan.runner, Plan.attempts, Plan.heartbeat_at, Plan.started_at).where(
            Plan.id == plan_id
        )
    ).one_or_none()
    if row is None:
        return Outcome.MISSING
    state, runner, attempts, heartbeat_at, started_at = row
    now = utcnow()
    claim = {"state": PlanState.RUNNING, "runner": identity, "started_at": now, "heartbeat_at": now}
    if state == PlanState.QUEUED:
        taken = session.execute(
            update(Plan)
            .where(Plan.id == plan_id, Plan.state == PlanState.QUEUED)
            .values(**claim, attempts=Plan.attempts + 1)
        )
        return None if rowcount(taken) else _claim_lost(session, plan_id)
    if state != PlanState.RUNNING:
        return str(state)
    last_sign_of_life = heartbeat_at or started_at
    stale = last_sign_of_life is None or now - last_sign_of_life > timedelta(seconds=stale_after_s)
    if not stale and is_alive_here(runner):
        return Outcome.HELD
    # The runner is dead: the same plan, taken over, compare-and-set on the old claim.
    same_claim = (Plan.id == plan_id, Plan.state == PlanState.RUNNING, Plan.runner == runner)
    if attempts >= max_attempts:
        session.execute(
            update(Plan)
            .where(*same_claim, Plan.attempts == attempts)
            .values(
                state=PlanState.FAILED,
                status="error",
                message=f"The plan failed: the worker solving it stopped {attempts} times.",
                error=f"gave up after {attempts} attempts; the last runner was {runner}",
                finished_at=now,
            )
        )
        return _claim_lost(session, plan_id)
    taken = session.execute(
        update(Plan)
        .where(*same_claim, Plan.attempts == attempts)
        .values(**claim, attempts=attempts + 1)
    )
    if rowcount(taken):
        log.warning(
            "took over a plan from a dead worker",
            extra={"fields": {"plan": plan_id, "dead": runner, "attempt": attempts + 1}},
        )
        return None
    return _claim_lost(session, plan_id)


def _claim_lost(session: Session, plan_id: str) -> str:
    state = session.scalar(select(Plan.state).where(Plan.id == plan_id))
    return Outcome.HELD if state == PlanState.RUNNING else str(state or Outcome.MISSING)


def _heartbeat(
    sessions: sessionmaker[Session], *, plan_id: str, identity: str, every_s: float
) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            try:
                with sessions.begin() as session:
                    session.execute(
                        update(Plan)
                        .where(
                            Plan.id == plan_id,
                            Plan.state == PlanState.RUNNING,
                            Plan.runner == identity,
                        )
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:
                log.exception(
                    "could not touch a plan's heartbeat", extra={"fields": {"plan": plan_id}}
                )

    thread = threading.Thread(target=beat, name=f"heartbeat-{plan_id}", daemon=True)
    thread.start()
    return stop, thread


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """The figures a sweep's table shows of a plan's result."""
    cost = result.get("cost") or {}
    return {
        "total_cost": cost.get("total"),
        "do_nothing_cost": result.get("do_nothing_cost"),
        "saving": result.get("saving"),
        "targets": {
            name: {key: target.get(key) for key in ("met", "shortfall", "shadow_price")}
            for name, target in (result.get("targets") or {}).items()
        },
        **brief.sweep_figures(result),
    }


def run_plan(
    database_url: str,
    plan_id: str,
    *,
    heartbeat_s: float = 5.0,
    stale_after_s: float = 30.0,
    max_attempts: int = 3,
) -> str:
    """Solve one plan if it is queued, or running under a dead runner.

    Returns the plan's state afterwards (``finished``, ``failed``), or ``held`` when a live
    runner has it, or ``missing``.
    """
    from app.plans.solving import solve_inputs

    sessions = sessions_for(database_url)
    identity = process_identity()
    with sessions() as session:
        # The claim reads, then writes: on SQLite take the write lock first, so that two
        # workers claiming at once queue rather than fail to upgrade their locks.
        begin_write(session)
        refused = _claim(
            session,
            plan_id=plan_id,
            identity=identity,
            stale_after_s=stale_after_s,
            max_attempts=max_attempts,
        )
        session.commit()
        if refused is not None:
            return refused
        inputs = session.scalars(select(Plan.inputs).where(Plan.id == plan_id)).one()

    mine = (Plan.id == plan_id, Plan.state == PlanState.RUNNING, Plan.runner == identity)
    stop, beating = _heartbeat(sessions, plan_id=plan_id, identity=identity, every_s=heartbeat_s)
    try:
        outcome = solve_inputs(inputs)
    except Exception as error:
        stop.set()
        beating.join()
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
    stop.set()
    beating.join()
    with sessions.begin() as session:
        stored = session.execute(
            update(Plan)
            .where(*mine)
            .values(
                state=PlanState.FINISHED,
                status=outcome.status,
                message=outcome.message,
                result=outcome.result,
                summary=summarise(outcome.result),
                finished_at=utcnow(),
            )
        )
        if not rowcount(stored):
            # Another runner took the plan over meanwhile (this one looked dead); its
            # result stands.
            return _claim_lost(session, plan_id)
    return PlanState.FINISHED.value
