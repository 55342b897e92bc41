"""What solves the API's plans: an engine. ``make_plan_engine`` picks one from the settings.

- ``EmbeddedEngine``: worker processes of the API's own (a process pool). A worker that
  dies breaks the pool: its plan is failed with the reason and the pool is replaced. At
  start-up, plans left running by dead processes of this host are failed, and plans left
  queued are handed out again. The workers die with the API (``die_with_parent``).
- ``app.plans.queue.CeleryEngine``: Celery workers elsewhere, through a message broker.

Plans are handed out in chains (``app.plans.sweeps.chains``: a sweep's neighbouring points,
or one plan alone), a chain being one unit of work: both engines run
``app.plans.worker.run_chain`` under the same claim rules, read from the settings.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.plans.models import Plan, PlanState
from app.plans.worker import (
    ClaimRules,
    fail_plan,
    is_alive_here,
    pid_runs,
    process_identity,
    run_chain,
    warm_up,
)

log = logging.getLogger("app.plans")
PR_SET_PDEATHSIG = 1
# How often a worker process looks whether the API that started it is still there.
PARENT_POLL_S = 0.5
INTERRUPTED = "interrupted: the service stopped while solving it"


class PlanEngine(Protocol):
    """What the API asks of whatever solves its plans."""

    # Recorded as the ``owner`` of the plans this API process hands out.
    identity: str

    def check_available(self) -> None:
        """Raise ``ServiceUnavailable`` when no plan could be handed out now."""
        ...

    def submit(self, plan_ids: Sequence[str]) -> Future[list[str]] | None:
        """Hand a chain of plans out, solved in turn by one worker (may block on the
        network: call it off the event loop); a future of their end when they run in this
        process, else None (poll the rows)."""
        ...

    def prewarm(self) -> None: ...

    def recover(self) -> tuple[int, int]: ...

    def shutdown(self) -> None: ...


def die_with_parent(parent_pid: int) -> None:
    """A pool worker's initializer: end this process when the API that started it ends.

    The kernel sends SIGKILL when the thread that started this process exits (Linux's
    parent-death signal); a watchdog thread also ends it once its parent has changed, as
    happens under ``forkserver``, whose server process stands between the API and its
    workers. The resource tracker then sees its last user gone and ends too.
    """
    # A forked worker inherits the server's handler, which would make it ignore SIGTERM.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            log.warning("could not ask for the parent-death signal")
    started_under = os.getppid()
    if parent_pid != started_under and not pid_runs(parent_pid):
        os._exit(1)  # the API ended while this process was starting

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_S)
            if os.getppid() != started_under or not pid_runs(parent_pid):
                os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


class EmbeddedEngine:
    """A pool of worker processes solving plans for one API process.

    Every call into the pool goes through one long-lived dispatch thread: the workers'
    parent-death signal follows the thread that started them, so they must not be started
    from a request's short-lived thread.
    """

    def __init__(
        self, *, settings: Settings, sessions: sessionmaker[Session], identity: str | None = None
    ) -> None:
        self.database_url = settings.database_url
        self.sessions = sessions
        self.workers = settings.plan_workers
        self.start_method = settings.plan_start_method
        self.rules = ClaimRules.of(settings)
        self.identity = identity or process_identity()
        self._pool: ProcessPoolExecutor | None = None
        self._dispatch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plan-dispatch")
        self._outstanding: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = False

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(self.start_method),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )
        return self._pool

    def check_available(self) -> None:
        """The pool is this process's own: always there (a broken one is replaced)."""

    def prewarm(self) -> None:
        """Start the worker processes now, so that the first plan does not wait for them."""

        def start() -> None:
            executor = self._executor()
            for _ in range(self.workers):
                executor.submit(warm_up)

        self._dispatch.submit(start).result()

    def submit(self, plan_ids: Sequence[str]) -> Future[list[str]]:
        return self._dispatch.submit(self._submit_here, list(plan_ids)).result()

    def _submit_here(self, plan_ids: list[str]) -> Future[list[str]]:
        try:
            future = self._executor().submit(
                run_chain, self.database_url, plan_ids, rules=self.rules
            )
        except BrokenProcessPool:
            self._replace_broken_pool()
            future = self._executor().submit(
                run_chain, self.database_url, plan_ids, rules=self.rules
            )
        with self._lock:
            self._outstanding.update(plan_ids)
        future.add_done_callback(lambda done: self._finished(plan_ids, done))
        return future

    def _replace_broken_pool(self) -> None:
        broken, self._pool = self._pool, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)

    def _finished(self, plan_ids: list[str], future: Future[list[str]]) -> None:
        with self._lock:
            self._outstanding.difference_update(plan_ids)
        if future.cancelled():
            # The service is stopping; the plan stays queued and the next start-up hands
            # it out again.
            return
        error = future.exception()
        if error is None:
            return
        if self._stopping:
            reason = INTERRUPTED
        elif isinstance(error, BrokenProcessPool):
            reason = "the worker process solving it stopped unexpectedly"
            self._dispatch.submit(self._replace_broken_pool)
        else:
            reason = f"the solve failed: {type(error).__name__}: {error}"
        # Those of the chain not ended yet; the ended keep their results.
        self._fail(plan_ids, reason)

    def _fail(self, plan_ids: str | list[str], reason: str) -> None:
        try:
            with self.sessions.begin() as session:
                fail_plan(session, plan_ids=plan_ids, reason=reason)
        except Exception:
            log.exception("could not record a failed plan", extra={"fields": {"plan": plan_ids}})

    def recover(self) -> tuple[int, int]:
        """Fail plans left running by dead processes of this host; re-queue orphaned ones.

        Returns how many were failed and how many handed out again.
        """
        failed = 0
        with self.sessions.begin() as session:
            stranded = session.execute(
                select(Plan.id, Plan.state, Plan.owner, Plan.runner).where(
                    Plan.state.in_([PlanState.QUEUED, PlanState.RUNNING])
                )
            ).all()
            orphans = []
            for plan_id, state, owner, runner in stranded:
                if state == PlanState.RUNNING and not is_alive_here(runner):
                    failed += fail_plan(
                        session,
                        plan_ids=plan_id,
                        reason=f"interrupted: the process solving it ({runner}) stopped",
                    )
                elif state == PlanState.QUEUED and not is_alive_here(owner):
                    session.execute(
                        update(Plan).where(Plan.id == plan_id).values(owner=self.identity)
                    )
                    orphans.append(plan_id)
        for plan_id in orphans:
            self.submit([plan_id])
        if failed or orphans:
            log.warning(
                "recovered plans", extra={"fields": {"failed": failed, "requeued": len(orphans)}}
            )
        return failed, len(orphans)

    def shutdown(self) -> None:
        """Stop the workers now. A plan being solved is failed (it was interrupted); queued
        ones stay queued and are handed out at the next start-up."""
        self._stopping = True
        pool, self._pool = self._pool, None
        with self._lock:
            outstanding = list(self._outstanding)
        if pool is not None:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(timeout=5)
                if process.is_alive():
                    process.kill()
        self._dispatch.shutdown(wait=False)
        if outstanding:
            with self.sessions.begin() as session:
                interrupted = session.scalars(
                    select(Plan.id).where(Plan.id.in_(outstanding), Plan.state == PlanState.RUNNING)
                ).all()
            if interrupted:
                self._fail(list(interrupted), INTERRUPTED)


def make_plan_engine(settings: Settings, *, sessions: sessionmaker[Session]) -> PlanEngine:
    """Celery workers when a broker is configured, else the embedded pool."""
    if settings.broker_url:
        from app.plans.queue import CeleryEngine

        return CeleryEngine(settings=settings)
    return EmbeddedEngine(settings=settings, sessions=sessions)


def get_plan_engine(request: Request) -> PlanEngine:
    engine: PlanEngine = request.app.state.plan_engine
    return engine


PlanEngineDep = Annotated[PlanEngine, Depends(get_plan_engine)]
