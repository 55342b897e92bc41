"""What a worker process runs: claim a plan, solve it, store the result; and every write
that moves a plan's state (see the state diagram in ``app.plans``).

Whoever runs a plan (a process of the API's own pool, or a Celery worker) calls
``run_plan`` with the same ``ClaimRules``, read from the settings.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, CursorResult, Result, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import begin_write, make_engine, make_sessionmaker, utcnow
from app.plans import brief
from app.plans.models import Plan, PlanState

if TYPE_CHECKING:
    from app.plans.solving import Solved
    from optimiser.chain import Chain

log = logging.getLogger("app.plans.worker")
_sessions: dict[str, sessionmaker[Session]] = {}
ENDED = (PlanState.FINISHED, PlanState.FAILED)


@dataclass(frozen=True)
class ClaimRules:
    """How a runner keeps its claim and when another may take it."""

    heartbeat_s: float
    stale_after_s: float
    max_attempts: int

    @classmethod
    def of(cls, settings: Settings) -> ClaimRules:
        return cls(
            heartbeat_s=settings.plan_heartbeat_s,
            stale_after_s=settings.plan_claim_stale_s,
            max_attempts=settings.plan_max_attempts,
        )


class Elsewhere:
    """What ``run_plan`` answers besides a final state: the plan is not this worker's."""

    HELD = "held"  # running under a live runner; ask again later
    MISSING = "missing"


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
        return pid_runs(int(pid))
    except ValueError:
        return True


