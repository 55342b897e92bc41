"""The Celery workers' entry point: ``celery -A app.plans.tasks worker``.

The workers read the same settings as the API (``WORKFORCE_BROKER_URL``,
``DATABASE_URL``, ``WORKFORCE_PLAN_QUEUE``...), and must reach the same database.
"""

from __future__ import annotations

from typing import Any

from app.config import get_settings
from app.plans.queue import CHAIN_TASK, SOLVE_TASK, make_celery
from app.plans.worker import ClaimRules, Elsewhere, run_chain, run_plan, warm_up

settings = get_settings()
if not settings.broker_url:
    # Celery would otherwise fall back to amqp://guest@localhost, maybe someone else's.
    raise RuntimeError(
        "WORKFORCE_BROKER_URL is not set: a worker needs the broker the API publishes to "
        "(amqp://... or redis://...), and the API's DATABASE_URL"
    )
app = make_celery(settings)


@app.task(name=SOLVE_TASK, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
def solve_plan(self: Any, plan_id: str) -> str:
    """Claim the plan, solve it and store its result; a no-op if it is done or taken.

    A plan held by a live runner (a task delivered twice while the first still solves) is
    looked at again once a claim would have gone stale: if that runner died meanwhile, this
    task takes the plan over.
    """
    state = run_plan(settings.database_url, plan_id, rules=ClaimRules.of(settings))
    if state == Elsewhere.HELD:
        raise self.retry(countdown=settings.plan_claim_stale_s)
    return state


@app.task(name=CHAIN_TASK, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
def solve_chain(self: Any, plan_ids: list[str]) -> list[str]:
    """Claim, solve and store each plan of the chain in turn, each from the last one's
    solver state; plans done or taken are passed over. Taken up again (its worker died, or
    a plan was held), the chain starts cold at its first unfinished plan.

    A plan held by a live runner is looked at again, with the rest of the chain, once a
    claim would have gone stale, as ``solve_plan`` does.
    """
    states = run_chain(settings.database_url, plan_ids, rules=ClaimRules.of(settings))
    if Elsewhere.HELD in states:
        raise self.retry(countdown=settings.plan_claim_stale_s)
    return states


@app.on_after_finalize.connect  # type: ignore[untyped-decorator]
def _import_the_solver(**_kwargs: Any) -> None:
    warm_up()
