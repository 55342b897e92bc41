"""The plan solve-time metric, whichever engine solved the plan.

A worker stores each plan's build and solve time with its result; this API process counts
the plans it handed out (its ``owner`` identity) once they have finished, when the metrics
are scraped. A plan solved by a Celery worker elsewhere is counted as one solved here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import utcnow
from app.observability import Metrics
from app.plans.models import Plan, PlanState

log = logging.getLogger("app.plans")
# The sessions to read and the identity of this API process's engine, once started.
Source = Callable[[], tuple[sessionmaker[Session], str] | None]


class SolveTimes(Collector):
    """The solve-time histogram, brought up to date from the plan rows as it is scraped."""

    def __init__(self, histogram: Histogram, *, source: Source) -> None:
        self.histogram = histogram
        # Where to read, and whose plans: known once the app has started.
        self.source = source
        self.since: datetime = utcnow()
        self.seen_at_since: set[str] = set()
        self._lock = threading.Lock()

    def catch_up(self) -> None:
        started = self.source()
        if started is None:
            return
        sessions, owner = started
        with self._lock, sessions() as session:
            rows = session.execute(
                select(Plan.id, Plan.finished_at, Plan.summary)
                .where(
                    Plan.owner == owner,
                    Plan.state == PlanState.FINISHED,
                    Plan.finished_at >= self.since,
                )
                .order_by(Plan.finished_at)
            ).all()
            for plan_id, finished_at, summary in rows:
                if finished_at is None or plan_id in self.seen_at_since:
                    continue
                seconds = (summary or {}).get("solve_s")
                if seconds is not None:
                    self.histogram.observe(seconds)
                if finished_at > self.since:
                    self.since, self.seen_at_since = finished_at, set()
                self.seen_at_since.add(plan_id)

    def describe(self) -> Iterable[Metric]:
        return self.histogram.describe()

    def collect(self) -> Iterable[Metric]:
        try:
            self.catch_up()
        except Exception:
            log.exception("could not read the plans' solve times")
        return self.histogram.collect()


def observe_solve_times(metrics: Metrics, *, source: Source) -> None:
    """Serve ``metrics.plan_solve_seconds`` through ``SolveTimes``."""
    histogram = metrics.plan_solve_seconds
    metrics.registry.unregister(histogram)
    metrics.registry.register(SolveTimes(histogram, source=source))