def pid_runs(pid: int) -> bool:
    """Whether the process runs: one that has ended but is not yet reaped (a zombie, as
    orphans stay under an init that does not reap) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc here: the signal's answer stands
    return stat[stat.rindex(")") + 2 :].split()[0] not in ("Z", "X")


def sessions_for(database_url: str) -> sessionmaker[Session]:
    if database_url not in _sessions:
        _sessions[database_url] = make_sessionmaker(make_engine(database_url, pool_size=2))
    return _sessions[database_url]


def fail_plan(
    session: Session,
    *,
    plan_ids: str | Sequence[str],
    reason: str,
    detail: str | None = None,
    only: Sequence[ColumnElement[bool]] = (),
) -> int:
    """Mark plans failed that have not ended, with ``reason`` (a phrase) for people and
    ``detail`` (a traceback, say) for the record; ``only`` narrows it to a claim. Returns
    how many were failed. Flushes nothing else; the caller commits."""
    ids = [plan_ids] if isinstance(plan_ids, str) else list(plan_ids)
    failed = session.execute(
        update(Plan)
        .where(Plan.id.in_(ids), Plan.state.in_([PlanState.QUEUED, PlanState.RUNNING]), *only)
        .values(
            state=PlanState.FAILED,
            status="error",
            message=f"The plan failed: {reason}.",
            error=detail or reason,
            finished_at=utcnow(),
        )
    )
    count = rowcount(failed)
    if count:
        log.error("plan failed", extra={"fields": {"plans": ids, "why": reason}})
    return count


def _claim(session: Session, *, plan_id: str, identity: str, rules: ClaimRules) -> str | None:
    """Take the plan for ``identity``; None when taken, else why not (a state or Elsewhere)."""
    row = session.execute(
        select(Plan.state, Plan.runner, Plan.attempts, Plan.heartbeat_at, Plan.started_at).where(
            Plan.id == plan_id
        )
    ).one_or_none()
    if row is None:
        return Elsewhere.MISSING
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
    stale = last_sign_of_life is None or now - last_sign_of_life > timedelta(
        seconds=rules.stale_after_s
    )
    if not stale and is_alive_here(runner):
        return Elsewhere.HELD
    # The runner is dead: the same plan, taken over, compare-and-set on the old claim.
    same_claim = (Plan.runner == runner, Plan.attempts == attempts)
    if attempts >= rules.max_attempts:
        fail_plan(
            session,
            plan_ids=plan_id,
            reason=f"the worker solving it stopped {attempts} times",
            detail=f"gave up after {attempts} attempts; the last runner was {runner}",
            only=same_claim,
        )
        return _claim_lost(session, plan_id)
    taken = session.execute(
        update(Plan)
        .where(Plan.id == plan_id, Plan.state == PlanState.RUNNING, *same_claim)
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
    return Elsewhere.HELD if state == PlanState.RUNNING else str(state or Elsewhere.MISSING)


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
    """The figures a plans list and a sweep's table show of a plan's result."""
    cost = result.get("cost") or {}
    solve = result.get("solve") or {}
    return {
        "total_cost": cost.get("total"),
        "do_nothing_cost": result.get("do_nothing_cost"),
        "saving": result.get("saving"),
        "solve_s": (solve["build_s"] + solve["solve_s"]) if solve else None,
        "targets": {
            name: {key: target.get(key) for key in ("met", "shortfall", "shadow_price")}
            for name, target in (result.get("targets") or {}).items()
        },
        # Cash, unfilled WTE-months and the comparison with doing nothing, read as the
        # plan page reads them.
        **brief.sweep_figures(result),
    }


def run_plan(database_url: str, plan_id: str, *, rules: ClaimRules) -> str:
    """Solve one plan if it is queued, or running under a dead runner.

    Returns the plan's state afterwards (``finished``, ``failed``), or ``held`` when a live
    runner has it, or ``missing``.
    """
    return run_chain(database_url, [plan_id], rules=rules)[0]


def run_chain(database_url: str, plan_ids: Sequence[str], *, rules: ClaimRules) -> list[str]:
    """Solve a chain of plans in turn, each claimed, solved and stored as ``run_plan``
    does; a sweep's neighbouring points go on from the last one's solver state
    (``optimiser.chain``), and a plan that is not this worker's (ended, or held by a live
    runner) is passed over. Returns each plan's state afterwards, as ``run_plan`` does.

    A chain taken up again after its worker died starts cold at its first unfinished plan.
    """
    from optimiser.chain import Chain

    sessions = sessions_for(database_url)
    identity = process_identity()
    chain = Chain() if len(plan_ids) > 1 else None
    states = []
    for plan_id in plan_ids:
        inputs = claim_plan(sessions, plan_id=plan_id, identity=identity, rules=rules)
        if isinstance(inputs, str):
            states.append(inputs)
            continue
        states.append(
            solve_and_store(
                sessions,
                plan_id=plan_id,
                inputs=inputs,
                identity=identity,
                rules=rules,
                chain=chain,
            )
        )
    return states


def claim_plan(
    sessions: sessionmaker[Session], *, plan_id: str, identity: str, rules: ClaimRules
) -> dict[str, Any] | str:
    """Claim the plan for ``identity``: its inputs, or why not (a state or Elsewhere)."""
    with sessions() as session:
        # The claim reads, then writes: on SQLite take the write lock first, so that two
        # workers claiming at once queue rather than fail to upgrade their locks.
        begin_write(session)
        refused = _claim(session, plan_id=plan_id, identity=identity, rules=rules)
        session.commit()
        if refused is not None:
            return refused
        inputs: dict[str, Any] = session.scalars(
            select(Plan.inputs).where(Plan.id == plan_id)
        ).one()
        return inputs


def solve_and_store(
    sessions: sessionmaker[Session],
    *,
    plan_id: str,
    inputs: dict[str, Any],
    identity: str,
    rules: ClaimRules,
    chain: Chain | None = None,
) -> str:
    """Solve a claimed plan under a heartbeat and store its result, or fail it; returns
    its state afterwards. ``chain`` carries the solver's state from the chain's last plan."""
    from app.plans import solving

    mine = (Plan.runner == identity,)
    stop, beating = _heartbeat(
        sessions, plan_id=plan_id, identity=identity, every_s=rules.heartbeat_s
    )
    try:
        outcome = solving.solve_inputs(inputs, chain=chain)
    except Exception as error:
        log.exception("plan solve failed", extra={"fields": {"plan": plan_id}})
        if chain is not None:
            chain.restart()
        with sessions.begin() as session:
            fail_plan(
                session,
                plan_ids=plan_id,
                reason=f"the solve failed: {error}",
                detail="".join(traceback.format_exception(error))[-4000:],
                only=mine,
            )
        return PlanState.FAILED.value
    finally:
        stop.set()
        beating.join()
    return _store(sessions, plan_id=plan_id, outcome=outcome, mine=mine)


def _store(
    sessions: sessionmaker[Session],
    *,
    plan_id: str,
    outcome: Solved,
    mine: Sequence[ColumnElement[bool]],
) -> str:
    with sessions.begin() as session:
        stored = session.execute(
            update(Plan)
            .where(Plan.id == plan_id, Plan.state == PlanState.RUNNING, *mine)
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
