"""Running plans in worker processes, with their state kept in the database.

The API process accepts a plan, stores it ``queued`` and hands its id to a process pool.
A worker claims the plan (``queued`` -> ``running`` in one conditional UPDATE), solves it
and stores the result. If the worker dies, the pool breaks: the plan is marked failed
with the reason and the pool is replaced. At start-up, plans left ``running`` by a dead
process of this host are marked failed, and plans left ``queued`` are handed out again.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import utcnow
from app.plans.models import Plan, PlanState
from app.plans.worker import is_alive_here, process_identity, rowcount, run_plan, warm_up

log = logging.getLogger("app.plans")


def mark_failed(session: Session, *, plan_id: str, reason: str) -> bool:
    """Fail a plan that is still queued or running; False if it had finished already."""
    changed = rowcount(
        session.execute(
            update(Plan)
            .where(Plan.id == plan_id, Plan.state.in_([PlanState.QUEUED, PlanState.RUNNING]))
            .values(
                state=PlanState.FAILED,
                error=reason,
                status="error",
                message=f"The plan failed: {reason}.",
                finished_at=utcnow(),
            )
        )
    )
    return bool(changed)


class PlanEngine(Protocol):
    """What the API asks of whatever solves its plans: this process's pool (``PlanRunner``)
    or Celery workers (``app.plans.queue.CeleryEngine``)."""

    identity: str
    # Whether submit waits on the network (publishing to a broker): then it is called off
    # the event loop. The embedded pool's submit returns at once.
    submit_blocks: bool

    def check_available(self) -> None: ...

    def submit(self, plan_id: str) -> Future[str] | None:
        """Start the plan; a future of its end when it runs here, else None (poll the row)."""
        ...

    def prewarm(self) -> None: ...

    def recover(self) -> tuple[int, int]: ...

    def shutdown(self) -> None: ...


class PlanRunner:
    """A pool of worker processes solving plans for one API process."""

    submit_blocks = False

    def __init__(
        self,
        *,
        database_url: str,
        sessions: sessionmaker[Session],
        workers: int,
        start_method: str,
        on_finished: Callable[[str], None] | None = None,
    ) -> None:
        self.database_url = database_url
        self.sessions = sessions
        self.workers = workers
        self.start_method = start_method
        self.on_finished = on_finished
        self.identity = process_identity()
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context(self.start_method),
                )
            return self._pool

    def check_available(self) -> None:
        """The pool is this process's own: always there (a broken one is replaced)."""

    def prewarm(self) -> None:
        """Start the worker processes now, so that the first plan does not wait for them."""
        executor = self._executor()
        for _ in range(self.workers):
            executor.submit(warm_up)

    def submit(self, plan_id: str) -> Future[str]:
        try:
            future = self._executor().submit(run_plan, self.database_url, plan_id)
        except BrokenProcessPool:
            self._replace_broken_pool()
            future = self._executor().submit(run_plan, self.database_url, plan_id)
        future.add_done_callback(lambda done: self._finished(plan_id, done))
        return future

    def _replace_broken_pool(self) -> None:
        with self._lock:
            broken, self._pool = self._pool, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)

    def _finished(self, plan_id: str, future: Future[str]) -> None:
        if future.cancelled():
            # The service is stopping; the plan stays queued and the next start-up hands
            # it out again.
            return
        error = future.exception()
        if error is not None:
            if isinstance(error, BrokenProcessPool):
                reason = "the worker process solving this plan stopped unexpectedly"
                self._replace_broken_pool()
            else:
                reason = f"the solve failed: {type(error).__name__}: {error}"
            try:
                with self.sessions.begin() as session:
                    if mark_failed(session, plan_id=plan_id, reason=reason):
                        log.error("plan failed", extra={"fields": {"plan": plan_id, "why": reason}})
            except Exception:
                log.exception("could not record a failed plan", extra={"fields": {"plan": plan_id}})
        if self.on_finished is not None:
            self.on_finished(plan_id)

    def recover(self) -> tuple[int, int]:
        """Fail plans left running by dead processes of this host; re-queue orphaned ones.

        Returns how many were failed and how many handed out again.
        """
        failed = requeued = 0
        with self.sessions.begin() as session:
            stranded = session.execute(
                select(Plan.id, Plan.state, Plan.owner, Plan.runner).where(
                    Plan.state.in_([PlanState.QUEUED, PlanState.RUNNING])
                )
            ).all()
            orphans = []
            for plan_id, state, owner, runner in stranded:
                if state == PlanState.RUNNING and not is_alive_here(runner):
                    failed += mark_failed(
                        session,
                        plan_id=plan_id,
                        reason=f"interrupted: the process solving it ({runner}) stopped",
                    )
                elif state == PlanState.QUEUED and not is_alive_here(owner):
                    session.execute(
                        update(Plan).where(Plan.id == plan_id).values(owner=self.identity)
                    )
                    orphans.append(plan_id)
        for plan_id in orphans:
            self.submit(plan_id)
            requeued += 1
        if failed or requeued:
            log.warning(
                "recovered plans", extra={"fields": {"failed": failed, "requeued": requeued}}
            )
        return failed, requeued

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            # Solves under way finish and store their result; queued ones are re-queued at
            # the next start-up.
            pool.shutdown(wait=False, cancel_futures=True)
