"""Plans solved by Celery workers: the Celery app's settings and the API's side of it.

With ``WORKFORCE_BROKER_URL`` set, the API stores a plan ``queued`` and publishes a task
that carries only the plan's id; a worker (``celery -A app.plans.tasks worker``) re-reads
the plan's inputs from the database and solves it through ``run_plan``, whose claim makes
a task delivered twice a no-op (the claim rules: ``app.plans``). A chain of plans (a
sweep's neighbouring points) is one task (``CHAIN_TASK``) carrying their ids, solved in
turn by ``run_chain``; taken up again after its worker died, it passes over the plans
already finished. Tasks are acknowledged
only once they have run and are handed back to the broker when the worker process dies,
so a killed worker loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future

from celery import Celery
from kombu.exceptions import KombuError, OperationalError

from app.config import Settings
from app.errors import ServiceUnavailable
from app.plans.worker import process_identity

log = logging.getLogger("app.plans.queue")
SOLVE_TASK = "plans.solve"
CHAIN_TASK = "plans.solve_chain"
# How long the API tries the broker before answering 503.
BROKER_TIMEOUT_S = 3.0


def make_celery(settings: Settings) -> Celery:
    """The Celery app of the API (publishing) and of the workers (consuming)."""
    celery = Celery("workforce", broker=settings.broker_url, set_as_current=False)
    celery.conf.update(
        task_default_queue=settings.plan_queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # Acknowledge a task once it has run, not when it is received; give it back to
        # the broker when the process running it dies; take one task at a time, so that
        # a busy worker does not sit on tasks another could run.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=BROKER_TIMEOUT_S,
        # Redis only: a task taken by a worker whose connection vanished is delivered
        # again after this long (RabbitMQ does so as soon as the connection drops).
        broker_transport_options={"visibility_timeout": 600},
        worker_hijack_root_logger=False,
    )
    return celery


UNREACHABLE = (
    "The message broker that hands plans to the workers cannot be reached, so no plan can "
    "be started now; stored plans can still be read. Try again shortly."
)


class CeleryEngine:
    """Hands plans to Celery workers; the plan rows stay the source of truth."""

    def __init__(self, *, settings: Settings) -> None:
        self.settings = settings
        self.celery = make_celery(settings)
        self.identity = f"api:{process_identity()}"

    def check_available(self) -> None:
        """Raise ``ServiceUnavailable`` unless the broker answers."""
        try:
            with self.celery.connection_for_write() as connection:
                connection.ensure_connection(
                    max_retries=1, interval_start=0, interval_step=0.2, timeout=BROKER_TIMEOUT_S
                )
        except (OSError, KombuError) as error:
            log.warning("broker unreachable", extra={"fields": {"error": str(error)}})
            raise ServiceUnavailable(UNREACHABLE) from error

    def submit(self, plan_ids: Sequence[str]) -> Future[list[str]] | None:
        """Publish the chain's task (a plan alone: the plan's); the caller polls the plans'
        rows for their end."""
        ids = list(plan_ids)
        try:
            self.celery.send_task(
                SOLVE_TASK if len(ids) == 1 else CHAIN_TASK,
                args=ids if len(ids) == 1 else [ids],
                queue=self.settings.plan_queue,
                retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
            )
        except (OSError, OperationalError, KombuError) as error:
            log.warning(
                "could not publish a plan", extra={"fields": {"plans": ids, "error": str(error)}}
            )
            raise ServiceUnavailable(UNREACHABLE) from error
        return None

    def prewarm(self) -> None:
        """Nothing to start here: the workers run elsewhere."""

    def recover(self) -> tuple[int, int]:
        """Nothing to recover here: tasks wait in the broker, and a worker that takes one
        up again takes over a dead worker's claim (see ``app.plans``)."""
        return 0, 0

    def shutdown(self) -> None:
        self.celery.close()
