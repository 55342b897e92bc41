"""Plans: a request for an allocation of the bank, its exact inputs, its state and result.

The row is the single source of truth for a plan's state; workers claim it by moving it
from ``queued`` to ``running`` in one conditional UPDATE.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class PlanState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (
        Index("ix_plans_state_created_at", "state", "created_at"),
        Index("ix_plans_token_id_state", "token_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=PlanState.QUEUED.value)
    # The optimiser's verdict once finished: optimal, targets_unreachable, time_limit, ...
    status: Mapped[str | None] = mapped_column(String(32), default=None)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    start: Mapped[str] = mapped_column(String(7))
    months: Mapped[int] = mapped_column(Integer)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The optimiser's problem exactly as solved, with notes on how gaps were filled.
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    requested_by: Mapped[str] = mapped_column(String(200))
    # The token that requested it: its plans queued or running at once are limited.
    token_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # A name the requester gave the plan, to tell it apart in lists.
    label: Mapped[str | None] = mapped_column(String(200), default=None)
    # host:pid of the API process that accepted the plan, and of the process solving it.
    owner: Mapped[str | None] = mapped_column(String(200), default=None)
    runner: Mapped[str | None] = mapped_column(String(200), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # Touched by the runner while it solves: a running claim whose heartbeat is old
    # belongs to a dead worker, and a redelivered task may take it over.
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    # A point of a sweep: the sweep, the point's place in the grid and its values.
    sweep_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("plan_sweeps.id"), default=None, index=True
    )
    sweep_index: Mapped[int | None] = mapped_column(Integer, default=None)
    sweep_point: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The few figures a sweep's table shows, stored with the result so that the table is
    # read without loading every point's whole result (large: see docs/plans.md).
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class PlanSweep(Base):
    """A grid of scenarios over one base request: one plan per point, linked by sweep_id.

    Its progress is not stored here: it is counted from its plans' rows.
    """

    __tablename__ = "plan_sweeps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The request as posted: the base plan request and the grid, ranges as given.
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The grid's keys in order, and the values of each, ranges expanded.
    keys: Mapped[list[str]] = mapped_column(JSON)
    values: Mapped[list[list[Any]]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
