"""The plans list and the sweeps list: enough of each to tell them apart, read without
loading a plan's whole result where its stored summary has the figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from app.plans.models import Plan, PlanState, PlanSweep
from app.plans.schemas import PlanSummary, SweepSummary
from app.plans.worker import summarise


def next_page(request: Request, *, limit: int, offset: int, total: int) -> str | None:
    """The address of the page after this one, if there is one."""
    following = offset + limit
    return str(request.url.include_query_params(offset=following)) if following < total else None


def list_plans(session: Session, *, limit: int, offset: int) -> tuple[Sequence[Plan], int]:
    """Plans, newest first, and how many there are."""
    total = session.scalar(select(func.count()).select_from(Plan)) or 0
    rows = session.scalars(
        select(Plan)
        .options(defer(Plan.result))
        .order_by(Plan.created_at.desc(), Plan.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, total


def figures(plan: Plan) -> dict[str, Any]:
    """The plan's summary figures; worked out from its result for a plan finished before
    summaries carried them all."""
    summary: dict[str, Any] = plan.summary or {}
    if plan.state == PlanState.FINISHED and "cash_cost" not in summary and plan.result:
        summary = summarise(plan.result)
    return summary


def to_summary(plan: Plan) -> PlanSummary:
    summary = figures(plan)
    targets: dict[str, dict[str, Any]] | None = summary.get("targets")
    return PlanSummary(
        id=plan.id,
        label=plan.label,
        state=plan.state,
        status=plan.status,
        start=plan.start,
        months=plan.months,
        changed=sorted(plan.request.get("scenario", {})),
        sweep_id=plan.sweep_id,
        sweep_point=plan.sweep_point,
        requested_by=plan.requested_by,
        created_at=plan.created_at,
        finished_at=plan.finished_at,
        total_cost=summary.get("total_cost"),
        cash_cost=summary.get("cash_cost"),
        do_nothing_cost=summary.get("do_nothing_cost"),
        targets_met=None
        if targets is None
        else {name: bool(target.get("met")) for name, target in targets.items()},
    )


def sweep_state(*, total: int, done: int, failed: int, queued: int) -> PlanState:
    """A sweep's state from its points': queued until one starts, finished once every
    point has ended with at least one solved, failed when every point failed."""
    if done + failed == total:
        return PlanState.FAILED if done == 0 else PlanState.FINISHED
    if queued == total:
        return PlanState.QUEUED
    return PlanState.RUNNING


def list_sweeps(session: Session, *, limit: int, offset: int) -> tuple[list[SweepSummary], int]:
    """Sweeps, newest first, with their progress counted from their points."""
    total = session.scalar(select(func.count()).select_from(PlanSweep)) or 0
    sweeps = session.scalars(
        select(PlanSweep)
        .order_by(PlanSweep.created_at.desc(), PlanSweep.id)
        .limit(limit)
        .offset(offset)
    ).all()
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    if sweeps:
        for sweep_id, state, count in session.execute(
            select(Plan.sweep_id, Plan.state, func.count())
            .where(Plan.sweep_id.in_([sweep.id for sweep in sweeps]))
            .group_by(Plan.sweep_id, Plan.state)
        ):
            counts[str(sweep_id)][state] = count
    items = []
    for sweep in sweeps:
        by_state = counts[sweep.id]
        done = by_state.get(PlanState.FINISHED, 0)
        failed = by_state.get(PlanState.FAILED, 0)
        base: dict[str, Any] = sweep.request.get("base", {})
        items.append(
            SweepSummary(
                id=sweep.id,
                label=base.get("label"),
                state=sweep_state(
                    total=sweep.total,
                    done=done,
                    failed=failed,
                    queued=by_state.get(PlanState.QUEUED, 0),
                ).value,
                total=sweep.total,
                done=done,
                failed=failed,
                grid=dict(zip(sweep.keys, sweep.values, strict=True)),
                base=base,
                requested_by=sweep.requested_by,
                created_at=sweep.created_at,
            )
        )
    return items, total
