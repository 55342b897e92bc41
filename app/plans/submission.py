"""The one way a plan is submitted, from the API, a sweep or the pages, whatever the engine.

Check that the engine can take plans (nothing is stored when it cannot), store the plans
and commit (a worker reads them from its own connection), hand them to the engine chain
by chain (a plan alone is a chain of one; a sweep's chains: ``app.plans.sweeps.chains``),
withdraw what could not be handed out, and wait up to a budget for the plans to end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app import admission
from app.auth import Principal, Scope
from app.config import Settings
from app.db import begin_write
from app.errors import ServiceUnavailable
from app.plans import limits, service
from app.plans.engines import PlanEngine
from app.plans.models import Plan, PlanState, PlanSweep
from app.plans.schemas import PlanRequest
from app.plans.worker import fail_plan

UNSUBMITTED = "the message broker could not be reached to hand it to a worker"


@dataclass(frozen=True)
class Batch:
    """Plans stored together: one plan, or a sweep's points, handed out in ``chains``
    (every plan alone when none are given)."""

    plan_ids: list[str]
    sweep_id: str | None = None
    chains: list[list[str]] = field(default_factory=list)

    def handed_out(self) -> list[list[str]]:
        """The chains, in order, covering every plan once."""
        return self.chains or [[plan_id] for plan_id in self.plan_ids]


# Stores the plans (flushing, not committing) for the engine's ``owner``.
CreatePlans = Callable[[Session, str], Batch]


def one_plan(request: PlanRequest, *, principal: Principal, settings: Settings) -> CreatePlans:
    """How ``submit_plans`` stores a single plan request."""

    def create(session: Session, owner: str) -> Batch:
        principal.require(Scope.PLANS_WRITE)
        limits.refuse(limits.request_problems(request, settings))
        limits.check_pending(session, principal=principal, adding=1, settings=settings)
        plan = service.create_plan(
            session, request=request, principal=principal, settings=settings, owner=owner
        )
        return Batch(plan_ids=[plan.id])

    return create


async def submit_plans(
    session: Session, *, engine: PlanEngine, create: CreatePlans, wait_s: float = 0.0
) -> Batch:
    """Store plans, hand them to ``engine`` and wait up to ``wait_s`` for them to end.

    ``ServiceUnavailable`` when the engine cannot take them: before anything is stored, or,
    should it fail midway, with what was not handed out withdrawn (deleted when nothing was
    handed out, so that nothing was accepted; else failed).
    """
    await run_in_threadpool(engine.check_available)
    batch = await run_in_threadpool(_create_and_commit, session, create, engine.identity)
    futures: list[Future[list[str]] | None] = []
    chains = batch.handed_out()
    for position, chain in enumerate(chains):
        try:
            futures.append(await run_in_threadpool(engine.submit, chain))
        except ServiceUnavailable as refused:
            stranded = [plan_id for later in chains[position:] for plan_id in later]
            await run_in_threadpool(_withdraw, session, batch, stranded)
            if position == 0:
                raise
            raise ServiceUnavailable(
                f"The message broker became unreachable while sweep '{batch.sweep_id}' was "
                f"being handed out: {len(stranded)} of its {len(batch.plan_ids)} points were "
                "failed. Try again shortly."
            ) from refused
    if wait_s > 0:
        # Only waiting: the request's place among those served at once goes to others.
        async with admission.set_aside():
            await wait_for_plans(session, batch.plan_ids, futures=futures, timeout=wait_s)
    return batch


def _create_and_commit(session: Session, create: CreatePlans, owner: str) -> Batch:
    # Reads (the data, the token's pending plans), then writes: on SQLite take the write
    # lock first, so that a worker storing a result meanwhile makes this wait, not fail.
    begin_write(session)
    batch = create(session, owner)
    session.commit()
    return batch


def _withdraw(session: Session, batch: Batch, stranded: Sequence[str]) -> None:
    session.rollback()
    if len(stranded) == len(batch.plan_ids):
        session.execute(delete(Plan).where(Plan.id.in_(stranded), Plan.state == PlanState.QUEUED))
        if batch.sweep_id is not None:
            session.execute(delete(PlanSweep).where(PlanSweep.id == batch.sweep_id))
    else:
        fail_plan(session, plan_ids=stranded, reason=UNSUBMITTED)
    session.commit()


async def wait_for_plans(
    session: Session,
    plan_ids: Sequence[str],
    *,
    futures: Sequence[Future[list[str]] | None],
    timeout: float,
) -> None:
    """Wait up to ``timeout`` for the plans to end: on their futures when they run in this
    process, else by reading their rows (a worker elsewhere writes them)."""
    if futures and all(future is not None for future in futures):
        await asyncio.wait(
            [asyncio.wrap_future(future) for future in futures if future is not None],
            timeout=timeout,
        )
        return
    deadline = time.monotonic() + timeout
    pause = 0.05
    while time.monotonic() < deadline:
        if await run_in_threadpool(all_ended, session, plan_ids):
            return
        await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 1.5, 0.5)


def all_ended(session: Session, plan_ids: Sequence[str]) -> bool:
    """Whether every one of the plans is finished or failed (read afresh)."""
    if session.in_transaction():
        session.commit()  # a fresh snapshot: the workers write from other connections
    pending = session.scalar(
        select(func.count())
        .select_from(Plan)
        .where(Plan.id.in_(plan_ids), Plan.state.in_([PlanState.QUEUED, PlanState.RUNNING]))
    )
    session.commit()  # nothing written: ends the read, so no connection is held while waiting
    return not pending
